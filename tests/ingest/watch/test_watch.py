"""Watch folders: real files copied slowly by writer threads and processes, real inotify and polling, real ingest."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from conftest import small_clip
from typer.testing import CliRunner

from cli.app import app
from cli.commands import watch as _watch_command  # noqa: F401  (registers the command)
from config.errors import ConfigError
from config.settings import Settings, load_settings
from flows.watch import direct_trigger
from ingest.catalogue import Catalogue
from ingest.hashing import hash_file
from ingest.watch import Folder, Watcher, folders_to_watch, network_filesystem
from ingest.watch.poll import TreePoller

SETTLE = 0.4
WAIT = 60.0  # a guard against hanging, never an assertion on speed


def _config(ws: Path, extra: str = "") -> Path:
    (ws / "in").mkdir(exist_ok=True)
    cfg = ws / "postprod.toml"
    cfg.write_text(f'data_dir = "data"\nsettle_seconds = {SETTLE}\n{extra}\n[watch]\npoll_seconds = 0.2\n\n'
                   '[productions.test]\nspec = "small.toml"\ningest_folders = ["in"]\n')
    return cfg


@pytest.fixture()
def wsettings(workspace: Path) -> Settings:
    return load_settings(_config(workspace))


@pytest.fixture()
def clip(make_media) -> bytes:
    return make_media("watch_a.mov", small_clip(timecode="10:00:00:00", reel="A001")).read_bytes()


@pytest.fixture()
def clip2(make_media) -> bytes:
    return make_media("watch_b.mov", small_clip(timecode="11:00:00:00", reel="B001", seconds=0.5)).read_bytes()


def slow_copy(data: bytes, dst: Path, rng: random.Random, *, stall: float = 0.0, max_pause: float = 0.08,
              part: bool = False) -> float:
    """Write `data` to `dst` in random chunks with random pauses (a stall in the middle, file kept open);
    with part=True write `dst.part` and rename it at the end. Returns the time.time() of the close."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    target = dst.with_name(dst.name + ".part") if part else dst
    pos = 0
    with open(target, "wb") as fh:
        while pos < len(data):
            n = rng.randint(8_000, 120_000)
            fh.write(data[pos:pos + n])
            fh.flush()
            pos += n
            time.sleep(rng.uniform(0.0, max_pause))
            if stall and pos >= len(data) // 2:
                time.sleep(stall)
                stall = 0.0
    closed = time.time()
    if part:
        os.rename(target, dst)
    return closed


@contextmanager
def running(settings: Settings, folders: list[Folder]) -> Iterator[tuple[Watcher, list[dict]]]:
    events: list[dict] = []
    watcher = Watcher(settings, folders, direct_trigger(settings), events.append)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        until(lambda: any(e["event"] in ("reconciled", "folder_unavailable") for e in events))
        yield watcher, events
    finally:
        watcher.request_stop()
        thread.join(WAIT)
        assert not thread.is_alive()


def until(cond, timeout: float = WAIT) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("gave up waiting")
        time.sleep(0.05)


def catalogue_paths(settings: Settings) -> dict[str, dict]:
    return {r["path"]: r for r in Catalogue(settings.db_url).rows("test")}


def new_in_reports(settings: Settings) -> dict[str, int]:
    """How many ingest reports list each path as newly ingested (exactly once means 1)."""
    counts: dict[str, int] = {}
    for report in (settings.reports_dir / "ingest" / "test").glob("*.json"):
        for f in json.loads(report.read_text())["files"]:
            if f["status"] in ("new", "updated"):
                counts[f["path"]] = counts.get(f["path"], 0) + 1
    return counts


def ingest_starts(settings: Settings) -> dict[str, list[float]]:
    starts: dict[str, list[float]] = {}
    for row in Catalogue(settings.db_url).ingest_rows("test"):
        starts.setdefault(row["source"], []).append(row["started_at"].timestamp())
    return starts


def check_exactly_once(settings: Settings, expected: dict[Path, bytes]) -> None:
    rows = catalogue_paths(settings)
    assert sorted(rows) == sorted(str(p) for p in expected)
    news = new_in_reports(settings)
    for path, data in expected.items():
        assert news.get(str(path)) == 1, f"{path} ingested {news.get(str(path), 0)} times"
        final = hash_file(path, ["xxh128"])["xxh128"]
        assert rows[str(path)]["hash"] == final, f"{path} ingested before its copy ended"
        assert rows[str(path)]["size"] == len(data)
        assert rows[str(path)]["status"] == "ok"


