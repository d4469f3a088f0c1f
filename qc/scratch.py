"""The QC's temporary folders (the analysis's side files, the thumbnails' JPEGs), removed beside what follows.

Removing a folder is a few unlinks, each a journal write on ext4 (1-10 ms a folder on the development machine,
2026-12-01): on a short master that is time on the way to the answer (the checks, the thumbnails' ffmpeg, the
reports). `folder()` hands the removal to a thread, which runs while the next step does; `wait()` joins those
threads (the QC's step calls it before it returns, so a step that returned has left no folder behind; the threads
are not daemons, so an interpreter's exit waits for them too).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_removing: list[threading.Thread] = []
_lock = threading.Lock()


@contextmanager
def folder(prefix: str) -> Iterator[Path]:
    """A new temporary folder, removed (in a thread) once the block ends, however it ends."""
    with removed(Path(tempfile.mkdtemp(prefix=prefix))) as path:
        yield path


@contextmanager
def removed(path: Path) -> Iterator[Path]:
    """`path` (a folder of ours), removed (in a thread) once the block ends, however it ends."""
    try:
        yield path
    finally:
        remover = threading.Thread(target=shutil.rmtree, args=(path,), kwargs={"ignore_errors": True},
                                   name="qc-scratch-removal")
        with _lock:
            _removing.append(remover)
        remover.start()


def wait() -> None:
    """Until every folder handed over so far is removed."""
    while True:
        with _lock:
            if not _removing:
                return
            remover = _removing.pop()
        remover.join()
