"""Probe a file into the media model: MediaInfo first, our BWF reader and ffmpeg where MediaInfo is blind."""

from __future__ import annotations

import os
import re
import struct
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from media.bwf import BwfInfo, NotWave, read_bwf
from media.facts import own_tracks
from media.findings import Finding, Severity
from media.model import AudioStream, MediaFile, MediaKind, VideoStream
from media.probe_ffmpeg import checked
from media.proven import Plan, codec_depth, integrity_plan, parse_speed
from media.qt_timecode import tmcd_start
from media.timecode import Timecode, TimecodeError, rate_from_float
from media.tracks import Tracks

if TYPE_CHECKING:
    from pymediainfo import MediaInfo

# Card metadata that travels with the clips: hashed and kept, not probed as media.
SIDECAR_EXTENSIONS = {
    ".xml", ".rmd", ".ale", ".txt", ".pdf", ".json", ".cdl", ".cube", ".mhl", ".smi", ".bim", ".ppn",
    ".csv", ".md5", ".xxhash", ".sha1", ".log", ".html", ".edl", ".cpf", ".ind", ".dat", ".bin", ".ccx",
    ".thm", ".lrv",
}

# Camera naming conventions that encode the reel (camera roll / card).
_REEL_PATTERNS = [
    re.compile(r"^(?P<reel>[A-Z]\d{3})C\d{3}(?:_|$)"),  # ARRI A001C003_230514_R2EC
    re.compile(r"^(?P<reel>[A-Z]\d{3})_C\d{3}(?:_|$)"),  # RED A001_C002_0514XY
    re.compile(r"^(?P<reel>[A-Z]\d{3})_\d{8}_C\d{3}"),  # Blackmagic A001_08241517_C012
]

# Names some tools give the tmcd track: not a reel.
_GENERIC_TC_NAMES = {"timecode", "time code", "timecode track", "tc", "tc1", "tmcd", "timecode1"}



def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(str(value).split("/")[0].split(" ")[0]))
    except ValueError:
        return None


def _pixel_aspect(value: Any) -> Fraction | None:
    """MediaInfo prints 1.000, 1.333, 2.000: back to the ratio it stands for (4/3, 12/11...)."""
    if value in (None, ""):
        return None
    try:
        return Fraction(str(value)).limit_denominator(100)
    except (ValueError, ZeroDivisionError):
        return None


def _video_rate(track: Any) -> Fraction | None:
    num, den = _int(track.framerate_num), _int(track.framerate_den)
    if num and den:
        return Fraction(num, den)
    for attr in ("frame_rate", "frame_rate_original", "frame_rate_nominal"):
        value = getattr(track, attr, None)
        if value:
            try:
                return rate_from_float(float(str(value).split(" ")[0]))
            except ValueError:
                continue
    return None


def _scan(track: Any) -> str | None:
    scan_type = (track.scan_type or "").lower()
    if not scan_type:
        return None
    if scan_type == "progressive":
        return "progressive"
    order = (track.scan_order or "").upper()
    if order.startswith("TFF") or order == "2:3 PULLDOWN":
        return "tff"
    if order.startswith("BFF"):
        return "bff"
    return "interlaced"


def clip_reel(clip_name: str) -> str | None:
    for pattern in _REEL_PATTERNS:
        match = pattern.match(clip_name.upper())
        if match:
            return match.group("reel")
    return None


