"""What a flow run costs over the same steps run directly: `postprod ingest CARD --json` with a Prefect server
configured, against `postprod ingest CARD --direct --json`, on the same small card, alternated, medians.

Run: uv run python bench/flow_bench.py [RUNS] [CLIPS] [OTHER_CHECKOUT]   (starts its own Prefect server on
loopback; a minute or two). With OTHER_CHECKOUT (e.g. a worktree of an older commit), its `postprod ingest` with
the server runs in the same alternation ("before"), with this checkout's Python environment.
Each ingest gets a fresh data directory (a second ingest of the same card does no work). Figures: wall time of
each command, the CPU time of the command's process, the CPU time the Prefect server spent on the run, and
what the run left on the server (task runs, artifacts, logs).
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import time

from _common import OUT, PrefectServer, cpu_seconds, load, machine, stamp

from config.tools import find_ffmpeg
from media.synth import ClipSpec, make_clip

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _counts(server: PrefectServer) -> dict[str, int]:
    """How many task runs, artifacts and log lines the server holds (POST .../filter, count endpoints)."""
    import urllib.request

    out = {}
    for what in ("task_runs", "artifacts", "logs", "flow_runs", "events"):
        path = {"events": "events/filter"}.get(what, f"{what}/count" if what != "logs" else "logs/filter")
        req = urllib.request.Request(f"{server.url}/{path}", data=b"{}" if what != "events" else b'{"limit": 200}',
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                body = json.loads(r.read())
        except OSError:
            continue
        out[what] = body if isinstance(body, int) else len(body) if isinstance(body, list) else body.get("total", -1)
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    clips = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    other = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
    ws = OUT / "flow"
    shutil.rmtree(ws, ignore_errors=True)
    card = ws / "A001"
    card.mkdir(parents=True)
    seed = ws / "seed.mov"
    make_clip(seed, ClipSpec(width=320, height=180, seconds=1, codec="prores_hq", reel="A001"), find_ffmpeg())
    for i in range(1, clips + 1):
        shutil.copy(seed, card / f"A001C{i:03d}_260101_R1AB.mov")
    runs = itertools.count()

    with PrefectServer(ws / "prefect-home") as server:
        figures: dict[str, list[tuple[float, float, float]]] = {"direct": [], "flow": [], "before": []}

        def ingest(mode: str) -> None:
            work = ws / f"run_{next(runs)}"
            work.mkdir()
            (work / "postprod.toml").write_text(f'data_dir = "{work / "data"}"\n')
            shutil.rmtree(card / "ascmhl", ignore_errors=True)  # each run is a first ingest
            env = {**server.env, "POSTPROD_CONFIG": str(work / "postprod.toml")}
            args = [sys.executable, "-m", "cli.main", "ingest", str(card), "--json"]
            if mode == "direct":
                args.append("--direct")
            cpu, srv, t = _children_cpu(), cpu_seconds(server.pid), time.perf_counter()
            proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=other if mode == "before" else ROOT,
                                  check=False)
            wall = time.perf_counter() - t
            figures[mode].append((wall, _children_cpu() - cpu, cpu_seconds(server.pid) - srv))
            if proc.returncode not in (0, 1) or not proc.stdout.startswith("["):
                sys.exit(f"{mode}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
            shutil.rmtree(work, ignore_errors=True)

        ingest("flow")  # a first run of the flow: the server creates the flow and its tables' first rows
        figures["flow"].clear()
        before = _counts(server)
        for _ in range(n):
            ingest("direct")
            ingest("flow")
        after = _counts(server)
        for _ in range(n if other else 0):
            ingest("direct")
            ingest("before")
            ingest("flow")
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    d, f = figures["direct"], figures["flow"]
    wall_d, wall_f = med([x[0] for x in d]), med([x[0] for x in f])
    cpu_d, cpu_f = med([x[1] for x in d]), med([x[1] for x in f])
    srv_f = med([x[2] for x in f])
    over = med([b[0] - a[0] for a, b in zip(d, f, strict=True)])
    ratio = med([b[0] / a[0] for a, b in zip(d, f, strict=True)])
    print(f"# {stamp()} — {machine()} — {load()}")
    print(f"card: {clips} × 1 s 320×180 ProRes HQ; {n} alternated pairs, medians")
    print(f"postprod ingest --direct: {wall_d:.2f} s wall, {cpu_d:.2f} s CPU")
    print(f"postprod ingest (Prefect server): {wall_f:.2f} s wall, {cpu_f:.2f} s CPU; server CPU {srv_f:.2f} s a run")
    print(f"flow run over direct: +{over:.2f} s wall (median of pairs), {ratio:.2f}x; +{cpu_f - cpu_d:.2f} s CPU")
    if other:
        b = figures["before"]
        print(f"before ({other}): {med([x[0] for x in b]):.2f} s wall, {med([x[1] for x in b]):.2f} s CPU; "
              f"server CPU {med([x[2] for x in b]):.2f} s a run; over direct +{med([x[0] for x in b]) - wall_d:.2f} s "
              f"wall, +{med([x[1] for x in b]) - cpu_d:.2f} s CPU")
    print("left on the server per flow run:",
          ", ".join(f"{k} {(after.get(k, 0) - before.get(k, 0)) / n:g}" for k in sorted(after)))


if __name__ == "__main__":
    main()
