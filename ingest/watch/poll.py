"""Cheap polling of a large tree (NFS/SMB shares send no inotify events).

A poll stats every known directory (one `stat` per folder, not per file) and lists only those whose
mtime changed: adding, removing or renaming an entry changes its folder's mtime. A file growing in
place does not, so the watcher re-stats the files it is waiting on itself, and the periodic
reconciliation with the catalogue is the full scan that catches anything else.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# A folder listed within this many seconds of a change is listed again at the next poll: file systems
# with coarse mtimes (1 s on some SMB servers, 2 s on FAT) can change twice under the same mtime.
HOT_SECONDS = 3.0


@dataclass
class DirState:
    mtime_ns: int
    entries: dict[str, bool]  # name -> is a folder
    listed_at: float = 0.0  # monotonic


@dataclass
class PollChanges:
    new_files: list[str] = field(default_factory=list)
    new_dirs: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # files
    removed_dirs: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    dirs_statted: int = 0
    dirs_listed: int = 0


class TreePoller:
    """Remembers a tree's folders and finds what appeared or went since the last poll."""

    def __init__(self, root: str, skip: Callable[[str, bool], bool] | None = None) -> None:
        self.root = root
        self.skip = skip or (lambda path, is_dir: False)
        self.dirs: dict[str, DirState] = {}

    def prime(self) -> PollChanges:
        """Learn the whole tree (every file found is reported as new)."""
        self.dirs.clear()
        changes = PollChanges()
        self._learn(self.root, changes)
        return changes

    def poll(self) -> PollChanges:
        changes = PollChanges()
        now = time.monotonic()
        for path in list(self.dirs):
            state = self.dirs.get(path)
            if state is None:  # dropped with a removed parent during this poll
                continue
            changes.dirs_statted += 1
            try:
                st = os.stat(path)
            except FileNotFoundError:
                self._forget(path, changes)
                continue
            except OSError as exc:
                changes.problems.append((path, exc.strerror or str(exc)))
                continue
            if st.st_mtime_ns != state.mtime_ns or now - state.listed_at < HOT_SECONDS:
                self._relist(path, state, st.st_mtime_ns, changes, now)
        return changes

    def _learn(self, path: str, changes: PollChanges) -> None:
        """List a folder that is new to us, and everything below it."""
        try:
            st = os.stat(path)
        except OSError as exc:
            changes.problems.append((path, exc.strerror or str(exc)))
            return
        state = DirState(mtime_ns=st.st_mtime_ns, entries={}, listed_at=time.monotonic())
        self.dirs[path] = state
        changes.dirs_listed += 1
        for name, is_dir in self._list(path, changes):
            full = os.path.join(path, name)
            if self.skip(full, is_dir):
                continue
            state.entries[name] = is_dir
            if is_dir:
                changes.new_dirs.append(full)
                self._learn(full, changes)
            else:
                changes.new_files.append(full)

    def _relist(self, path: str, state: DirState, mtime_ns: int, changes: PollChanges, now: float) -> None:
        changes.dirs_listed += 1
        listed = {n: d for n, d in self._list(path, changes) if not self.skip(os.path.join(path, n), d)}
        if state.mtime_ns != mtime_ns:
            state.listed_at = now
        state.mtime_ns = mtime_ns
        old = state.entries
        for name, was_dir in old.items():
            if name not in listed or listed[name] != was_dir:
                full = os.path.join(path, name)
                if was_dir:
                    self._forget(full, changes)
                else:
                    changes.removed.append(full)
        for name, is_dir in listed.items():
            if name in old and old[name] == is_dir:
                continue
            full = os.path.join(path, name)
            if is_dir:
                changes.new_dirs.append(full)
                self._learn(full, changes)
            else:
                changes.new_files.append(full)
        state.entries = listed

    def _forget(self, path: str, changes: PollChanges) -> None:
        prefix = path + os.sep
        for known in [p for p in self.dirs if p == path or p.startswith(prefix)]:
            del self.dirs[known]
        changes.removed_dirs.append(path)

    @staticmethod
    def _list(path: str, changes: PollChanges) -> Iterator[tuple[str, bool]]:
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError as exc:
            changes.problems.append((path, f"cannot list folder: {exc.strerror or exc}"))
            return
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            yield entry.name, is_dir
