"""A card's files hashed ahead, in a child process, while `postprod ingest` starts up (its modules load on one
core; the card is hashed on the other).

The read-ahead (ingest/readahead.py) hands its listing here: one small Python process (the standard library and
xxhash, nothing of postprod) reads and hashes each file whole, largest first, in xxh128 and the other xxHash
formats the card's MHL history names, exactly as ingest/hashing.py does (the same functions), and says for each
the moment it began (the clock before it opened the file) and the file's device, inode, size, mtime and ctime
before and after the read. A thread of its own would share the interpreter's lock with the imports.

The ingest takes such a hash (`take`) only when all of these hold, else it reads and hashes the file itself,
exactly as without this module:
- the very file it stats now: the same device, inode, size, mtime and ctime as the child saw before and after
  its read (a file replaced has another inode; any write, chmod or utime moves the ctime, in the kernel's inode
  even on FAT/exFAT, which have no ctime of their own);
- read whole, as a regular file by its own name (O_NOFOLLOW: not through a symbolic link; no FIFO or device);
- not "racy" (git's word): its mtime and ctime are older than the moment the child began by more than
  `RACY_NS`. A write lands a timestamp truncated to the filesystem's granularity (2 s on FAT, 10 ms on exFAT, a
  clock tick on ext4): a write in place during or after the child's read, to a file stamped within that much of
  it, could leave every field of the stat as it was. A file that old cannot: any later write stamps it at least
  `RACY_NS` later. So a file still being written, or written a moment ago, is the ingest's own (and so is one
  stamped in the future, a camera's clock ahead: it cannot be proved older);
- every format the ingest needs computed by the child (only xxh128, xxh3, xxh64: never any other);
- the child's answer well formed, and the child alive or its answer complete. A child killed, crashed or
  silent for `STALL_S` while it reads the file the ingest waits for is abandoned (killed), and every file not
  yet answered is the ingest's own.
A file the child has not begun when the ingest gets to it is the ingest's own (the child is told to skip it); one
under way is waited for. Either way every byte the ingest verifies was read and hashed by the same functions,
and the ingest's own check that a file did not change while it was probed stays.

Names are sent as their bytes (in hex, a line each), so any name (newlines, quotes, bytes that are not
UTF-8) reaches the child as it is on the disk, whatever its locale. The child ends with the command (`stop`), or
when its input closes (checked between files and every `PROGRESS_BYTES`).

What a stat cannot see is not seen here either: a writer through a shared mapping (its pages stamp the file only
when written back) or, on a network filesystem, a server whose clock is more than `RACY_NS` behind this host's.
Those are the same limits as the ingest's own check that a file did not change while it was read.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

HASHABLE = ("xxh128", "xxh3", "xxh64")  # xxh128 always; the others when the card's MHL names them
_HEX = {"xxh128": re.compile(r"[0-9a-f]{32}"), "xxh3": re.compile(r"[0-9a-f]{16}"),
        "xxh64": re.compile(r"[0-9a-f]{16}")}
MHL_FOLDER = "ascmhl"  # a card's MHL history (as ingest/mhl.py names it)
MAX_MHL_BYTES = 16 << 20  # of its generations read for a guess (what was ingested, the formats named)
_FORMAT = re.compile(r"<(xxh128|xxh3|xxh64)\b")
RACY_NS = 3_000_000_000  # > FAT's 2 s, the coarsest timestamps of a local filesystem, with a second to spare
STALL_S = 30.0  # the child silent this long on the file the ingest waits for: abandoned
PROGRESS_BYTES = 16 << 20  # the child says it is alive (and looks at its input) every this many bytes

# The child. Its input: a line of the formats ("xxh128,xxh64"), a line of the number of files, then each name's
# bytes in hex on a line of its own; then a line "i" skips file i (read between files and every PROGRESS_BYTES:
# one under way is left there). It says "B i" as it begins file i, "P i" every
# PROGRESS_BYTES, "D i -" (nothing to trust) or "D i DEV INO SIZE MTIME_NS CTIME_NS BEGUN_NS SECONDS FMT:HEX..." when
# done. Its input closed: it ends. (No json: its import is half the child's start-up.)
_CHILD = r"""
import mmap, os, select, stat, sys, time
import xxhash
ALGO = {"xxh128": xxhash.xxh3_128, "xxh3": xxhash.xxh3_64, "xxh64": xxhash.xxh64}
PROGRESS = int(sys.argv[1])
pending, skipped = b"", set()
def line():
    global pending
    while b"\n" not in pending:
        data = os.read(0, 1 << 16)
        if not data:
            sys.exit(0)
        pending += data
    first, pending = pending.split(b"\n", 1)
    return first
