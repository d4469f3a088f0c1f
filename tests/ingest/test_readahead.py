"""The card's read-ahead (ingest/readahead.py): what it opens, in what order, how far, and that it warms the page
cache; and that an ingest after it still reads and judges every byte (a file corrupted after it was read ahead
fails its MHL check)."""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import small_clip

from ingest import readahead

pytestmark = pytest.mark.skipif(not hasattr(os, "sendfile"), reason="no sendfile: no read-ahead here")


def _resident(path: Path, offset: int = 0, length: int | None = None) -> bool:
    """Every page of the range is in the page cache: mincore(2) over a private mapping, which (unlike a read,
    even one that may not wait) starts no read of its own."""
    libc = ctypes.CDLL(None, use_errno=True)
    size = path.stat().st_size
    length = size - offset if length is None else length
    page = mmap.PAGESIZE
    start = offset // page * page
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), size, flags=mmap.MAP_PRIVATE,
                                           prot=mmap.PROT_READ | mmap.PROT_WRITE) as mm:
        pages = (offset + length - start + page - 1) // page
        vec = (ctypes.c_ubyte * pages)()
        base = ctypes.c_char.from_buffer(mm)
        try:
            assert libc.mincore(ctypes.c_void_p(ctypes.addressof(base) + start), ctypes.c_size_t(pages * page),
                                vec) == 0, os.strerror(ctypes.get_errno())
        finally:
            del base
        return all(v & 1 for v in vec)