def probe_file(
    path: Path,
    *,
    ffmpeg: str | None = None,
    decode_check: str = "tail",
    default_rate: Fraction | None = None,
    speed: float | None = None,
    timings: dict[str, float] | None = None,
    own: bool = True,
) -> MediaFile:
    """Describe one file. Never raises for a bad file: the reason goes into `error`.

    `speed`: MediaInfo's parse speed; by default the one the file's kind needs (media/proven.py).
    `own`: the facts from our own readers where they know them all (media/facts.py); False, or a `speed`
    given, asks MediaInfo for every file.
    `timings`: given, gets the seconds of the decode check added under "decode_check".
    """
    path = Path(path)
    shown = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return MediaFile(path=shown, kind=MediaKind.UNREADABLE, error="file not found (vanished?)")
    except PermissionError:
        return MediaFile(path=shown, kind=MediaKind.UNREADABLE, error="permission denied")
    except OSError as exc:
        return MediaFile(path=shown, kind=MediaKind.UNREADABLE, error=f"cannot read: {exc.strerror or exc}")
    base = {"path": shown, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "clip_name": path.stem}
    if not path.is_file():
        return MediaFile(**base, kind=MediaKind.UNREADABLE, error="not a regular file")
    if st.st_size == 0:
        return MediaFile(**base, kind=MediaKind.UNREADABLE, error="zero-byte file")
    if path.suffix.lower() in SIDECAR_EXTENSIONS:
        return MediaFile(**base, kind=MediaKind.SIDECAR)
    if not os.access(path, os.R_OK):
        return MediaFile(**base, kind=MediaKind.UNREADABLE, error="permission denied")
    info = own_tracks(path, st.st_size) if own and speed is None else None
    if info is None:
        from pymediainfo import MediaInfo  # loaded on first use: a probe answered by our readers never needs it

        try:
            info = MediaInfo.parse(path, parse_speed=speed if speed is not None else parse_speed(path))
        except (OSError, RuntimeError) as exc:
            return MediaFile(**base, kind=MediaKind.UNREADABLE, error=f"MediaInfo could not read it: {exc}")
    return _from_mediainfo(path, info, base, ffmpeg=ffmpeg, decode_check=decode_check,
                           default_rate=default_rate, timings=timings)


def _from_mediainfo(path: Path, info: MediaInfo | Tracks, base: dict[str, Any], *, ffmpeg: str | None,
                    decode_check: str, default_rate: Fraction | None,
                    timings: dict[str, float] | None = None) -> MediaFile:
    general = info.general_tracks[0] if info.general_tracks else None
    videos, audios = info.video_tracks, info.audio_tracks
    if general is None or (not videos and not audios):
        return _not_media(info, general, base)
    container = general.format
    fields: dict[str, Any] = {"container": container, "container_profile": general.format_profile}
    errors: list[str] = []
    if (general.istruncated or "").lower() == "yes":
        errors.append("the file is cut short (MediaInfo: truncated)")
    findings: list[Finding] = []
    bwf = _bwf(path, findings, getattr(info, "bwf", None)) if container == "Wave" else None
    video = _video_stream(videos[0]) if videos else None
    audio = [_audio_stream(a, bwf) for a in audios]
    start, tc_rate = _start_timecode(info, video, container, fields, errors)
    if container in ("MPEG-4", "QuickTime"):
        start, tc_rate = _trust_tmcd(path, start, tc_rate, fields, findings)
    if bwf is not None:
        start, tc_rate = _bwf_timecode(bwf, default_rate, start, fields)
    _reel(path, general, container, fields)
    if start is not None:
        fields.update(start_timecode=start.format(), drop_frame=start.drop_frame)
    fields["timecode_rate"] = tc_rate
    _duration(general, video, audio, bwf, tc_rate, fields)
    # A file already found cut short is decoded as before, for ffmpeg's own words on it.
    plan = Plan(decode_check) if errors else integrity_plan(
        path, decode_check, container=container, bwf=bwf, has_video=video is not None, size=base["size"],
        known=getattr(info, "proof", None))
    video = checked(path, ffmpeg, plan, video, start, fields, errors, findings, timings)
    kind = MediaKind.UNREADABLE if errors else MediaKind.MEDIA
    return MediaFile(**base, **fields, kind=kind, video=video, audio=audio, findings=findings,
                     error="; ".join(errors) if errors else None)


def _not_media(info: MediaInfo | Tracks, general: Any, base: dict[str, Any]) -> MediaFile:
    """A file with no picture or sound track: a still (sidecar), a copy cut short, or not media at all."""
    if info.image_tracks:
        return MediaFile(**base, kind=MediaKind.SIDECAR, container=general.format if general else None)
    if general is not None and general.format:
        # The container is recognised but its index is not there: a copy stopped before the end.
        reason = f"{general.format} file with no readable picture or sound: cut short or corrupt"
    else:
        reason = "not a media file: no picture or sound found"
    return MediaFile(**base, kind=MediaKind.UNREADABLE, error=reason)


