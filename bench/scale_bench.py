"""Proxy-like throughput on Prefect workers: JOBS small transcode jobs with one worker, then two, on one machine,
against the same ffmpeg transcodes run directly; and the delay from submitting a card to its run starting.

Run: uv run python bench/scale_bench.py [JOBS] [--light] [--pairs=N]   (starts its own Prefect server on loopback; minutes)
Each job is one flow run (one clip), as a proxy run per clip would be; every ffmpeg holds one of this host's
proxy slots (config.locks.Slots, as the proxy flow's encodes do). Workers run with --limit 4.
With 1 worker, then 2, N pairs of batches (default 2) alternate: Prefect's own worker starting `python -m flows.run` per run
(`postprod worker` with POSTPROD_WORKER=prefect, as before) and postprod's worker (flows/worker.py: polls
when a run ends or is submitted, runs forked from its fork server); without --light, also the same flow as
a plain Prefect flow through Prefect's engine. Printed: each batch's time, and per run, from the server's
state history: created -> Pending (waiting for a worker), Pending -> Running (the process start),
Running -> Completed, and a worker's idle seconds between a run ending and its next run's Pending; then the
delay from submitting a card to an idle worker to its run starting.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import OUT, load, machine, stamp

from flows.steps import FlowSpec, flow_steps, prefect_flows

REPO = Path(__file__).resolve().parent.parent
TRANSCODE = ["-c:v", "prores_ks", "-profile:v", "0", "-q:v", "8", "-vf", "scale=320:-2", "-c:a", "pcm_s16le"]
SLOTS = 2  # transcode slots per server, as [prefect] transcode_slots


def _encode(src: str, dst: str, ffmpeg: str, slots: Path) -> str:
    from config.locks import Slots

    with Slots(slots, SLOTS).acquire():
        subprocess.run([ffmpeg, "-y", "-v", "error", "-i", src, *TRANSCODE, dst], check=True)
    return dst


def _transcode(src: str, dst: str) -> str:
    """One proxy-like encode as a step, holding one of this host's proxy slots."""
    from config.settings import load_settings

    settings = load_settings()
    return flow_steps(settings).run(_encode, src, dst, settings.ffmpeg_exe(), settings.data_path / "locks" / "proxy")


_flows = prefect_flows(__name__, transcode_flow=FlowSpec("bench-transcode", _transcode))


def __getattr__(name: str) -> object:
    """transcode_flow: as postprod's flows (flows/run.py on the workers); transcode_flow_engine: the same
    function as a plain Prefect flow (Prefect's engine on the workers)."""
    if name != "transcode_flow_engine":
        return _flows(name)
    from prefect import flow

    def transcode_flow_engine(src: str, dst: str) -> str:
        return _transcode(src, dst)

    built = flow(name="bench-transcode-engine")(transcode_flow_engine)
    globals()[name] = built
    return built


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _timeline(client, ids: list[str]) -> dict[str, list[float]]:
    """Per run, from the server's state history: waiting for a worker (created -> Pending), the process
    start (Pending -> Running), the run (Running -> Completed), and the idle seconds of a worker that had a
    run waiting: from a run ending on it to its next run's Pending."""
    spans: dict[str, list[float]] = {"created -> Pending": [], "Pending -> Running": [],
                                     "Running -> Completed": [], "slot idle (Completed -> next Pending)": []}
    by_worker: dict[str, list[tuple[float, float, float]]] = {}
    for i in ids:
        run = client.read_flow_run(i)
        at = {}
        for st in client.read_flow_run_states(i):
            at.setdefault(st.type.value, st.timestamp.timestamp())
        created = run.created.timestamp()
        spans["created -> Pending"].append(at["PENDING"] - created)
        spans["Pending -> Running"].append(at["RUNNING"] - at["PENDING"])
        spans["Running -> Completed"].append(at["COMPLETED"] - at["RUNNING"])
        by_worker.setdefault(str(run.labels.get("prefect.worker.name")), []).append(
            (created, at["PENDING"], at["COMPLETED"]))
    for runs in by_worker.values():
        for created, pending, _ in runs:
            ended = [c for _, p, c in runs if c <= pending and c > created]
            if ended:
                spans["slot idle (Completed -> next Pending)"].append(pending - max(ended))
    return spans


