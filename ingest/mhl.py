"""ASC MHL v2.0: read a card's hash history (from the set) and append a generation to it.

A card's `ascmhl/` folder holds numbered generations (`0001_<card>_<date>_<time>Z.mhl`) and
`ascmhl_chain.xml`, which lists each generation with the C4 id of its file so tampering shows.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from config.atomic import write_bytes_atomic
from config.errors import PostprodError
from ingest.hashing import hash_bytes, hash_file
from media.report import safe_name

_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def escape(text: str) -> str:
    """Text for an XML element or a double-quoted attribute (xml.sax.saxutils.escape leaves quotes alone and
    loads urllib and http.client with it, at every ingest)."""
    return text.translate(_XML_ESCAPES)


MHL_FOLDER = "ascmhl"
CHAIN_FILE = "ascmhl_chain.xml"
NS = "urn:ASC:MHL:v2.0"
DIR_NS = "urn:ASC:MHL:DIRECTORY:v2.0"
# Decreasing preference when verifying against an existing history (as the ASC tool does).
KNOWN_FORMATS = ["xxh128", "xxh3", "xxh64", "md5", "sha1", "c4"]
_GEN_RE = re.compile(r"^(\d{4,})_.*\.mhl$")


class MHLError(PostprodError):
    """An MHL history that cannot be read or trusted."""


@dataclass
class HashRecord:
    """What the history says of one file: its hashes (format -> value) and size."""

    path: str
    hashes: dict[str, str] = field(default_factory=dict)
    size: int | None = None
    generation: int = 0


@dataclass
class History:
    folder: Path
    generations: list[int] = field(default_factory=list)
    ours: set[int] = field(default_factory=set)  # generations written by postprod (its ingests), not the set's
    files: dict[str, HashRecord] = field(default_factory=dict)  # first-seen hashes win: the original
    ignore: list[str] = field(default_factory=list)

    @property
    def latest(self) -> int:
        return max(self.generations, default=0)

    def listed_on_set(self) -> dict[str, HashRecord]:
        """The files that generations not written by postprod list: what the offload on set copied. Our own
        generations record what an ingest read, which a copy that had not ended may have outgrown since."""
        return {rel: record for rel, record in self.files.items() if record.generation not in self.ours}


def _tag(element_tag: str) -> str:
    return element_tag.split("}", 1)[-1]


def read_history(mhl_folder: Path) -> History:
    """Read every generation of an `ascmhl/` folder; check each against the chain file."""
    history = History(folder=mhl_folder)
    if not mhl_folder.is_dir():
        return history
    chain_path = mhl_folder / CHAIN_FILE
    chain: dict[str, str] = {}
    if chain_path.is_file():
        try:
            root = SafeET.parse(chain_path).getroot()
        except (SafeET.ParseError, DefusedXmlException) as exc:
            raise MHLError(f"unreadable MHL chain: {exc}", path=chain_path) from exc
        for hl in root:
            if _tag(hl.tag) != "hashlist":
                continue
            name = next((c.text for c in hl if _tag(c.tag) == "path"), None)
            c4 = next((c.text for c in hl if _tag(c.tag) == "c4"), None)
            if name and c4:
                chain[name.strip()] = c4.strip()
    gen_files = sorted((int(m.group(1)), p) for p in mhl_folder.iterdir()
                       if not p.name.startswith("._") and (m := _GEN_RE.match(p.name)))
    for number, path in gen_files:
        expected = chain.get(path.name)
        if expected is not None and hash_file(path, ["c4"])["c4"] != expected:
            raise MHLError("MHL generation was modified after it was written (C4 differs from the chain)",
                           path=path)
        _read_generation(path, number, history)
        history.generations.append(number)
    return history


def _read_generation(path: Path, number: int, history: History) -> None:
    try:
        root = SafeET.parse(path).getroot()
    except (SafeET.ParseError, DefusedXmlException) as exc:
        raise MHLError(f"unreadable MHL file: {exc}", path=path) from exc
    for element in root.iter():
        tag = _tag(element.tag)
        if tag == "tool" and (element.text or "").strip() == "postprod":
            history.ours.add(number)
        if tag == "pattern" and element.text:
            if element.text not in history.ignore:
                history.ignore.append(element.text)
        if tag != "hash":
            continue
        rel, size, hashes = None, None, {}
        for child in element:
            ctag = _tag(child.tag)
            if ctag == "path" and child.text:
                rel = child.text.strip()
                size = int(child.get("size")) if child.get("size", "").isdigit() else None
            elif ctag in KNOWN_FORMATS and child.text and child.get("action") != "failed":
                hashes[ctag] = child.text.strip().lower() if ctag != "c4" else child.text.strip()
        if rel is None:
            continue
        record = history.files.setdefault(rel, HashRecord(path=rel, size=size, generation=number))
        for fmt, value in hashes.items():
            record.hashes.setdefault(fmt, value)


@dataclass(frozen=True)
class Entry:
    """One file of a new generation."""

    path: str  # relative to the card root, POSIX
    size: int
    mtime: float
    hashes: dict[str, str]
    actions: dict[str, str]  # per format: original | verified | failed


def _iso(ts: float | datetime) -> str:
    when = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, UTC)
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_generation(mhl_folder: Path, card_name: str, entries: list[Entry], ignore: list[str],
                     *, tool_version: str, now: datetime | None = None, parents: bool = True) -> Path:
    """Append a generation to the history in `mhl_folder` (created if need be; with parents=False its parent,
    the card, must still be there: a card that went away under its ingest is not made again); atomic per file."""
    now = now or datetime.now(UTC)
    mhl_folder.mkdir(parents=parents, exist_ok=True)
    with _folder_locked(mhl_folder):  # two ingests of one folder's loose files would both write generation N
        return _write_generation(mhl_folder, card_name, entries, ignore, tool_version=tool_version, now=now)


@contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """An flock on the folder itself (no foreign file in a card's ascmhl/); it goes away with the process."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_generation(mhl_folder: Path, card_name: str, entries: list[Entry], ignore: list[str],
                      *, tool_version: str, now: datetime) -> Path:
    history = read_history(mhl_folder)
    number = history.latest + 1
    name = f"{number:04d}_{safe_name(card_name, 'card')}_{now.strftime('%Y-%m-%d_%H%M%SZ')}.mhl"
    stamp = _iso(now)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<hashlist version="2.0" xmlns="{NS}">',
        "  <creatorinfo>",
        f"    <creationdate>{stamp}</creationdate>",
        f"    <hostname>{escape(os.uname().nodename)}</hostname>",  # gethostname(2)'s, without importing socket
        f'    <tool version="{escape(tool_version)}">postprod</tool>',
        "  </creatorinfo>",
        "  <processinfo>",
        "    <process>in-place</process>",
        "    <ignore>",
        *[f"      <pattern>{escape(p)}</pattern>" for p in ignore],
        "    </ignore>",
        "  </processinfo>",
        "  <hashes>",
    ]
    for e in entries:
        lines.append("    <hash>")
        lines.append(f'      <path size="{e.size}" lastmodificationdate="{_iso(e.mtime)}">{escape(e.path)}</path>')
        for fmt, value in e.hashes.items():
            action = e.actions.get(fmt, "original")
            lines.append(f'      <{fmt} action="{action}" hashdate="{stamp}">{escape(value)}</{fmt}>')
        lines.append("    </hash>")
    lines += ["  </hashes>", "</hashlist>", ""]
    data = "\n".join(lines).encode("utf-8")
    target = mhl_folder / name
    write_bytes_atomic(target, data)
    _append_chain(mhl_folder, number, name, hash_bytes(data, "c4"))
    return target


