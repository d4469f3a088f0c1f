"""Watch folders: latency from a copy's close to the start of its ingest, and the cost of an idle watcher.

    uv run python bench/watch_bench.py latency   # close -> ingest start, against settle_seconds (inotify, polling)
    uv run python bench/watch_bench.py idle      # CPU and memory of an idle `postprod watch` over 100,000 files

Each figure is compared, in the same run, with the raw tool: watchdog's own event delivery (latency), and
watchdog's own observers on the same tree (idle cost), as ratios. Results go in bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DO_NOT_TRACK", "1")

SPEC = """schema_version = 1
name = "small"
description = "bench"
[video]
width = 320
height = 180
frame_rate = "25/1"
scan = "progressive"
codecs = ["ProRes", "VC-3", "AVC"]
[audio]
sample_rate = 48000
bit_depth = 24
codecs = ["PCM"]
[timecode]
required = false
"""


def workspace(base: Path, settle: float, poll: float) -> Path:
    (base / "in").mkdir(parents=True, exist_ok=True)
    (base / "small.toml").write_text(SPEC)
    (base / "postprod.toml").write_text(
        f'data_dir = "data"\nsettle_seconds = {settle}\ndecode_check = "none"\n[watch]\npoll_seconds = {poll}\n'
        '\n[productions.bench]\nspec = "small.toml"\ningest_folders = ["in"]\n')
    return base / "postprod.toml"


# -- latency ------------------------------------------------------------------------------------------

def latency(settles: list[float], poll: float, files: int) -> list[dict]:
    from watchdog.events import FileClosedEvent, FileSystemEventHandler
    from watchdog.observers.inotify import InotifyObserver

    from config.settings import load_settings
    from flows.watch import direct_trigger
    from ingest.watch import Watcher, folders_to_watch

    payload = os.urandom(256 * 1024)
    rows = []
    for mode in ("inotify", "poll"):
        for settle in settles:
            with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
                cfg = workspace(Path(tmp), settle, poll)
                settings = load_settings(cfg)
                real = direct_trigger(settings)
                started: dict[str, float] = {}
                raw_closed: dict[str, float] = {}

                def trigger(job, real=real, started=started):
                    started[job.source] = time.time()
                    return real(job)

                class Raw(FileSystemEventHandler):  # watchdog's own delivery of the close, for comparison
                    def on_closed(self, event, raw_closed=raw_closed):
                        if isinstance(event, FileClosedEvent):
                            raw_closed.setdefault(os.fsdecode(event.src_path), time.time())

                raw = InotifyObserver()
                raw.schedule(Raw(), str(Path(tmp) / "in"), recursive=True)
                raw.start()
                events: list[dict] = []
                folders = folders_to_watch(settings, "bench", poll if mode == "poll" else None)
                watcher = Watcher(settings, folders, trigger, events.append)
                thread = threading.Thread(target=watcher.run, daemon=True)
                thread.start()
                while not any(e["event"] == "reconciled" for e in events):
                    time.sleep(0.01)
                closed: dict[str, float] = {}
                for i in range(files):
                    path = Path(tmp) / "in" / f"clip_{i:02d}.bin"
                    with open(path, "wb") as fh:
                        for k in range(0, len(payload), 64 * 1024):
                            fh.write(payload[k:k + 64 * 1024])
                            fh.flush()
                            time.sleep(0.01)
                    closed[str(path)] = time.time()
                    time.sleep(0.3)  # each file its own unit, copied one after the other
                deadline = time.time() + 60 + settle * 4 + poll * 4
                while len(started) < files and time.time() < deadline:
                    time.sleep(0.02)
                watcher.request_stop()
                thread.join(30)
                raw.stop()
                raw.join()
                lat = [started[p] - closed[p] for p in closed if p in started]
                raw_lat = [raw_closed[p] - closed[p] for p in closed if p in raw_closed]
                rows.append({"mode": mode, "settle_seconds": settle, "poll_seconds": poll if mode == "poll" else None,
                             "files": files, "ingested": len(lat),
                             "median_s": round(statistics.median(lat), 3), "max_s": round(max(lat), 3),
                             "max_minus_settle_s": round(max(lat) - settle, 3),
                             "raw_close_event_median_ms": round(1000 * statistics.median(raw_lat), 2)
                             if raw_lat else None})
                print(json.dumps(rows[-1]), flush=True)
    return rows


# -- idle cost over 100,000 files ----------------------------------------------------------------------

def make_tree(root: Path, n_files: int, per_dir: int) -> float:
    t = time.perf_counter()
    for d in range(n_files // per_dir):
        folder = root / f"CARD{d // 100:03d}" / f"DIR{d % 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_dir):
            os.close(os.open(folder / f"f{i:04d}.bin", os.O_CREAT | os.O_WRONLY, 0o644))
    return time.perf_counter() - t


def catalogue_tree(cfg: Path, root: Path) -> float:
    """Record every file in the catalogue as ingested (as a long-running production would have it)."""
    from config.settings import load_settings
    from ingest.catalogue import Catalogue, media

    t = time.perf_counter()
    settings = load_settings(cfg)
    cat = Catalogue(settings.db_url)
    now = datetime.now(UTC)
    rows = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            st = os.stat(p)
            rows.append({"production": "bench", "path": p, "card": str(root), "relpath": os.path.relpath(p, root),
                         "role": "original", "kind": "unreadable", "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                         "status": "ok", "media_json": "{}", "first_seen": now, "updated_at": now})
    with cat.engine.begin() as conn:
        conn.execute(media.insert(), rows)
    return time.perf_counter() - t


def full_scan(cfg: Path, root: Path) -> dict:
    """The reconciliation (full scan against the catalogue) in-process, against a bare os.walk + stat."""
    from config.settings import load_settings
    from ingest.watch import Watcher, folders_to_watch

    settings = load_settings(cfg)
    events: list[dict] = []
    watcher = Watcher(settings, folders_to_watch(settings, "bench"), lambda job: None, events.append)
    c, t = time.process_time(), time.perf_counter()
    watcher.reconcile()
    ours = {"cpu_s": round(time.process_time() - c, 2), "wall_s": round(time.perf_counter() - t, 2),
            "to_ingest": events[-1]["to_ingest"]}
    c, t = time.process_time(), time.perf_counter()
    n = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            os.stat(os.path.join(dirpath, name))
            n += 1
    raw = {"cpu_s": round(time.process_time() - c, 2), "wall_s": round(time.perf_counter() - t, 2), "files": n}
    return {"reconcile": ours, "raw_walk_stat": raw, "cpu_ratio": round(ours["cpu_s"] / raw["cpu_s"], 2)}


def proc_cost(pid: int) -> tuple[float, int]:
    """(CPU seconds so far, resident set in bytes) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    return cpu, rss