def _evicted(path: Path) -> bool:
    """Drop the file from the page cache; False where that cannot be done (tmpfs keeps it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return not _resident(path)


def test_it_lists_regular_files_only_card_by_card_largest_first(tmp_path: Path) -> None:
    card, other = tmp_path / "A001", tmp_path / "B001"
    (card / "sub").mkdir(parents=True)
    other.mkdir()
    (card / "small.mov").write_bytes(b"x" * 10)
    (card / "sub" / "large.mov").write_bytes(b"x" * 1000)
    (card / "b_mid.mov").write_bytes(b"x" * 100)
    (card / "a_mid.mov").write_bytes(b"x" * 100)
    (card / "ascmhl").mkdir()
    (card / "ascmhl" / "0001.mhl").write_bytes(b"x" * 5000)  # the MHL history: the ingest's own parser reads it
    os.mkfifo(card / "pipe")  # never opened: a FIFO would block its reader
    (card / "link.mov").symlink_to(other / "huge.mov")  # links not followed
    (other / "huge.mov").write_bytes(b"x" * 9000)
    (card / "loop").symlink_to(card)  # nor looped through
    loose = tmp_path / "loose.wav"
    loose.write_bytes(b"x" * 50)

    found = readahead.files_of([str(card), str(loose), str(other), str(tmp_path / "gone")])
    assert found == [(1000, str(card / "sub" / "large.mov")), (100, str(card / "a_mid.mov")),
                     (100, str(card / "b_mid.mov")), (10, str(card / "small.mov")),
                     (50, str(loose)), (9000, str(other / "huge.mov"))]
    assert len(readahead.files_of([str(card)], limit=2)) == 2  # a folder of many files: the walk is bounded


def test_it_ends_on_a_fifo_or_a_device_without_opening_them(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "null").symlink_to(os.devnull)
    thread = readahead.start([tmp_path, tmp_path / "pipe", tmp_path / "null"])
    assert thread is not None
    thread.join(timeout=30)
    assert not thread.is_alive()  # opening the FIFO for reading would have blocked it for ever


def test_it_brings_the_files_into_the_page_cache_within_its_budget(tmp_path: Path) -> None:
    first, second = tmp_path / "a.mov", tmp_path / "b.mov"
    first.write_bytes(os.urandom(5 * readahead.CHUNK))
    second.write_bytes(os.urandom(readahead.CHUNK))
    if not (_evicted(first) and _evicted(second)):
        pytest.skip("the page cache cannot be dropped or seen for this folder")
    readahead._run([str(tmp_path)], readahead.CHUNK + 1, threading.Event())  # the budget: a chunk and a byte
    assert _resident(first, 0, readahead.CHUNK + 1)  # the largest file first, as far as the budget
    assert not _resident(first, 4 * readahead.CHUNK)  # and not beyond it (nor the kernel's own read-ahead after it)
    assert not _resident(second)  # (the second reader found the budget spent)
    stopped = threading.Event()
    stopped.set()
    readahead._run([str(tmp_path)], 1 << 30, stopped)  # stopped: reads nothing more
    assert not _resident(second)
    readahead._run([str(tmp_path)], 1 << 30, threading.Event())
    assert _resident(first) and _resident(second)


def test_a_file_corrupted_after_its_read_ahead_still_fails_its_mhl_check(workspace: Path, make_media) -> None:
    """The read-ahead warms the cache; the ingest's hash still reads the bytes as they are when it reads them."""
    card = workspace / "A001"
    card.mkdir()
    clip = card / "A001C001_261123_R1AB.mov"
    shutil.copy(make_media("ra.mov", small_clip(reel="A001")), clip)
    ascmhl = shutil.which("ascmhl") or os.path.join(os.path.dirname(sys.executable), "ascmhl")
    subprocess.run([ascmhl, "create", "-h", "xxh128", str(card)], check=True, capture_output=True)
    thread = readahead.start([card])
    assert thread is not None
    thread.join(timeout=30)
    assert _resident(clip)
    data = bytearray(clip.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit in the middle of the picture, same size
    stat = clip.stat()
    clip.write_bytes(bytes(data))
    os.utime(clip, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = subprocess.run([sys.executable, "-m", "cli.main", "ingest", str(card), "-p", "test", "--direct", "--json"],
                            capture_output=True, text=True, cwd=workspace, timeout=300, check=False)
    assert result.returncode == 1, result.stderr[-2000:]
    (report,) = json.loads(result.stdout)
    (row,) = [f for f in report["files"] if f["relpath"] == clip.name]
    assert row["mhl_action"] == "failed" and [f["rule"] for f in row["findings"]][:1] == ["hash_mismatch"]


@pytest.mark.parametrize(("args", "paths"), [
    (["ingest", "A001", "B001/"], ["A001", "B001/"]),
    (["-c", "p.toml", "ingest", "-p", "film", "--direct", "--json", "A001"], ["A001"]),
    (["--config=p.toml", "ingest", "--production=film", "A001", "--", "-odd name"], ["A001", "-odd name"]),
    (["ingest", "--help"], None),  # anything the command line could mean otherwise: the command decides
    (["ingest", "-pfilm", "A001"], None),
    (["ingest", "--direct"], None),
    (["probe", "A001"], None),
    (["-c", "ingest", "probe", "A001"], None),
    ([], None),
])
def test_the_cards_are_read_from_the_command_line_only_when_certain(args: list[str], paths: list[str] | None) -> None:
    from cli.main import ingest_paths

    assert ingest_paths(args) == paths


def test_the_same_cards_are_read_ahead_once(tmp_path: Path) -> None:
    (tmp_path / "a.mov").write_bytes(b"x" * 100)
    first = readahead.start([str(tmp_path) + "/"])
    assert first is not None
    assert readahead.start([tmp_path]) is None  # the command's own start, after cli/main.py's
    other = readahead.start([tmp_path / "a.mov"])  # other paths: the first is stopped, these read
    assert other is not None
    readahead.stop()
    first.join(timeout=30)
    other.join(timeout=30)
    assert not first.is_alive() and not other.is_alive()


def test_a_card_ingested_already_is_not_read_ahead_again(workspace: Path, make_media) -> None:
    """A re-run reads nothing of the files it ingested: nor does its read-ahead (the card's own MHL generation from
    postprod lists them as they are); a file changed since, or new, is read ahead again."""
    from ingest import mhl

    assert readahead.MHL_FOLDER == mhl.MHL_FOLDER
    card = workspace / "A001"
    card.mkdir()
    clip = make_media("ra2.mov", small_clip(reel="A001"))
    names = ["A001C001_261123_R1AB.mov", "A001C002 & <odd> \"name\".mov"]
    for name in names:
        shutil.copy(clip, card / name)
    assert [Path(p).name for _, p in readahead.files_of([str(card)])] == sorted(names)
    result = subprocess.run([sys.executable, "-m", "cli.main", "ingest", str(card), "-p", "test", "--direct", "--json"],
                            capture_output=True, text=True, cwd=workspace, timeout=300, check=False)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert json.loads(result.stdout)[0]["summary"]["new"] == 2
    assert readahead.files_of([str(card)]) == []  # both listed by our generation, as they are
    (card / "new.mov").write_bytes(b"x" * 10)
    later = (card / names[1]).stat().st_mtime_ns + 5_000_000_000
    os.utime(card / names[1], ns=(later, later))  # touched: a re-run hashes it again
    assert sorted(Path(p).name for _, p in readahead.files_of([str(card)])) == sorted(["new.mov", names[1]])
