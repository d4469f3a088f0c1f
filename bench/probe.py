"""Probing 200 short clips: postprod's probe (one process) against `mediainfo --Output=JSON` per file.

Run: uv run python bench/probe.py [N]   (needs the mediainfo CLI: apt-get install mediainfo)
"""

from __future__ import annotations

import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

from _common import OUT, best_of, machine, run, stamp

from config.tools import find_ffmpeg
from media.probe import probe_file
from media.synth import ClipSpec, TakeSpec, make_bwf_take, make_clip


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
        ("mp4", lambda p: make_clip(p, ClipSpec(width=640, height=360, seconds=2, codec="h264",
                                                rate=Fraction(30000, 1001)), ffmpeg)),
        ("wav", lambda p: make_bwf_take(p, TakeSpec(seconds=2), ffmpeg)),
    ]
    files = []
    for i in range(n):
        ext, make = kinds[i % len(kinds)]
        path = folder / f"A{i // 50 + 1:03d}C{i:03d}.{ext}"
        if not path.exists():
            seed = folder / f"seed.{ext}"
            if not seed.exists():
                make(seed)
            shutil.copy(seed, path)
        files.append(path)

    def ours(decode_check: str, workers: int) -> None:
        def one(p):  # noqa: ANN001, ANN202
            m = probe_file(p, ffmpeg=ffmpeg, decode_check=decode_check)
            assert m.error is None, m.error

        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, files))

    def theirs() -> None:
        for p in files:
            run([mediainfo, "--Output=JSON", str(p)])

    results = {
        "postprod probe, MediaInfo only (decode_check=none), 1 thread": best_of(3, lambda: ours("none", 1)),
        "postprod probe, decode_check=none, 4 threads": best_of(3, lambda: ours("none", 4)),
        "postprod probe, decode_check=tail (ffmpeg decodes each file's end), 4 threads": best_of(
            3, lambda: ours("tail", 4)),
        "mediainfo --Output=JSON, one process per file": best_of(3, theirs),
    }
    print(machine())
    base = n / results["mediainfo --Output=JSON, one process per file"]
    for label, seconds in results.items():
        print(f"| {stamp()} | {n} clips | {label} | {n / seconds:.0f} files/s | {n / seconds / base:.2f}x |")


if __name__ == "__main__":
    main()
