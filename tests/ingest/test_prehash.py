"""The card hashed ahead in a child process (ingest/prehash.py): a hash is taken only for the very file the
ingest stats, read whole, not racy, in formats the child computed, from a child alive and making sense; every
other case is the ingest's own hashing, and an ingest with the child gives what one without it gives.

Each case is provoked, not timed: the tests wait for the child's answers (conditions), change a file between
the child's read and `take`, and stand in for a child that hangs, crashes or lies with a small script."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_ingest_sqlite_writes import _cards, _dump, _flip, _outcome, _settings

from flows.ingest import run_ingest
from ingest import prehash, readahead
from ingest.hashing import hash_file

WAIT = 120  # seconds: a bound on waiting for a condition that holds at once (never the thing tested)


@pytest.fixture(autouse=True)
def no_child_left(monkeypatch: pytest.MonkeyPatch):
    # Files made by a test are seconds old: their ctime cannot be set back, so the racy margin is 0 here (a file
    # must still be older than the child's start); test_a_file_stamped_near_the_childs_start_is_the_ingests_own
    # holds the margin itself.
    monkeypatch.setattr(prehash, "RACY_NS", 0)
    yield
    prehash.stop()
    prehash._run = None


def finished() -> prehash._Run:
    """The run under way, once the child has answered every file (or ended)."""
    run = prehash._run
    assert run is not None
    for ahead in run.entries:
        assert ahead.done.wait(WAIT)
    return run


def ahead(files: list[Path], cards: list[Path] = (), command: list[str] | None = None) -> prehash._Run:
    prehash.start([str(f) for f in files], [str(c) for c in cards], command)
    assert prehash._run is not None
    return prehash._run


def fake_child(tmp_path: Path, body: str) -> list[str]:
    """A stand-in child: reads the job (formats, count, names), then runs `body` (with `say` and `log`)."""
    script = tmp_path / "child.py"
    script.write_text("import os, sys, time\n"
                      "def say(text):\n    sys.stdout.write(text + '\\n'); sys.stdout.flush()\n"
                      f"log = open({str(tmp_path / 'child.log')!r}, 'a', buffering=1)\n"
                      "formats = sys.stdin.readline()\n"
                      "names = [sys.stdin.readline() for _ in range(int(sys.stdin.readline()))]\n" + body)
    return [sys.executable, str(script)]


def own(path: Path, algorithms=("xxh128",)) -> dict[str, str]:
    return hash_file(path, list(algorithms))


def test_the_childs_hashes_are_the_ingests_for_names_with_any_characters(tmp_path: Path):
    card = tmp_path / "card"
    card.mkdir()
    names = [b"plain.mov", b"two\nlines.mov", b'quote" back\\slash.mov', b"latin1-\xe9\xff.mov", b"-dash .mov",
             "日本語 ü.mov".encode(), b"empty.bin"]
    sizes = [3 * (1 << 20) + 7, 1000, 1, 65_536, 2 << 20, 17, 0]
    files = []
    for name, size in zip(names, sizes, strict=True):
        path = Path(os.fsdecode(os.path.join(os.fsencode(card), name)))
        path.write_bytes(os.urandom(size))
        files.append(path)
    ahead(files, [card], prehash.child_command(progress=1 << 20))  # says it is alive every MiB
    finished()
    for path in files:
        taken = prehash.take(path, path.stat(), ["xxh128"])
        assert taken is not None, path
        assert taken[0] == own(path)


def test_a_cards_mhl_naming_xxh64_or_xxh3_has_them_computed_and_no_other_format_is_ever_taken(tmp_path: Path):
    card = tmp_path / "A001"
    card.mkdir()
    clip = card / "A001C001.mov"
    clip.write_bytes(os.urandom(300_000))
    made = subprocess.run([str(Path(sys.executable).with_name("ascmhl")), "create", "-h", "xxh64", str(card)],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    (card / "ascmhl" / "9999_extra.mhl").write_text("<hash><xxh3 action=\"original\">0</xxh3></hash>\n")
    assert prehash.mhl_formats([str(card)]) == {"xxh64", "xxh3"}
    ahead([clip], [card])
    finished()
    both = prehash.take(clip, clip.stat(), ["xxh128", "xxh64", "xxh3"])
    assert both is not None and both[0] == own(clip, ["xxh128", "xxh64", "xxh3"])
    for wanted in (["xxh128", "md5"], ["sha1"], ["c4"], ["xxh128", "xxh64", "md5"]):
        assert prehash.take(clip, clip.stat(), wanted) is None

    bare = tmp_path / "B001"  # no MHL: xxh128 alone is computed
    bare.mkdir()
    other = bare / "B001C001.mov"
    other.write_bytes(os.urandom(1000))
    ahead([other], [bare])
    finished()
    assert prehash.take(other, other.stat(), ["xxh128", "xxh64"]) is None
    assert prehash.take(other, other.stat(), ["xxh128"]) is not None


def test_a_file_changed_after_the_child_read_it_is_the_ingests_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(prehash, "RACY_NS", -(1 << 62))  # the racy rule out of the way: the file's identity alone
    rewritten, retimed, grown, kept = (tmp_path / n for n in ("rewritten.mov", "retimed.mov", "grown.mov", "kept"))
    for f in (rewritten, retimed, grown, kept):
        f.write_bytes(os.urandom(200_000))
    ahead([rewritten, retimed, grown, kept])
    finished()
    with open(rewritten, "r+b") as fh:  # the same size, a byte in place
        fh.seek(100_000)
        fh.write(b"\0")
    st = retimed.stat()  # the same size, bytes in place, and the mtime set back: only the ctime moved
    _flip(retimed)
    assert retimed.stat().st_mtime_ns == st.st_mtime_ns
    with open(grown, "ab") as fh:  # a copy still under way: more came after the child's read
        fh.write(b"more")
    for f in (rewritten, retimed, grown):
        assert prehash.take(f, f.stat(), ["xxh128"]) is None, f
    assert prehash.take(kept, kept.stat(), ["xxh128"]) == (own(kept), pytest.approx(0, abs=60))


def test_a_file_replaced_by_another_is_the_ingests_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(prehash, "RACY_NS", -(1 << 62))  # the racy rule out of the way: the file's identity alone
    path, other = tmp_path / "A001C001.mov", tmp_path / "copy.tmp"
    path.write_bytes(os.urandom(100_000))
    other.write_bytes(os.urandom(100_000))
    ahead([path])
    finished()
    st = path.stat()
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))  # the same size and mtime: another inode
    os.replace(other, path)
    assert path.stat().st_ino != st.st_ino
    assert prehash.take(path, path.stat(), ["xxh128"]) is None
    assert prehash.take(path, st, ["xxh128"]) is not None  # as it was: what the child read (the control)


def test_a_file_stamped_near_the_childs_start_is_the_ingests_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Racy timestamps: a file whose mtime or ctime is within RACY_NS of the moment the child began could have
    been written in place after the child's read with every field of its stat unchanged (a FAT card's 2 s)."""
    path = tmp_path / "A001C001.mov"
    path.write_bytes(os.urandom(100_000))
    ahead([path])
    run = finished()
    begun = run.entries[0].result["begun_ns"]
    st = path.stat()
    assert max(st.st_mtime_ns, st.st_ctime_ns) < begun  # written before the child began, as any listed file
    monkeypatch.setattr(prehash, "RACY_NS", begun - max(st.st_mtime_ns, st.st_ctime_ns))  # just within it
    assert prehash.take(path, st, ["xxh128"]) is None
    monkeypatch.setattr(prehash, "RACY_NS", begun - max(st.st_mtime_ns, st.st_ctime_ns) - 1)  # just older
    assert prehash.take(path, st, ["xxh128"]) == (own(path), pytest.approx(0, abs=60))
    monkeypatch.undo()
    assert prehash.RACY_NS > 2_000_000_000  # the module's own: FAT stamps a write to the even second below it