def poll():
    global pending
    while select.select([0], [], [], 0)[0]:
        data = os.read(0, 1 << 16)
        if not data:
            sys.exit(0)
        pending += data
        *lines, pending = pending.split(b"\n")
        skipped.update(int(x) for x in lines if x.strip())
def say(text):
    os.write(1, text.encode() + b"\n")
def key(st):
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
def main():
    formats = line().decode().split(",")
    paths = [bytes.fromhex(line().decode()) for _ in range(int(line()))]
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    with mmap.mmap(-1, 1 << 20) as m, memoryview(m) as view:
        for i, path in enumerate(paths):
            poll()
            if i in skipped:
                continue
            say(f"B {i}")
            begun_ns, started, result = time.time_ns(), time.perf_counter(), "-"
            try:
                fd = os.open(path, flags)
                with open(fd, "rb", buffering=0) as fh:
                    before = os.fstat(fd)
                    if stat.S_ISREG(before.st_mode):
                        hashers, total, mark = {f: ALGO[f]() for f in formats}, 0, PROGRESS
                        while n := fh.readinto(view):
                            with view[:n] as chunk:
                                for h in hashers.values():
                                    h.update(chunk)
                            total += n
                            if total >= mark:
                                mark += PROGRESS
                                poll()
                                if i in skipped:  # the ingest got there first: no use going on
                                    break
                                say(f"P {i}")
                        k = key(before)
                        whole = i not in skipped and total == before.st_size
                        if whole and key(os.fstat(fd)) == k and key(os.lstat(path)) == k:
                            hashes = " ".join(f"{f}:{h.hexdigest()}" for f, h in hashers.items())
                            result = " ".join(map(str, (*k, begun_ns, time.perf_counter() - started, hashes)))
            except OSError:
                pass
            say(f"D {i} {result}")
main()
"""


def child_command(progress: int = PROGRESS_BYTES) -> list[str]:
    """The child's command line (-I: no PYTHON* variables, no user site, not the working folder: the standard
    library and the environment's xxhash, whatever folder the command runs in)."""
    return [sys.executable, "-I", "-c", _CHILD, str(progress)]


class _Ahead:
    """What the child said of one file."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.begun = False
        self.taken = False  # the ingest got there first: its own
        self.given = False  # the ingest took the child's hashes
        self.result: dict[str, Any] | None = None


class _Run:
    """The child hashing one listing, and what it said of each file."""

    def __init__(self, files: list[str], formats: tuple[str, ...], command: list[str] | None = None) -> None:
        self.index = {os.path.abspath(p): i for i, p in enumerate(files)}
        self.entries = [_Ahead() for _ in files]
        self.heard = time.monotonic()
        self.proc = subprocess.Popen(command or child_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, close_fds=True)
        assert self.proc.stdin is not None
        self._stdin = self.proc.stdin.fileno()
        job = [",".join(formats).encode(), str(len(files)).encode(), *(os.fsencode(p).hex().encode() for p in files)]
        try:
            self.proc.stdin.write(b"\n".join(job) + b"\n")
            self.proc.stdin.flush()
        except OSError:
            self.abandon()
        os.set_blocking(self._stdin, False)  # a skip never waits (one lost costs a hash twice, no more)
        threading.Thread(target=self._read, name="postprod-prehash", daemon=True).start()

    def _read(self) -> None:
        try:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.heard = time.monotonic()
                kind, index, *rest = line.rstrip(b"\n").split(b" ", 2)
                ahead = self.entries[int(index)]
                if kind == b"B":
                    with _lock:
                        ahead.begun = True
                elif kind == b"D":
                    ahead.result = _parsed(rest[0].split(b" "))
                    ahead.done.set()
                elif kind != b"P":
                    raise ValueError(line)
        except Exception:  # noqa: BLE001 - a head start only: a child that says nonsense is abandoned
            self.abandon()
        finally:
            for ahead in self.entries:  # the child has ended or is abandoned: nothing more comes
                ahead.done.set()

    def skip(self, index: int) -> None:
        try:
            os.write(self._stdin, f"{index}\n".encode())  # < PIPE_BUF: written whole or not at all
        except OSError:
            pass

    def abandon(self) -> None:
        """The child killed: every file it has not answered is the ingest's own."""
        try:
            self.proc.kill()
        except OSError:
            pass

    def stop(self) -> None:
        try:
            self.proc.stdin.close()  # type: ignore[union-attr]
        except (OSError, ValueError):
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=5)  # reaped: its time is the command's (what a timing of it counts)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # not waited for again: a read stuck on a dead device must not hold the command


