"""The one file-lock helper: flock(2) locks that go away with the process holding them.

A killed run never leaves a slot taken, a lock held or a temporary file that looks alive.

- `locked(path)`: wait for the lock on a file, hold it for a block (the store's migrations, one at a time).
- `Slots(folder, n)`: at most n encodes at once on this data directory, across threads, CLI runs and
  Prefect flows alike (each encode holds one of n lock files while ffmpeg runs). No server is needed.
- `PidLock`: one holder of a named lock at a time (one watcher per production), its pid written in it.
- `create_locked` / `remove_if_stale`: the temporary output of an encode is locked while it is written; a
  cleaner that can lock one finds a leftover of a killed run and removes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from config.errors import PostprodError


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the lock on `path` (made if missing) for the block, waiting while another process holds it."""
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Slots:
    """n lock files in a folder; `acquire()` waits until it holds one of them."""

    def __init__(self, folder: Path, count: int, poll: float = 0.1) -> None:
        self.folder = folder
        self.count = max(1, count)
        self.poll = poll

    @contextlib.contextmanager
    def acquire(self) -> Iterator[int]:
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            for i in range(self.count):
                fd = os.open(self.folder / f"slot-{i}.lock", os.O_RDWR | os.O_CREAT, 0o666)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield i
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                return
            time.sleep(self.poll)


def create_locked(path: Path) -> int:
    """Create `path` (which must not exist) and lock it; returns the fd that holds the lock."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def remove_if_stale(path: Path) -> bool:
    """Remove a temporary file nobody holds a lock on (the leftover of a killed run). True if removed."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # an encode is writing it right now
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True
    finally:
        os.close(fd)


class PidLock:
    """Held for a process's life; a second taker fails at once with the holder's pid in the message."""

    def __init__(self, path: Path, busy: str) -> None:
        """busy: the message when it is taken, with {pid} for the holder's pid."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115  (held until release)
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "?"
            self.fh.close()
            raise PostprodError(busy.format(pid=holder), path=path) from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(str(os.getpid()))
        self.fh.flush()

    def release(self) -> None:
        if not self.fh.closed:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