def _copy_everything(ws: Path, clip: bytes, clip2: bytes, rng: random.Random, *, inotify: bool
                     ) -> tuple[dict[Path, bytes], dict[str, float]]:
    """6 loose files and 2 cards (one with a sub-folder), several writers at once. Returns what was
    written and, per unit source, the time its last file was closed."""
    inbox = ws / "in"
    jobs: list[tuple[str, Path, bytes, dict]] = []
    for i in range(6):
        name = f"loose {i} é#[{i}].mov"
        # With inotify a writer may stall longer than the settle time: the file is open, so it waits.
        kw = {"stall": 3 * SETTLE} if (inotify and i == 0) else {}
        if i == 1:
            kw["part"] = True
        jobs.append((name, inbox / name, clip if i % 2 else clip2, kw))
    for card, names in (("A001", ["Clips/A001C001.mov", "Clips/A001C002.mov", "A001.xml"]),
                        ("B001", ["B001C001.mov", "B001C002.mov"])):
        for n in names:
            data = b"<card/>" * 100 if n.endswith(".xml") else (clip if card == "A001" else clip2)
            kw = {"stall": 3 * SETTLE} if (inotify and n == "B001C002.mov") else {}
            jobs.append((card, inbox / card / n, data, kw))
    closed: dict[str, float] = {}
    lock = threading.Lock()

    def writer(batch: list[tuple[str, Path, bytes, dict]], seed: int) -> None:
        r = random.Random(seed)
        for unit, path, data, kw in batch:
            t = slow_copy(data, path, r, **kw)
            with lock:
                key = str(inbox / unit)
                closed[key] = max(closed.get(key, 0.0), t)

    rng.shuffle(jobs)
    cards = [j for j in jobs if not j[0].endswith(".mov")]
    loose = [j for j in jobs if j[0].endswith(".mov")]
    # A card is copied file after file by one writer; loose files by two others, all at once.
    threads = [threading.Thread(target=writer, args=(b, n)) for n, b in
               enumerate([sorted(cards, key=lambda j: j[0]), loose[::2], loose[1::2]])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {p: d for _, p, d, _ in jobs}, closed


@pytest.mark.parametrize("mode", ["inotify", "poll"])
def test_slow_copies_are_ingested_once_and_never_before_their_copy_ends(wsettings, workspace, clip, clip2, mode):
    sources = {"a": clip, "b": clip2}
    before = {k: hash(v) for k, v in sources.items()}
    folders = folders_to_watch(wsettings, "test", 0.2 if mode == "poll" else None)
    with running(wsettings, folders) as (watcher, events):
        expected, closed = _copy_everything(workspace, clip, clip2, random.Random(7), inotify=mode == "inotify")
        until(lambda: len(catalogue_paths(wsettings)) == len(expected) and not watcher.running)
        time.sleep(3 * SETTLE)  # anything else to come would show now (nothing should)
    check_exactly_once(wsettings, expected)
    starts = ingest_starts(wsettings)
    for unit, t in closed.items():
        assert unit in starts, f"{unit} never ingested"
        assert min(starts[unit]) > t, f"{unit} ingested before its copy ended"
    # The watcher logged each step; the `.part` file was never a unit of its own.
    kinds = [e["event"] for e in events]
    assert {"watching", "reconciled", "arrived", "ready", "ingest_started", "ingested"} <= set(kinds)
    ingested = [e for e in events if e["event"] == "ingested"]
    assert not [e for e in events if e["event"] in ("ingest_failed", "problem")]
    assert all(e["errors"] == 0 for e in ingested)
    assert not any(e.get("unit", "").endswith(".part") for e in ingested)
    assert {k: hash(v) for k, v in sources.items()} == before


def _watch_process(ws: Path, *args: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "POSTPROD_CONFIG": str(ws / "postprod.toml")}
    with open(log, "ab") as fh:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()", "watch", "--json",
                                 *args], cwd=ws, env=env, stdout=fh, stderr=subprocess.STDOUT)


def _events(log: Path) -> list[dict]:
    """The JSON events of the watcher's output so far: whole lines only (a line it is writing as this reads has no
    end yet: it is read whole the next time)."""
    out = []
    text = log.read_text(errors="replace")
    for line in text[:text.rfind("\n") + 1].splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