def _bwf(path: Path, findings: list[Finding], read: BwfInfo | None = None) -> BwfInfo | None:
    """The WAV's bext and iXML chunks (`read`: already read); a broken chunk is a finding, never a failure."""
    try:
        bwf = read or read_bwf(path)
    except (NotWave, OSError, ValueError, struct.error) as exc:
        findings.append(Finding(rule="bwf", severity=Severity.WARNING,
                                message=f"BWF header chunks not readable: {exc}"))
        return None
    findings.extend(Finding(rule="bwf", severity=Severity.WARNING, message=p) for p in bwf.problems)
    return bwf


def _video_stream(v: Any) -> VideoStream:
    width, height, par = _int(v.width), _int(v.height), _pixel_aspect(v.pixel_aspect_ratio)
    depth, chroma = codec_depth(v.format, v.codec_id)
    return VideoStream(
        codec=v.format,
        codec_profile=v.format_profile,
        width=width,
        height=height,
        pixel_aspect=par,
        display_aspect=Fraction(width, height) * par if width and height and par else None,
        frame_rate=_video_rate(v),
        scan=_scan(v),  # type: ignore[arg-type]
        variable_frame_rate=(v.frame_rate_mode or "").upper() == "VFR",
        bit_depth=_int(v.bit_depth) or depth,
        chroma_subsampling=v.chroma_subsampling or chroma,
        color_primaries=v.color_primaries,
        transfer=v.transfer_characteristics,
        matrix=v.matrix_coefficients,
        color_range=v.color_range,
        bit_rate=_int(v.bit_rate),
        frame_count=_int(v.frame_count),
    )


def _audio_stream(a: Any, bwf: BwfInfo | None) -> AudioStream:
    return AudioStream(
        codec=a.format,
        channels=_int(a.channel_s),
        sample_rate=_int(a.sampling_rate),
        bit_depth=_int(a.bit_depth) or (bwf.bit_depth if bwf and a.format == "PCM" else None),
        channel_layout=a.channel_layout,
        duration_samples=_int(a.samples_count),
    )


def _start_timecode(info: MediaInfo | Tracks, video: VideoStream | None, container: str | None, fields: dict[str, Any],
                    errors: list[str]) -> tuple[Timecode | None, Fraction | None]:
    """MediaInfo's start timecode: QuickTime/MP4 tmcd and MXF timecode components show as "Time code" tracks
    (the MXF material package first), else the video stream's own."""
    tc_tracks = [t for t in info.other_tracks if (t.type or "") == "Time code" and t.time_code_of_first_frame]
    tc_tracks.sort(key=lambda t: 0 if "Material" in (t.time_code_settings or "") else 1)
    tc_rate = video.frame_rate if video else None
    start: Timecode | None = None
    if tc_tracks:
        t = tc_tracks[0]
        rate = _video_rate(t) or tc_rate
        if rate is not None:
            drop = (t.timecode_dropframe or "").lower() == "yes" or ";" in t.time_code_of_first_frame
            try:
                start = Timecode.parse(t.time_code_of_first_frame, rate, drop)
                tc_rate = rate
                fields["timecode_source"] = "mxf" if container == "MXF" else "tmcd"
            except TimecodeError as exc:
                errors.append(f"unreadable start timecode {t.time_code_of_first_frame!r}: {exc}")
        title = (t.title or "").strip()
        if title and title.casefold() not in _GENERIC_TC_NAMES and not fields.get("reel"):
            fields.update(reel=title, reel_source="tmcd-name")
    elif video is not None and info.video_tracks[0].time_code_of_first_frame and tc_rate is not None:
        raw = info.video_tracks[0].time_code_of_first_frame
        try:
            start = Timecode.parse(raw, tc_rate, ";" in raw)
            fields["timecode_source"] = "stream"
        except TimecodeError as exc:
            errors.append(f"unreadable start timecode {raw!r}: {exc}")
    return start, tc_rate


