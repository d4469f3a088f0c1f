"""Walking a card: its files in order, what is ignored, and what cannot be read (named, never silently left out).

Only regular files are listed: FIFOs, sockets and devices are reported and never opened.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from media.findings import Finding, Severity

if TYPE_CHECKING:  # the card's models load only for a problem to report: `postprod probe FOLDER` walks without them
    from ingest.results import FileResult

# The card's ASC MHL history folder (ingest/mhl.py's MHL_FOLDER, the same name by the ASC MHL spec; a test keeps
# them equal). Named here so that a walk, and so `postprod probe FOLDER`, does not load the MHL reader and writer.
MHL_FOLDER = "ascmhl"


def is_ignored(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


@dataclass
class Scan:
    root: Path  # the card root (for a loose file, its folder)
    files: list[Path] = field(default_factory=list)
    problems: list[FileResult] = field(default_factory=list)
    loose: bool = False


def scan(source: Path, ignore: list[str]) -> Scan:
    """List a card's files (sorted, ignoring the ignore list and `ascmhl/`), noting what cannot be walked."""
    odd = None if source.is_dir() else not_regular(source)
    if odd:
        return Scan(root=source.parent, loose=True, problems=[problem_result(
            source, source.parent, "not_a_file", f"{odd}, not a regular file: not read", status="skipped")])
    if source.is_file() or (source.is_symlink() and not source.is_dir()):
        return Scan(root=source.parent, files=[source], loose=True)
    result = Scan(root=source)
    seen_dirs: set[tuple[int, int]] = set()

    def onerror(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else source
        result.problems.append(problem_result(where, source, "unreadable", f"cannot list folder: {exc.strerror}"))

    for dirpath, dirnames, filenames in os.walk(source, onerror=onerror, followlinks=False):
        here = Path(dirpath)
        try:
            st = here.stat()
            seen_dirs.add((st.st_dev, st.st_ino))
        except OSError:
            pass
        kept = []
        for d in sorted(dirnames):
            full = here / d
            if (here == source and d == MHL_FOLDER) or is_ignored(d, ignore):
                continue
            if not _utf8(d):
                result.problems.append(_bad_name(full, source, "folder"))
                continue
            if full.is_symlink():
                result.problems.append(problem_result(full, source, "symlink",
                                                      "symbolic link to a folder: not followed", Severity.WARNING,
                                                      status="skipped"))
                continue
            kept.append(d)
        dirnames[:] = kept
        if here.suffix.lower() in MEDIA_SUFFIXES and not filenames and not dirnames:
            result.problems.append(problem_result(
                here, source, "folder_named_like_media",
                "a folder named like a media file, with nothing in it: not a clip (a copy that went wrong?)",
                status="skipped"))
        for name in sorted(filenames):
            if is_ignored(name, ignore):
                continue
            if not _utf8(name):
                result.problems.append(_bad_name(here / name, source, "file"))
                continue
            odd = not_regular(here / name)
            if odd:
                result.problems.append(problem_result(here / name, source, "not_a_file", f"{odd}, not a regular file: "
                                                "not read", status="skipped"))
                continue
            result.files.append(here / name)
    return result


# Names of media files: a folder named so is reported when empty (a file expected there is not).
MEDIA_SUFFIXES = {".mov", ".mp4", ".mxf", ".m4v", ".avi", ".mkv", ".mts", ".m2ts", ".mpg", ".mpeg", ".dv",
                  ".wav", ".bwf", ".aif", ".aiff", ".r3d", ".braw", ".ari", ".crm", ".mp3", ".m4a"}


def not_regular(path: Path) -> str | None:
    """What a directory entry is when it is no regular file (nor a link): reading a FIFO or a device
    would hang or never end."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None  # gone since the listing: the steps after report it
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return None
    return {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
            stat.S_IFBLK: "a block device"}.get(stat.S_IFMT(mode), "a special file")


def _utf8(name: str) -> bool:
    """False for a name whose bytes are not UTF-8 (Python holds them as surrogates): it cannot be catalogued."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_name(path: Path) -> str:
    """A path fit for a report: undecodable bytes written as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _bad_name(path: Path, root: Path, what: str) -> FileResult:
    from ingest.results import FileResult

    rel = os.fsencode(path.relative_to(root)).decode("utf-8", "backslashreplace")
    return FileResult(path=shown_name(path), relpath=rel, status="skipped", findings=[Finding(
        rule="file_name", severity=Severity.ERROR,
        message=f"{what} name is not valid UTF-8 (copied from an old volume?): not ingested; rename it "
                f"(e.g. with convmv) and ingest again")])


def problem_result(path: Path, root: Path, rule: str, message: str, severity: Severity = Severity.ERROR,
             status: str = "unreadable") -> FileResult:
    from ingest.results import FileResult

    return FileResult(path=str(path), relpath=relpath_of(path, root), status=status,
                      findings=[Finding(rule=rule, severity=severity, message=message)])


def relpath_of(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name