def test_a_file_stamped_in_the_future_is_the_ingests_own(tmp_path: Path):
    """A camera whose clock was ahead: its mtime cannot be proved older than the child's read."""
    path, control = tmp_path / "A001C001.mov", tmp_path / "A001C002.mov"
    for f in (path, control):
        f.write_bytes(os.urandom(1000))
    ahead_ns = path.stat().st_mtime_ns + 3600 * 10**9
    os.utime(path, ns=(ahead_ns, ahead_ns))
    ahead([path, control])
    finished()
    assert prehash.take(path, path.stat(), ["xxh128"]) is None
    assert prehash.take(control, control.stat(), ["xxh128"]) is not None


def test_a_symlink_and_a_fifo_are_never_the_childs_and_never_stop_it(tmp_path: Path):
    target, link, fifo, after = (tmp_path / n for n in ("target.mov", "link.mov", "fifo.mov", "after.mov"))
    target.write_bytes(os.urandom(5000))
    link.symlink_to(target)
    os.mkfifo(fifo)
    after.write_bytes(os.urandom(5000))
    ahead([link, fifo, after])  # a FIFO opened without O_NONBLOCK would hold the child here for ever
    run = finished()
    assert [e.result is None for e in run.entries] == [True, True, False]
    assert prehash.take(link, link.stat(), ["xxh128"]) is None  # the ingest follows it and hashes it itself
    assert prehash.take(after, after.stat(), ["xxh128"]) is not None


