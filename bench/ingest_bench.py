"""Verified ingest of a card, `postprod ingest CARD --direct --json`, against `xxhsum -H128` over the same files,
alternated, medians; and where the ingest's time went (its `stage_seconds`).

Run: uv run python bench/ingest_bench.py [CLIPS] [SECONDS]   (needs xxhsum: apt-get install xxhash)
Each ingest gets a fresh data directory (a second ingest of the same card does no work).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from fractions import Fraction

from _common import OUT, alternated, load, machine, run, stamp

from config.tools import find_ffmpeg
from media.synth import ClipSpec, make_clip

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    clips = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    xxhsum = shutil.which("xxhsum")
    if not xxhsum:
        sys.exit("xxhsum not found: apt-get install xxhash")
    card = OUT / f"ingest_card_{clips}x{seconds:g}" / "A001"
    seed = OUT / f"ingest_seed_{seconds:g}.mov"
    if not seed.exists():
        make_clip(seed, ClipSpec(width=1920, height=1080, seconds=seconds, rate=Fraction(25), codec="prores_hq",
                                 reel="A001"), find_ffmpeg())
    card.mkdir(parents=True, exist_ok=True)
    files = [card / f"A001C{i:03d}_260101_R1AB.mov" for i in range(1, clips + 1)]
    for f in files:
        if not f.exists():
            shutil.copy(seed, f)
    runs = itertools.count()
    stages: list[dict[str, float]] = []

    def ours() -> None:
        work = OUT / f"ingest_run_{next(runs)}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        (work / "postprod.toml").write_text(f'data_dir = "{work / "data"}"\n')
        shutil.rmtree(card / "ascmhl", ignore_errors=True)  # the last run's generation: each run is a first
        env = {**os.environ, "POSTPROD_CONFIG": str(work / "postprod.toml"), "DO_NOT_TRACK": "1"}
        proc = subprocess.run([sys.executable, "-m", "cli.main", "ingest", str(card), "--direct", "--json"],
                              capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        if proc.returncode not in (0, 1):
            sys.exit(proc.stderr[-2000:])
        stages.append(json.loads(proc.stdout)[0]["stage_seconds"])
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(card / "ascmhl", ignore_errors=True)

    def theirs() -> None:
        run([xxhsum, "-H128", *map(str, files)])

    t_ours, t_theirs, ratio = alternated(5, ours, theirs)
    print(machine())
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"| {stamp()} | {clips} × {seconds:g} s 1080p ProRes HQ ({size:.0f} MB) | postprod ingest --direct: "
          f"{t_ours:.2f} s | xxhsum -H128: {t_theirs:.2f} s | {1 / ratio:.1f}× xxhsum | {load()} |")
    median = {k: sorted(s[k] for s in stages)[len(stages) // 2] for k in stages[0]}
    print("stage_seconds (median):", json.dumps(median))


if __name__ == "__main__":
    main()
