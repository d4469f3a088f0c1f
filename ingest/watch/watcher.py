"""Watch folders: each card or loose file is ingested once, and only after its copy has ended (DOMAIN.md §7).

A *unit* is what one ingest takes: a top-level folder under an ingest folder (a card) or a top-level file
(a loose file). A file is complete when its writer closed it (inotify) and its size and mtime have not
changed for `settle_seconds`; a card when all its files are, nothing new came for as long, no copy-in-progress
name (`*.part`...) is left in it, and every file its own ASC MHL lists is there at the listed size.

The watcher only decides *when*; the ingest itself (hash, probe, catalogue) is a pluggable trigger, and it
already skips files catalogued with the same path, size and mtime and reports files changed after their
ingest. Reconciling with the catalogue on start and at an interval finds what arrived while it was down.
"""

from __future__ import annotations

import fcntl
import fnmatch
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from config.errors import ConfigError, PostprodError
from config.settings import Settings
from ingest import mhl
from ingest.catalogue import Catalogue, media
from ingest.watch.poll import TreePoller

NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afpfs", "fuse.rclone",
                       "davfs", "fuse.gvfsd-fuse", "glusterfs", "ceph", "fuse.ceph", "lustre", "beegfs"}
HEALTH_SECONDS = 2.0  # how often each folder is checked for being there (unmounted share, deleted folder)
WAITING_LOG_SECONDS = 60.0  # how often a unit that is still arriving is mentioned in the log

Emit = Callable[[dict[str, Any]], None]


# -- what is watched -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Folder:
    """An ingest folder of a production, watched with inotify (poll is None) or polled every `poll` seconds."""

    production: str
    path: str  # absolute, spelt as the ingest records it
    poll: float | None = None
    why_poll: str | None = None  # "--poll", "poll_folders", "nfs4 share", "inotify unavailable: ..."


