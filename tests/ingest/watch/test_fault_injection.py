"""Fault injection (issue 14): slow copies, stalls, kills, restarts, a folder that goes away; nothing false recorded.

Select it with `-m faults`. Seeded: the same run each time. 22 tiny files (real clips and card metadata)
are copied at random speeds by writers that open their file and stall (before the first byte or in the
middle), while the watcher's whole process group is killed (SIGKILL mid-copy and mid-ingest), stopped
(SIGTERM mid-ingest) and restarted, and the watched folder disappears and comes back. Counted at the
end, all 0: files catalogued empty or partial, good files marked unreadable, files catalogued twice,
files never catalogued; and every catalogued hash is the final file's.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import small_clip
from test_watch import SETTLE, WAIT, _config, _events, until

from config.settings import load_settings
from ingest.catalogue import Catalogue
from ingest.hashing import hash_file

pytestmark = pytest.mark.faults


class Watch:
    """`postprod watch --json` in a session of its own (as a service: the whole group gets the signals)."""

    def __init__(self, ws: Path, args: list[str], log: Path) -> None:
        self.ws, self.args, self.log = ws, args, log
        self.proc: subprocess.Popen | None = None
        self.exits: list[int] = []

    def start(self) -> None:
        env = {**os.environ, "POSTPROD_CONFIG": str(self.ws / "postprod.toml")}
        mark = len(_events(self.log)) if self.log.exists() else 0
        with open(self.log, "ab") as fh:
            self.proc = subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()", "watch",
                                          "--json", *self.args], cwd=self.ws, env=env, stdout=fh,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        until(lambda: any(e["event"] == "reconciled" for e in _events(self.log)[mark:]))

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, sig)
        self.exits.append(self.proc.wait(WAIT))

    def wait_for(self, event: str) -> None:
        mark = len(_events(self.log))
        until(lambda: any(e["event"] == event for e in _events(self.log)[mark:]))

    def kill_leftover(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)


def _payloads(make_media, rng: random.Random) -> dict[str, bytes]:
    """relpath -> bytes: 6 real clips and 16 card-metadata files (hashed, not probed), a few hundred KB."""
    clips = [make_media(f"fault_{i}.mov", small_clip(seconds=0.5, timecode=f"1{i}:00:00:00", reel=f"F00{i}"))
             .read_bytes() for i in range(3)]
    files: dict[str, bytes] = {}
    for c in range(4):
        card = f"F{c:03d}"
        files[f"{card}/Clips/{card}C001.mov"] = clips[c % 3]
        for i in range(4):
            files[f"{card}/META/{card}_{i}.bin"] = rng.randbytes(rng.randint(150_000, 400_000))
    files["loose one.mov"] = clips[1]
    files["loose two.mov"] = clips[2]
    for i in range(4):
        files[f"loose_{i}.bin"] = rng.randbytes(rng.randint(150_000, 400_000))
    return files


def _copy(data: bytes, dst: Path, rng: random.Random, gate: threading.Event) -> None:
    """Open, maybe stall before the first byte, write in random chunks at a random speed, maybe stall in
    the middle with the file open, close. New files wait while the folder is away (`gate`)."""
    gate.wait()
    dst.parent.mkdir(parents=True, exist_ok=True)
    pause = rng.uniform(0.0, 0.06)
    stall_at = rng.choice([None, 0, len(data) // 2])
    with open(dst, "wb") as fh:
        pos = 0
        while pos < len(data):
            if stall_at is not None and pos >= stall_at:
                time.sleep(rng.uniform(2.5, 4.0) * SETTLE)  # open and silent, longer than the settle time
                stall_at = None
            n = rng.randint(16_000, 96_000)
            fh.write(data[pos:pos + n])
            fh.flush()
            pos += n
            time.sleep(pause)


def _writers(inbox: Path, files: dict[str, bytes], rng: random.Random, gate: threading.Event) -> list[threading.Thread]:
    jobs = list(files.items())
    rng.shuffle(jobs)
    cards = sorted(j for j in jobs if "/" in j[0])  # a card is copied file after file
    loose = [j for j in jobs if "/" not in j[0]]
    batches = [cards[: len(cards) // 2], cards[len(cards) // 2:], loose[::2], loose[1::2]]
    seeds = [rng.random() for _ in batches]

    def run(batch: list[tuple[str, bytes]], seed: float) -> None:
        r = random.Random(seed)
        for rel, data in batch:
            time.sleep(r.uniform(0.0, 0.8))
            _copy(data, inbox / rel, r, gate)

    return [threading.Thread(target=run, args=(b, s), daemon=True) for b, s in zip(batches, seeds, strict=True)]


def _count(settings, inbox: Path, files: dict[str, bytes]) -> dict[str, int]:
    rows = {r["path"]: r for r in Catalogue(settings.db_url).rows("test")}
    finals = {str(inbox / rel): (len(data), hash_file(inbox / rel, ["xxh128"])["xxh128"]) for rel, data in files.items()}
    ingested: dict[str, list[dict]] = {}
    for report in (settings.reports_dir / "ingest" / "test").glob("*.json"):
        for f in json.loads(report.read_text())["files"]:
            ingested.setdefault(f["path"], []).append(f)
    entries = [f for fs in ingested.values() for f in fs if f["status"] in ("new", "updated")]
    return {
        "empty or partial": sum(1 for f in entries if f["media"] and f["media"]["size"] != finals[f["path"]][0]),
        "good marked unreadable": sum(1 for f in [*entries, *rows.values()]
                                      if (f.get("kind") or (f.get("media") or {}).get("kind")) == "unreadable"),
        "catalogued twice": sum(1 for p in finals
                                if sum(f["status"] in ("new", "updated") for f in ingested.get(p, [])) > 1),
        "never catalogued": sum(1 for p in finals if p not in rows),
        "hash not the final file's": sum(1 for p, (size, h) in finals.items()
                                         if p in rows and (rows[p]["hash"], rows[p]["size"]) != (h, size)),
        "not ok in the catalogue": sum(1 for p in finals if p in rows and rows[p]["status"] != "ok"),
        "catalogued not copied": sum(1 for p in rows if p not in finals),
    }


def _explain(settings, inbox: Path, files: dict[str, bytes], log: Path) -> str:
    """For a failure: each file not right at the end, with its catalogue row, its report entries and every
    log event that names it or its card (a failure in CI can only be read from this)."""
    rows = {r["path"]: r for r in Catalogue(settings.db_url).rows("test")}
    entries: dict[str, list[str]] = {}
    for report in sorted((settings.reports_dir / "ingest" / "test").glob("*.json")):
        for f in json.loads(report.read_text())["files"]:
            media = f.get("media") or {}
            entries.setdefault(f["path"], []).append(
                f"{report.name}: {f['status']} size={media.get('size')} kind={media.get('kind')} "
                f"{[x.get('rule') for x in f.get('findings', [])]}")
    out = []
    for rel, data in files.items():
        path = str(inbox / rel)
        row = rows.get(path)
        final = hash_file(inbox / rel, ["xxh128"])["xxh128"]
        if row is not None and (row["size"], row["hash"], row["status"]) == (len(data), final, "ok") and not any(
                "unreadable" in e for e in entries.get(path, [])):
            continue
        unit = rel.split("/")[0]
        out.append(f"{rel} ({len(data)} bytes): row={row and {k: row[k] for k in ('size', 'status', 'kind')}}")
        out += [f"    {e}" for e in entries.get(path, [])]
        out += [f"    {json.dumps(e)}" for e in _events(log) if unit in json.dumps(e)]
    return "\n".join(out)


@pytest.mark.parametrize("mode", ["inotify", "poll"])
def test_kills_stalls_restarts_and_a_vanishing_folder_record_nothing_false(workspace, make_media, mode):
    settings = load_settings(_config(workspace))
    inbox = workspace / "in"
    rng = random.Random(14 if mode == "inotify" else 41)
    files = _payloads(make_media, rng)
    assert len(files) >= 20
    watch = Watch(workspace, ["--poll", "0.2"] if mode == "poll" else [], workspace / "watch.log")
    gate = threading.Event()
    gate.set()
    writers = _writers(inbox, files, rng, gate)
    try:
        watch.start()
        for t in writers:
            t.start()
        time.sleep(1.5)
        watch.signal(signal.SIGKILL)  # mid-copy
        watch.start()
        watch.wait_for("ingest_started")
        watch.signal(signal.SIGKILL)  # mid-ingest
        watch.start()
        watch.wait_for("ingest_started")
        watch.signal(signal.SIGTERM)  # a service stop mid-ingest: the ingest under way finishes
        watch.start()
        # The share goes away for a while (longer than the watcher's folder check), copies waiting.
        gate.clear()
        time.sleep(0.5)
        away = workspace / "away"
        inbox.rename(away)
        time.sleep(2.5)
        away.rename(inbox)
        gate.set()
        for t in writers:
            t.join(WAIT)
        try:
            until(lambda: _count(settings, inbox, files)["never catalogued"] == 0, timeout=2 * WAIT)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {_explain(settings, inbox, files, workspace / 'watch.log')}") from None
        time.sleep(3 * SETTLE)  # anything else to come would show now (nothing should)
        watch.signal(signal.SIGTERM)
    finally:
        gate.set()
        watch.kill_leftover()
    counts = _count(settings, inbox, files)
    assert counts == dict.fromkeys(counts, 0), (counts, _explain(settings, inbox, files, workspace / "watch.log"))
    assert watch.exits[0] == -signal.SIGKILL and watch.exits[2] == 0 and watch.exits[-1] == 0, watch.exits
    events = _events(workspace / "watch.log")
    assert any(e["event"] == "folder_unavailable" for e in events) or any(
        e["event"] == "folder_back" for e in events), "the folder's absence went unnoticed"
    # Nothing was deleted: a file or card said to have vanished is the missing folder taken for deletions.
    assert not [e for e in events if e["event"] == "vanished"]