def test_a_file_the_child_has_not_begun_is_skipped_by_it(tmp_path: Path):
    path = tmp_path / "A001C001.mov"
    path.write_bytes(b"x" * 100)
    # A child that has begun nothing, and notes the skips it is sent until its input closes.
    run = ahead([path], command=fake_child(tmp_path, "for line in sys.stdin:\n    log.write(line)\n"))
    assert prehash.take(path, path.stat(), ["xxh128"]) is None
    assert run.entries[0].taken
    run.proc.stdin.close()  # its input closed: it has read everything sent, and ends
    assert run.proc.wait(WAIT) == 0
    assert (tmp_path / "child.log").read_text() == "0\n"


def _key_of(path: Path) -> str:
    st = path.stat()
    return f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def test_a_child_killed_while_it_reads_leaves_the_file_to_the_ingest(tmp_path: Path):
    path = tmp_path / "A001C001.mov"
    path.write_bytes(b"x" * 100)
    run = ahead([path], command=fake_child(tmp_path, "say('B 0')\nsys.stdin.read()\n"))
    for _ in range(WAIT * 100):  # the child has begun the file (its "B 0" read)
        if run.entries[0].begun:
            break
        threading.Event().wait(0.01)
    assert run.entries[0].begun
    run.proc.kill()
    run.proc.wait()
    assert run.entries[0].done.wait(WAIT)  # its output closed: nothing more comes
    assert prehash.take(path, path.stat(), ["xxh128"]) is None


@pytest.mark.parametrize("answer", [
    "D 0 1 2",  # cut short: it crashed mid-line
    "D 0 KEY 4611686018427387904 0.1 xxh128:not-a-hash",
    "D 0 KEY 4611686018427387904 0.1 xxh128:0123",
    "D 0 KEY 4611686018427387904 0.1 md5:d41d8cd98f00b204e9800998ecf8427e",
    "D 0 KEY ten 0.1 xxh128:99aa06d3014798d86001c324468d497f",
    "D 0 KEY 4611686018427387904 0.1 99aa06d3014798d86001c324468d497f",
    "Z 0",  # nonsense
])
def test_a_child_that_crashes_or_says_nonsense_is_never_trusted(tmp_path: Path, answer: str):
    path = tmp_path / "A001C001.mov"
    path.write_bytes(b"")
    line = answer.replace("KEY", _key_of(path))
    run = ahead([path], command=fake_child(tmp_path, f"say('B 0')\nsay({line!r})\n"))
    finished()
    assert prehash.take(path, path.stat(), ["xxh128"]) is None
    assert prehash.take(path, path.stat(), ["md5"]) is None
    assert run.proc.wait(WAIT) is not None


