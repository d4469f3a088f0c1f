"""The units being copied in: file states kept up to date from events, stats and listings.

The tracker does the I/O (stat, list, read the card's MHL) and asks readiness.py whether a unit is complete.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from config.errors import PostprodError
from ingest import mhl
from ingest.watch import events as ev
from ingest.watch import readiness
from ingest.watch.events import FsEvent, FsKind, LogEvent
from ingest.watch.mounts import Folder
from ingest.watch.readiness import FileState, Rules, Unit
from ingest.writers import open_for_writing

WAITING_LOG_SECONDS = 60.0  # how often a unit that is still arriving is mentioned in the log

Log = Callable[[LogEvent], None]
Report = Callable[[str, str, Folder | None], None]  # (path, reason, folder): a problem, logged once


def stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:  # gone, or not reachable (permission, share gone): callers look again and say why
        return None


class Tracker:
    """Every unit seen in the folders and not handed to an ingest yet (or in one now)."""

    def __init__(self, rules: Rules, folders: Callable[[], Iterable[Folder]], log: Log, problem: Report,
                 check_every: float, present: Callable[[Folder], bool] = lambda folder: True) -> None:
        self.rules = rules
        # Whether the watched folder itself is still there as it was: a file missing from a folder that is
        # gone (an unmounted share, a folder moved away) was not deleted.
        self.present = present
        self.folders = folders
        self.log = log
        self.problem = problem
        self.check_every = check_every
        self.units: dict[tuple[str, str], Unit] = {}

    # -- where a path belongs ----------------------------------------------------------------------------
    def folder_of(self, path: str) -> Folder | None:
        for f in self.folders():
            if path.startswith(f.path + os.sep):
                return f
        return None

    def classify(self, folder: Folder, path: str, is_dir: bool) -> tuple[str, str] | None:
        return readiness.classify(self.rules, folder.path, path, is_dir)

    def skip_for(self, folder: Folder) -> Callable[[str, bool], bool]:
        return lambda path, is_dir: readiness.skip_in_tree(self.rules, folder.path, path, is_dir)

    def unit(self, folder: Folder, name: str, now: float, is_card: bool | None = None) -> Unit:
        key = (folder.path, name)
        unit = self.units.get(key)
        if unit is None:
            if is_card is None:
                is_card = os.path.isdir(os.path.join(folder.path, name))
            unit = Unit(folder=folder, name=name, is_card=is_card, first_seen=now, last_activity=now)
            self.units[key] = unit
        return unit

    # -- what happened ----------------------------------------------------------------------------------
    def observe(self, folder: Folder, path: str, now: float, *, st: os.stat_result | None = None,
                writing: bool | None = None) -> None:
        """Something happened to a file (an event, a poll, a scan): track it until it settles."""
        where = self.classify(folder, path, False)
        if where is None:
            return
        name, category = where
        rel_depth = path[len(folder.path) + 1:].count(os.sep)
        unit = self.unit(folder, name, now, is_card=rel_depth > 0 or None)
        if category == "mhl":
            # Our own ingest writes the card's next MHL generation: that is not a copy arriving.
            grace = max(2 * self.rules.settle, 2 * (folder.poll or 0) + 1.0)
            if not unit.in_flight and now - unit.finished_at > grace:
                unit.last_activity = now
            return
        fs = unit.files.get(path)
        if fs is None:
            if st is None:
                st = stat(path) if writing is None else None
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
            self.log(ev.Arrived(folder.production, folder.path, name, unit.is_card, path))

    def gone(self, folder: Folder, path: str, now: float, *, is_dir: bool = False,
             moved_to: str | None = None) -> FileState | None:
        where = self.classify(folder, path, is_dir)
        if where is None:
            return None
        name, _category = where
        unit = self.units.get((folder.path, name))
        if unit is None or (moved_to is None and not self.present(folder)):
            return None
        if is_dir:
            if path == unit.source:
                self.drop(unit, "folder removed or moved away")
            else:
                unit.needs_walk = True
                unit.last_activity = now
            return None
        fs = unit.files.pop(path, None)
        unit.last_activity = now
        if fs is not None and not fs.partial and moved_to is None:
            self.log(ev.Vanished(folder.production, name, path, "deleted or moved away while settling: not ingested"))
        if not unit.is_card and not unit.files and not unit.in_flight:
            self.units.pop(unit.key, None)
        return fs

    def drop(self, unit: Unit, why: str) -> None:
        if unit.in_flight:
            unit.files.clear()
            return
        self.units.pop(unit.key, None)
        if unit.announced and unit.files:
            self.log(ev.Vanished(unit.folder.production, unit.name, unit.source, f"{why} while settling: not ingested"))

    def handle(self, event: FsEvent, now: float, down: Callable[[str], bool]) -> None:
        """An event from a source."""
        kind, src, dest = event.kind, event.src, event.dest
        folder = self.folder_of(src or dest)
        if folder is None or down(folder.path):
            return
        if event.is_dir:
            if kind in (FsKind.CREATED, FsKind.MOVED) and dest:
                self.dir_arrived(dest, now)
            if kind == FsKind.DELETED or (kind == FsKind.MOVED and src):
                if (f := self.folder_of(src)) is not None:
                    self.gone(f, src, now, is_dir=True)
            return
        if kind == FsKind.MOVED:
            state = None
            if src and (f := self.folder_of(src)) is not None:
                state = self.gone(f, src, now, moved_to=dest or None)
            if dest and (f := self.folder_of(dest)) is not None:
                # Renamed in place (`.part` -> final name) keeps its writer; moved in whole has none.
                self.observe(f, dest, now, writing=bool(state and state.writing))
        elif kind == FsKind.DELETED:
            self.gone(folder, src, now)
        elif kind == FsKind.CLOSED:
            self.observe(folder, src, now, writing=False)
        elif kind == FsKind.MODIFIED or (kind == FsKind.CREATED and not event.synthetic):
            # Created by a writer: open until its close comes, even before its first byte.
            self.observe(folder, src, now, writing=True)
        else:
            # Files created before the watch on a new folder was in place show up as created afterwards
            # (synthetic), already closed; a poll's new file; attributes (the utime at the end of `cp -p`).
            # Look at it again, writer state unchanged.
            self.observe(folder, src, now, writing=None)

    def dir_arrived(self, path: str, now: float) -> None:
        folder = self.folder_of(path)
        if folder is None:
            return
        where = self.classify(folder, path, True)
        if where is None or where[1] == "mhl":
            return
        unit = self.unit(folder, where[0], now, is_card=True)
        unit.needs_walk = True
        unit.last_activity = now

    def polled(self, folder: Folder) -> None:
        """A file growing in place does not change its folder: look at every file still settling."""
        for unit in self.units.values():
            if unit.folder == folder:
                for fs in unit.files.values():
                    fs.dirty = True

    def forget_folder(self, folder: Folder) -> None:
        """The folder went away: what was settling there is looked at afresh when it is back."""
        for unit in [u for u in self.units.values() if u.folder == folder and not u.in_flight]:
            self.units.pop(unit.key, None)

    def events_missed(self, folder: Folder) -> None:
        """The folder was not watched for a while (away, remounted): a writer's close may have gone unseen, so
        what inotify said of the files still tracked there (in an ingest then) is not known any more; they are
        looked at again, and the open file table says who writes."""
        for unit in self.units.values():
            if unit.folder == folder:
                for fs in unit.files.values():
                    fs.writing, fs.dirty = False, True

    def replace_folder(self, old: Folder, new: Folder) -> None:
        for unit in self.units.values():
            if unit.folder == old:
                unit.folder = new

    # -- stat and decide -------------------------------------------------------------------------------
    def refresh(self, unit: Unit, now: float, everything: bool = False) -> None:
        for path, fs in list(unit.files.items()):
            settled = now - fs.changed_at >= self.rules.settle
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
                self.problem(path, f"cannot stat: {exc.strerror or exc}", unit.folder)
                continue
            if fs.saw(st.st_size, st.st_mtime_ns, st.st_ctime_ns, now):
                unit.last_activity = now

    def walk_card(self, unit: Unit, now: float) -> None:
        """List the card again: files the events or polls have not told us about yet (or not any more)."""
        unit.needs_walk = False
        found: set[str] = set()
        skip = self.skip_for(unit.folder)

        def onerror(exc: OSError) -> None:
            self.problem(exc.filename or unit.source, f"cannot list folder: {exc.strerror or exc}", unit.folder)

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

    def _open_and_settled(self, unit: Unit, now: float) -> bool:
        if now - unit.writers_at < readiness.hold_seconds(self.rules.settle, self.check_every):
            return False
        return all(now - fs.changed_at >= self.rules.settle for fs in unit.files.values()) and \
            any(fs.writing or fs.writer is not None for fs in unit.files.values())

    def look_for_writers(self, unit: Unit, now: float) -> None:
        """Ask the OS which files of the unit a process holds open for writing (an open copy may be paused:
        nothing else shows it). Where it can tell for sure that nobody does, that overrides inotify."""
        unit.writers_at = now
        found = open_for_writing(unit.files)
        for path, fs in unit.files.items():
            fs.writer = found.pids.get(path)
            if fs.writer is None and path not in found.unknown:
                fs.writing = False

    def blocked(self, unit: Unit, now: float) -> str | None:
        verdict = readiness.blocked(self.rules, unit, now)
        for path in verdict.stale_writers:
            unit.files[path].warned_open = True
            self.problem(unit.source, "a file was written to and never closed "
                         f"for {self.rules.open_file_timeout:.0f} s: taken as complete", unit.folder)
        return verdict.reason

    def manifest_missing(self, unit: Unit) -> list[str]:
        """Files the card's own MHL (from the offload on set) lists that are not here at their size yet."""
        folder = os.path.join(unit.source, mhl.MHL_FOLDER)
        if not os.path.isdir(folder):
            return []
        try:
            history = mhl.read_history(Path(folder))
        except (PostprodError, OSError) as exc:
            return [f"{mhl.MHL_FOLDER}/ (not readable yet: {exc})"]
        listed = {rel: record.size for rel, record in history.listed_on_set().items()}
        sizes = {rel: st.st_size if (st := stat(os.path.join(unit.source, rel))) else None for rel in listed}
        return readiness.manifest_missing(self.rules, listed, sizes)

    def why_not_ready(self, unit: Unit, now: float) -> str | None:
        """None when the unit is complete; else why not (stats, events, a last listing, the card's MHL)."""
        if unit.needs_walk and unit.is_card:
            self.walk_card(unit, now)
        self.refresh(unit, now)
        why = self.blocked(unit, now)
        if why is not None and self._open_and_settled(unit, now):
            # Settled, but inotify saw no close (the writer paused, or a close went unseen): ask the OS.
            self.look_for_writers(unit, now)
            why = self.blocked(unit, now)
        if why is not None or now < unit.hold_until:
            return why or unit.held_for
        # Last look before handing it over: list the card and stat every file once more.
        if unit.is_card:
            if not os.path.isdir(unit.source):
                if not self.present(unit.folder):
                    return "the watched folder is not there"
                self.drop(unit, "card folder gone")
                return "card folder gone"
            self.walk_card(unit, now)
        self.refresh(unit, now, everything=True)
        self.look_for_writers(unit, now)
        why = self.blocked(unit, now)
        if why is None and unit.is_card:
            missing = self.manifest_missing(unit)
            why = readiness.incomplete_card(self.rules, unit, missing, now)
            if missing and why is None and not unit.incomplete_warned:
                unit.incomplete_warned = True
                self.problem(unit.source, f"{len(missing)} file(s) its MHL lists never arrived: ingested "
                             "anyway, the report lists them as missing", unit.folder)
        if why is not None:
            # The last look is a full listing: not again before the next check.
            unit.hold_until = now + readiness.hold_seconds(self.rules.settle, self.check_every)
            unit.held_for = why
        return why

    def ready(self, unit: Unit, now: float) -> bool:
        if unit.in_flight:
            return False
        why = self.why_not_ready(unit, now)
        if why is None:
            return True
        if unit.files and now - unit.waiting_logged_at >= WAITING_LOG_SECONDS:
            production = unit.folder.production
            if unit.waiting_logged_at:
                self.log(ev.Waiting(production, unit.name, why, len(unit.files)))
            else:
                self.log(ev.Settling(production, unit.name, why, len(unit.files), self.rules.settle))
            unit.waiting_logged_at = now
        return False