def med(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    jobs = int(args[0]) if args else 16
    light = "--light" in sys.argv  # no batches through Prefect's engine
    pairs = int(next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--pairs=")), "2"))
    # A stop (timeout, Ctrl-C) still stops the server and the workers (the finally below).
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    from config.settings import load_settings
    from config.tools import find_ffmpeg
    from flows.deploy import FlowEntry, _client, deploy_flows, submit, submit_ingest
    from media.synth import ClipSpec, make_clip

    ffmpeg = find_ffmpeg()
    ws = OUT / "scale"
    shutil.rmtree(ws, ignore_errors=True)
    (ws / "clips").mkdir(parents=True)
    (ws / "proxies").mkdir()
    seed = ws / "clips" / "seed.mov"
    make_clip(seed, ClipSpec(width=640, height=360, seconds=2, codec="prores_hq"), ffmpeg)
    clips = []
    for i in range(jobs):
        clips.append(ws / "clips" / f"A001C{i:03d}.mov")
        shutil.copy(seed, clips[-1])

    def raw(parallel: int) -> float:
        t = time.perf_counter()
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lambda c: subprocess.run([ffmpeg, "-y", "-v", "error", "-i", str(c), *TRANSCODE,
                                                    str(ws / "proxies" / f"raw_{c.name}")], check=True), clips))
        return time.perf_counter() - t

    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    (ws / "postprod.toml").write_text(f'data_dir = "data"\n[prefect]\napi_url = "{url}"\n'
                                      f"transcode_slots = {SLOTS}\n")
    settings = load_settings(ws / "postprod.toml")
    env = {**os.environ, "PREFECT_HOME": str(ws / "prefect-home"), "PREFECT_API_URL": url, "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false",
           "POSTPROD_CONFIG": str(ws / "postprod.toml"),
           "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'bench'}"}
    procs: list[subprocess.Popen] = []

    def start(args: list[str], log: str) -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, *args], cwd=ws, env=env, stdout=open(ws / log, "w"),  # noqa: SIM115
                             stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(p)
        return p

    def stop(p: subprocess.Popen) -> None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()

    try:
        start(["-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)], "server.log")
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        deploy_flows(settings, [FlowEntry("bench-transcode", "scale_bench:transcode_flow"),
                                FlowEntry("bench-transcode-engine", "scale_bench:transcode_flow_engine"),
                                FlowEntry("ingest", "flows.ingest:ingest_flow")])
        starts: dict[str, list[float]] = {}
        runs_for: dict[str, list[float]] = {}

        timelines: dict[tuple[str, int], dict[str, list[float]]] = {}

        def _submit(flow_name: str, params: dict) -> str:
            for attempt in range(5):  # a server busy past its client's retries (SQLite locked on a loaded machine)
                try:
                    return submit(flow_name, params, settings).flow_run_id
                except Exception:  # noqa: BLE001
                    if attempt == 4:
                        raise
                    time.sleep(5)
            raise AssertionError("unreachable")

        def batch(n_workers: int, flow_name: str, worker: str) -> float:
            """`worker`: "postprod" (flows/worker.py) or "prefect" (Prefect's own worker, POSTPROD_WORKER=prefect)."""
            names = [f"n{n_workers}w{i}{flow_name[-3:]}{worker[:4]}" for i in range(n_workers)]
            env["POSTPROD_WORKER"] = worker
            workers = [start(["-m", "cli.main", "worker", "--name", names[i], "--limit", "4",
                              "--reconcile-every", "0"], f"worker{n_workers}-{i}-{worker}.log")
                       for i in range(n_workers)]
            with _client(settings) as client:
                while len([w for w in client.read_workers_for_work_pool("postprod")
                           if w.status.value == "ONLINE" and w.name.split(":")[-1] in names]) < n_workers:
                    time.sleep(0.5)
                t = time.perf_counter()
                ids = [_submit(flow_name, {"src": str(c), "dst": str(ws / "proxies" / f"w{n_workers}_{c.name}")})
                       for c in clips]
                pending = set(ids)
                while pending:
                    time.sleep(0.2)
                    for i in list(pending):
                        run = client.read_flow_run(i)
                        if run.state and run.state.is_final():
                            assert run.state.is_completed(), run.state
                            pending.discard(i)
                elapsed = time.perf_counter() - t
                for span, xs in _timeline(client, ids).items():
                    timelines.setdefault((f"{flow_name} {worker}", n_workers), {}).setdefault(span, []).extend(xs)
                for i in ids:
                    run = client.read_flow_run(i)
                    starts.setdefault(f"{flow_name} {worker}", []).append((run.start_time - run.created).total_seconds())
                    runs_for.setdefault(f"{flow_name} {worker}", []).append((run.end_time - run.start_time).total_seconds())
                for w in workers:
                    stop(w)
            return elapsed

        raw1, raw2 = raw(1), raw(SLOTS)
        batches = {}
        for n_workers in (1, 2):
            for flow_name, worker in ((("bench-transcode-engine", "prefect"),) if not light else ()) + (
                    ("bench-transcode", "prefect"), ("bench-transcode", "postprod")) * pairs:
                took = batch(n_workers, flow_name, worker)
                batches.setdefault((f"{flow_name} {worker}", n_workers), []).append(took)
                print(f"batch: {n_workers} worker(s), {flow_name}, {worker}'s worker: {took:.1f} s", flush=True)
                for span, xs in timelines[f"{flow_name} {worker}", n_workers].items():
                    if xs:
                        print(f"    {span}: median {med(xs):.2f} s, max {max(xs):.2f} s (of {len(xs)})", flush=True)
        env["POSTPROD_WORKER"] = "postprod"

        # Submit-to-start delay: a card submitted to an idle worker, three times.
        worker = start(["-m", "cli.main", "worker", "--name", "lat", "--reconcile-every", "0"], "worker-lat.log")
        delays = []
        with _client(settings) as client:
            while not [w for w in client.read_workers_for_work_pool("postprod")
                       if w.status.value == "ONLINE" and w.name.endswith(":lat")]:
                time.sleep(0.5)
            for i in range(3):
                card = ws / "cards" / f"C{i:03d}"
                card.mkdir(parents=True)
                shutil.copy(seed, card / f"C{i:03d}C001.mov")
                t = time.time()
                sub = submit_ingest([str(card)], "default", settings)
                while True:
                    run = client.read_flow_run(sub.flow_run_id)
                    if run.start_time is not None:
                        break
                    time.sleep(0.2)
                while not (run.state and run.state.is_final()):
                    time.sleep(0.5)
                    run = client.read_flow_run(sub.flow_run_id)
                delays.append((run.start_time.timestamp() - t, run.start_time.timestamp() - run.created.timestamp()))
        stop(worker)
    finally:
        for p in procs:
            if p.poll() is None:
                stop(p)

    print(f"# {stamp()} — {machine()} — {load()} at the end")
    print(f"raw ffmpeg, {jobs} encodes, 1 at a time: {raw1:.1f} s ({jobs / raw1:.2f} jobs/s)")
    print(f"raw ffmpeg, {jobs} encodes, {SLOTS} at a time: {raw2:.1f} s ({jobs / raw2:.2f} jobs/s)")
    for (what, n_workers), times in batches.items():
        took = med(times)
        how = {"bench-transcode-engine prefect": "Prefect's worker, Prefect's engine",
               "bench-transcode prefect": "Prefect's worker, python -m flows.run",
               "bench-transcode postprod": "postprod's worker (flows/worker.py, fork server)"}[what]
        print(f"{n_workers} worker(s), {how}: {took:.1f} s [{', '.join(f'{t:.1f}' for t in times)}] "
              f"({jobs / took:.2f} jobs/s, {raw2 / took:.2f}x raw {SLOTS}-parallel)")
        for span, xs in timelines[what, n_workers].items():
            if xs:
                print(f"    {span}: median {med(xs):.2f} s, max {max(xs):.2f} s (of {len(xs)})")
    for n_workers in (1, 2):
        old, new = batches.get(("bench-transcode prefect", n_workers)), batches.get(("bench-transcode postprod", n_workers))
        if old and new:
            print(f"{n_workers} worker(s): postprod's worker / Prefect's worker = {med(new) / med(old):.2f} "
                  f"(alternated batches)")
    for flow_name in starts:
        print(f"per run, {flow_name}: created -> Running {med(starts[flow_name]):.1f} s (median of {len(starts[flow_name])}),"
              f" Running -> Completed {med(runs_for[flow_name]):.1f} s")
    for total, server in delays:
        print(f"submit -> run started: {total:.1f} s (created -> started on the server: {server:.1f} s)")


if __name__ == "__main__":
    main()
