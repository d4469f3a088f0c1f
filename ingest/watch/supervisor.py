"""The watcher's run loop: sources feed the tracker, complete units go to the job pool (DOMAIN.md §7).

Each card or loose file is ingested once, and only after its copy has ended (readiness.py). Reconciling
with the catalogue on start and at an interval finds what arrived while the watcher was down; a folder
that goes away (an unmounted share) is watched for until it is back, and never taken for deleted cards.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Iterable
from functools import cached_property
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from config.errors import PostprodError
from config.locks import PidLock
from config.settings import Settings
from ingest.catalogue import Catalogue
from ingest.watch import events as ev
from ingest.watch.events import Emit, FsKind, LogEvent
from ingest.watch.jobs import JobPool, RunSummary, Trigger
from ingest.watch.mounts import Change, Folder, FolderHealth
from ingest.watch.readiness import Rules, Unit, globs
from ingest.watch.sources import Batch, InotifySource, PollSource
from ingest.watch.tracker import Tracker

HEALTH_SECONDS = 2.0  # how often each folder is checked for being there (unmounted share, deleted folder)


class Watcher:
    """Find complete cards and loose files in the folders and hand each to the trigger once."""

    def __init__(self, settings: Settings, folders: list[Folder], trigger: Trigger, emit: Emit, *,
                 max_ingests: int | None = None, tick: float | None = None) -> None:
        self.settings = settings
        self.settle = settings.settle_seconds
        self.wcfg = settings.watch
        self.folders = list(folders)
        self._emit = emit
        # The loop's period, and how often a file still settling is stat'ed: both add to the latency.
        self.tick = tick if tick is not None else min(0.1, max(0.02, self.settle / 10))
        self.rules = Rules(settle=self.settle, open_file_timeout=self.wcfg.open_file_timeout,
                           incomplete_card_seconds=self.wcfg.incomplete_card_seconds,
                           ignore=globs(list(settings.ignore)), partial=globs(list(self.wcfg.partial_patterns)),
                           done_markers=tuple(self.wcfg.done_markers), data_path=str(settings.data_path))
        self.tracker = Tracker(self.rules, lambda: self.folders, self.log, self._problem,
                               check_every=min(0.5, max(0.05, self.settle / 8)), present=self._present)
        self.pool = JobPool(trigger, max_ingests or self.wcfg.max_ingests, self.log)
        self.health = FolderHealth()
        self.stop_requested = threading.Event()
        self.wake = threading.Event()  # an event came, or a stop was asked for
        self.abandon_requested = threading.Event()
        self.inotify = InotifySource(self.wake)
        self.polling = PollSource(self.tracker.skip_for, self.wcfg.poll_seconds)
        self._warned: set[tuple[str, str]] = set()
        self._locks: list[PidLock] = []

    @property
    def running(self) -> dict[Any, Unit]:
        return self.pool.running

    @property
    def summary(self) -> RunSummary:
        return self.pool.summary

    @property
    def units(self) -> dict[tuple[str, str], Unit]:
        return self.tracker.units

    # -- log ---------------------------------------------------------------------------------------------
    def log(self, event: LogEvent) -> None:
        self._emit(event.record())

    def _problem(self, path: str, reason: str, folder: Folder | None = None) -> None:
        if (path, reason) in self._warned:
            return
        self._warned.add((path, reason))
        self.log(ev.Problem(folder.production if folder else None, path, reason))

    # -- folders ---------------------------------------------------------------------------------------
    def _start_folder(self, folder: Folder, now: float) -> None:
        if self.health.check(folder.path)[0] == Change.GONE:
            self.log(ev.FolderUnavailable(folder.production, folder.path,
                                          "no such folder (not mounted?): watching for it to come back"))
            return
        folder = self._watch(folder, now)
        self.log(ev.Watching(folder.production, folder.path, "poll" if folder.poll else "inotify", folder.poll,
                             folder.why_poll))

    def _watch(self, folder: Folder, now: float) -> Folder:
        """Start the folder's source (inotify, or polling where inotify cannot be had)."""
        if folder.poll is None:
            try:
                self.inotify.start(folder, now)
            except OSError as exc:
                folder = self._replace(folder, Folder(folder.production, folder.path, self.wcfg.poll_seconds,
                                                      f"inotify unavailable ({exc.strerror or exc})"))
        if folder.poll is not None:
            self.polling.start(folder, now)
        return folder

    def _replace(self, old: Folder, new: Folder) -> Folder:
        self.folders = [new if f == old else f for f in self.folders]
        self.tracker.replace_folder(old, new)
        return new

    def _check_folders(self, now: float) -> None:
        for folder in list(self.folders):
            self._check_folder(folder, now)

    def _check_folder(self, folder: Folder, now: float) -> Change | None:
        change, why = self.health.check(folder.path)
        if change == Change.GONE:
            self.log(ev.FolderUnavailable(folder.production, folder.path,
                                          f"{why}: files settling there are left until it comes back"))
            self.inotify.stop(folder)
            self.polling.stop(folder)
            self.tracker.forget_folder(folder)
        elif change == Change.BACK:
            self._warned = {w for w in self._warned if not w[0].startswith(folder.path)}
            self.log(ev.FolderBack(folder.production, folder.path))
            self._rewatch(folder, now)
        elif change == Change.REMOUNTED:
            # Mounted again (or replaced): our inotify watch is on the old folder.
            self.log(ev.FolderBack(folder.production, folder.path, "folder replaced or mounted again"))
            self._rewatch(folder, now)
        return change

    def _present(self, folder: Folder) -> bool:
        """The folder is there as it was when last checked (not gone, not unmounted, not replaced)."""
        return self.health.still_there(folder.path)

    def _lost(self, folder: Folder, now: float) -> None:
        """A source saw the folder itself go: look at once (it may be back already, under the same
        identity, after a short outage that the periodic check would miss)."""
        if self._check_folder(folder, now) is None and not self.health.is_down(folder.path):
            self.log(ev.FolderBack(folder.production, folder.path, "folder went away and came back"))
            self._rewatch(folder, now)

    def _rewatch(self, folder: Folder, now: float) -> None:
        # What an ingest could not catalogue while the folder was going away (a file that vanished under it)
        # is no verdict on the file: after the outage every such file is looked at again.
        inside = folder.path.rstrip(os.sep) + os.sep
        for path in [p for p in self.pool.attempted if p.startswith(inside)]:
            del self.pool.attempted[path]
        self.tracker.events_missed(folder)
        self.inotify.stop(folder)
        self.polling.stop(folder)
        folder = self._watch(folder, now)
        self.reconcile([folder], now)

    # -- reconciliation with the catalogue ------------------------------------------------------------
    @cached_property
    def catalogue(self) -> Catalogue:
        """Opened at the first reconciliation, kept for the watcher's life (a database not there yet is
        tried again at the next one)."""
        return Catalogue(self.settings.db_url)

    def catalogued(self, production: str) -> dict[str, tuple[int, int, str]]:
        """path -> (size, mtime_ns, status) of every original the catalogue holds for the production."""
        return self.catalogue.originals_state(production)

    def reconcile(self, folders: Iterable[Folder] | None = None, now: float | None = None) -> None:
        """Everything in the folders that the catalogue does not hold as it is now goes to settle and ingest."""
        now = time.monotonic() if now is None else now
        started = time.monotonic()
        known: dict[str, dict[str, tuple[int, int, str]]] = {}
        for folder in list(folders if folders is not None else self.folders):
            if self.health.is_down(folder.path):
                continue
            if folder.production not in known:
                known[folder.production] = self.catalogued(folder.production)
            scanned, pending = self._reconcile_folder(folder, known[folder.production], now)
            self.log(ev.Reconciled(folder.production, folder.path, scanned, pending,
                                   round(time.monotonic() - started, 3)))

    def _reconcile_folder(self, folder: Folder, cat: dict[str, tuple[int, int, str]], now: float
                          ) -> tuple[int, int]:
        if self.polling.watches(folder):
            batch = Batch()
            paths: Iterable[str] = self.polling.listing(folder, now, batch)
            for f, path, reason in batch.problems:
                self._problem(path, reason, f)
        else:
            paths = self._walk(folder)
        scanned = pending = 0
        for path in paths:
            where = self.tracker.classify(folder, path, False)
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
            if self.pool.attempted.get(path) == (st.st_size, st.st_mtime_ns, st.st_ctime_ns):
                continue  # handed to an ingest already, which reported why it is not catalogued
            unit = self.units.get((folder.path, where[0]))
            if unit is not None and path in unit.files:
                continue
            pending += 1
            self.tracker.observe(folder, path, now, st=st)
        return scanned, pending

    def _walk(self, folder: Folder) -> Iterable[str]:
        skip = self.tracker.skip_for(folder)

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
            self._locks.append(PidLock(self.settings.data_path / "watch" / f"{safe}.lock",
                                       "another `postprod watch` (pid {pid}) is watching this production"))

    def _step(self, now: float, *, submit: bool = True) -> None:
        batch = Batch()
        self.inotify.take(now, batch)
        self.polling.take(now, batch, self.health.is_down)
        roots = {f.path: f for f in self.folders}
        for event in batch.events:
            if event.is_dir and event.src in roots and event.kind in (FsKind.DELETED, FsKind.MOVED):
                batch.lost.append(roots[event.src])  # inotify: the watched folder itself went
                continue
            self.tracker.handle(event, now, self.health.is_down)
        for folder in batch.lost:
            self._lost(folder, now)
        for folder, path, reason in batch.problems:
            self._problem(path, reason, folder)
        for folder in batch.polled:
            self.tracker.polled(folder)
        self._collect(now)
        for unit in sorted(self.units.values(), key=lambda u: u.first_seen):
            if unit.in_flight or self.health.is_down(unit.folder.path):
                continue
            if not submit or self.pool.full():
                break  # no free slot: evaluated when one frees (the last look is a full listing)
            if self.tracker.ready(unit, now):
                self.pool.submit(unit, now)

    def _collect(self, now: float) -> None:
        for unit in self.pool.collect(now):
            if not unit.files and not unit.needs_walk:
                self.units.pop(unit.key, None)
            else:
                unit.announced = bool(unit.files)

    def run(self, *, once: bool = False) -> RunSummary:
        """Watch until asked to stop (or, with once, one reconciliation pass and its ingests)."""
        self.lock()
        try:
            return self._run_once() if once else self._run_forever()
        finally:
            self.inotify.close()
            self.pool.shutdown(wait=not self.abandon_requested.is_set())
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
                self.log(ev.Problem(None, None, f"internal error, carrying on: {exc.__class__.__name__}: {exc}"))
                self.stop_requested.wait(1.0)
            if now >= next_health:
                self._check_folders(now)
                next_health = now + HEALTH_SECONDS
            if now >= next_reconcile:
                next_reconcile = now + self.wcfg.reconcile_seconds
                try:
                    self.reconcile(now=now)
                except (PostprodError, SQLAlchemyError) as exc:
                    self.log(ev.Problem(None, self.settings.db_url.split("@")[-1],
                                        f"catalogue unreachable, reconciliation skipped until the next one: {exc}"))
            self._sleep(now, min(next_health, next_reconcile))
        return self._finish()

    def _run_once(self) -> RunSummary:
        now = time.monotonic()
        for folder in self.folders:
            change, why = self.health.check(folder.path)
            if change == Change.GONE:
                hint = " (not mounted?)" if why == os.strerror(errno.ENOENT) else ""
                self.log(ev.FolderUnavailable(folder.production, folder.path, f"{why}{hint}"))
                self.summary.unavailable.append(folder.path)
        self.reconcile(now=now)
        # Files seen now must stay unchanged for the settle time before anything is handed over.
        deadline = now + self.settle + max(1.0, self.settle)
        while not self.stop_requested.is_set():
            now = time.monotonic()
            self._step(now)
            waiting = [u for u in self.units.values() if not u.in_flight]
            if now >= deadline and waiting:
                for unit in [u for u in waiting if self.tracker.why_not_ready(u, now) is not None]:
                    self.summary.left.append(unit.source)
                    self.log(ev.Left(unit.folder.production, unit.name,
                                     unit.held_for or self.tracker.blocked(unit, now) or "still settling",
                                     "still arriving: left for the next pass"))
                    self.units.pop(unit.key, None)
            if not self.units and not self.running:
                break
            self.stop_requested.wait(self.tick)
        return self._finish()

    def _finish(self) -> RunSummary:
        if self.running:
            self.log(ev.Stopping([u.name for u in self.running.values()],
                                 "finishing the ingests under way (interrupt again to abandon them)"))
        while self.running and not self.abandon_requested.is_set():
            self._collect(time.monotonic())
            self.abandon_requested.wait(0.1)
        if self.running:
            self.summary.abandoned = [u.source for u in self.running.values()]
            self.log(ev.Abandoned([u.name for u in self.running.values()],
                                  "ingest abandoned: what it had not catalogued yet is ingested at the next start"))
        s = self.summary
        self.log(ev.Stopped(s.ingests, s.new, s.errors, s.failures))
        return s

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
            due = [next_due] + ([d] if (d := self.polling.next_due()) is not None else [])
            timeout = min(max(min(due) - time.monotonic(), self.tick), HEALTH_SECONDS)
        self.wake.wait(timeout)
        self.wake.clear()
