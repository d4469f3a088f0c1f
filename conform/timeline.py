"""Read any edit list (CMX3600 EDL, FCP7 xmeml, FCPXML, AAF, OTIO) into the one timeline model.

EDLs go through our own reader (conform/edl.py); the other formats through OpenTimelineIO and its
adapter plugins, XML being checked with defusedxml first (no entity expansion, no external entities).
"""

from __future__ import annotations

import stat
from fractions import Fraction
from pathlib import Path

from conform.edl import MAX_EDL_BYTES, read_edl
from conform.edl_rate import CatalogueRates
from conform.model import Timeline, TimelineError
from conform.otio_read import read_with_otio
from media.timecode import TimecodeError

MAX_TIMELINE_BYTES = 256 * 1024 * 1024
SUFFIX_FORMATS = {".edl": "cmx3600", ".xml": "fcp_xml", ".fcpxml": "fcpx_xml", ".aaf": "aaf", ".otio": "otio"}


def sniff(path: Path, head: bytes) -> str:
    """The format from the extension, else from the first bytes; a clear error when neither says."""
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if path.suffix.lower() == ".fcpxmld" or path.is_dir():
        info = path / "Info.fcpxml"
        if info.is_file():
            return "fcpx_xml"
    looks_xml = text.startswith(b"<")
    if fmt in ("fcp_xml", "fcpx_xml") or (fmt is None and looks_xml):
        if b"<fcpxml" in head:
            return "fcpx_xml"
        if b"<xmeml" in head or fmt == "fcp_xml":
            return "fcp_xml"
        return fmt or "unknown"
    if fmt is not None:
        return fmt
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "aaf"  # a structured storage file: what AAF is made of
    if text.startswith(b"{") and b"OTIO_SCHEMA" in head:
        return "otio"
    if text[:6].upper().startswith(b"TITLE:") or text[:4].upper().startswith(b"FCM:") or text[:3].isdigit():
        return "cmx3600"
    return "unknown"


_NOT_REGULAR = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _regular_file(path: Path) -> Path:
    """The file to read, from its stat alone: nothing that is not a regular file is ever opened."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise TimelineError("no such file", path=path) from None
    except OSError as exc:
        raise TimelineError(f"cannot read it ({exc.strerror})", path=path) from exc
    if stat.S_ISDIR(mode):
        info = path / "Info.fcpxml"
        if not info.is_file():
            raise TimelineError("a folder, not a timeline file", path=path)
        return _regular_file(info)
    for test, what in _NOT_REGULAR:
        if test(mode):
            raise TimelineError(f"not a regular file but {what}: an edit list must be a file", path=path)
    return path


def read_timeline(path: Path, *, rate: Fraction | None, default_rate: Fraction,
                  catalogue: CatalogueRates | None = None) -> Timeline:
    """Read a timeline file. The rate comes from `rate` (the option), else the file, else `default_rate`
    (for an EDL also from the catalogued media of its reels, through `catalogue`)."""
    path = Path(path)
    file = _regular_file(path)
    size = file.stat().st_size
    if size == 0:
        raise TimelineError("empty file", path=path)
    limit = MAX_EDL_BYTES if path.suffix.lower() == ".edl" else MAX_TIMELINE_BYTES
    if size > limit:
        raise TimelineError(f"file too large for an edit list ({size:,} bytes; the limit is {limit:,})", path=path)
    with open(file, "rb") as fh:
        head = fh.read(4096)
    fmt = sniff(path, head)
    if fmt == "unknown":
        raise TimelineError(f"unknown timeline format '{path.suffix or '(no extension)'}' and contents not "
                            f"recognised; available: {', '.join(SUFFIX_FORMATS)}", path=path)
    try:
        if fmt == "cmx3600":
            if size > MAX_EDL_BYTES:
                raise TimelineError(f"file too large for an EDL ({size:,} bytes)", path=path)
            return read_edl(path, rate or default_rate, "option" if rate else "production", data=file.read_bytes(),
                            production_rate=default_rate, catalogue=catalogue)
        return read_with_otio(path, file, fmt, rate=rate, default_rate=default_rate)
    except (TimecodeError, ValueError, OverflowError, RecursionError) as exc:
        # A value no reader step expected: still the file's fault, still a message, not a traceback.
        raise TimelineError(f"cannot read this {fmt} file: {exc}", path=path) from exc
