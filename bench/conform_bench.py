"""Benchmark: `postprod conform` on a 5,000-event EDL against a 100,000-clip catalogue, compared in the same
run with OpenTimelineIO reading the same EDL alone (its cmx_3600 adapter). Prints JSON and a Markdown row.

    uv run python bench/conform_bench.py [--events 5000] [--clips 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.catalogue import Catalogue
from media.timecode import Timecode

RATE = Fraction(25)
CLIP_FRAMES = 750  # 30 s clips
CLIPS_PER_REEL = 50


def build_catalogue(db: Path, clips: int) -> list[tuple[str, str, int]]:
    """Insert `clips` original rows straight into SQLite; returns (reel, clip name, start frame) per clip."""
    Catalogue(f"sqlite:///{db}")  # makes the schema (the store's migrations)
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
    return index


def build_edl(path: Path, clips: list[tuple[str, str, int]], events: int, seed: int = 5) -> None:
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


def timed(cmd: list[str], env: dict[str, str], repeat: int) -> tuple[float, subprocess.CompletedProcess]:
    best, proc = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        best = min(best, time.perf_counter() - t0)
    return best, proc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--clips", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        (ws / "postprod.toml").write_text('data_dir = "data"\n\n[productions.bench]\nspec = "default"\n')
        (ws / "data").mkdir()
        t0 = time.perf_counter()
        clips = build_catalogue(ws / "data" / "postprod.db", args.clips)
        build_s = time.perf_counter() - t0
        edl = ws / "bench.edl"
        build_edl(edl, clips, args.events)
        env = {**os.environ, "POSTPROD_CONFIG": str(ws / "postprod.toml"), "DO_NOT_TRACK": "1"}
        ours_s, proc = timed([sys.executable, "-m", "cli.main", "conform", str(edl), "-p", "bench", "--json"],
                             env, args.repeat)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"postprod conform failed ({proc.returncode}): {proc.stderr[-2000:]}")
        summary = json.loads(proc.stdout)["summary"]
        otio_cmd = [sys.executable, "-c", ("import sys, opentimelineio as otio; "
                    "t = otio.adapters.read_from_file(sys.argv[1], rate=25); print(len(list(t.find_clips())))"),
                    str(edl)]
        otio_s, oproc = timed(otio_cmd, env, args.repeat)
        if oproc.returncode != 0:
            raise SystemExit(f"OTIO failed: {oproc.stderr[-2000:]}")
        # In-process figures, without interpreter start-up.
        import opentimelineio as otio

        from config.settings import load_settings
        from conform.check import check_conform

        t0 = time.perf_counter()
        otio.adapters.read_from_file(str(edl), rate=25)
        otio_in = time.perf_counter() - t0
        settings = load_settings(ws / "postprod.toml")
        t0 = time.perf_counter()
        check_conform(edl, "bench", settings, write_report=True)
        ours_in = time.perf_counter() - t0
        # The phases, one by one: our EDL reader against OTIO's is the like-for-like figure.
        from conform.check import load_index
        from conform.match import conform
        from conform.report import render_html, report_data
        from conform.timeline import read_timeline

        phases = {}
        t0 = time.perf_counter()
        tl = read_timeline(edl, rate=None, default_rate=RATE)
        phases["read_edl_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        index = load_index(Catalogue(settings.db_url), "bench")
        phases["load_and_index_catalogue_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        matched = conform(tl, index, 12)
        phases["match_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        json.dumps(data := report_data(matched, production="bench"))
        render_html(data)
        phases["report_s"] = time.perf_counter() - t0
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "machine": f"{platform.machine()} {os.cpu_count()} cpu, "
        f"Python {platform.python_version()}", "events": args.events, "clips": args.clips,
        "catalogue_insert_s": round(build_s, 2), "postprod_conform_command_s": round(ours_s, 3),
        "otio_read_command_s": round(otio_s, 3), "ratio_command": round(ours_s / otio_s, 2),
        "postprod_check_in_process_s": round(ours_in, 3), "otio_read_in_process_s": round(otio_in, 3),
        "ratio_in_process": round(ours_in / otio_in, 2), "otio_clips": int(oproc.stdout.strip()),
        "phases": {k: round(v, 3) for k, v in phases.items()},
        "ratio_edl_reader_vs_otio": round(phases["read_edl_s"] / otio_in, 2),
        "summary": {k: summary[k] for k in ("events", "matched", "errors", "warnings")},
    }
    print(json.dumps(result, indent=2))
    print(f"| {result['date']} | {result['machine']} | {args.events} events × {args.clips} clips | "
          f"{ours_s:.2f} s | {otio_s:.2f} s | {ours_s / otio_s:.2f} | {ours_in:.2f} s | {otio_in:.2f} s | "
          f"{ours_in / otio_in:.2f} |")


if __name__ == "__main__":
    main()
