"""When is a card complete? Pure rules over the file states the watcher observed (no I/O, no clock).

A *unit* is what one ingest takes: a top-level folder under an ingest folder (a card) or a top-level file
(a loose file). A file is complete when its writer closed it (inotify, and at the last look no process
holds it open for writing: writers.py) and its size and mtime have not changed for `settle` seconds; a
card when all its files are, nothing new came for as long (or its done marker is there), no
copy-in-progress name (`*.part`...) is left in it, and every file its own ASC MHL lists is there at the
listed size.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field

from ingest.mhl import MHL_FOLDER
from ingest.watch.mounts import Folder


def globs(patterns: list[str]) -> re.Pattern[str]:
    """One regular expression for a list of globs (a full scan tests every name of a large tree)."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or r"(?!)")


@dataclass(frozen=True)
class Rules:
    settle: float
    open_file_timeout: float
    incomplete_card_seconds: float
    ignore: re.Pattern[str]
    partial: re.Pattern[str]
    done_markers: tuple[str, ...] = ()
    data_path: str = ""  # our own data directory, never watched even when inside an ingest folder

    def ignored(self, name: str) -> bool:
        return self.ignore.match(name) is not None

    def is_partial(self, name: str) -> bool:
        return self.partial.match(name) is not None


@dataclass
class FileState:
    size: int
    mtime_ns: int
    ctime_ns: int
    changed_at: float  # monotonic time of the last change we saw
    partial: bool = False  # a copy-in-progress name: blocks its card, never ingested itself
    writing: bool = False  # inotify: created or written to, and not closed since
    writer: int | None = None  # the pid the OS said holds it open for writing, at the last look
    written_at: float = 0.0
    checked_at: float = 0.0
    dirty: bool = False  # an event came: stat it at the next tick
    warned_open: bool = False

    @property
    def signature(self) -> tuple[int, int, int]:
        return (self.size, self.mtime_ns, self.ctime_ns)

    def saw(self, size: int, mtime_ns: int, ctime_ns: int, now: float) -> bool:
        """Record a stat of the file; True when its size or mtime changed."""
        changed = (size, mtime_ns) != (self.size, self.mtime_ns)
        if changed:
            self.size, self.mtime_ns, self.changed_at = size, mtime_ns, now
        self.ctime_ns = ctime_ns
        return changed


@dataclass
class Unit:
    folder: Folder
    name: str
    is_card: bool
    first_seen: float
    last_activity: float
    files: dict[str, FileState] = field(default_factory=dict)
    announced: bool = False
    in_flight: bool = False
    finished_at: float = float("-inf")
    needs_walk: bool = False
    waiting_logged_at: float = 0.0
    incomplete_warned: bool = False
    hold_until: float = 0.0
    held_for: str = ""
    submitted: dict[str, FileState] = field(default_factory=dict)
    failures: int = 0
    writers_at: float = float("-inf")  # when the OS was last asked who holds its files open for writing

    @property
    def source(self) -> str:
        return os.path.join(self.folder.path, self.name)

    @property
    def key(self) -> tuple[str, str]:
        return (self.folder.path, self.name)


def classify(rules: Rules, folder: str, path: str, is_dir: bool) -> tuple[str, str] | None:
    """(unit name, category: file | partial | mhl | dir) for a path under a folder, or None if not ours."""
    if rules.data_path and (path == rules.data_path or path.startswith(rules.data_path + os.sep)):
        return None
    rel = path[len(folder) + 1:]
    parts = rel.split(os.sep)
    if not rel or parts[0] == MHL_FOLDER:
        return None
    if len(parts) >= 2 and parts[1] == MHL_FOLDER:
        return parts[0], "mhl"
    dirs = parts if is_dir else parts[:-1]
    if any(rules.ignored(d) for d in dirs):
        return None
    if is_dir:
        return parts[0], "dir"
    name = parts[-1]
    if rules.is_partial(name):
        return parts[0], "partial"
    if rules.ignored(name):
        return None
    return parts[0], "file"


def skip_in_tree(rules: Rules, folder: str, path: str, is_dir: bool) -> bool:
    """Whether a listing of the folder leaves this path out (ignored names, our MHL folder, our data)."""
    if path == rules.data_path:
        return True
    name = os.path.basename(path)
    if is_dir:
        return rules.ignored(name) or (os.path.dirname(path) == folder and name == MHL_FOLDER)
    return rules.ignored(name) and not rules.is_partial(name)


@dataclass(frozen=True)
class Verdict:
    """Why a unit is not complete (reason None: complete, as far as stats and events tell)."""

    reason: str | None
    stale_writers: tuple[str, ...] = ()  # written to and never closed for open_file_timeout: taken as closed


def blocked(rules: Rules, unit: Unit, now: float) -> Verdict:
    if not unit.files:
        return Verdict("no files yet")
    changing = writing = partial = 0
    stale: list[str] = []
    for path, fs in unit.files.items():
        if fs.partial:
            if now - fs.changed_at < rules.open_file_timeout:
                partial += 1
            continue
        if now - fs.changed_at < rules.settle or fs.size < 0:
            changing += 1
        elif fs.writing or fs.writer is not None:
            if now - max(fs.written_at, fs.changed_at) < rules.open_file_timeout:
                writing += 1
            elif not fs.warned_open:
                stale.append(path)
    reasons = []
    if changing:
        reasons.append(f"{changing} file(s) changed less than {rules.settle:g} s ago")
    if writing and (pids := sorted({fs.writer for fs in unit.files.values() if fs.writer})):  # 0: not known
        reasons.append(f"{writing} file(s) still open by their writer (pid {', '.join(map(str, pids[:3]))})")
        writing = 0
    if writing:
        reasons.append(f"{writing} file(s) still open by their writer")
    if partial:
        reasons.append(f"{partial} copy-in-progress file(s) (*.part...)")
    if all(fs.partial for fs in unit.files.values()):
        reasons.append("only copy-in-progress files so far")
    if reasons:
        return Verdict("; ".join(reasons), tuple(stale))
    marker = unit.is_card and has_marker(rules, unit)
    if now - unit.last_activity < rules.settle and not marker:
        return Verdict(f"card changed less than {rules.settle:g} s ago", tuple(stale))
    return Verdict(None, tuple(stale))


def has_marker(rules: Rules, unit: Unit) -> bool:
    """A done marker (a file name the copy tool writes last) at the card's root."""
    if not rules.done_markers:
        return False
    return any(os.path.dirname(p) == unit.source and
               any(fnmatch.fnmatchcase(os.path.basename(p), m) for m in rules.done_markers)
               for p in unit.files)


def manifest_missing(rules: Rules, listed: dict[str, int | None], sizes: dict[str, int | None]) -> list[str]:
    """Files the card's own MHL lists (relpath -> size) that are not here (sizes: relpath -> size or None)
    at the listed size yet."""
    missing = []
    for rel, size in listed.items():
        if rules.ignored(os.path.basename(rel)):
            continue
        here = sizes.get(rel)
        if here is None or (size is not None and here != size):
            missing.append(rel)
    return missing


def incomplete_card(rules: Rules, unit: Unit, missing: list[str], now: float) -> str | None:
    """Why a card whose MHL lists files not here yet is still waited for (None: waited long enough)."""
    if missing and now - unit.last_activity < rules.incomplete_card_seconds:
        return f"{len(missing)} file(s) listed in the card's MHL not here yet (e.g. {missing[0]})"
    return None


def hold_seconds(settle: float, check_every: float) -> float:
    """After a last look (a full listing) that found the unit not complete: not again before this."""
    return max(check_every, min(settle, 2.0))