def _parsed(fields: list[bytes]) -> dict[str, Any] | None:
    """The child's answer for a file ("-", or its key, start, seconds and FMT:HEX hashes), None when there is
    nothing to trust or a hash is not one; ValueError when it is not an answer at all (the child abandoned)."""
    if fields == [b"-"]:
        return None
    if len(fields) < 8:
        raise ValueError(fields)
    dev, ino, size, mtime, ctime, begun = (int(x) for x in fields[:6])
    seconds = float(fields[6])
    hashes = dict(x.decode("ascii").split(":", 1) for x in fields[7:])
    if not all(f in _HEX and _HEX[f].fullmatch(v) for f, v in hashes.items()):
        return None
    return {"key": [dev, ino, size, mtime, ctime], "begun_ns": begun, "seconds": seconds, "hashes": hashes}


_lock = threading.Lock()
_run: _Run | None = None


def start(files: list[str], paths: Iterable[str], command: list[str] | None = None) -> None:
    """Hash `files` (the read-ahead's listing of the cards at `paths`) in a child process; a run under way ends."""
    global _run
    formats = ("xxh128", *(f for f in HASHABLE[1:] if f in mhl_formats(paths)))
    run = _Run(files, formats, command) if files else None
    with _lock:
        previous, _run = _run, run
    if previous is not None:
        previous.stop()


def stop() -> None:
    """The child under way (if any) ends; what it said is still taken."""
    with _lock:
        run = _run
    if run is not None:
        run.stop()


def key(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def take(path: str | Path, st: os.stat_result, algorithms: Iterable[str]) -> tuple[dict[str, str], float] | None:
    """The file's hashes in `algorithms` (and the seconds they took) when the child read it whole as it is now
    (`st`: the ingest's stat of it), none of it racy; waits for one under way. None otherwise: the caller
    hashes it."""
    with _lock:
        run = _run
        index = run.index.get(os.path.abspath(path)) if run is not None else None
        if run is None or index is None:
            return None
        ahead = run.entries[index]
        if not ahead.begun and not ahead.done.is_set():  # not begun: the ingest's own
            ahead.taken = True
    if ahead.taken:
        run.skip(index)
        return None
    while not ahead.done.wait(timeout=min(1.0, STALL_S)):
        if time.monotonic() - run.heard > STALL_S:  # stopped, hung or stuck on the device: the ingest's own
            run.abandon()
            return None
    wanted = list(dict.fromkeys(algorithms))
    result = ahead.result
    if not result or result["key"] != key(st) or any(a not in result["hashes"] for a in wanted):
        return None
    if max(st.st_mtime_ns, st.st_ctime_ns) >= result["begun_ns"] - RACY_NS:  # racy: a write could hide in it
        return None
    ahead.given = True
    return {a: result["hashes"][a] for a in wanted}, float(result["seconds"])


def mhl_texts(card: str) -> Iterator[str]:
    """The text of each MHL generation in the card's ascmhl/ folder, newest name first, `MAX_MHL_BYTES` in all
    (the last one cut there); nothing where there is no such folder. Undecodable bytes replaced: a guess only."""
    folder = os.path.join(card, MHL_FOLDER)
    try:
        names = sorted((n for n in os.listdir(folder) if n.endswith(".mhl")), reverse=True)
    except OSError:
        return
    left = MAX_MHL_BYTES
    for name in names:
        try:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as fh:
                text = fh.read(left)
        except OSError:
            continue
        left -= len(text)
        yield text
        if left <= 0:
            return


def mhl_formats(paths: Iterable[str]) -> set[str]:
    """The xxHash formats any MHL generation of the cards names (those the ingest verifies beside its own)."""
    found: set[str] = set()
    for top in paths:
        for text in mhl_texts(top):
            found.update(_FORMAT.findall(text))
    return found