@pytest.mark.parametrize("mode", ["inotify", "poll"])
def test_watcher_killed_mid_copy_and_restarted_ingests_everything_once(wsettings, workspace, clip, clip2, mode):
    args = ["--poll", "0.2"] if mode == "poll" else []
    log = workspace / "watch.log"
    first = _watch_process(workspace, *args, log=log)
    try:
        until(lambda: any(e["event"] == "reconciled" for e in _events(log)))
        rng = random.Random(3)
        inbox = workspace / "in"
        expected = {inbox / "early.mov": clip2}
        slow_copy(clip2, inbox / "early.mov", rng)
        until(lambda: any(e["event"] == "ingested" for e in _events(log)))
        # A card copy starts; the watcher dies in the middle of it and the copy goes on.
        card = inbox / "C001"
        names = [f"C001C00{i}.mov" for i in range(1, 4)]
        done = threading.Event()

        def copy_card() -> None:
            r = random.Random(5)
            for n in names:
                slow_copy(clip, card / n, r, max_pause=0.1)
            done.set()

        writer = threading.Thread(target=copy_card)
        writer.start()
        until(lambda: (card / names[1]).exists())
        first.send_signal(signal.SIGKILL)
        first.wait(WAIT)
        expected.update({card / n: clip for n in names})
        second = _watch_process(workspace, *args, log=log)
        try:
            writer.join()
            until(lambda: len(catalogue_paths(wsettings)) == len(expected))
            time.sleep(3 * SETTLE)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(WAIT) == 0
    finally:
        if first.poll() is None:
            first.kill()
    check_exactly_once(wsettings, expected)
    events = _events(log)
    assert events[-1]["event"] == "stopped"
    assert not [e for e in events if e["event"] == "ingest_failed"]


def test_once_catches_up_and_leaves_what_is_still_arriving(wsettings, workspace, clip, clip2):
    inbox = workspace / "in"
    (inbox / "D001").mkdir()
    (inbox / "D001" / "D001C001.mov").write_bytes(clip)
    (inbox / "take 1 – été.mov").write_bytes(clip2)
    (inbox / "D001" / ".DS_Store").write_bytes(b"litter")
    stop = threading.Event()
    growing = inbox / "growing.mov"

    def grow() -> None:  # a copy still going on during the pass
        with open(growing, "wb") as fh:
            while not stop.is_set():
                fh.write(b"\0" * 1000)
                fh.flush()
                time.sleep(SETTLE / 8)

    t = threading.Thread(target=grow)
    t.start()
    try:
        result = CliRunner().invoke(app,
                                    ["watch", "--once", "--json", "--production", "test"])
    finally:
        stop.set()
        t.join()
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines()]
    assert {e["unit"] for e in events if e["event"] == "ingested"} == {"D001", "take 1 – été.mov"}
    left = [e for e in events if e["event"] == "left"]
    assert [e["unit"] for e in left] == ["growing.mov"]
    assert "changed less than" in left[0]["reason"]
    assert events[-1] == {**events[-1], "event": "stopped", "ingests": 2, "failures": 0}
    for e in events:
        assert {"time", "event"} <= set(e)
        datetime.fromisoformat(e["time"])
    # Again: nothing new, so nothing is ingested twice; the finished copy is ingested now.
    again = CliRunner().invoke(app, ["watch", "--once", "--json"])
    events = [json.loads(line) for line in again.output.splitlines()]
    done = [e for e in events if e["event"] == "ingested"]
    assert [e["unit"] for e in done] == ["growing.mov"]
    # It is not a media file (zeros): an error-level finding, so exit code 1, and the watcher carried on.
    assert done[0]["errors"] == 1 and "not a media file" in done[0]["problems"][0]
    assert again.exit_code == 1
    assert new_in_reports(wsettings) == {str(inbox / "D001" / "D001C001.mov"): 1,
                                         str(inbox / "take 1 – été.mov"): 1, str(growing): 1}


def test_vanished_folder_and_deleted_file_do_not_stop_the_watcher(wsettings, workspace, clip):
    inbox = workspace / "in"
    folders = folders_to_watch(wsettings, "test")
    with running(wsettings, folders) as (_watcher, events):
        # A file deleted while it settles: logged, not ingested.
        doomed = inbox / "doomed.mov"
        doomed.write_bytes(clip[:50_000])
        until(lambda: any(e["event"] == "arrived" and e["unit"] == "doomed.mov" for e in events))
        doomed.unlink()
        until(lambda: any(e["event"] == "vanished" for e in events))
        # The share goes away (unmounted), then comes back with a card on it.
        away = workspace / "away"
        inbox.rename(away)
        until(lambda: any(e["event"] == "folder_unavailable" for e in events))
        (away / "E001").mkdir()
        (away / "E001" / "E001C001.mov").write_bytes(clip)
        away.rename(inbox)
        until(lambda: any(e["event"] == "folder_back" for e in events))
        until(lambda: any(e["event"] == "ingested" and e["unit"] == "E001" for e in events))
    assert list(catalogue_paths(wsettings)) == [str(inbox / "E001" / "E001C001.mov")]
    assert events[-1]["event"] == "stopped"