def test_a_well_formed_answer_of_the_same_shape_is_taken(tmp_path: Path):
    """The control of the test above: the stand-in's answer, well formed, is taken (so the refusals above are
    those of the checks, not of the stand-in)."""
    path = tmp_path / "A001C001.mov"
    path.write_bytes(b"")
    good = own(path)["xxh128"]
    line = f"D 0 {_key_of(path)} {2**62} 0.1 xxh128:{good}"
    ahead([path], command=fake_child(tmp_path, f"say('B 0')\nsay({line!r})\n"))
    finished()
    assert prehash.take(path, path.stat(), ["xxh128"]) == ({"xxh128": good}, 0.1)


def test_a_child_silent_on_the_file_the_ingest_waits_for_is_abandoned(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    """Stopped (SIGSTOP), hung, or stuck on a device: the ingest waits no more than STALL_S after its last word,
    kills it, and hashes the file itself."""
    path = tmp_path / "A001C001.mov"
    path.write_bytes(b"x" * 100)
    monkeypatch.setattr(prehash, "STALL_S", 0.05)
    run = ahead([path], command=fake_child(tmp_path, "say('B 0')\nsay('P 0')\ntime.sleep(3600)\n"))
    for _ in range(WAIT * 100):
        if run.entries[0].begun:
            break
        threading.Event().wait(0.01)
    answers: list = []
    waiting = threading.Thread(target=lambda: answers.append(prehash.take(path, path.stat(), ["xxh128"])),
                               daemon=True)
    waiting.start()
    waiting.join(WAIT)  # a bound for a broken guard only: with it, this returns after STALL_S
    assert answers == [None]
    assert run.proc.wait(WAIT) is not None  # killed


def test_a_prehashed_ingest_is_the_ingest_without_it(workspace: Path, make_media) -> None:
    """The same cards (one with the set's xxh64 MHL and a corrupt copy that fails it) ingested by two stores, one
    with every hash taken from the child: the same outcome, the same rows, the same MHL generations."""
    a, b = _cards(workspace, make_media)
    _flip(a / "Clips" / "A001C002_R1AB.mov")
    set_mhl = workspace / "set_mhl"
    shutil.copytree(a / "ascmhl", set_mhl)
    sides = {"own": _settings(workspace, "own"), "ahead": _settings(workspace, "ahead")}
    outcomes, generations = {}, {}
    for side, settings in sides.items():
        shutil.rmtree(a / "ascmhl", ignore_errors=True)
        shutil.rmtree(b / "ascmhl", ignore_errors=True)
        shutil.copytree(set_mhl, a / "ascmhl")
        run = None
        if side == "ahead":
            readahead._run([str(a), str(b)], 1 << 30, threading.Event(), hash_ahead=True)
            run = finished()
            assert len(run.entries) == 4
        reports = run_ingest([str(a), str(b)], "test", settings)
        if run is not None:
            assert all(e.given for e in run.entries)  # every hash was the child's
        outcomes[side] = [(o, {f.relpath: f.hashes for f in r.files}) for o, r in zip(_outcome(reports), reports,
                                                                                      strict=True)]
        generations[side] = {f"{card.name}/{p.name[:4]}": re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^<]*", "<t>", p.read_text())
                             for card in (a, b) for p in sorted((card / "ascmhl").glob("*.mhl"))}
        prehash.stop()
        prehash._run = None
    assert outcomes["own"] == outcomes["ahead"]
    assert {f[0]: f[2] for f in outcomes["own"][0][0][3]}["Clips/A001C002_R1AB.mov"] == "failed"
    assert _dump(workspace / "own" / "postprod.db", workspace / "own") == \
        _dump(workspace / "ahead" / "postprod.db", workspace / "ahead")
    assert generations["own"] == generations["ahead"] and len(generations["own"]) == 3
