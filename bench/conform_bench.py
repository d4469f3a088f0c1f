"""Benchmark: `postprod conform` on a 5,000-event EDL against a 100,000-clip catalogue, compared in the same
run with OpenTimelineIO reading the same EDL alone (its cmx_3600 adapter): whole commands run in turn
(alternated), medians of the wall times, of the CPU times (user + system) and of the paired ratios, each
command's peak RSS (its own rusage, from wait4), the load. Prints JSON and a Markdown row.

    uv run python bench/conform_bench.py [--events 5000] [--clips 100000] [--repeat 5] [--baseline DIR]

--baseline DIR: also run `postprod conform` from another checkout (DIR, e.g. a worktree of main) in the same
alternation, against the same database and list: before/after in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import load, machine  # noqa: E402

# Nothing heavy in this process until the commands have run: a child's peak RSS (ru_maxrss) counts the
# memory of the parent it was forked from, so the catalogue and the lists are made in a child process
# (--make-workspace) and the modules of postprod are imported only for the in-process figures, at the end.

RATE = Fraction(25)
CLIP_FRAMES = 750  # 30 s clips
CLIPS_PER_REEL = 50
ROOT = Path(__file__).resolve().parents[1]


def build_catalogue(db: Path, clips: int, tree: Path) -> list[tuple[str, str, int]]:
    """Insert `clips` original rows straight into SQLite; returns (reel, clip name, start frame) per clip.
    The schema is made by the store of the checkout `tree`; the lookup keys (media_keys) are filled by that
    checkout's store/keys.py when it has one, so that a --baseline tree selects rows as it would for a user."""
    subprocess.run([sys.executable, "-c", "import sys; from store import Store; Store(sys.argv[1])",
                    f"sqlite:///{db}"], cwd=tree, check=True)
    now = datetime.now(UTC).isoformat()
    rows, index = [], []
    for i in range(clips):
        reel_no, clip_no = divmod(i, CLIPS_PER_REEL)
        reel = f"A{reel_no + 1:03d}" if reel_no < 999 else f"R{reel_no + 1:05d}"
        name = f"{reel}C{clip_no + 1:03d}_261123_BNCH"
        start = 10 * 3600 * 25 + clip_no * (CLIP_FRAMES + 250)
        card = f"/rushes/DAY{reel_no % 30 + 1:02d}_{reel}"
        path = f"{card}/Clips/{name}.mov"
        rows.append(("bench", path, card, f"Clips/{name}.mov", "original", "media", 10**9, 0, name, reel, start,
                     CLIP_FRAMES, "25/1", 0, "ok", "{}", now, now, f"{i:032x}"))
        index.append((reel, name, start))
    con = sqlite3.connect(db)
    con.executemany(
        "INSERT INTO media (production, path, card, relpath, role, kind, size, mtime_ns, clip_name, reel, "
        "start_frames, duration_frames, rate, drop_frame, status, media_json, first_seen, updated_at, hash) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    con.close()
    if (tree / "store" / "keys.py").is_file():  # the tree's own fill (a --baseline tree too: else it loads all)
        subprocess.run([sys.executable, "-c", FILL_KEYS, f"sqlite:///{db}"], cwd=tree, check=True)
    return index


FILL_KEYS = """import sys
from sqlalchemy import create_engine
from store.keys import fill_media_keys
with create_engine(sys.argv[1]).begin() as conn:
    fill_media_keys(conn)
"""


def build_edl(path: Path, clips: list[tuple[str, str, int]], events: int, seed: int = 5) -> None:
    from media.timecode import Timecode

    rnd = random.Random(seed)
    lines = ["TITLE: BENCH 5000", "FCM: NON-DROP FRAME", ""]
    record = 3600 * 25
    for n in range(1, events + 1):
        reel, name, start = rnd.choice(clips)
        src_in = start + rnd.randint(12, 300)
        length = rnd.randint(12, 200)
        missing = n % 100 == 0
        if missing:
            reel = f"Z{n:03d}"  # a missing reel now and then
        tc = [Timecode(f, RATE) for f in (src_in, src_in + length, record, record + length)]
        lines.append(f"{n:04d}  {reel:<8} V     C        {tc[0]} {tc[1]} {tc[2]} {tc[3]}")
        if n % 2 == 0 and not missing:
            lines.append(f"* FROM CLIP NAME: {name}")
        record += length
    path.write_text("\n".join(lines) + "\n")


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float  # the child's own ru_maxrss (wait4), not the largest of all children so far
    cpu_s: float  # the child's own user + system time (wait4): steadier than wall time on a busy machine
    returncode: int
    stdout: str
    stderr: str


def run_child(cmd: list[str], env: dict[str, str], cwd: Path) -> Run:
    """One command, its wall time and its own peak RSS (os.wait4 gives the rusage of that child alone)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, proc.returncode, out.read(),
                   err.read())


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def alternated(commands: dict[str, tuple[list[str], Path, dict[str, str]]], repeat: int) -> dict[str, list[Run]]:
    """Each command once per round, in turn, `repeat` rounds (after one warm-up round, not counted)."""
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for round_no in range(repeat + 1):
        for name, (cmd, cwd, env) in commands.items():
            run = run_child(cmd, env, cwd)
            if run.returncode not in (0, 1):
                raise SystemExit(f"{name} failed ({run.returncode}): {run.stderr[-2000:]}")
            if round_no:
                runs[name].append(run)
    return runs


def make_workspace(ws: Path, tree: Path, clips: int, edl: Path | None, events: int) -> None:
    """A production "bench" with its catalogue, made by the checkout `tree` (and the list, when `edl`)."""
    ws.mkdir(parents=True)
    (ws / "postprod.toml").write_text('data_dir = "data"\n\n[productions.bench]\nspec = "default"\n')
    (ws / "data").mkdir()
    made = build_catalogue(ws / "data" / "postprod.db", clips, tree)
    if edl is not None:
        build_edl(edl, made, events)


def workspace(ws: Path, tree: Path, args: argparse.Namespace, edl: Path | None = None) -> dict[str, str]:
    """make_workspace in a child process; the environment to run a command in it."""
    cmd = [sys.executable, __file__, "--make-workspace", str(ws), "--tree", str(tree), "--clips", str(args.clips),
           "--events", str(args.events)]
    subprocess.run([*cmd, *(["--edl", str(edl)] if edl else [])], check=True)
    return {**os.environ, "POSTPROD_CONFIG": str(ws / "postprod.toml"), "DO_NOT_TRACK": "1"}


def in_process(ws: Path, edl: Path) -> dict[str, object]:
    """Figures without interpreter start-up: the whole check, OTIO's read, and our phases one by one (our EDL
    reader against OTIO's is the like-for-like figure)."""
    import opentimelineio as otio

    from config.settings import load_settings
    from conform.check import check_conform, select_index
    from conform.match import conform
    from conform.report import render_html, report_json
    from conform.timeline import read_timeline
    from ingest.catalogue import Catalogue

    t0 = time.perf_counter()
    otio.adapters.read_from_file(str(edl), rate=25)
    otio_in = time.perf_counter() - t0
    settings = load_settings(ws / "postprod.toml")
    t0 = time.perf_counter()
    check_conform(edl, "bench", settings, write_report=True)
    ours_in = time.perf_counter() - t0
    phases = {}
    t0 = time.perf_counter()
    tl = read_timeline(edl, rate=None, default_rate=RATE)
    phases["read_edl_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = select_index(Catalogue(settings.db_url), "bench")
    index.rates_of({e.reel for e in tl.events if e.reel})  # what the reader asks to decide the rate
    phases["reel_rates_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if hasattr(index, "prepare"):  # a catalogue with rows without keys is read whole
        index.prepare(tl.events)
    phases["select_catalogue_rows_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    matched = conform(tl, index, 12)
    phases["match_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    from conform.report import report_data

    data = report_data(matched, production="bench")
    report_json(data)
    render_html(data)
    phases["report_s"] = time.perf_counter() - t0
    if hasattr(index, "close"):
        index.close()
    return {"postprod_check_in_process_s": round(ours_in, 3), "otio_read_in_process_s": round(otio_in, 3),
            "ratio_in_process": round(ours_in / otio_in, 2), "phases": {k: round(v, 3) for k, v in phases.items()},
            "ratio_edl_reader_vs_otio": round(phases["read_edl_s"] / otio_in, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--clips", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", help="another checkout whose `postprod conform` runs in the same alternation")
    ap.add_argument("--no-phases", action="store_true", help="skip the in-process figures and phases")
    ap.add_argument("--make-workspace", help=argparse.SUPPRESS)
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    ap.add_argument("--edl", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make_workspace:
        make_workspace(Path(args.make_workspace), Path(args.tree), args.clips, Path(args.edl) if args.edl else None,
                       args.events)
        return
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        t0 = time.perf_counter()
        edl = ws / "bench.edl"
        env = workspace(ws / "ours", ROOT, args, edl)
        build_s = time.perf_counter() - t0
        conform_cmd = [sys.executable, "-m", "cli.main", "conform", str(edl), "-p", "bench", "--json"]
        otio_cmd = [sys.executable, "-c", ("import sys, opentimelineio as otio; "
                    "t = otio.adapters.read_from_file(sys.argv[1], rate=25); print(len(list(t.find_clips())))"),
                    str(edl)]
        commands = {"postprod": (conform_cmd, ROOT, env), "otio": (otio_cmd, ROOT, env)}
        if args.baseline:
            base = Path(args.baseline).resolve()
            commands["baseline"] = (conform_cmd, base, workspace(ws / "baseline", base, args))
        load_before = load()
        runs = alternated(commands, args.repeat)
        load_after = load()
        ours, otio_runs = runs["postprod"], runs["otio"]
        summary = json.loads(ours[-1].stdout)["summary"]
        if args.baseline:
            base_summary = json.loads(runs["baseline"][-1].stdout)["summary"]
            if base_summary != summary:
                print(f"WARNING: the baseline's summary differs: {base_summary} != {summary}", file=sys.stderr)
        ours_s, otio_s = median([r.seconds for r in ours]), median([r.seconds for r in otio_runs])
        ratio = median([a.seconds / b.seconds for a, b in zip(ours, otio_runs, strict=True)])
        inproc = {} if args.no_phases else in_process(ws / "ours", edl)
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "machine": machine(), "load_before": load_before,
        "load_after": load_after, "rounds": args.repeat, "events": args.events, "clips": args.clips,
        "catalogue_insert_s": round(build_s, 2), "postprod_conform_command_s": round(ours_s, 3),
        "postprod_conform_peak_rss_mb": round(median([r.peak_rss_mb for r in ours]), 1),
        "postprod_conform_cpu_s": round(median([r.cpu_s for r in ours]), 3),
        "otio_read_command_s": round(otio_s, 3),
        "otio_read_peak_rss_mb": round(median([r.peak_rss_mb for r in otio_runs]), 1),
        "ratio_command": round(ratio, 2),
        "otio_clips": int(otio_runs[-1].stdout.strip()), **inproc,
        "summary": {k: summary[k] for k in ("events", "matched", "errors", "warnings")},
    }
    if args.baseline:
        base = runs["baseline"]
        result["baseline_conform_command_s"] = round(median([r.seconds for r in base]), 3)
        result["baseline_conform_peak_rss_mb"] = round(median([r.peak_rss_mb for r in base]), 1)
        result["baseline_conform_cpu_s"] = round(median([r.cpu_s for r in base]), 3)
        result["ratio_postprod_vs_baseline_cpu"] = round(median([a.cpu_s / b.cpu_s
                                                                 for a, b in zip(ours, base, strict=True)]), 2)
        result["ratio_postprod_vs_baseline"] = round(median([a.seconds / b.seconds
                                                             for a, b in zip(ours, base, strict=True)]), 2)
    print(json.dumps(result, indent=2))
    ours_in, otio_in = inproc.get("postprod_check_in_process_s", 0), inproc.get("otio_read_in_process_s", 0)
    print(f"| {result['date']} | {result['machine']} | {args.events} events × {args.clips} clips | "
          f"{ours_s:.2f} s, {result['postprod_conform_peak_rss_mb']:.0f} MB | {otio_s:.2f} s, "
          f"{result['otio_read_peak_rss_mb']:.0f} MB | {ratio:.2f} | {ours_in:.2f} s | {otio_in:.2f} s | "
          f"{ours_in / otio_in if otio_in else 0:.2f} |")


if __name__ == "__main__":
    main()