def test_a_folder_missing_at_start_is_reported_and_watched_for(workspace, clip):
    settings = load_settings(_config(workspace))
    (workspace / "in").rmdir()
    with running(settings, folders_to_watch(settings, "test")) as (_, events):
        assert any(e["event"] == "folder_unavailable" for e in events)
        (workspace / "in").mkdir()
        (workspace / "in" / "late.mov").write_bytes(clip)
        until(lambda: any(e["event"] == "ingested" for e in events))
    assert list(catalogue_paths(settings)) == [str(workspace / "in" / "late.mov")]


def test_card_waits_for_the_files_its_mhl_lists(wsettings, workspace, clip):
    """An offload MHL copied before the clips: the card is complete only when the clips it lists are there."""
    from ingest import mhl

    card = workspace / "staging" / "F001"
    (card / "Clips").mkdir(parents=True)
    for n in ("F001C001.mov", "F001C002.mov"):
        (card / "Clips" / n).write_bytes(clip)
    made = subprocess.run(["ascmhl", "create", "-h", "xxh64", str(card)], capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr  # the offload on set, by the ASC's own tool
    target = workspace / "in" / "F001"
    with running(wsettings, folders_to_watch(wsettings, "test")) as (_watcher, events):
        (target / "Clips").mkdir(parents=True)
        os.rename(card / mhl.MHL_FOLDER, target / mhl.MHL_FOLDER)
        os.rename(card / "Clips" / "F001C001.mov", target / "Clips" / "F001C001.mov")
        until(lambda: any("listed in the card's MHL" in e.get("reason", "") for e in events)
              or any(e["event"] == "settling" and e["unit"] == "F001" for e in events))
        time.sleep(4 * SETTLE)
        assert not any(e["event"] == "ingest_started" for e in events), "ingested before the card was complete"
        os.rename(card / "Clips" / "F001C002.mov", target / "Clips" / "F001C002.mov")
        until(lambda: any(e["event"] == "ingested" for e in events))
    done = [e for e in events if e["event"] == "ingested"]
    assert len(done) == 1 and done[0]["new"] == 2 and done[0]["errors"] == 0


@pytest.mark.parametrize("mode", ["inotify", "poll"])
def test_thousands_of_tiny_files_arriving_make_one_card(wsettings, workspace, mode):
    """3,000 tiny files written one after the other: the card goes to the ingest once, with all of them.
    (The trigger here lists what the ingest would take, with the ingest's own scan: hashing and probing
    3,000 files would test the ingest, not the watcher.)"""
    from ingest.scan import scan

    jobs: list[tuple[str, int]] = []
    events: list[dict] = []

    def trigger(job):
        from ingest.watch import JobResult

        files = scan(Path(job.source), wsettings.ignore).files
        jobs.append((job.unit, len(files)))
        return JobResult(files=len(files), new=len(files))

    folders = folders_to_watch(wsettings, "test", 0.2 if mode == "poll" else None)
    watcher = Watcher(wsettings, folders, trigger, events.append)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        until(lambda: any(e["event"] == "reconciled" for e in events))
        card = workspace / "in" / "G001"
        for d in range(30):
            (card / f"D{d:02d}").mkdir(parents=True)
            for i in range(100):
                (card / f"D{d:02d}" / f"f{i:03d}.bin").write_bytes(b"x" * (i + 1))
        until(lambda: jobs)
        time.sleep(3 * SETTLE)
    finally:
        watcher.request_stop()
        thread.join(WAIT)
    assert jobs == [("G001", 3000)]


def test_tree_poller_lists_only_changed_folders(tmp_path):
    for d in range(30):
        (tmp_path / f"d{d}").mkdir()
        (tmp_path / f"d{d}" / "x").write_bytes(b"")
    poller = TreePoller(str(tmp_path))
    primed = poller.prime()
    assert len(primed.new_files) == 30 and primed.dirs_listed == 31
    time.sleep(3.1)  # past the hot window of the folders just listed
    (tmp_path / "d3" / "new").write_bytes(b"1")
    (tmp_path / "d4" / "sub").mkdir()
    (tmp_path / "d4" / "sub" / "deep").write_bytes(b"1")
    (tmp_path / "d5" / "x").unlink()
    changes = poller.poll()
    assert sorted(changes.new_files) == sorted([str(tmp_path / "d3" / "new"), str(tmp_path / "d4" / "sub" / "deep")])
    assert changes.new_dirs == [str(tmp_path / "d4" / "sub")]
    assert changes.removed == [str(tmp_path / "d5" / "x")]
    assert changes.dirs_statted == 31 and changes.dirs_listed == 4  # d3, d4, d4/sub, d5


def test_settings_poll_folders_and_network_mounts(workspace, tmp_path):
    cfg = workspace / "postprod.toml"
    cfg.write_text('data_dir = "data"\n[productions.test]\nspec = "small.toml"\ningest_folders = ["in", "nas"]\n'
                   'poll_folders = ["nas"]\n[watch]\npoll_seconds = 7\n')
    folders = folders_to_watch(load_settings(cfg), None)
    assert [(Path(f.path).name, f.poll) for f in folders] == [("in", None), ("nas", 7.0)]
    cfg.write_text('data_dir = "data"\n[productions.test]\nspec = "small.toml"\ningest_folders = ["in"]\n'
                   'poll_folders = ["elsewhere"]\n')
    with pytest.raises(ConfigError, match="poll_folders"):
        folders_to_watch(load_settings(cfg), "test")
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\nnas:/rushes /mnt/rushes nfs4 rw 0 0\n")
    assert network_filesystem("/mnt/rushes/A001", str(mounts)) == "nfs4"
    assert network_filesystem("/srv/rushes", str(mounts)) is None


def test_a_name_that_is_not_utf8_is_reported_and_the_rest_ingested(wsettings, workspace, clip):
    inbox = workspace / "in"
    (inbox / "good.mov").write_bytes(clip)
    bad = os.fsencode(inbox) + b"/bad\xffname.mov"
    with open(bad, "wb") as fh:
        fh.write(clip)
    result = CliRunner().invoke(app, ["watch", "--once", "--json"])
    assert result.exit_code == 1
    events = [json.loads(line) for line in result.output.splitlines()]
    failed = [e for e in events if e["event"] == "ingest_failed"]
    assert len(failed) == 1 and "not valid UTF-8" in failed[0]["message"] and failed[0]["retry_seconds"] is None
    assert [e["unit"] for e in events if e["event"] == "ingested"] == ["good.mov"]


@pytest.mark.parametrize("mode", ["inotify", "poll"])
def test_a_card_with_a_part_file_waits_for_its_rename(wsettings, workspace, clip, clip2, mode):
    card = workspace / "in" / "H001"
    folders = folders_to_watch(wsettings, "test", 0.2 if mode == "poll" else None)
    with running(wsettings, folders) as (_, events):
        card.mkdir()
        (card / "H001C001.mov").write_bytes(clip)
        (card / "H001C002.mov.part").write_bytes(clip2)  # a copy tool's temporary name, closed, not growing
        until(lambda: any(e["event"] == "settling" and e["unit"] == "H001" for e in events))
        time.sleep(4 * SETTLE)
        assert not any(e["event"] == "ingest_started" for e in events), "ingested with a .part file in it"
        os.rename(card / "H001C002.mov.part", card / "H001C002.mov")
        until(lambda: any(e["event"] == "ingested" for e in events))
        time.sleep(3 * SETTLE)
    done = [e for e in events if e["event"] == "ingested"]
    assert len(done) == 1 and done[0]["new"] == 2
    assert sorted(catalogue_paths(wsettings)) == [str(card / "H001C001.mov"), str(card / "H001C002.mov")]


def test_once_through_the_prefect_flow(wsettings, workspace, clip):
    """The same pass with each ingest a real Prefect flow run (temporary server: the slowest test here)."""
    (workspace / "in" / "J001").mkdir()
    (workspace / "in" / "J001" / "J001C001.mov").write_bytes(clip)
    result = CliRunner().invoke(app, ["watch", "--once", "--json", "--flow"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    done = [e for e in events if e["event"] == "ingested"]
    assert len(done) == 1 and done[0]["new"] == 1 and done[0]["reports"]
    assert list(catalogue_paths(wsettings)) == [str(workspace / "in" / "J001" / "J001C001.mov")]
