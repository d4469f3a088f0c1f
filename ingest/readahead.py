"""A card read ahead into the page cache while `postprod ingest` starts up.

`postprod ingest CARD...` knows its cards from its command line (cli/main.py; else the command, once typer has
read it) a good half second before the ingest's hashing begins (imports, settings, the store). A card straight
from a card reader is not in the page cache, so from that moment background threads read
the card's files into the page cache, in the order the ingest hashes them (largest first, two side by side: two
requests in flight read a virtual disk about 1.5 times as fast as one), and go on beside the hashing (the device
kept busy) until their budget is spent or the command ends (`stop()`). The hashing then reads from memory what
they have already brought in.

The read-ahead itself is only a warm-up: nothing it reads is kept, hashed or trusted, so what is verified is the
same with or without it; a file that changes after it was read ahead is simply read again. Beside it (`hash_ahead`),
a child process hashes the listed files (ingest/prehash.py): the ingest takes such a hash only for the very file
it stats, read whole, not racy, and hashes every other file itself (ingest/hashing.py). It never opens anything
but a regular file (no FIFO, device or symbolic link: lstat, then O_NOFOLLOW and fstat), never writes, and
swallows its own errors: at worst it costs the reads it did.

Bounded: at most a quarter of the memory available (and at most `MAX_BYTES`), so that what it brings in is still
cached when the hashing gets there; and no longer than the command runs. Chunks already in the page cache are
skipped (a warm card costs two one-byte reads per 8 MiB). The read is `sendfile` into /dev/null: the kernel fills
the page cache with no copy into Python, the GIL released, paced by the device, on any kernel
(`posix_fadvise(WILLNEED)` reads at most the device's read-ahead window per call on recent kernels).
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from ingest import prehash

CHUNK = 8 << 20  # bytes a call: small enough to stop promptly, large enough that the calls cost nothing
MAX_BYTES = 4 << 30  # never more than this, whatever the memory
MAX_FILES = 10_000  # a folder of many small files (an image sequence): the walk itself is bounded
STREAMS = 2  # files read side by side, as the ingest hashes them (IngestContext.workers)
MHL_FOLDER = prehash.MHL_FOLDER  # the card's MHL history: read by the ingest's own parser, not read ahead

_lock = threading.Lock()
_current: tuple[tuple[str, ...], threading.Event] | None = None  # the paths read ahead, and their stop


def start(paths: Iterable[str | Path], *, hash_ahead: bool = True) -> threading.Thread | None:
    """Start reading the files under `paths` ahead, in daemon threads, and (`hash_ahead`) hashing them in a child
    process (ingest/prehash.py); the first thread (it walks the paths, and ends when they all have), or None when
    there is nothing to do or the same paths are being read already (cli/main.py starts it from the command line,
    before the command's modules load)."""
    global _current
    names = [os.fspath(p) for p in paths]
    key = tuple(os.path.abspath(n) for n in names)
    budget = min(MAX_BYTES, available_memory() // 4)
    if budget <= 0 or not hasattr(os, "sendfile") or not names:
        return None
    stop_event = threading.Event()
    with _lock:
        if _current is not None and _current[0] == key and not _current[1].is_set():
            return None
        if _current is not None:
            _current[1].set()
        _current = key, stop_event
    thread = threading.Thread(target=_run, args=(names, budget, stop_event, STREAMS, hash_ahead),
                              name="postprod-readahead", daemon=True)
    thread.start()
    return thread


def stop() -> None:
    """The read-ahead under way in this process (if any) ends at its next chunk."""
    with _lock:
        if _current is not None:
            _current[1].set()
    prehash.stop()


def available_memory() -> int:
    """MemAvailable from /proc/meminfo, in bytes (0 when it cannot be read: no read-ahead)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def files_of(paths: list[str], limit: int = MAX_FILES) -> list[tuple[int, str]]:
    """(size, path) of the regular files under `paths` (symbolic links not followed) that an ingest would read:
    the paths in their order (the ingest takes its cards one after the other), each one's files largest first (as
    the ingest hashes them), leaving out a card's files that postprod's own MHL generation on it lists as they are
    now (`ingested`)."""
    found: list[tuple[int, str]] = []
    for top in paths:
        if len(found) >= limit:
            break
        try:
            st = os.lstat(top)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            found.append((st.st_size, top))
        elif stat.S_ISDIR(st.st_mode):
            card: list[tuple[int, str]] = []
            _walk(top, card, limit - len(found), ingested(top))
            found.extend(sorted(card, key=lambda f: (-f[0], f[1])))
    return found


def _walk(top: str, found: list[tuple[int, str]], limit: int, known: set[tuple[str, int, int]]) -> None:
    stack = [top]
    while stack and len(found) < limit:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name != MHL_FOLDER:
                            stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        st = entry.stat(follow_symlinks=False)
                        if known and (os.path.relpath(entry.path, top).replace(os.sep, "/"), st.st_size,
                                      st.st_mtime_ns // 1_000_000_000) in known:
                            continue
                        found.append((st.st_size, entry.path))
                        if len(found) >= limit:
                            return
        except OSError:
            continue


# A file's line in a generation postprod wrote (ingest/mhl.py's _write_generation), and its XML escapes.
_OUR_PATH = re.compile(r'<path size="(\d+)" lastmodificationdate="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)">([^<]*)</path>')
_UNESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&amp;", "&"))


def ingested(card: str) -> set[tuple[str, int, int]]:
    """(relpath, size, mtime in whole seconds) of every file that a generation postprod wrote into the card's
    ascmhl/ lists: a file still so was ingested by an earlier run (a re-run does not read it), so it is not read
    ahead. Only a guess about what to warm: the ingest itself asks its catalogue; a wrong guess costs a cold read
    of that file, or a read ahead for nothing."""
    known: set[tuple[str, int, int]] = set()
    for text in prehash.mhl_texts(card):
        if ">postprod</tool>" in text:
            for size, when, rel in _OUR_PATH.findall(text):
                for escaped, char in _UNESCAPES:
                    rel = rel.replace(escaped, char)
                seconds = int(datetime.fromisoformat(when[:-1] + "+00:00").timestamp())
                known.add((rel, int(size), seconds))
    return known


def _run(paths: list[str], budget: int, stopped: threading.Event, streams: int = STREAMS,
         hash_ahead: bool = False) -> None:
    """Read the files ahead, `streams` at a time (each file whole, up to what is left of the budget); and, with
    `hash_ahead`, have them hashed ahead in a child process (ingest/prehash.py)."""
    try:
        files = files_of(paths)
    except Exception:  # noqa: BLE001 - a warm-up only: nothing it does may reach the ingest
        return
    if hash_ahead:
        try:
            prehash.start([path for _, path in files], paths)
        except Exception:  # noqa: BLE001, S110 - a head start only: without it the ingest hashes every file
            pass
    queue = iter(files)
    lock = threading.Lock()
    left = budget

    def take() -> tuple[str, int] | None:
        nonlocal left
        with lock:
            if stopped.is_set() or left <= 0:
                return None
            size, path = next(queue, (0, ""))
            if not path:
                return None
            length = min(size, left)
            left -= length  # counted whether read or found cached: the budget bounds what is asked for
            return path, length

    def reader() -> None:
        try:
            sink = os.open(os.devnull, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return
        try:
            while (job := take()) is not None:
                _read_ahead(*job, sink, stopped)
        except Exception:  # noqa: BLE001, S110 - as above
            pass
        finally:
            os.close(sink)

    helpers = [threading.Thread(target=reader, name="postprod-readahead", daemon=True) for _ in range(streams - 1)]
    for helper in helpers:
        helper.start()
    reader()
    for helper in helpers:
        helper.join()


def _read_ahead(path: str, length: int, sink: int, stopped: threading.Event) -> int:
    """Bring the first `length` bytes of `path` into the page cache; the bytes read (cached chunks not counted:
    nor those the kernel's own read-ahead, started by the previous chunk, has brought in)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return 0
    read = 0
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return 0
        offset = 0
        while offset < length and not stopped.is_set():
            n = min(CHUNK, length - offset)
            if _cached(fd, offset, n):
                offset += n
                continue
            sent = os.sendfile(sink, fd, offset, n)
            if sent <= 0:
                break
            offset += sent
            read += sent
    except OSError:
        pass
    finally:
        os.close(fd)
    return read


def _cached(fd: int, offset: int, length: int) -> bool:
    """The chunk's first and last bytes are in the page cache (a read that may not wait for the device; where
    they are not, it starts the kernel's own read-ahead there: what this thread reads next anyway)."""
    nowait = getattr(os, "RWF_NOWAIT", None)
    if nowait is None:
        return False
    buf = bytearray(1)
    try:
        return (os.preadv(fd, [buf], offset, nowait) == 1
                and os.preadv(fd, [buf], offset + length - 1, nowait) == 1)
    except OSError:  # BlockingIOError: not in the page cache; EOPNOTSUPP: cannot tell
        return False