def network_filesystem(path: str | Path, mounts_file: str = "/proc/self/mounts") -> str | None:
    """The file system type of the mount holding `path` when it is a network one (no inotify events there)."""
    target = os.path.realpath(path)
    best, fstype = "", None
    try:
        with open(mounts_file, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 3:
                    continue
                point = parts[1].replace("\\040", " ")
                inside = target == point or target.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= len(best):
                    best, fstype = point, parts[2]
    except OSError:
        return None
    return fstype if fstype in NETWORK_FILESYSTEMS else None


def folders_to_watch(settings: Settings, production: str | None, poll: float | None = None) -> list[Folder]:
    """Every ingest folder of the production (or of all productions), and how each is watched."""
    if production:
        productions = [settings.production(production)]
    else:
        productions = [p for p in settings.productions.values() if p.ingest_folders]
    folders: list[Folder] = []
    owner: dict[str, str] = {}
    for prod in productions:
        ingest_paths = {os.path.abspath(p) for p in prod.ingest_folders}
        polled = {os.path.abspath(p) for p in prod.poll_folders}
        stray = sorted(polled - ingest_paths)
        if stray:
            raise ConfigError(None, f"productions.{prod.name}.poll_folders",
                              f"{stray[0]} is not one of the production's ingest_folders")
        for p in prod.ingest_folders:
            path = os.path.abspath(p)
            if path in owner:
                raise ConfigError(None, f"productions.{prod.name}.ingest_folders",
                                  f"{path} is also an ingest folder of production '{owner[path]}'")
            owner[path] = prod.name
            if poll is not None:
                folders.append(Folder(prod.name, path, poll, "--poll"))
            elif path in polled:
                folders.append(Folder(prod.name, path, settings.watch.poll_seconds, "poll_folders"))
            elif fs := network_filesystem(path):
                folders.append(Folder(prod.name, path, settings.watch.poll_seconds, f"{fs} share"))
            else:
                folders.append(Folder(prod.name, path))
    if not folders:
        which = f"production '{production}'" if production else "any production"
        raise PostprodError(f"no ingest folders configured for {which}: add ingest_folders = [...] under "
                            "[productions.NAME] in the settings file")
    return folders


# -- the ingest, as the watcher sees it ------------------------------------------------------------------

@dataclass(frozen=True)
class IngestJob:
    """One card or loose file to ingest."""

    production: str
    folder: str
    unit: str  # the card's folder name, or the loose file's name
    source: str  # absolute path given to the ingest
    files: int  # files the watcher saw settle in it


@dataclass
class JobResult:
    """What an ingest trigger reports back (the reports themselves are on disk)."""

    new: int = 0
    unchanged: int = 0
    files: int = 0
    errors: int = 0
    warnings: int = 0
    reports: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "relpath: rule: message" of error findings
    failure: str | None = None  # the ingest could not run at all
    permanent: bool = False  # retrying cannot help until the files change (e.g. a name that is not UTF-8)
    submitted_run: str | None = None  # handed to a shared Prefect server: the flow run that will ingest it


Trigger = Callable[[IngestJob], JobResult]


# -- bookkeeping ----------------------------------------------------------------------------------------

@dataclass
class FileState:
    size: int
    mtime_ns: int
    ctime_ns: int
    changed_at: float  # monotonic time of the last change we saw
    partial: bool = False  # a copy-in-progress name: blocks its card, never ingested itself
    writing: bool = False  # inotify: written to and not closed since
    written_at: float = 0.0
    checked_at: float = 0.0
    dirty: bool = False  # an event came: stat it at the next tick
    warned_open: bool = False

    @property
    def signature(self) -> tuple[int, int, int]:
        return (self.size, self.mtime_ns, self.ctime_ns)


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

    @property
    def source(self) -> str:
        return os.path.join(self.folder.path, self.name)

    @property
    def key(self) -> tuple[str, str]:
        return (self.folder.path, self.name)


@dataclass
class RunSummary:
    ingests: int = 0
    new: int = 0
    errors: int = 0
    failures: int = 0
    left: list[str] = field(default_factory=list)  # --once: units still arriving
    abandoned: list[str] = field(default_factory=list)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:  # gone, or not reachable (permission, share gone): callers look again and say why
        return None


def _globs(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or r"(?!)")


class _Lock:
    """One watcher per production and data directory: a second one would ingest the same cards."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115  (held for the watcher's life)
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "?"
            self.fh.close()
            raise PostprodError(f"another `postprod watch` (pid {holder}) is watching this production",
                                path=path) from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(str(os.getpid()))
        self.fh.flush()

    def release(self) -> None:
        if not self.fh.closed:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()


# -- the watcher ----------------------------------------------------------------------------------------

class Watcher:
    """Find complete cards and loose files in the folders and hand each to the trigger once."""

    def __init__(self, settings: Settings, folders: list[Folder], trigger: Trigger, emit: Emit, *,
                 max_ingests: int | None = None, tick: float | None = None) -> None:
        self.settings = settings
        self.settle = settings.settle_seconds
        self.wcfg = settings.watch
        self.folders = list(folders)
        self.trigger = trigger
        self._emit = emit
        self.max_ingests = max_ingests or self.wcfg.max_ingests
        # The loop's period, and how often a file still settling is stat'ed: both add to the latency.
        self.tick = tick if tick is not None else min(0.1, max(0.02, self.settle / 10))
        self.check_every = min(0.5, max(0.05, self.settle / 8))
        self.ignore = list(settings.ignore)
        self.partial = list(self.wcfg.partial_patterns)
        # One regular expression per list: the full scan tests every name of a large tree against them.
        self._ignore_re = _globs(self.ignore)
        self._partial_re = _globs(self.partial)
        self.data_path = str(settings.data_path)
        self.units: dict[tuple[str, str], Unit] = {}
        self.attempted: dict[str, tuple[int, int, int]] = {}  # path -> signature handed to an ingest
        self.events: queue.SimpleQueue[tuple[str, str, str, bool]] = queue.SimpleQueue()
        self.pollers: dict[str, TreePoller] = {}
        self.next_poll: dict[str, float] = {}
        self.down: dict[str, str] = {}  # folder path -> why it is unavailable
        self.identity: dict[str, tuple[int, int]] = {}
        self.watches: dict[str, Any] = {}
        self.observer: Any = None
        self.running: dict[Future[JobResult], Unit] = {}
        self.pool = ThreadPoolExecutor(max_workers=self.max_ingests, thread_name_prefix="ingest")
        self.summary = RunSummary()
        self.stop_requested = threading.Event()
        self.wake = threading.Event()  # an event came, or a stop was asked for
        self.abandon_requested = threading.Event()
        self._warned: set[tuple[str, str]] = set()
        self._locks: list[_Lock] = []

    # -- log ---------------------------------------------------------------------------------------------
    def emit(self, event: str, **data: Any) -> None:
        self._emit({"time": _now_iso(), "event": event, **data})

    def _problem(self, path: str, reason: str, folder: Folder | None = None) -> None:
        if (path, reason) in self._warned:
            return
        self._warned.add((path, reason))
        self.emit("problem", production=folder.production if folder else None, path=path, message=reason)

    # -- classification ----------------------------------------------------------------------------------
    def _folder_of(self, path: str) -> Folder | None:
        for f in self.folders:
            if path.startswith(f.path + os.sep):
                return f
        return None

    def _ignored(self, name: str) -> bool:
        return self._ignore_re.match(name) is not None

    def _is_partial(self, name: str) -> bool:
        return self._partial_re.match(name) is not None

    def classify(self, folder: Folder, path: str, is_dir: bool) -> tuple[str, str] | None:
        """(unit name, category: file | partial | mhl | dir) for a path under a folder, or None if not ours."""
        if path == self.data_path or path.startswith(self.data_path + os.sep):
            return None
        rel = path[len(folder.path) + 1:]
        parts = rel.split(os.sep)
        if not rel or parts[0] == mhl.MHL_FOLDER:
            return None
        if len(parts) >= 2 and parts[1] == mhl.MHL_FOLDER:
            return parts[0], "mhl"
        dirs = parts if is_dir else parts[:-1]
        if any(self._ignored(d) for d in dirs):
            return None
        if is_dir:
            return parts[0], "dir"
        name = parts[-1]
        if self._is_partial(name):
            return parts[0], "partial"
        if self._ignored(name):
            return None
        return parts[0], "file"

    def _skip_in_tree(self, folder: Folder) -> Callable[[str, bool], bool]:
        def skip(path: str, is_dir: bool) -> bool:
            if path == self.data_path:
                return True
            name = os.path.basename(path)
            if is_dir:
                return self._ignored(name) or (os.path.dirname(path) == folder.path and name == mhl.MHL_FOLDER)
            return self._ignored(name) and not self._is_partial(name)
        return skip

    # -- units -------------------------------------------------------------------------------------------
    def _unit(self, folder: Folder, name: str, now: float, is_card: bool | None = None) -> Unit:
        key = (folder.path, name)
        unit = self.units.get(key)
        if unit is None:
            if is_card is None:
                is_card = os.path.isdir(os.path.join(folder.path, name))
            unit = Unit(folder=folder, name=name, is_card=is_card, first_seen=now, last_activity=now)
            self.units[key] = unit
        return unit

    def observe(self, folder: Folder, path: str, now: float, *, st: os.stat_result | None = None,
                writing: bool | None = None) -> None:
        """Something happened to a file (an event, a poll, a scan): track it until it settles."""
        where = self.classify(folder, path, False)
        if where is None:
            return
        name, category = where
        rel_depth = path[len(folder.path) + 1:].count(os.sep)
        unit = self._unit(folder, name, now, is_card=rel_depth > 0 or None)
        if category == "mhl":
            # Our own ingest writes the card's next MHL generation: that is not a copy arriving.
            grace = max(2 * self.settle, 2 * (folder.poll or 0) + 1.0)
            if not unit.in_flight and now - unit.finished_at > grace:
                unit.last_activity = now
            return
        fs = unit.files.get(path)
        if fs is None:
            if st is None:
                st = _stat(path) if writing is None else None
            fs = FileState(size=st.st_size if st else -1, mtime_ns=st.st_mtime_ns if st else -1,
                           ctime_ns=st.st_ctime_ns if st else -1, changed_at=now,
                           partial=category == "partial", checked_at=now, dirty=st is None)
            unit.files[path] = fs
        else:
            fs.dirty = True
        if writing is not None:
            fs.writing = writing
            if writing:
                fs.written_at = now
        unit.last_activity = now
        if not unit.announced:
            unit.announced = True
            self.emit("arrived", production=folder.production, folder=folder.path, unit=name,
                      card=unit.is_card, path=path)

    def gone(self, folder: Folder, path: str, now: float, *, is_dir: bool = False,
             moved_to: str | None = None) -> FileState | None:
        where = self.classify(folder, path, is_dir)
        if where is None:
            return None
        name, _category = where
        unit = self.units.get((folder.path, name))
        if unit is None:
            return None
        if is_dir:
            if path == unit.source:
                self._drop(unit, "folder removed or moved away")
            else:
                unit.needs_walk = True
                unit.last_activity = now
            return None
        fs = unit.files.pop(path, None)
        unit.last_activity = now
        if fs is not None and not fs.partial and moved_to is None:
            self.emit("vanished", production=folder.production, unit=name, path=path,
                      message="deleted or moved away while settling: not ingested")
        if not unit.is_card and not unit.files and not unit.in_flight:
            self.units.pop(unit.key, None)
        return fs

    def _drop(self, unit: Unit, why: str) -> None:
        if unit.in_flight:
            unit.files.clear()
            return
        self.units.pop(unit.key, None)
        if unit.announced and unit.files:
            self.emit("vanished", production=unit.folder.production, unit=unit.name, path=unit.source,
                      message=f"{why} while settling: not ingested")

    # -- events from inotify ---------------------------------------------------------------------------
    def _handle(self, kind: str, src: str, dest: str, is_dir: bool, now: float) -> None:
        for path in (src, dest):
            if path:
                folder = self._folder_of(path)
                break
        else:
            return
        if folder is None or folder.path in self.down:
            return
        if is_dir:
            if kind in ("created", "moved") and dest:
                self._dir_arrived(dest, now)
            if kind == "deleted" or (kind == "moved" and src):
                f = self._folder_of(src)
                if f is not None:
                    self.gone(f, src, now, is_dir=True)
            return
        if kind == "moved":
            state = None
            if src and (f := self._folder_of(src)) is not None:
                state = self.gone(f, src, now, moved_to=dest or None)
            if dest and (f := self._folder_of(dest)) is not None:
                # Renamed in place (`.part` -> final name) keeps its writer; moved in whole has none.
                self.observe(f, dest, now, writing=bool(state and state.writing))
            return
        if kind == "deleted":
            self.gone(folder, src, now)
        elif kind == "closed":
            self.observe(folder, src, now, writing=False)
        elif kind == "modified":
            self.observe(folder, src, now, writing=True)
        else:
            # Created: a close follows if a writer writes to it, but files created before the watch on a new
            # folder was in place show up as created afterwards, already closed. Attributes: the utime at
            # the end of `cp -p`. Either way: look at it again, writer state unchanged.
            self.observe(folder, src, now, writing=None)

    def _dir_arrived(self, path: str, now: float) -> None:
        folder = self._folder_of(path)
        if folder is None:
            return
        where = self.classify(folder, path, True)
        if where is None or where[1] == "mhl":
            return
        unit = self._unit(folder, where[0], now, is_card=True)
        unit.needs_walk = True
        unit.last_activity = now

    # -- stat and decide -------------------------------------------------------------------------------
    def _refresh(self, unit: Unit, now: float, everything: bool = False) -> None:
        for path, fs in list(unit.files.items()):
            settled = now - fs.changed_at >= self.settle
            if not (everything or fs.dirty or (not settled and now - fs.checked_at >= self.check_every)):
                continue
            fs.dirty = False
            fs.checked_at = now
            try:
                st = os.stat(path)
            except FileNotFoundError:
                self.gone(unit.folder, path, now)
                continue
            except OSError as exc:
                self._problem(path, f"cannot stat: {exc.strerror or exc}", unit.folder)
                continue
            if (st.st_size, st.st_mtime_ns) != (fs.size, fs.mtime_ns):
                fs.size, fs.mtime_ns, fs.ctime_ns = st.st_size, st.st_mtime_ns, st.st_ctime_ns
                fs.changed_at = now
                unit.last_activity = now
            else:
                fs.ctime_ns = st.st_ctime_ns

    def _walk_card(self, unit: Unit, now: float) -> None:
        """List the card again: files the events or polls have not told us about yet (or not any more)."""
        unit.needs_walk = False
        found: set[str] = set()
        skip = self._skip_in_tree(unit.folder)

        def onerror(exc: OSError) -> None:
            self._problem(exc.filename or unit.source, f"cannot list folder: {exc.strerror or exc}", unit.folder)

        for dirpath, dirnames, filenames in os.walk(unit.source, onerror=onerror):
            dirnames[:] = [d for d in dirnames
                           if not skip(os.path.join(dirpath, d), True)
                           and not (dirpath == unit.source and d == mhl.MHL_FOLDER)]
            for n in filenames:
                p = os.path.join(dirpath, n)
                if not skip(p, False):
                    found.add(p)
        for path in found - set(unit.files):
            self.observe(unit.folder, path, now)
        for path in set(unit.files) - found:
            if not os.path.lexists(path):
                self.gone(unit.folder, path, now)

    def _blocked(self, unit: Unit, now: float) -> str | None:
        """Why the unit is not complete yet (None: complete, as far as stats and events tell)."""
        if not unit.files:
            return "no files yet"
        settle = self.settle
        changing = writing = partial = 0
        for fs in unit.files.values():
            if fs.partial:
                if now - fs.changed_at < self.wcfg.open_file_timeout:
                    partial += 1
                continue
            if now - fs.changed_at < settle or fs.size < 0:
                changing += 1
            elif fs.writing:
                if now - max(fs.written_at, fs.changed_at) < self.wcfg.open_file_timeout:
                    writing += 1
                elif not fs.warned_open:
                    fs.warned_open = True
                    self._problem(unit.source, "a file was written to and never closed "
                                  f"for {self.wcfg.open_file_timeout:.0f} s: taken as complete", unit.folder)
        reasons = []
        if changing:
            reasons.append(f"{changing} file(s) changed less than {settle:g} s ago")
        if writing:
            reasons.append(f"{writing} file(s) still open by their writer")
        if partial:
            reasons.append(f"{partial} copy-in-progress file(s) (*.part...)")
        if all(fs.partial for fs in unit.files.values()):
            reasons.append("only copy-in-progress files so far")
        if reasons:
            return "; ".join(reasons)
        marker = unit.is_card and self._has_marker(unit)
        if now - unit.last_activity < settle and not marker:
            return f"card changed less than {settle:g} s ago"
        return None

    def _has_marker(self, unit: Unit) -> bool:
        if not self.wcfg.done_markers:
            return False
        return any(os.path.dirname(p) == unit.source and
                   any(fnmatch.fnmatchcase(os.path.basename(p), m) for m in self.wcfg.done_markers)
                   for p in unit.files)

    def _manifest_missing(self, unit: Unit) -> list[str]:
        """Files the card's own MHL (from the offload on set) lists that are not here at their size yet."""
        folder = os.path.join(unit.source, mhl.MHL_FOLDER)
        if not os.path.isdir(folder):
            return []
        try:
            history = mhl.read_history(Path(folder))
        except (PostprodError, OSError) as exc:
            return [f"{mhl.MHL_FOLDER}/ (not readable yet: {exc})"]
        missing = []
        for rel, record in history.files.items():
            if self._ignored(os.path.basename(rel)):
                continue
            st = _stat(os.path.join(unit.source, rel))
            if st is None or (record.size is not None and st.st_size != record.size):
                missing.append(rel)
        return missing

    def _why_not_ready(self, unit: Unit, now: float) -> str | None:
        """None when the unit is complete; else why not (stats, events, a last listing, the card's MHL)."""
        if unit.needs_walk and unit.is_card:
            self._walk_card(unit, now)
        self._refresh(unit, now)
        why = self._blocked(unit, now)
        if why is not None or now < unit.hold_until:
            return why or unit.held_for
        # Last look before handing it over: list the card and stat every file once more.
        if unit.is_card:
            if not os.path.isdir(unit.source):
                self._drop(unit, "card folder gone")
                return "card folder gone"
            self._walk_card(unit, now)
        self._refresh(unit, now, everything=True)
        why = self._blocked(unit, now)
        if why is None and unit.is_card:
            missing = self._manifest_missing(unit)
            if missing:
                if now - unit.last_activity < self.wcfg.incomplete_card_seconds:
                    why = f"{len(missing)} file(s) listed in the card's MHL not here yet (e.g. {missing[0]})"
                elif not unit.incomplete_warned:
                    unit.incomplete_warned = True
                    self._problem(unit.source, f"{len(missing)} file(s) its MHL lists never arrived: ingested "
                                  "anyway, the report lists them as missing", unit.folder)
        if why is not None:
            # The last look is a full listing: not again before the next check.
            unit.hold_until, unit.held_for = now + max(self.check_every, min(self.settle, 2.0)), why
        return why

    def _ready(self, unit: Unit, now: float) -> bool:
        if unit.in_flight:
            return False
        why = self._why_not_ready(unit, now)
        if why is None:
            return True
        if unit.files and now - unit.waiting_logged_at >= WAITING_LOG_SECONDS:
            if unit.waiting_logged_at:
                self.emit("waiting", production=unit.folder.production, unit=unit.name, reason=why,
                          files=len(unit.files))
            else:
                self.emit("settling", production=unit.folder.production, unit=unit.name, reason=why,
                          files=len(unit.files), settle_seconds=self.settle)
            unit.waiting_logged_at = now
        return False

    # -- ingests ---------------------------------------------------------------------------------------
    def _submit(self, unit: Unit, now: float) -> None:
        files = {p: fs for p, fs in unit.files.items() if not fs.partial}
        for path, fs in files.items():
            self.attempted[path] = fs.signature
        unit.submitted = files
        unit.files = {}
        unit.in_flight = True
        unit.waiting_logged_at = 0.0
        source = unit.source
        job = IngestJob(production=unit.folder.production, folder=unit.folder.path, unit=unit.name,
                        source=source, files=len(files))
        self.emit("ready", production=job.production, unit=unit.name, files=len(files),
                  waited_seconds=round(now - unit.first_seen, 3))
        self.emit("ingest_started", production=job.production, unit=unit.name, source=source,
                  card=unit.is_card)
        self.running[self.pool.submit(self._run_job, job)] = unit

    def _run_job(self, job: IngestJob) -> JobResult:
        try:
            return self.trigger(job)
        except PostprodError as exc:
            return JobResult(failure=str(exc))
        except UnicodeError as exc:
            return JobResult(failure=f"a file name is not valid UTF-8 ({exc.object[exc.start:exc.end]!r} in "
                             f"{exc.object!r}): the catalogue cannot hold it; rename the file", permanent=True)
        except SQLAlchemyError as exc:
            return JobResult(failure=f"catalogue unreachable or busy: {exc.__class__.__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001  (a supervisor: one failed ingest must not stop the watcher)
            return JobResult(failure=f"{exc.__class__.__name__}: {exc}")

    def _collect(self, now: float) -> None:
        for fut in [f for f in self.running if f.done()]:
            unit = self.running.pop(fut)
            result = fut.result()
            unit.in_flight = False
            unit.finished_at = now
            unit.first_seen = now
            self.summary.ingests += 1
            if result.failure and result.permanent:
                self.summary.failures += 1
                self.emit("ingest_failed", production=unit.folder.production, unit=unit.name,
                          source=unit.source, message=result.failure, retry_seconds=None)
            elif result.failure:
                # Not ingested: try again later (a busy database, a share that went away for a moment).
                self.summary.failures += 1
                unit.failures += 1
                retry = min(600.0, 5.0 * 2 ** (unit.failures - 1))
                for path, fs in unit.submitted.items():
                    self.attempted.pop(path, None)
                    if path not in unit.files:
                        fs.dirty = True
                        unit.files[path] = fs
                unit.hold_until, unit.held_for = now + retry, f"retrying in {retry:g} s after a failed ingest"
                self.emit("ingest_failed", production=unit.folder.production, unit=unit.name,
                          source=unit.source, message=result.failure, retry_seconds=retry)
            elif result.submitted_run:
                unit.failures = 0
                self.emit("submitted", production=unit.folder.production, unit=unit.name, source=unit.source,
                          run=result.submitted_run)
            else:
                unit.failures = 0
                self.summary.new += result.new
                self.summary.errors += result.errors
                self.emit("ingested", production=unit.folder.production, unit=unit.name, source=unit.source,
                          files=result.files, new=result.new, unchanged=result.unchanged, errors=result.errors,
                          warnings=result.warnings, problems=result.problems[:20], reports=result.reports)
            if not unit.files and not unit.needs_walk:
                self.units.pop(unit.key, None)
            else:
                unit.announced = bool(unit.files)

    # -- folders: inotify, polling, health --------------------------------------------------------------
    def _start_folder(self, folder: Folder, now: float) -> Folder:
        st = _stat(folder.path)
        if st is None or not os.path.isdir(folder.path):
            self.down[folder.path] = "no such folder"
            self.emit("folder_unavailable", production=folder.production, folder=folder.path,
                      message="no such folder (not mounted?): watching for it to come back")
            return folder
        self.identity[folder.path] = (st.st_dev, st.st_ino)
        if folder.poll is None:
            try:
                self._schedule(folder)
            except OSError as exc:
                why = f"inotify unavailable ({exc.strerror or exc})"
                folder = self._replace(folder, Folder(folder.production, folder.path,
                                                      self.wcfg.poll_seconds, why))
        if folder.poll is not None:
            self.pollers[folder.path] = TreePoller(folder.path, self._skip_in_tree(folder))
            self.next_poll[folder.path] = now  # primed by the first reconciliation
        self.emit("watching", production=folder.production, folder=folder.path,
                  mode="poll" if folder.poll else "inotify", poll_seconds=folder.poll, why=folder.why_poll)
        return folder

    def _replace(self, old: Folder, new: Folder) -> Folder:
        self.folders = [new if f == old else f for f in self.folders]
        for unit in self.units.values():
            if unit.folder == old:
                unit.folder = new
        return new

    def _schedule(self, folder: Folder) -> None:
        from watchdog.events import (
            DirCreatedEvent,
            DirDeletedEvent,
            DirMovedEvent,
            FileAttribEvent,
            FileClosedEvent,
            FileCreatedEvent,
            FileDeletedEvent,
            FileModifiedEvent,
            FileMovedEvent,
            FileSystemEvent,
            FileSystemEventHandler,
        )
        from watchdog.observers.inotify import InotifyObserver

        events, wake = self.events, self.wake

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                src = os.fsdecode(event.src_path)
                dest = os.fsdecode(event.dest_path) if event.dest_path else ""
                events.put((event.event_type, src, dest, event.is_directory))
                wake.set()

        if self.observer is None:
            # Full events: a file moved in from outside is a move with no source, not a creation by a writer.
            self.observer = InotifyObserver(generate_full_events=True)
            self.observer.start()
        self.watches[folder.path] = self.observer.schedule(
            Handler(), folder.path, recursive=True,
            event_filter=[FileCreatedEvent, FileModifiedEvent, FileClosedEvent, FileMovedEvent, FileDeletedEvent,
                          FileAttribEvent, DirCreatedEvent, DirMovedEvent, DirDeletedEvent])

    def _unschedule(self, folder: Folder) -> None:
        watch = self.watches.pop(folder.path, None)
        if watch is not None and self.observer is not None:
            try:
                self.observer.unschedule(watch)
            except (KeyError, OSError):
                pass

    def _health(self, now: float) -> None:
        for folder in list(self.folders):
            try:
                st = os.stat(folder.path)
                ok = os.path.isdir(folder.path) and os.access(folder.path, os.R_OK | os.X_OK)
                why = None if ok else "permission denied (cannot list it)"
            except OSError as exc:
                st, why = None, exc.strerror or str(exc)
            if why is None and st is not None:
                ident = (st.st_dev, st.st_ino)
                if folder.path in self.down:
                    del self.down[folder.path]
                    self._warned = {w for w in self._warned if not w[0].startswith(folder.path)}
                    self.identity[folder.path] = ident
                    self.emit("folder_back", production=folder.production, folder=folder.path)
                    self._rewatch(folder, now)
                elif self.identity.get(folder.path) not in (None, ident):
                    # Mounted again (or replaced): our inotify watch is on the old folder.
                    self.identity[folder.path] = ident
                    self.emit("folder_back", production=folder.production, folder=folder.path,
                              message="folder replaced or mounted again")
                    self._rewatch(folder, now)
            elif folder.path not in self.down:
                self.down[folder.path] = why or "unavailable"
                self.emit("folder_unavailable", production=folder.production, folder=folder.path,
                          message=f"{why}: files settling there are left until it comes back")
                self._unschedule(folder)
                for unit in [u for u in self.units.values() if u.folder == folder and not u.in_flight]:
                    self.units.pop(unit.key, None)

    def _rewatch(self, folder: Folder, now: float) -> None:
        self._unschedule(folder)
        if folder.poll is None:
            try:
                self._schedule(folder)
            except OSError as exc:
                folder = self._replace(folder, Folder(folder.production, folder.path, self.wcfg.poll_seconds,
                                                      f"inotify unavailable ({exc.strerror or exc})"))
        if folder.poll is not None:
            self.pollers[folder.path] = TreePoller(folder.path, self._skip_in_tree(folder))
        self.reconcile([folder], now)

    def _poll(self, now: float) -> None:
        for folder in self.folders:
            poller = self.pollers.get(folder.path)
            if poller is None or folder.path in self.down or now < self.next_poll.get(folder.path, 0):
                continue
            self.next_poll[folder.path] = now + (folder.poll or self.wcfg.poll_seconds)
            changes = poller.poll()
            for path, reason in changes.problems:
                self._problem(path, reason, folder)
            for path in changes.removed_dirs:
                self.gone(folder, path, now, is_dir=True)
            for path in changes.removed:
                self.gone(folder, path, now)
            for path in changes.new_dirs:
                self._dir_arrived(path, now)
            for path in changes.new_files:
                self.observe(folder, path, now)
            # A file growing in place does not change its folder: look at every file still settling.
            for unit in self.units.values():
                if unit.folder == folder:
                    for fs in unit.files.values():
                        fs.dirty = True

    # -- reconciliation with the catalogue ------------------------------------------------------------
    def catalogued(self, production: str) -> dict[str, tuple[int, int, str]]:
        """path -> (size, mtime_ns, status) of every original the catalogue holds for the production."""
        cat = Catalogue(self.settings.db_url)
        query = select(media.c.path, media.c.size, media.c.mtime_ns, media.c.status).where(
            media.c.production == production, media.c.role == "original")
        with cat.engine.connect() as conn:
            return {r.path: (r.size, r.mtime_ns, r.status) for r in conn.execute(query)}

    def reconcile(self, folders: Iterable[Folder] | None = None, now: float | None = None) -> None:
        """Everything in the folders that the catalogue does not hold as it is now goes to settle and ingest."""
        now = time.monotonic() if now is None else now
        started = time.monotonic()
        known: dict[str, dict[str, tuple[int, int, str]]] = {}
        for folder in list(folders if folders is not None else self.folders):
            if folder.path in self.down:
                continue
            if folder.production not in known:
                known[folder.production] = self.catalogued(folder.production)
            cat = known[folder.production]
            poller = self.pollers.get(folder.path)
            if poller is not None:
                changes = poller.prime()
                for path, reason in changes.problems:
                    self._problem(path, reason, folder)
                paths = changes.new_files
                self.next_poll[folder.path] = now + (folder.poll or self.wcfg.poll_seconds)
            else:
                paths = list(self._walk(folder))
            scanned = pending = 0
            for path in paths:
                where = self.classify(folder, path, False)
                if where is None or where[1] == "mhl":
                    continue
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    self._problem(path, f"cannot stat: {exc.strerror or exc}", folder)
                    continue
                scanned += 1
                row = cat.get(path)
                if row is not None and (row[2] == "changed" or (row[0], row[1]) == (st.st_size, st.st_mtime_ns)):
                    continue  # ingested as it is (or already reported as changed after its ingest)
                if self.attempted.get(path) == (st.st_size, st.st_mtime_ns, st.st_ctime_ns):
                    continue  # handed to an ingest already, which reported why it is not catalogued
                unit = self.units.get((folder.path, where[0]))
                if unit is not None and path in unit.files:
                    continue
                pending += 1
                self.observe(folder, path, now, st=st)
            self.emit("reconciled", production=folder.production, folder=folder.path, files=scanned,
                      to_ingest=pending, seconds=round(time.monotonic() - started, 3))

    def _walk(self, folder: Folder) -> Iterable[str]:
        skip = self._skip_in_tree(folder)

        def onerror(exc: OSError) -> None:
            self._problem(exc.filename or folder.path, f"cannot list folder: {exc.strerror or exc}", folder)

        for dirpath, dirnames, filenames in os.walk(folder.path, onerror=onerror):
            dirnames[:] = [d for d in dirnames if not skip(os.path.join(dirpath, d), True)]
            for n in filenames:
                p = os.path.join(dirpath, n)
                if not skip(p, False):
                    yield p

    # -- running -------------------------------------------------------------------------------------
    def lock(self) -> None:
        for production in sorted({f.production for f in self.folders}):
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in production)
            self._locks.append(_Lock(self.settings.data_path / "watch" / f"{safe}.lock"))

    def _step(self, now: float, *, submit: bool = True) -> None:
        while True:
            try:
                kind, src, dest, is_dir = self.events.get_nowait()
            except queue.Empty:
                break
            self._handle(kind, src, dest, is_dir, now)
        self._poll(now)
        self._collect(now)
        for unit in sorted(self.units.values(), key=lambda u: u.first_seen):
            if unit.in_flight or unit.folder.path in self.down:
                continue
            if not submit or len(self.running) >= self.max_ingests:
                break  # no free slot: evaluated when one frees (the last look is a full listing)
            if self._ready(unit, now):
                self._submit(unit, now)

    def run(self, *, once: bool = False) -> RunSummary:
        """Watch until asked to stop (or, with once, one reconciliation pass and its ingests)."""
        self.lock()
        try:
            return self._run_once() if once else self._run_forever()
        finally:
            if self.observer is not None:
                self.observer.stop()
            self.pool.shutdown(wait=not self.abandon_requested.is_set(), cancel_futures=True)
            for lock in self._locks:
                lock.release()

    def _run_forever(self) -> RunSummary:
        now = time.monotonic()
        for folder in list(self.folders):
            self._start_folder(folder, now)
        self.reconcile(now=now)
        next_reconcile = now + self.wcfg.reconcile_seconds
        next_health = now + HEALTH_SECONDS
        while not self.stop_requested.is_set():
            now = time.monotonic()
            try:
                self._step(now)
            except Exception as exc:  # noqa: BLE001  (an unattended daemon: log it, keep watching)
                self.emit("problem", production=None, path=None,
                          message=f"internal error, carrying on: {exc.__class__.__name__}: {exc}")
                self.stop_requested.wait(1.0)
            if now >= next_health:
                self._health(now)
                next_health = now + HEALTH_SECONDS
            if now >= next_reconcile:
                next_reconcile = now + self.wcfg.reconcile_seconds
                try:
                    self.reconcile(now=now)
                except (PostprodError, SQLAlchemyError) as exc:
                    self.emit("problem", production=None, path=self.settings.db_url.split("@")[-1],
                              message=f"catalogue unreachable, reconciliation skipped until the next one: {exc}")
            self._sleep(now, min(next_health, next_reconcile))
        return self._finish()

    def _run_once(self) -> RunSummary:
        now = time.monotonic()
        for folder in self.folders:
            st = _stat(folder.path)
            if st is None or not os.path.isdir(folder.path):
                self.down[folder.path] = "no such folder"
                self.emit("folder_unavailable", production=folder.production, folder=folder.path,
                          message="no such folder (not mounted?)")
        self.reconcile(now=now)
        # Files seen now must stay unchanged for the settle time before anything is handed over.
        deadline = now + self.settle + max(1.0, self.settle)
        while not self.stop_requested.is_set():
            now = time.monotonic()
            self._step(now)
            waiting = [u for u in self.units.values() if not u.in_flight]
            if now >= deadline and waiting:
                for unit in [u for u in waiting if self._why_not_ready(u, now) is not None]:
                    self.summary.left.append(unit.source)
                    self.emit("left", production=unit.folder.production, unit=unit.name,
                              reason=unit.held_for or self._blocked(unit, now) or "still settling",
                              message="still arriving: left for the next pass")
                    self.units.pop(unit.key, None)
            if not self.units and not self.running:
                break
            self.stop_requested.wait(self.tick)
        return self._finish()

    def _finish(self) -> RunSummary:
        if self.running:
            self.emit("stopping", running=[u.name for u in self.running.values()],
                      message="finishing the ingests under way (interrupt again to abandon them)")
        while self.running and not self.abandon_requested.is_set():
            self._collect(time.monotonic())
            self.abandon_requested.wait(0.1)
        if self.running:
            self.summary.abandoned = [u.source for u in self.running.values()]
            self.emit("abandoned", units=[u.name for u in self.running.values()],
                      message="ingest abandoned: what it had not catalogued yet is ingested at the next start")
        self.emit("stopped", ingests=self.summary.ingests, new=self.summary.new, errors=self.summary.errors,
                  failures=self.summary.failures)
        return self.summary

    def request_stop(self) -> None:
        """First SIGINT/SIGTERM: stop watching, finish what runs. Second: abandon it."""
        if self.stop_requested.is_set():
            self.abandon_requested.set()
        self.stop_requested.set()
        self.wake.set()

    def _sleep(self, now: float, next_due: float) -> None:
        """A tick while something is settling or running; idle, sleep until an event or the next poll."""
        if self.units or self.running:
            timeout = self.tick
        else:
            timeout = min([next_due, *self.next_poll.values()]) - time.monotonic()
            timeout = min(max(timeout, self.tick), HEALTH_SECONDS)
        self.wake.wait(timeout)
        self.wake.clear()