def _append_chain(mhl_folder: Path, number: int, name: str, c4: str) -> None:
    chain_path = mhl_folder / CHAIN_FILE
    kept: list[tuple[str, str, str]] = []
    if chain_path.is_file():
        root = SafeET.parse(chain_path).getroot()
        for hl in root:
            if _tag(hl.tag) != "hashlist":
                continue
            path = next((c.text or "" for c in hl if _tag(c.tag) == "path"), "")
            ref = next((c.text or "" for c in hl if _tag(c.tag) == "c4"), "")
            kept.append((hl.get("sequencenr", ""), path.strip(), ref.strip()))
    kept.append((str(number), name, c4))
    body = "".join(
        f'  <hashlist sequencenr="{seq}">\n    <path>{escape(p)}</path>\n    <c4>{ref}</c4>\n  </hashlist>\n'
        for seq, p, ref in kept
    )
    text = f'<?xml version="1.0" encoding="UTF-8"?>\n<ascmhldirectory xmlns="{DIR_NS}">\n{body}</ascmhldirectory>\n'
    write_bytes_atomic(chain_path, text.encode("utf-8"))




def writable(folder: Path) -> bool:
    """Whether postprod may write into a folder: not on a read-only mount, and its mode allows writing.

    Root can write anywhere: for root, a folder whose mode bits forbid writing to everybody is read-only
    all the same (a card set read-only on purpose).
    """
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return False
        mode = os.stat(folder).st_mode
    except OSError:
        return False
    if os.geteuid() == 0:
        return bool(mode & 0o222)
    return os.access(folder, os.W_OK)


def mhl_folder_for(card: Path, data_dir: Path) -> tuple[Path, bool]:
    """Where a card's MHL goes: its own `ascmhl/`, or, for a read-only card, the data directory."""
    own = card / MHL_FOLDER
    if writable(card) and (not own.exists() or writable(own)):
        return own, True
    return data_dir / "mhl" / str(card.resolve()).lstrip("/") / MHL_FOLDER, False


def mhl_folder_for_loose(folder: Path, data_dir: Path) -> tuple[Path, bool]:
    """Loose files are not a card: their MHL goes into the data directory, under their folder's path."""
    return data_dir / "mhl" / str(folder.resolve()).lstrip("/") / MHL_FOLDER, False
