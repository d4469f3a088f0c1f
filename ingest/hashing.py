"""File hashing: several algorithms in one read, at memory speed (xxHash), as ASC MHL names them."""

from __future__ import annotations

import hashlib
import mmap
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import xxhash

CHUNK = 1024 * 1024  # stays in cache between read and hash: measured fastest here (bench/hashing.py)


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


def hash_file(path: Path, algorithms: Iterable[str], progress: Callable[[int], None] | None = None) -> dict[str, str]:
    """Hash a file once with each algorithm; reads it a single time, in large chunks, into one buffer.

    The buffer is an anonymous mapping, so it is page-aligned: the kernel's copy into an unaligned
    `bytearray` cost most of the time on some CPUs (bench/hashing.py; issue 17).
    """
    hashers = {name: ALGORITHMS[name]() for name in dict.fromkeys(algorithms)}
    with open(path, "rb", buffering=0) as fh, mmap.mmap(-1, CHUNK) as buf, memoryview(buf) as view:
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while n := fh.readinto(view):
            with view[:n] as chunk:
                for h in hashers.values():
                    h.update(chunk)
            if progress is not None:
                progress(n)
    return {name: h.hexdigest() for name, h in hashers.items()}


def hash_bytes(data: bytes, algorithm: str) -> str:
    h = ALGORITHMS[algorithm]()
    h.update(data)
    return h.hexdigest()