RAW = """
import sys, time
from watchdog.events import FileSystemEventHandler
kind, path, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
if kind == "polling":
    from watchdog.observers.polling import PollingObserver as O
    obs = O(timeout=interval)
else:
    from watchdog.observers.inotify import InotifyObserver as O
    obs = O()
obs.schedule(FileSystemEventHandler(), path, recursive=True)
obs.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def measure(cmd: list[str], env: dict, ready: str, idle: float) -> dict:
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    reconcile_s = None
    for line in proc.stdout:
        if ready in line:
            if line.startswith("{"):
                reconcile_s = json.loads(line).get("seconds")
            break
    startup = time.perf_counter() - t
    # Drain the rest of the output in the background so the process never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    time.sleep(2.0)
    cpu0, _ = proc_cost(proc.pid)
    time.sleep(idle)
    cpu1, rss = proc_cost(proc.pid)
    proc.terminate()
    proc.wait(30)
    return {"startup_s": round(startup, 2), "reconcile_s": reconcile_s, "idle_cpu_percent": round(100 * (cpu1 - cpu0) / idle, 2),
            "rss_mib": round(rss / 2**20, 1)}


def idle(n_files: int, per_dir: int, poll: float, seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-watch-idle-") as tmp:
        base = Path(tmp)
        cfg = workspace(base, 5.0, poll)
        root = base / "in"
        made = make_tree(root, n_files, per_dir)
        catalogued = catalogue_tree(cfg, root)
        full = full_scan(cfg, root)
        env = {**os.environ, "POSTPROD_CONFIG": str(cfg)}
        watch = [sys.executable, "-c", "from cli.main import main; main()", "watch", "--json"]
        raw = [sys.executable, "-c", RAW]
        result = {"files": n_files, "folders": n_files // per_dir, "poll_seconds": poll, "idle_seconds": seconds,
                  "tree_creation_s": round(made, 1), "catalogue_fill_s": round(catalogued, 1), "full_scan": full}
        baseline = [sys.executable, "-c", ("import flows.ingest, ingest.watch, time; print('ready', flush=True); "
                    "time.sleep(3600)")]
        result["imports_only"] = measure(baseline, env, "ready", seconds)
        result["postprod_inotify"] = measure(watch, env, '"reconciled"', seconds)
        result["watchdog_inotify"] = measure([*raw, "inotify", str(root), str(poll)], env, "ready", seconds)
        result["postprod_poll"] = measure([*watch, "--poll", str(poll)], env, '"reconciled"', seconds)
        result["watchdog_polling"] = measure([*raw, "polling", str(root), str(poll)], env, "ready", seconds)
        for mine, theirs in (("postprod_inotify", "watchdog_inotify"), ("postprod_poll", "watchdog_polling")):
            a, b = result[mine], result[theirs]
            result[f"{mine}_vs_{theirs}"] = {
                "cpu_ratio": round(a["idle_cpu_percent"] / b["idle_cpu_percent"], 3) if b["idle_cpu_percent"] else None,
                "rss_ratio": round(a["rss_mib"] / b["rss_mib"], 2)}
        return result


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPU(s), Python {platform.python_version()}", flush=True)
    if what in ("latency", "all"):
        latency([0.5, 1.0, 2.0], poll=1.0, files=5)
    if what in ("idle", "all"):
        n = int(os.environ.get("BENCH_FILES", "100000"))
        print(json.dumps(idle(n, 100, poll=2.0, seconds=float(os.environ.get("BENCH_IDLE", "20"))), indent=2))


if __name__ == "__main__":
    main()