def _bwf_timecode(bwf: BwfInfo, default_rate: Fraction | None, start: Timecode | None,
                  fields: dict[str, Any]) -> tuple[Timecode | None, Fraction | None]:
    """A BWF take's start: its bext TimeReference (samples since midnight) at the iXML rate; the tape is the reel."""
    tc_rate = bwf.ixml_rate or default_rate
    if bwf.tape:
        fields.update(reel=bwf.tape, reel_source="ixml-tape")
    if bwf.time_reference is not None and bwf.sample_rate and tc_rate is not None:
        drop = bool(bwf.ixml_drop_frame) and tc_rate.denominator == 1001 and round(tc_rate) % 30 == 0
        start = Timecode.from_seconds(Fraction(bwf.time_reference, bwf.sample_rate), tc_rate, drop)
        fields["timecode_source"] = "bext+ixml" if bwf.ixml_rate else "bext"
    return start, tc_rate


def _reel(path: Path, general: Any, container: str | None, fields: dict[str, Any]) -> None:
    """The reel when no timecode track or iXML named it: the MXF package, an MP4 tag, else the clip name."""
    package = str(general.package_name or "").strip()
    if container == "MXF" and not fields.get("reel") and package:
        # Cameras often name the MXF package after the clip: the camera roll then comes from the name.
        if not (package == path.stem and clip_reel(package)):
            fields.update(reel=package, reel_source="mxf-package")
    if not fields.get("reel") and getattr(general, "reel_name", None):
        # MP4 has no named tmcd track: postprod's proxies carry the reel as an mdta "reel_name" tag.
        fields.update(reel=str(general.reel_name).strip(), reel_source="mp4-metadata")
    if not fields.get("reel"):
        reel = clip_reel(path.stem)
        if reel:
            fields.update(reel=reel, reel_source="clip-name")


def _duration(general: Any, video: VideoStream | None, audio: list[AudioStream], bwf: BwfInfo | None,
              tc_rate: Fraction | None, fields: dict[str, Any]) -> None:
    """Seconds from the container; frames from the picture, else the sound's samples at the timecode rate."""
    duration_ms = _int(general.duration)
    fields["duration_seconds"] = duration_ms / 1000 if duration_ms is not None else None
    if video is not None and video.frame_count is not None:
        fields["duration_frames"] = video.frame_count
    elif audio and tc_rate is not None and audio[0].duration_samples and audio[0].sample_rate:
        fields["duration_frames"] = int(Fraction(audio[0].duration_samples, audio[0].sample_rate) * tc_rate)
    elif bwf is not None and bwf.duration_samples and bwf.sample_rate and tc_rate is not None:
        fields["duration_frames"] = int(Fraction(bwf.duration_samples, bwf.sample_rate) * tc_rate)


def _trust_tmcd(path: Path, start: Timecode | None, rate: Fraction | None, fields: dict[str, Any],
                findings: list[Finding]) -> tuple[Timecode | None, Fraction | None]:
    """The tmcd sample's start, read from the file as ffmpeg reads it, over MediaInfo's; an info finding if they differ.

    Some cameras' MP4s give MediaInfo a wrong start (it counts at the description's frames-per-second
    byte, not at the track's rate).
    """
    sample = tmcd_start(path)
    if sample is None:
        return start, rate
    if start is not None and (start.frames, start.drop_frame) == (sample.frames, sample.drop_frame) \
            and start.format() == sample.format():
        return start, rate
    if start is not None:
        findings.append(Finding(
            rule="timecode.source", severity=Severity.INFO,
            message=f"start timecode: the tmcd sample says {sample.format()}, MediaInfo reads {start.format()}; "
                    "the file's value is kept (ffmpeg reads it the same)",
            expected=sample.format(), measured=start.format()))
    fields["timecode_source"] = "tmcd"
    return sample, sample.rate
