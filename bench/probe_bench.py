"""Probing 200 short clips: `postprod probe FOLDER --json` against one `mediainfo --Output=JSON` call over the
same files, alternated, medians (ratio = our speed / theirs); and how the decode check was decided, file by file
(`integrity`: a decode, or what the file's structure proved: sample tables, mxf partitions, data chunk).

Run: uv run python bench/probe_bench.py [N]   (needs the mediainfo CLI: apt-get install mediainfo)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from fractions import Fraction

from _common import OUT, alternated, load, machine, stamp

from config.tools import find_ffmpeg
from media.synth import ClipSpec, TakeSpec, make_bwf_take, make_clip

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)


def decided(cmd: list[str], env: dict[str, str]) -> str:
    """How the decode check was decided, file by file (MediaFile.integrity), counted."""
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, cwd=ROOT)
    counts = Counter(str(m.get("integrity")) for m in json.loads(proc.stdout))
    return ", ".join(f"{n} {way}" for way, n in counts.most_common())


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    mediainfo = shutil.which("mediainfo")
    if not mediainfo:
        sys.exit("mediainfo not found: apt-get install mediainfo")
    ffmpeg = find_ffmpeg()
    folder = OUT / "probe_clips"
    folder.mkdir(parents=True, exist_ok=True)
    kinds = [
        ("mov", lambda p: make_clip(p, ClipSpec(width=640, height=360, seconds=2, reel="A001"), ffmpeg)),
        ("mxf", lambda p: make_clip(p, ClipSpec(width=1280, height=720, seconds=2, codec="dnxhr_lb"), ffmpeg)),
        ("mp4", lambda p: make_clip(p, ClipSpec(width=640, height=360, seconds=2, codec="h264", audio_codec="aac",
                                                rate=Fraction(30000, 1001)), ffmpeg)),
        ("wav", lambda p: make_bwf_take(p, TakeSpec(seconds=2), ffmpeg)),
    ]
    files = []
    for i in range(n):
        ext, make = kinds[i % len(kinds)]
        path = folder / f"A{i // 50 + 1:03d}C{i:03d}.{ext}"
        if not path.exists():
            seed = OUT / f"probe_seed.{ext}"
            if not seed.exists():
                make(seed)
            shutil.copy(seed, path)
        files.append(path)

    cli = [sys.executable, "-m", "cli.main", "probe", str(folder), "--json"]
    env = {**os.environ, "DO_NOT_TRACK": "1"}
    rows = []
    for check in ("tail", "none"):
        cfg = OUT / f"probe-{check}.toml"
        cfg.write_text(f'decode_check = "{check}"\n')
        ours = lambda cfg=cfg: run(cli, {**env, "POSTPROD_CONFIG": str(cfg)})  # noqa: E731
        theirs = lambda: run([mediainfo, "--Output=JSON", *map(str, files)], env)  # noqa: E731
        t_ours, t_theirs, ratio = alternated(5, ours, theirs)
        rows.append((check, t_ours, t_theirs, ratio, decided(cli, {**env, "POSTPROD_CONFIG": str(cfg)})))
    from media.facts import own_tracks

    own = sum(own_tracks(f, f.stat().st_size) is not None for f in files)
    print(machine())
    print(f"facts: {own} files from postprod's own readers, {len(files) - own} from MediaInfo (media/facts.py)")
    for check, t_ours, t_theirs, ratio, ways in rows:
        print(f"| {stamp()} | {n} clips | `postprod probe FOLDER --json`, decode_check={check}: {n / t_ours:.0f} files/s "
              f"| one `mediainfo --Output=JSON` call: {n / t_theirs:.0f} files/s | {ratio:.2f}x | {load()} |")
        print(f"    integrity ({check}): {ways}")


if __name__ == "__main__":
    main()
