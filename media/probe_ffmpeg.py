"""What ffmpeg tells the probe where MediaInfo is blind: whether the file decodes to its end (unless its
header proves it, media/proven.py), the pix_fmt (bit depth, chroma), and its reading of an MXF timecode."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

from config import children
from config.errors import ToolError
from media.ffmpeg.caps import Job, capabilities
from media.ffmpeg.commands import decode_check_command
from media.ffmpeg.errors import failure, first_error
from media.findings import Finding, Severity
from media.model import VideoStream
from media.proven import Plan
from media.timecode import Timecode, TimecodeError

_PIXFMT_RE = re.compile(r"Stream #\d+:\d+.*?: Video: [^,]+(?:\([^)]*\))*[^,]*, ([a-z0-9_]+)")
# The decode check logs with levels ("[info]     timecode        : 10:00:00:00"): the prefix is optional.
_FFMPEG_TC_RE = re.compile(r"^(?:\[\w+\] )?\s+timecode\s+: (\d\d:\d\d:\d\d[:;.]\d\d)\s*$", re.MULTILINE)
_FFMPEG_USAGE_RE = re.compile(r"Unrecognized option|Error splitting the argument list|Option not found")
_FFMPEG_ERROR_RE = re.compile(r"^\[(?:error|fatal|panic)\]", re.MULTILINE)


def _pix_fmt_depth(pix_fmt: str) -> tuple[int | None, str | None]:
    match = re.search(r"(\d{3})?p(\d{1,2})?(le|be)?$", pix_fmt)
    depth = int(match.group(2)) if match and match.group(2) else 8
    chroma = None
    for key, value in (("420", "4:2:0"), ("422", "4:2:2"), ("444", "4:4:4"), ("411", "4:1:1")):
        if key in pix_fmt:
            chroma = value
    if pix_fmt.startswith(("gbr", "rgb", "bgr")):
        chroma = "4:4:4"
    return depth, chroma


def ffmpeg_check(path: Path, ffmpeg: str, mode: str,
                 duration: float | None) -> tuple[list[str], str | None, str | None]:
    """Decode the file's end (or all of it) with ffmpeg: the errors it printed, the video pix_fmt, and the
    start timecode as ffmpeg reads it from the file (MXF's timecode component, QuickTime's tmcd).

    A truncated copy often still has a readable header; decoding its last seconds is what shows it.
    """
    cmd = decode_check_command(ffmpeg, path, tail_seconds=2 if mode == "tail" and duration and duration > 3 else None)
    try:
        # In a session of its own: a Ctrl-C or a service stop is not a decode error (children.py).
        proc = children.run(cmd, timeout=3600)
    except subprocess.TimeoutExpired:
        return ["decode timed out"], None, None
    if proc.returncode != 0 and _FFMPEG_USAGE_RE.search(proc.stderr):
        # This ffmpeg refused the command itself: not a verdict on the file.
        raise ToolError(failure(Job.DECODE_CHECK, path, proc.stderr, proc.returncode, capabilities(ffmpeg).version))
    pix_fmt = None
    match = _PIXFMT_RE.search(proc.stderr)
    if match:
        pix_fmt = match.group(1)
    errors = [line.split("] ", 1)[-1] for line in proc.stderr.splitlines() if _FFMPEG_ERROR_RE.match(line)]
    if proc.returncode != 0 and not errors:
        errors = [first_error(proc.stderr, proc.returncode)]
    tc = _FFMPEG_TC_RE.search(proc.stderr)
    return errors, pix_fmt, tc.group(1) if tc else None


def checked(path: Path, ffmpeg: str | None, plan: Plan, video: VideoStream | None, start: Timecode | None,
             fields: dict[str, Any], errors: list[str], findings: list[Finding],
             timings: dict[str, float] | None) -> VideoStream | None:
    """Whether the file decodes to its end: by what its header proves, else by ffmpeg (media/proven.py);
    `integrity` says which. Returns the video stream with what ffmpeg told."""
    video = _ffmpeg_facts(path, ffmpeg, plan, video, start, fields, errors, findings, timings)
    if plan.proof:
        fields["integrity"] = plan.proof
    elif ffmpeg and plan.decode_check != "none":
        fields["integrity"] = "decode"
    if plan.defect and not errors:  # ffmpeg said nothing (or did not run): the structure's sure fault stands
        errors.append(f"not whole: {plan.defect}")
        fields["integrity"] = plan.found_by
    return video


def _ffmpeg_facts(path: Path, ffmpeg: str | None, plan: Plan, video: VideoStream | None,
                  start: Timecode | None, fields: dict[str, Any], errors: list[str], findings: list[Finding],
                  timings: dict[str, float] | None) -> VideoStream | None:
    """ffmpeg where MediaInfo is blind: bit depth of ProRes and friends, files that do not decode, and its
    own reading of an MXF timecode (read from the file as ffmpeg reads it where no decode is needed, the
    plan's). Returns the video stream with what ffmpeg told."""
    decode_check = plan.decode_check
    needs_pixfmt = video is not None and (video.bit_depth is None or video.chroma_subsampling is None)
    if not ffmpeg or (decode_check == "none" and not needs_pixfmt):
        if fields.get("container") == "MXF" and plan.timecode and start is not None:
            _trust_ffmpeg_timecode(plan.timecode, start, fields, findings)
        return video
    mode = decode_check if decode_check != "none" else "tail"
    started = time.perf_counter()
    decode_errors, pix_fmt, ffmpeg_tc = ffmpeg_check(path, ffmpeg, mode, fields["duration_seconds"])
    if timings is not None:
        timings["decode_check"] = timings.get("decode_check", 0.0) + time.perf_counter() - started
    if fields.get("container") == "MXF" and ffmpeg_tc and start is not None:
        _trust_ffmpeg_timecode(ffmpeg_tc, start, fields, findings)
    if decode_check != "none" and decode_errors:
        more = f" (and {len(decode_errors) - 1} more errors)" if len(decode_errors) > 1 else ""
        errors.append(f"does not decode to the end: {decode_errors[0]}{more}")
    if pix_fmt and video is not None and needs_pixfmt:
        depth, chroma = _pix_fmt_depth(pix_fmt)
        video = video.model_copy(update={"bit_depth": video.bit_depth or depth,
                                         "chroma_subsampling": video.chroma_subsampling or chroma})
    return video


def _trust_ffmpeg_timecode(read: str, start: Timecode, fields: dict[str, Any], findings: list[Finding]) -> None:
    """MXF: ffmpeg's reading of the timecode component over MediaInfo's where they differ, with an info finding."""
    try:
        theirs = Timecode.parse(read, start.rate, ";" in read or None)
    except TimecodeError:
        return
    if theirs.format() == start.format():
        return
    findings.append(Finding(
        rule="timecode.source", severity=Severity.INFO,
        message=f"start timecode: ffmpeg reads {theirs.format()} from the MXF timecode component, MediaInfo "
                f"reads {start.format()}; ffmpeg's reading of the file is kept",
        expected=theirs.format(), measured=start.format()))
    fields.update(start_timecode=theirs.format(), drop_frame=theirs.drop_frame)
