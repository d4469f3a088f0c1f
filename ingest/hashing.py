"""File hashing: several algorithms in one read, at memory speed (xxHash), as ASC MHL names them."""

from __future__ import annotations

import errno
import hashlib
import mmap
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import xxhash

CHUNK = 1024 * 1024  # stays in cache between read and hash: measured fastest here (bench/hashing_bench.py)


class _Hasher(Protocol):
    def update(self, data: Any, /) -> None: ...
    def hexdigest(self) -> str: ...


_C4_CHARSET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class _C4:
    """C4 id (SMPTE ST 2114): SHA-512 in base 58, 90 characters, as ASC MHL writes it."""

    def __init__(self) -> None:
        self._sha = hashlib.sha512()

    def update(self, data: Any, /) -> None:
        self._sha.update(data)

    def hexdigest(self) -> str:
        value = int.from_bytes(self._sha.digest(), "big")
        out = ""
        while value:
            value, mod = divmod(value, 58)
            out = _C4_CHARSET[mod] + out
        return "c4" + out.rjust(88, "1")


# Names as in the ASC MHL schema; the default is XXH3-128 (`xxh128`).
ALGORITHMS: dict[str, Callable[[], _Hasher]] = {
    "xxh128": xxhash.xxh3_128,
    "xxh3": xxhash.xxh3_64,
    "xxh64": xxhash.xxh64,
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "c4": _C4,
}


class NotRegularFile(OSError):
    """A FIFO, socket or device: never read (a FIFO would block the reader forever)."""


def open_regular(path: Path | str) -> int:
    """Open a file for reading only if it is a regular file; the fd (O_NONBLOCK: a FIFO does not block the
    open, and is refused by its fstat)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegularFile(errno.EINVAL, f"not a regular file ({file_type(mode)}): not read", str(path))
    return fd


def file_type(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "folder")):
        if test(mode):
            return name
    return "regular file" if stat.S_ISREG(mode) else "special file"


def hash_file(path: Path, algorithms: Iterable[str], progress: Callable[[int], None] | None = None,
              *, limit: int | None = None) -> dict[str, str]:
    """Hash a file once with each algorithm (its first `limit` bytes if given); reads it a single time,
    in large chunks, into one buffer. Only regular files are read (NotRegularFile otherwise).

    The buffer is an anonymous mapping, so it is page-aligned: the kernel's copy into an unaligned
    `bytearray` cost most of the time on some CPUs (bench/hashing_bench.py; issue 17).
    """
    hashers = {name: ALGORITHMS[name]() for name in dict.fromkeys(algorithms)}
    left = limit
    with open(open_regular(path), "rb", buffering=0) as fh, mmap.mmap(-1, CHUNK) as buf, \
            memoryview(buf) as view:
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while left is None or left > 0:
            with view[:CHUNK if left is None else min(left, CHUNK)] as target:
                n = fh.readinto(target)
            if not n:
                break
            with view[:n] as chunk:
                for h in hashers.values():
                    h.update(chunk)
            if left is not None:
                left -= n
            if progress is not None:
                progress(n)
    return {name: h.hexdigest() for name, h in hashers.items()}


def hash_bytes(data: bytes, algorithm: str) -> str:
    h = ALGORITHMS[algorithm]()
    h.update(data)
    return h.hexdigest()
