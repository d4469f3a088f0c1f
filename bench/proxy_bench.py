"""Proxy speed: each preset through postprod against the same encode typed by hand, in the same run.

    uv run python bench/proxy_bench.py [--seconds 4] [--uhd-seconds 2] [--repeats 3] [--batch 8]

Figures: speed as a multiple of real time; ratio = hand-typed time / postprod time (1.0 = no overhead;
the goal is >= 0.95), from the best of the repeats (the least disturbed by other load) and from medians; batch throughput of N clips with the parallel bound at 1 and at its default.
postprod's time includes everything it does per clip: probe with a tail decode check, source hash,
encode, re-probe and verification, proxy hash, catalogue writes. Runs alternate between the two so
that load from other users of the machine falls on both.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.settings import load_settings
from config.tools import ffmpeg_version, find_ffmpeg
from ingest.proxies.make import default_workers, font_file, plan_batch, run_batch
from media.synth import ClipSpec, make_clip

OUT = ROOT / "bench" / "out" / "proxy"


def hand_typed(preset: str, ffmpeg: str, src: Path, dst: Path, height: int, width: int, clip: str) -> list[str]:
    """What an assistant would type for the same proxy (burn-in, size, timecode, reel, audio)."""
    font = str(font_file())
    band = round(round(height / 18) * 1.5)
    fs = max(10, round(height / 18))
    y = height - band + (band - fs) // 2
    m = max(4, fs // 2)
    burn = (f"drawbox=x=0:y=ih-{band}:w=iw:h={band}:color=black@1:t=fill,"
            f"drawtext=fontfile={font}:fontsize={fs}:fontcolor=white:y={y}:x={m}:text={clip}  reel A001,"
            f"drawtext=fontfile={font}:fontsize={fs}:fontcolor=white:y={y}:x=w-tw-{m}:"
            f"timecode=10\\\\:00\\\\:00\\\\:00:timecode_rate=25/1")
    base = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(src)]
    tc = ["-timecode", "10:00:00:00", "-metadata", "reel_name=A001", "-metadata:s:v:0", "reel_name=A001"]
    if preset == "h264-review":
        burn = burn.replace("  reel A001", "")
        return [*base, "-vf", f"scale={width}:{height},setsar=1,{burn}", "-map", "0:v", "-map", "0:a",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-c:a", "aac",
                "-b:a", "192k", *tc, "-movflags", "+faststart+use_metadata_tags", str(dst)]
    if preset == "prores-proxy":
        return [*base, "-vf", f"scale={width}:{height},setsar=1,{burn}", "-map", "0:v", "-map", "0:a",
                "-c:v", "prores_ks", "-profile:v", "0", "-q:v", "8", "-pix_fmt", "yuv422p10le", "-c:a", "pcm_s24le",
                *tc, str(dst)]
    # avid-dnxhr-lb: mono tracks, as the preset makes them.
    graph = f"[0:v]scale={width}:{height},setsar=1,{burn}[v];[0:a]channelsplit=channel_layout=stereo[l][r]"
    return [*base, "-filter_complex", graph, "-map", "[v]", "-map", "[l]", "-map", "[r]",
            "-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p", "-c:a", "pcm_s24le", *tc, str(dst)]


SIZES = {  # (width, height) of each preset's proxy, for a 1920x1080 and a 3840x2160 source
    "h264-review": {1080: (960, 540), 2160: (960, 540)},
    "prores-proxy": {1080: (960, 540), 2160: (1920, 1080)},
    "avid-dnxhr-lb": {1080: (1920, 1080), 2160: (1920, 1080)},
}


def settings_for(ws: Path, workers: int | None = None):
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "postprod.toml").write_text('data_dir = "data"\n[productions.bench]\nspec = "default"\n'
                                      + (f"proxy_workers = {workers}\n" if workers else ""))
    return load_settings(ws / "postprod.toml")


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


RUNS = iter(range(1_000_000))


def fresh_workspace(name: str) -> Path:
    """A new data directory per run (engines are cached per database URL)."""
    ws = OUT / "runs" / f"{name}{next(RUNS)}"
    shutil.rmtree(ws, ignore_errors=True)
    return ws


def ours(preset: str, src: Path) -> None:
    settings = settings_for(fresh_workspace("one"))
    report = run_batch(plan_batch([src], preset, "bench", settings, workers=1))
    assert report.summary["made"] == 1, report.clips[0].error


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--uhd-seconds", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--batch-seconds", type=float, default=2.0)
    args = ap.parse_args()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    ffmpeg = find_ffmpeg()
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(OUT / "runs", ignore_errors=True)
    sources = {
        "1080p25 ProRes 422 HQ": (OUT / f"hq1080_{args.seconds:g}s.mov", 1080, args.seconds,
                                  ClipSpec(width=1920, height=1080, rate=Fraction(25), seconds=args.seconds,
                                           codec="prores_hq", timecode="10:00:00:00", reel="A001")),
        "UHD25 H.264": (OUT / f"uhd_{args.uhd_seconds:g}s.mp4", 2160, args.uhd_seconds,
                        ClipSpec(width=3840, height=2160, rate=Fraction(25), seconds=args.uhd_seconds, codec="h264",
                                 timecode="10:00:00:00", reel="A001", audio_codec="aac")),
    }
    for path, _, _, spec in sources.values():
        if not path.exists():
            make_clip(path, spec, ffmpeg)
    print(f"# proxy bench  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {platform.node()}  "
          f"{os.cpu_count()} cores  {ffmpeg_version(ffmpeg)}")
    print("| source | preset | postprod × real time (best) | hand-typed ffmpeg × real time (best) "
          "| ratio hand/postprod, best runs | ratio, medians |")
    print("|---|---|---|---|---|---|")
    for label, (src, height, seconds, _) in sources.items():
        for preset in ("avid-dnxhr-lb", "prores-proxy", "h264-review"):
            w, h = SIZES[preset][height]
            ext = {"avid-dnxhr-lb": ".mxf", "prores-proxy": ".mov", "h264-review": ".mp4"}[preset]
            cmd = hand_typed(preset, ffmpeg, src, OUT / f"hand{ext}", h, w, src.stem)
            ours_t, hand_t = [], []
            for _ in range(args.repeats):
                hand_t.append(timed(lambda c=cmd: subprocess.run(c, check=True)))
                ours_t.append(timed(lambda p=preset, s=src: ours(p, s)))
            o, hnd = min(ours_t), min(hand_t)
            med = statistics.median(hand_t) / statistics.median(ours_t)
            print(f"| {label}, {seconds:g} s | {preset} | {seconds / o:.2f} ({o:.2f} s) | {seconds / hnd:.2f} "
                  f"({hnd:.2f} s) | {hnd / o:.3f} | {med:.3f} |", flush=True)

    # What postprod adds per clip outside ffmpeg (probe, hashes, re-probe, verification, catalogue):
    # timed around the encode itself, so the machine's load barely touches it.
    import ingest.proxies.make as proxy_module

    real_run = proxy_module.run_ffmpeg
    spent: list[float] = []

    def timed_run(*a, **kw):
        t = time.perf_counter()
        try:
            return real_run(*a, **kw)
        finally:
            spent.append(time.perf_counter() - t)

    proxy_module.run_ffmpeg = timed_run
    src = sources["1080p25 ProRes 422 HQ"][0]
    print(f"\n| preset, {src.name} | whole make_proxy (best) | of which ffmpeg | postprod's own work per clip |")
    print("|---|---|---|---|")
    for preset in ("avid-dnxhr-lb", "prores-proxy", "h264-review"):
        rows = []
        for _ in range(args.repeats):
            spent.clear()
            settings = settings_for(fresh_workspace("over"))
            batch = plan_batch([src], preset, "bench", settings, workers=1)
            t = time.perf_counter()
            proxy_module.make_proxy(batch.jobs[0], batch)
            whole = time.perf_counter() - t
            rows.append((whole - spent[0], whole, spent[0]))
        own, whole, enc = min(rows)
        print(f"| {preset} | {whole:.2f} s | {enc:.2f} s | {own * 1000:.0f} ms |", flush=True)
    proxy_module.run_ffmpeg = real_run

    # Batch throughput: N clips of 1080p ProRes HQ, h264-review, bound 1 vs default.
    card = OUT / "batch_card"
    if not card.exists() or len(list(card.glob("*.mov"))) != args.batch:
        shutil.rmtree(card, ignore_errors=True)
        one = OUT / f"batch_{args.batch_seconds:g}s.mov"
        if not one.exists():
            make_clip(one, ClipSpec(width=1920, height=1080, seconds=args.batch_seconds, codec="prores_hq",
                                    timecode="10:00:00:00", reel="A001"), ffmpeg)
        card.mkdir(parents=True)
        for i in range(args.batch):
            shutil.copy2(one, card / f"A001C{i + 1:03d}.mov")
    total = args.batch * args.batch_seconds
    print(f"\n| batch of {args.batch} × {args.batch_seconds:g} s 1080p ProRes HQ, h264-review | wall time | "
          "× real time | clips/min |")
    print("|---|---|---|---|")
    for workers in (1, default_workers()):
        times = []
        for _ in range(max(1, args.repeats - 1)):
            settings = settings_for(fresh_workspace("batch"))
            times.append(timed(lambda s=settings, w=workers: run_batch(
                plan_batch([card], "h264-review", "bench", s, workers=w))))
        t = statistics.median(times)
        print(f"| proxy_workers = {workers} | {t:.2f} s | {total / t:.2f} | {args.batch / t * 60:.1f} |", flush=True)


if __name__ == "__main__":
    main()
