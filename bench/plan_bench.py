"""Planning store benchmarks: stage updates/s with 4 concurrent writer processes (SQLite, PostgreSQL), and the
digest's time for 20 productions with a year of session reports — each against the raw driver in the same run.

    uv run python bench/plan_bench.py [--updates 200] [--writers 4]

PostgreSQL: $POSTPROD_TEST_PG_URL, else a throw-away server started with .ci/start-postgres (skipped if that
cannot be done). Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text

from config.db import engine_for
from planning import digest, plan
from planning.stages import Stage, StageState
from planning.store import PlanningStore, SessionReport

STAGES = [s for s in Stage]


# --- stage updates --------------------------------------------------------------------------------------

def store_writer(url: str, worker: int, n: int, ready, go) -> None:
    engine_for.cache_clear()
    store = PlanningStore(url)
    ready.put(worker)
    go.wait()
    for i in range(n):
        store.set_state("bench", STAGES[(worker * 3 + i) % len(STAGES)],
                        StageState.IN_PROGRESS if i % 2 else StageState.BLOCKED,
                        note=f"w{worker} #{i}", evidence={"worker": worker, "i": i})


RAW_EVENT = ("INSERT INTO stage_events (production, stage, state, note, evidence, at) "
             "VALUES ('bench', {p}, {p}, {p}, {p}, CURRENT_TIMESTAMP)")
RAW_UPDATE = ("UPDATE stages SET state = {p}, note = {p}, updated_at = CURRENT_TIMESTAMP, revision = revision + 1 "
              "WHERE production = 'bench' AND stage = {p}")


def raw_writer(url: str, worker: int, n: int, ready, go) -> None:
    """The same two writes per update, straight through the driver (no SQLAlchemy, no production lock)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=30000")
        p = "?"
    else:
        import psycopg

        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://").split("?")[0],
                               options=_options(url))
        p = "%s"
    ready.put(worker)
    go.wait()
    for i in range(n):
        stage = STAGES[(worker * 3 + i) % len(STAGES)].value
        state = "in_progress" if i % 2 else "blocked"
        if url.startswith("sqlite"):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(RAW_EVENT.format(p=p), (stage, state, f"w{worker} #{i}", "{}"))
            conn.execute(RAW_UPDATE.format(p=p), (state, f"w{worker} #{i}", stage))
            conn.execute("COMMIT")
        else:
            with conn.transaction():
                conn.execute(RAW_EVENT.format(p=p), (stage, state, f"w{worker} #{i}", "{}"))
                conn.execute(RAW_UPDATE.format(p=p), (state, f"w{worker} #{i}", stage))
    conn.close()


def _options(url: str) -> str:
    if "options=" in url:
        return url.split("options=", 1)[1].replace("%3D", "=")
    return ""


def updates_per_second(url: str, writer, writers: int, n: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    ready, go = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=writer, args=(url, w, n, ready, go)) for w in range(writers)]
    for pr in procs:
        pr.start()
    for _ in procs:  # every process started and connected before the clock starts
        ready.get(timeout=300)
    start = time.perf_counter()
    go.set()
    for pr in procs:
        pr.join()
        if pr.exitcode:
            raise RuntimeError(f"{writer.__name__} failed")
    return writers * n / (time.perf_counter() - start)


def bench_updates(url: str, writers: int, n: int) -> tuple[float, float]:
    store = PlanningStore(url)
    plan.create(store, "bench", "fiction", date(2026, 1, 5))
    store.engine.dispose()
    ours = updates_per_second(url, store_writer, writers, n)
    raw = updates_per_second(url, raw_writer, writers, n)
    with create_engine(url).connect() as conn:
        events = conn.execute(text("SELECT count(*) FROM stage_events WHERE production = 'bench'")).scalar()
    assert events == 2 * writers * n, (events, writers * n)  # nothing lost
    return ours, raw


# --- digest ---------------------------------------------------------------------------------------------

