"""Verified ingest of a card, `postprod ingest CARD --direct --json`, against what the same check costs by hand:
`xxhsum -H128` over the files plus one `mediainfo` call over them, alternated, medians; and where the ingest's
time went (its `stage_seconds`).

The card is like a camera card from the set: CLIPS large 1080p ProRes HQ clips (one clip made once, copied
under CLIPS names) with the set's ASC MHL (`ascmhl create -h xxh128`), which the ingest verifies against.

Run: uv run python bench/ingest_bench.py [CLIPS] [SECONDS] [--clip-mb MB] [--cold] [--pairs N]
(needs xxhsum and mediainfo: apt-get install xxhash mediainfo; ascmhl comes with postprod's environment)
- `--clip-mb 517`: each clip that size (issue 17's card: 4 × 517 MB), the SECONDS-long clip looped into it
  without re-encoding (`ffmpeg -stream_loop … -c copy -fs`).
- `--cold`: before each run of either side, the card's files are written back and dropped from the page cache
  (`posix_fadvise(POSIX_FADV_DONTNEED)` on the bench's own files only), so both read them from the disk, as
  they would from a card reader.
Each ingest gets a fresh data directory and the card its set's MHL alone (a second ingest of the same card
does no work).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

from _common import OUT, alternated, load, machine, run, stamp

from config.tools import find_ffmpeg
from media.synth import ClipSpec, make_clip

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def evict(files: list[Path]) -> None:
    """The files written back and dropped from the page cache: the next read comes from the disk. Only the
    bench's own files (never the machine's whole cache)."""
    for f in files:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def looped(seed: Path, mb: int) -> Path:
    """The seed clip looped, without re-encoding, to `mb` megabytes (10^6 bytes)."""
    out = seed.with_name(f"{seed.stem}_{mb}MB.mov")
    if not out.exists():
        loops = math.ceil(mb * 1e6 / seed.stat().st_size)
        run([find_ffmpeg(), "-y", "-stream_loop", str(loops), "-i", str(seed), "-map", "0:v", "-map", "0:a?",
             "-c", "copy", "-map_metadata", "0", "-fs", str(mb * 1_000_000), str(out)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", type=int, nargs="?", default=4)
    parser.add_argument("seconds", type=float, nargs="?", default=20)
    parser.add_argument("--clip-mb", type=int, default=0, help="each clip this size (issue 17: 517)")
    parser.add_argument("--cold", action="store_true", help="the card's files read from the disk each run")
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    clips, seconds = args.clips, args.seconds
    xxhsum, mediainfo = shutil.which("xxhsum"), shutil.which("mediainfo")
    ascmhl = shutil.which("ascmhl") or os.path.join(os.path.dirname(sys.executable), "ascmhl")
    if not xxhsum or not mediainfo:
        sys.exit("xxhsum or mediainfo not found: apt-get install xxhash mediainfo")
    size_tag = f"{clips}x{args.clip_mb}MB" if args.clip_mb else f"{clips}x{seconds:g}"
    card = OUT / f"ingest_card_{size_tag}" / "A001"
    seed = OUT / f"ingest_seed_{seconds:g}.mov"
    if not seed.exists():
        make_clip(seed, ClipSpec(width=1920, height=1080, seconds=seconds, rate=Fraction(25), codec="prores_hq",
                                 reel="A001"), find_ffmpeg())
    if args.clip_mb:
        seed = looped(seed, args.clip_mb)
    card.mkdir(parents=True, exist_ok=True)
    files = [card / f"A001C{i:03d}_260101_R1AB.mov" for i in range(1, clips + 1)]
    for f in files:
        if not f.exists():
            shutil.copy(seed, f)
    set_mhl = card.parent / "set_ascmhl"  # the card's MHL as it came from the set, kept apart between runs
    if not set_mhl.exists():
        shutil.rmtree(card / "ascmhl", ignore_errors=True)
        run([ascmhl, "create", "-h", "xxh128", str(card)])
        shutil.move(card / "ascmhl", set_mhl)
    runs = itertools.count()
    stages: list[dict[str, float]] = []
    ways: Counter[str] = Counter()  # how each file's decode check was decided (MediaFile.integrity)

    def ours() -> None:
        work = OUT / f"ingest_run_{next(runs)}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        (work / "postprod.toml").write_text(f'data_dir = "{work / "data"}"\n')
        shutil.rmtree(card / "ascmhl", ignore_errors=True)  # the last run's generation: each run is a first
        shutil.copytree(set_mhl, card / "ascmhl")
        env = {**os.environ, "POSTPROD_CONFIG": str(work / "postprod.toml"), "DO_NOT_TRACK": "1"}
        if args.cold:
            evict(files)
        proc = subprocess.run([sys.executable, "-m", "cli.main", "ingest", str(card), "--direct", "--json"],
                              capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        if proc.returncode not in (0, 1):
            sys.exit(proc.stderr[-2000:])
        report = json.loads(proc.stdout)[0]
        if report["summary"]["verified"] != clips:
            sys.exit(f"the set's MHL did not verify every clip: {report['summary']}")
        stages.append(report["stage_seconds"])
        ways.update(str((f.get("media") or {}).get("integrity")) for f in report["files"])
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(card / "ascmhl", ignore_errors=True)

    def theirs() -> None:
        if args.cold:
            evict(files)
        run([xxhsum, "-H128", *map(str, files)])
        run([mediainfo, "--Output=JSON", *map(str, files)])

    t_ours, t_theirs, ratio = alternated(args.pairs, ours, theirs)
    print(machine())
    size = sum(f.stat().st_size for f in files) / 1e6
    what = f"{clips} × {args.clip_mb} MB" if args.clip_mb else f"{clips} × {seconds:g} s"
    cache = ", cold (evicted from the page cache each run)" if args.cold else ""
    print(f"| {stamp()} | {what} 1080p ProRes HQ ({size:.0f} MB){cache} | postprod ingest --direct: "
          f"{t_ours:.2f} s | xxhsum -H128 + mediainfo: {t_theirs:.2f} s | {1 / ratio:.2f}× (goal ≤ 1.5×) | {load()} |")
    median = {k: sorted(s[k] for s in stages)[len(stages) // 2] for k in stages[0]}
    print("stage_seconds (median):", json.dumps(median))
    print("integrity, all runs:", ", ".join(f"{n} {way}" for way, n in ways.most_common()))


if __name__ == "__main__":
    main()
