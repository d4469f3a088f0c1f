"""A card's files hashed ahead, in a child process, while `postprod ingest` starts up (its modules load on one
core; the card is hashed on the other).

The read-ahead (ingest/readahead.py) hands its listing here: one small Python process (the standard library and
xxhash, nothing of postprod) reads and hashes each file whole, largest first, in xxh128 and the other xxHash
formats the card's MHL history names, exactly as ingest/hashing.py does (the same algorithms, a 1 MiB buffer),
and says for each the file's device, inode, size, mtime and ctime before and after the read. A thread of its own
would share the interpreter's lock with the imports, and wait for it at each of its thousands of calls.

The ingest takes such a hash (`take`) only for the very file it stats: the same device, inode, size, mtime and
ctime (any write to a file, and any utime that sets its mtime back, moves its ctime), read whole, with every
format it needs. A file under way is waited for; a file not begun is the ingest's own (the child is told to skip
it); anything else (the child gone, a file changed, cut short, a format not computed) is hashed by the ingest
itself, as without it. Either way every byte the ingest verifies is read and hashed once by the same hashing, and
the ingest's own check that a file did not change while it was probed stays. The child ends with the command
(`stop`), or when its input closes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HASHABLE = ("xxh128", "xxh3", "xxh64")  # xxh128 always; the others when the card's MHL names them
_FORMAT = re.compile(r"<(xxh128|xxh3|xxh64)\b")
MAX_MHL_BYTES = 16 << 20

# The child: reads its files (one JSON list on its first line), then hashes each in turn; "B i" as it begins
# file i, "D i RESULT" when done (RESULT: null, or the key before and after, hashes, seconds); a line "i" on its
# input skips file i (read between files); its input closed: it ends.
_CHILD = r"""
import json, mmap, os, select, stat, sys, time
import xxhash
ALGO = {"xxh128": xxhash.xxh3_128, "xxh3": xxhash.xxh3_64, "xxh64": xxhash.xxh64}
def key(st):
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
def main():
    formats = sys.argv[1].split(",")
    inp = sys.stdin.buffer
    paths = json.loads(inp.readline())
    fd_in, pending, skipped, out = inp.fileno(), b"", set(), sys.stdout
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    with mmap.mmap(-1, 1 << 20) as m, memoryview(m) as view:
        for i, path in enumerate(paths):
            while select.select([fd_in], [], [], 0)[0]:
                data = os.read(fd_in, 65536)
                if not data:
                    return
                pending += data
                *lines, pending = pending.split(b"\n")
                skipped.update(int(x) for x in lines if x.strip())
            if i in skipped:
                continue
            out.write(f"B {i}\n")
            out.flush()
            started, result = time.perf_counter(), None
            try:
                fd = os.open(path, flags)
                with open(fd, "rb", buffering=0) as fh:
                    before = os.fstat(fd)
                    if stat.S_ISREG(before.st_mode):
                        hashers, total = {f: ALGO[f]() for f in formats}, 0
                        while n := fh.readinto(view):
                            with view[:n] as chunk:
                                for h in hashers.values():
                                    h.update(chunk)
                            total += n
                        k = key(before)
                        if total == before.st_size and key(os.fstat(fd)) == k and key(os.lstat(path)) == k:
                            result = {"key": k, "hashes": {f: h.hexdigest() for f, h in hashers.items()},
                                      "seconds": time.perf_counter() - started}
            except OSError:
                pass
            out.write(f"D {i} {json.dumps(result)}\n")
            out.flush()
main()
"""


class _Ahead:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.begun = False
        self.taken = False
        self.result: dict[str, Any] | None = None


class _Run:
    """The child hashing one listing, and what it said of each file."""

    def __init__(self, files: list[str], formats: tuple[str, ...]) -> None:
        self.index = {os.path.abspath(p): i for i, p in enumerate(files)}
        self.entries = [_Ahead() for _ in files]
        self.proc = subprocess.Popen([sys.executable, "-E", "-c", _CHILD, ",".join(formats)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     close_fds=True)
        assert self.proc.stdin is not None
        self._stdin = self.proc.stdin
        self._stdin.write(json.dumps(files).encode() + b"\n")
        self._stdin.flush()
        os.set_blocking(self._stdin.fileno(), False)  # a skip never waits (one lost costs a hash twice)
        threading.Thread(target=self._read, name="postprod-prehash", daemon=True).start()

    def _read(self) -> None:
        try:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                kind, index, *rest = line.split(b" ", 2)
                ahead = self.entries[int(index)]
                if kind == b"B":
                    with _lock:
                        ahead.begun = True
                elif kind == b"D":
                    ahead.result = json.loads(rest[0]) if rest else None
                    ahead.done.set()
        except Exception:  # noqa: BLE001, S110 - a head start only: nothing it does may reach the ingest
            pass
        finally:
            for ahead in self.entries:  # the child has ended: nothing more comes
                ahead.done.set()

    def skip(self, index: int) -> None:
        try:
            self._stdin.write(f"{index}\n".encode())
            self._stdin.flush()
        except (OSError, ValueError):
            pass

    def stop(self) -> None:
        try:
            self._stdin.close()
        except (OSError, ValueError):
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=5)  # reaped: its time is the command's (what a timing of it counts)
        except subprocess.TimeoutExpired:
            self.proc.kill()


_lock = threading.Lock()
_run: _Run | None = None


def start(files: list[str], paths: Iterable[str]) -> None:
    """Hash `files` (the read-ahead's listing of the cards at `paths`) in a child process; a run under way ends."""
    global _run
    formats = ("xxh128", *(f for f in HASHABLE[1:] if f in mhl_formats(paths)))
    run = _Run(files, formats) if files else None
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
    (`st`: the ingest's stat of it); waits for one under way. None otherwise: the caller hashes it."""
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
    ahead.done.wait()
    wanted = list(dict.fromkeys(algorithms))
    result = ahead.result
    if not result or result["key"] != key(st) or any(a not in result["hashes"] for a in wanted):
        return None
    return {a: result["hashes"][a] for a in wanted}, float(result["seconds"])


def mhl_formats(paths: Iterable[str]) -> set[str]:
    """The xxHash formats any MHL generation of the cards names (those the ingest verifies beside its own)."""
    found: set[str] = set()
    for top in paths:
        folder = os.path.join(top, "ascmhl")
        try:
            names = [n for n in os.listdir(folder) if n.endswith(".mhl")]
        except OSError:
            continue
        left = MAX_MHL_BYTES
        for name in names:
            try:
                with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as fh:
                    text = fh.read(left)
            except OSError:
                continue
            left -= len(text)
            found.update(_FORMAT.findall(text))
            if left <= 0:
                break
    return found