def fill_year(url: str, productions: int) -> int:
    """20 productions planned over a year, 3 technicians a working day each, stages moved through the year."""
    store = PlanningStore(url)
    start = date(2025, 11, 3)
    total = 0
    for k in range(productions):
        name = f"prod{k:02d}"
        plan.create(store, name, "fiction" if k % 3 else "documentary", start + timedelta(days=7 * k))
        rows = store.stage_rows(name)
        reports = []
        day = start
        while day < start + timedelta(days=365):
            if day.weekday() < 5:
                for t in range(3):
                    st = rows[(day.toordinal() // 20 + t) % len(rows)]
                    reports.append(SessionReport(production=name, stage=st["stage"], technician=f"tech{t}",
                                                 work_date=day, minutes=7 * 60 + 15 * t, done=f"work on {day}",
                                                 incidents="render farm down" if day.day == 13 else None))
            day += timedelta(days=1)
        store.add_reports(reports)
        total += len(reports)
        for i, st in enumerate(rows[:4]):
            store.set_stage_state(name, st["stage"], StageState.DONE if i < 3 else StageState.BLOCKED,
                                  note="bench", evidence={"report": f"/srv/reports/{name}/{st['stage']}.html"})
    return total


def bench_digest(url: str, productions: int) -> tuple[float, float, int, int]:
    reports = fill_year(url, productions)
    store = PlanningStore(url)
    today = date(2026, 11, 2)
    times, raws = [], []
    size = 0
    for _ in range(3):
        t0 = time.perf_counter()
        d = digest.build(store, today)
        times.append(time.perf_counter() - t0)
        size = len(d.html)
        t0 = time.perf_counter()
        with store.engine.connect() as conn:  # the raw floor: the same rows fetched with plain SQL
            conn.execute(text("SELECT * FROM stages")).all()
            conn.execute(text("SELECT production, stage, sum(minutes), count(*), min(work_date), max(work_date) "
                              "FROM session_reports GROUP BY production, stage")).all()
            conn.execute(text("SELECT * FROM session_reports WHERE incidents IS NOT NULL")).all()
            conn.execute(text("SELECT * FROM stage_events WHERE state = 'done'")).all()
        raws.append(time.perf_counter() - t0)
    return statistics.median(times), statistics.median(raws), reports, size


# --- databases ------------------------------------------------------------------------------------------

def pg_server() -> tuple[str | None, dict[str, str]]:
    if os.environ.get("POSTPROD_TEST_PG_URL"):
        return os.environ["POSTPROD_TEST_PG_URL"], {}
    proc = subprocess.run([str(ROOT / ".ci" / "start-postgres")], capture_output=True, text=True, check=False)
    if proc.returncode:
        print(f"PostgreSQL skipped: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None, {}
    values = {k: shlex.split(v)[0] for k, _, v in (line.partition("=") for line in proc.stdout.splitlines())}
    return values["POSTPROD_TEST_PG_URL"], values


def pg_database(server: str) -> str:
    schema = "bench_" + uuid.uuid4().hex[:8]
    with create_engine(server).begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    return f"{server}?options=-csearch_path%3D{schema}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--updates", type=int, default=200, help="updates per writer process")
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--productions", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="postprod-bench-"))
    server, started = pg_server()
    rows = []
    try:
        dbs = [("SQLite (WAL)", lambda name: f"sqlite:///{tmp / name}.db")]
        if server:
            dbs.append(("PostgreSQL 15 (loopback)", lambda name: pg_database(server)))
        for label, make in dbs:
            ours, raw = bench_updates(make("updates"), args.writers, args.updates)
            rows.append(f"| stage updates/s, {args.writers} writer processes, {label} | {ours:.0f} | raw driver "
                        f"{raw:.0f} | {ours / raw:.2f} |")
            took, floor, reports, size = bench_digest(make("digest"), args.productions)
            rows.append(f"| digest, {args.productions} productions, {reports} session reports (a year), {label} | "
                        f"{took * 1000:.0f} ms ({size // 1024} KiB HTML) | plain SQL fetch {floor * 1000:.0f} ms | "
                        f"{took / floor:.1f} |")
    finally:
        if started:
            subprocess.run(shlex.split(started["POSTPROD_TEST_PG_CTL"]), capture_output=True, check=False)
            shutil.rmtree(started["POSTPROD_TEST_PG_DATA"], ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{date.today()} · {platform.node()} · {platform.processor() or platform.machine()} · "
          f"{os.cpu_count()} CPUs · Python {platform.python_version()}\n")
    print("| figure | postprod | raw | ratio |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
