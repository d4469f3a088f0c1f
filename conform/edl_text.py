"""EDL bytes to lines: byte-order marks, encodings, line endings, DOS end-of-file padding; binary refused."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from conform.model import TimelineError


@dataclass
class Decoded:
    text: str
    encoding: str
    line_endings: str
    padding: str | None = None  # "1 ^Z and 127 NUL bytes": DOS end-of-file padding removed from the end


def _strip_padding(data: bytes) -> tuple[bytes, str | None]:
    """Flame and some grading tools end a text list with ^Z (DOS end of file) and NUL bytes: padding."""
    stripped = data.rstrip(b"\x00\x1a")
    if len(stripped) == len(data):
        return data, None
    tail = data[len(stripped):]
    eof, nul = tail.count(b"\x1a"), tail.count(b"\x00")
    parts = ([f"{eof} ^Z"] if eof else []) + ([f"{nul} NUL"] if nul else [])
    return stripped, " and ".join(parts) + " bytes"


def decode(data: bytes, path: Path) -> Decoded:
    """Bytes to text: BOMs (UTF-8/16), UTF-8, else Windows-1252/Latin-1; binary data is refused."""
    padding = None
    if data.startswith(b"\xef\xbb\xbf"):
        data, padding = _strip_padding(data)
        text, encoding = data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise TimelineError(f"not a text EDL: bad UTF-16 text ({exc.reason})", path=path) from exc
        text = text.rstrip("\x00\x1a")
    else:
        data, padding = _strip_padding(data)
        if b"\x00" in data[:65536]:
            raise TimelineError("not a text EDL: binary data (NUL bytes)", path=path)
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                text, encoding = data.decode("latin-1"), "latin-1"
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\r\n\t\f\x1a")
    if controls > max(8, len(text[:65536]) // 50):
        raise TimelineError("not a text EDL: binary data (control characters)", path=path)
    if "\r\n" in text:
        endings = "crlf"
    elif "\r" in text:
        endings = "cr"
    else:
        endings = "lf"
    return Decoded(text, encoding, endings, padding)


def split_lines(text: str) -> list[str]:
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line opens no line of its own
    return lines
