"""ffmpeg failures in words: the first meaningful error line, the step that ran and the file.

ffmpeg's last lines are its least useful ("Invalid argument", "Conversion failed!"): the cause is
usually the first error it printed, prefixed by the filter or component that raised it.
"""

from __future__ import annotations

import re

# Lines that only say that something before them failed.
_GENERIC = re.compile(
    r"^(invalid argument|conversion failed!?|error initializing (complex )?filters?\.?|"
    r"error (while|when) (filtering|decoding|opening|processing).*|error opening output files?.*|"
    r"error sending frames to consumers.*|task finished with error code.*|terminating thread.*|"
    r"error (reinitializing|configuring) filters?.*|nothing was written into output file.*|"
    r"exiting normally.*|error closing.*|failed to set value .* for option .*|error parsing .*options.*|"
    r"error applying option .*|error setting option .*|error splitting the argument list.*)$",
    re.IGNORECASE)
_WORDS = re.compile(r"error|invalid|unable|no such|cannot|could not|unrecognized|not found", re.IGNORECASE)
_LEVEL = re.compile(r"\[(?:error|fatal|panic)\]")
_CONTEXT = re.compile(r"^\[(?P<ctx>[^\]@]+?)(?: @ 0x[0-9a-f]+)?\] ")
_PREFIX = re.compile(r"^(\[[^\]]*\] )+")


def _clean(line: str) -> tuple[str, str]:
    """(component, message) of one stderr line: `[Parsed_ebur128_0 @ 0x..] [error] text` → (ebur128, text)."""
    match = _CONTEXT.match(line)
    ctx = ""
    if match and match.group("ctx") not in ("error", "fatal", "panic", "warning", "info"):
        ctx = re.sub(r"^Parsed_(\w+?)_\d+$", r"\1", match.group("ctx").strip())
    return ctx, _PREFIX.sub("", line).strip()


def first_error(stderr: str, rc: int | None = None) -> str:
    """The first line of ffmpeg's stderr that says what went wrong, with the component that said it."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if _LEVEL.search(ln)] or [ln for ln in lines if _WORDS.search(ln)]
    for line in errors:
        ctx, text = _clean(line)
        if text and not _GENERIC.match(text):
            return f"{ctx}: {text}" if ctx else text
    if errors:
        ctx, text = _clean(errors[0])
        return f"{ctx}: {text}" if ctx else text
    if lines:
        return _clean(lines[-1])[1]
    return f"ffmpeg exit {rc}" if rc is not None else "ffmpeg failed without a message"


def failure(step: str, path: object, stderr: str, rc: int | None, ffmpeg_version: str | None = None) -> str:
    """`QC analysis of master.mxf failed (ffmpeg 5.1.9): ebur128: Unable to parse option value "quiet"`."""
    name = getattr(path, "name", None) or str(path).rsplit("/", 1)[-1]
    version = f" (ffmpeg {ffmpeg_version})" if ffmpeg_version else ""
    return f"{step} of {name} failed{version}: {first_error(stderr, rc)}"
