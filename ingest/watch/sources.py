"""Event sources: inotify (through watchdog) and polling, behind one interface.

Each source turns what it sees into `FsEvent`s; the watcher takes them at each tick. inotify reports
changes as they happen (and whether a writer closed its file); polling lists the folders whose mtime
changed (poll.py), which is all a network share allows.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ingest.watch.events import FsEvent, FsKind
from ingest.watch.mounts import Folder
from ingest.watch.poll import PollChanges, TreePoller

Skip = Callable[[str, bool], bool]  # (path, is_dir) -> leave it out of listings


@dataclass
class Batch:
    """What the sources saw since the last tick."""

    events: list[FsEvent] = field(default_factory=list)
    problems: list[tuple[Folder, str, str]] = field(default_factory=list)  # (folder, path, reason)
    polled: list[Folder] = field(default_factory=list)  # files settling there are to be stat'ed again
    lost: list[Folder] = field(default_factory=list)  # the folder itself went (unmounted, moved, deleted)


class Source(Protocol):
    def start(self, folder: Folder, now: float) -> None:
        """Begin watching the folder (OSError: this source cannot watch it)."""

    def stop(self, folder: Folder) -> None: ...

    def take(self, now: float, batch: Batch) -> None:
        """Add what was seen since the last call to the batch."""

    def close(self) -> None: ...


class InotifySource:
    """inotify watches on whole trees; events are queued by watchdog's thread and taken by the watcher's."""

    def __init__(self, wake: threading.Event) -> None:
        self.wake = wake
        self.queue: queue.SimpleQueue[FsEvent] = queue.SimpleQueue()
        self.watches: dict[str, Any] = {}
        self.observer: Any = None

    def start(self, folder: Folder, now: float) -> None:
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

        events, wake = self.queue, self.wake

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                src = os.fsdecode(event.src_path)
                dest = os.fsdecode(event.dest_path) if event.dest_path else ""
                events.put(FsEvent(FsKind(event.event_type), src, dest, event.is_directory,
                                   getattr(event, "is_synthetic", False)))
                wake.set()

        if self.observer is None:
            # Full events: a file moved in from outside is a move with no source, not a creation by a writer.
            self.observer = InotifyObserver(generate_full_events=True)
            self.observer.start()
        self.watches[folder.path] = self.observer.schedule(
            Handler(), folder.path, recursive=True,
            event_filter=[FileCreatedEvent, FileModifiedEvent, FileClosedEvent, FileMovedEvent, FileDeletedEvent,
                          FileAttribEvent, DirCreatedEvent, DirMovedEvent, DirDeletedEvent])

    def stop(self, folder: Folder) -> None:
        watch = self.watches.pop(folder.path, None)
        if watch is not None and self.observer is not None:
            try:
                self.observer.unschedule(watch)
            except (KeyError, OSError):
                pass

    def take(self, now: float, batch: Batch) -> None:
        while True:
            try:
                batch.events.append(self.queue.get_nowait())
            except queue.Empty:
                return

    def close(self) -> None:
        if self.observer is not None:
            self.observer.stop()


class PollSource:
    """A TreePoller per polled folder, each polled every `folder.poll` seconds."""

    def __init__(self, skip_for: Callable[[Folder], Skip], default_seconds: float) -> None:
        self.skip_for = skip_for
        self.default_seconds = default_seconds
        self.pollers: dict[str, tuple[Folder, TreePoller]] = {}
        self.next_poll: dict[str, float] = {}

    def start(self, folder: Folder, now: float) -> None:
        self.pollers[folder.path] = (folder, TreePoller(folder.path, self.skip_for(folder)))
        self.next_poll.setdefault(folder.path, now)  # primed by the first reconciliation

    def stop(self, folder: Folder) -> None:
        self.pollers.pop(folder.path, None)

    def watches(self, folder: Folder) -> bool:
        return folder.path in self.pollers

    def listing(self, folder: Folder, now: float, batch: Batch) -> list[str]:
        """Learn the whole tree again; every file in it (for the reconciliation)."""
        _, poller = self.pollers[folder.path]
        changes = poller.prime()
        batch.problems.extend((folder, path, reason) for path, reason in changes.problems)
        self.next_poll[folder.path] = now + self._period(folder)
        return changes.new_files

    def take(self, now: float, batch: Batch, down: Callable[[str], bool] = lambda path: False) -> None:
        for path, (folder, poller) in list(self.pollers.items()):
            if down(path) or now < self.next_poll.get(path, 0):
                continue
            self.next_poll[path] = now + self._period(folder)
            changes = poller.poll()
            if path in changes.removed_dirs:
                # The poller has forgotten the tree: the supervisor looks at the folder and learns it again.
                batch.lost.append(folder)
                continue
            self._translate(folder, changes, batch)
            batch.polled.append(folder)

    def next_due(self) -> float | None:
        return min(self.next_poll.values(), default=None)

    def close(self) -> None:
        self.pollers.clear()

    def _period(self, folder: Folder) -> float:
        return folder.poll or self.default_seconds

    @staticmethod
    def _translate(folder: Folder, changes: PollChanges, batch: Batch) -> None:
        batch.problems.extend((folder, path, reason) for path, reason in changes.problems)
        batch.events.extend(FsEvent(FsKind.DELETED, p, is_dir=True) for p in changes.removed_dirs)
        batch.events.extend(FsEvent(FsKind.DELETED, p) for p in changes.removed)
        # A folder that appeared between two polls is like one moved in: its content is to be listed.
        batch.events.extend(FsEvent(FsKind.MOVED, "", p, is_dir=True) for p in changes.new_dirs)
        # Found by a listing, not told by a writer: nothing is known of its writer (writers.py looks).
        batch.events.extend(FsEvent(FsKind.CREATED, p, synthetic=True) for p in changes.new_files)
