"""Proxy speed: each preset through postprod against the same encode typed by hand, in the same run.

    uv run python bench/proxy_bench.py [--seconds 4] [--uhd-seconds 2] [--repeats 3] [--batch 8]
                                       [--parts encode,overhead,batch,command] [--presets h264-review,...]

Figures: speed as a multiple of real time; ratio = hand-typed time / postprod time (1.0 = no overhead;
the goal is >= 0.95), from the best of the repeats (the least disturbed by other load) and from medians;
batch throughput of N clips with the parallel bound at 1 and at its default, against the same hand-typed
commands run as many at a time.
postprod's time includes everything it does per clip: probe of the source, source hash,
encode, re-probe and verification, proxy hash, catalogue writes. Runs alternate between the two so
that load from other users of the machine falls on both.

Each run writes into a fresh proxy folder of one data directory (its database made once, as a production's
is): the per-run figure is what a batch costs, not what creating a database costs.

`command`: the whole command, `postprod proxy CLIP --preset P --json` as a process (start-up, reading
ffmpeg's capabilities, the batch), against the hand-typed ffmpeg as a process: a batch of one clip as a
user waits for it. Pairs alternate; the ratio is the median of the pairs' ratios, the load is noted. Where
postprod's time goes, from its report's `started_at`/`finished_at` and the clip's `seconds`: start-up to the
batch, the batch (and the clip within it), after the batch; and the CPU (user + sys) of each side, which other
users' load moves far less than the wall time.

`cpu`: the two ffmpeg command lines alone, postprod's exactly as it runs them (ingest.proxies.encode.ffmpeg_command,
a batch of one) against the hand-typed one: CPU seconds (user + sys, from the children's rusage) and wall time,
alternated, medians and the median of the pairs' ratios. CPU time barely moves with other users' load; it says
whether the gap is in the encode's command or in what postprod does around it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import alternated, load

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
_SETTINGS: dict[str, object] = {}


def fresh_out(name: str) -> Path:
    """A new proxy folder per run (so nothing is skipped), in one data directory."""
    out = OUT / "runs" / f"{name}{next(RUNS)}"
    shutil.rmtree(out, ignore_errors=True)
    return out


def bench_settings():
    if "s" not in _SETTINGS:
        _SETTINGS["s"] = settings_for(OUT / "runs" / "ws")
    return _SETTINGS["s"]


def ours(preset: str, src: Path) -> None:
    report = run_batch(plan_batch([src], preset, "bench", bench_settings(), workers=1, out=fresh_out("one")))
    assert report.summary["made"] == 1, report.clips[0].error


def whole_command(preset: str, src: Path, ffmpeg: str, height: int, repeats: int) -> str:
    """`postprod proxy` as a process against the hand-typed ffmpeg as a process; one markdown row."""
    ws = OUT / "runs" / "cli"
    settings_for(ws)
    env = dict(os.environ, POSTPROD_CONFIG=str(ws / "postprod.toml"), DO_NOT_TRACK="1")
    w, h = SIZES[preset][height]
    ext = {"avid-dnxhr-lb": ".mxf", "prores-proxy": ".mov", "h264-review": ".mp4"}[preset]
    hand = hand_typed(preset, ffmpeg, src, OUT / f"hand{ext}", h, w, src.stem)

    phases: list[tuple[float, float, float, float]] = []
    cpus: tuple[list[float], list[float]] = ([], [])  # user+sys of the whole command, of the hand-typed ffmpeg

    def by_hand() -> None:
        cpu = children_cpu()
        subprocess.run(hand, check=True)
        cpus[1].append(children_cpu() - cpu)

    def postprod() -> None:
        cmd = [sys.executable, "-m", "cli.main", "proxy", str(src), "--preset", preset, "--production", "bench",
               "--json", "--out", str(fresh_out("cli"))]
        began, cpu = time.time(), children_cpu()
        run = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, check=False)
        ended = time.time()
        cpus[0].append(children_cpu() - cpu)
        assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
        report = json.loads(run.stdout)
        started = datetime.fromisoformat(report["started_at"].replace("Z", "+00:00")).timestamp()
        finished = datetime.fromisoformat(report["finished_at"].replace("Z", "+00:00")).timestamp()
        phases.append((started - began, finished - started, report["clips"][0]["seconds"] or 0.0, ended - finished))

    postprod()  # the database made, bytecode compiled
    phases.clear()
    cpus[0].clear()
    o, hnd, ratio = alternated(repeats, postprod, by_hand)
    up, batch_s, clip_s, after = (statistics.median(p[i] for p in phases) for i in range(4))
    cpu_ratio = statistics.median(h / c for c, h in zip(*cpus, strict=True))
    return (f"| {src.name} | {preset} | {o:.2f} s | {hnd:.2f} s | {ratio:.3f} | {statistics.median(cpus[0]):.2f} s "
            f"| {statistics.median(cpus[1]):.2f} s | {cpu_ratio:.3f} | {up:.2f} s | {batch_s:.2f} s ({clip_s:.2f} s) "
            f"| {after:.2f} s | {load()} |")


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_and_wall(cmd: list[str]) -> tuple[float, float]:
    c, t = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return children_cpu() - c, time.perf_counter() - t


def our_command(preset: str, src: Path, dst_dir: Path) -> list[str]:
    """The ffmpeg command postprod runs for this clip in a batch of one (its threads, graph, maps, options)."""
    from ingest.proxies.encode import ffmpeg_command
    from ingest.proxies.verify import describe_source

    one = plan_batch([src], preset, "bench", bench_settings(), workers=1, out=fresh_out("cpu"))
    one.encodes.started(one.jobs[0])  # as make_proxy does before building the command
    media = describe_source(src, src.stat(), None)
    cmd, *_ = ffmpeg_command(one, media, dst_dir / f"ours{one.preset.extension}")
    one.encodes.settled(one.jobs[0])
    return cmd


def command_cpu(preset: str, src: Path, ffmpeg: str, height: int, repeats: int) -> str:
    """The two ffmpeg command lines alone: CPU (user+sys) and wall, alternated; one markdown row."""
    w, h = SIZES[preset][height]
    ext = {"avid-dnxhr-lb": ".mxf", "prores-proxy": ".mov", "h264-review": ".mp4"}[preset]
    hand = hand_typed(preset, ffmpeg, src, OUT / f"hand{ext}", h, w, src.stem)
    ours_cmd = our_command(preset, src, OUT)
    pairs = []
    for i in range(repeats):  # ABBA, as _common.alternated
        if i % 2 == 0:
            pairs.append((cpu_and_wall(ours_cmd), cpu_and_wall(hand)))
        else:
            theirs = cpu_and_wall(hand)
            pairs.append((cpu_and_wall(ours_cmd), theirs))
    med = statistics.median
    oc, ow = med(p[0][0] for p in pairs), med(p[0][1] for p in pairs)
    hc, hw = med(p[1][0] for p in pairs), med(p[1][1] for p in pairs)
    cr, wr = med(p[1][0] / p[0][0] for p in pairs), med(p[1][1] / p[0][1] for p in pairs)
    return (f"| {src.name} | {preset} | {oc:.2f} s, {ow:.2f} s | {hc:.2f} s, {hw:.2f} s | {cr:.3f} | {wr:.3f} "
            f"| {load()} |")


PRESETS = ("avid-dnxhr-lb", "prores-proxy", "h264-review")
PARTS = ("encode", "overhead", "batch", "command", "cpu")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--uhd-seconds", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--batch-seconds", type=float, default=2.0)
    ap.add_argument("--parts", default=",".join(PARTS), help=f"which tables, of {', '.join(PARTS)}")
    ap.add_argument("--presets", default=",".join(PRESETS))
    args = ap.parse_args()
    parts, presets = args.parts.split(","), args.presets.split(",")
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
    if args.uhd_seconds <= 0:
        del sources["UHD25 H.264"]
    for path, _, _, spec in sources.values():
        if not path.exists():
            make_clip(path, spec, ffmpeg)
    print(f"# proxy bench  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {platform.node()}  "
          f"{os.cpu_count()} cores  {ffmpeg_version(ffmpeg)}  ({load()} at the start)")
    if "encode" in parts:
        encodes(sources, presets, ffmpeg, args.repeats)
    hq = sources["1080p25 ProRes 422 HQ"][0]
    if "overhead" in parts:
        overhead(hq, presets, args.repeats)
    if "batch" in parts:
        batch(ffmpeg, args.batch, args.batch_seconds, args.repeats)
    if "cpu" in parts:
        print(f"\n| source | preset | postprod's ffmpeg: CPU (user+sys), wall (medians) | hand-typed ffmpeg: CPU, wall "
              f"| CPU ratio hand/postprod (median of {args.repeats} alternated pairs) | wall ratio | load |")
        print("|---|---|---|---|---|---|---|")
        for preset in presets:
            print(command_cpu(preset, hq, ffmpeg, 1080, args.repeats), flush=True)
    if "command" in parts:
        print(f"\n| source, a batch of one | preset | `postprod proxy --json` (median) | hand-typed ffmpeg (median) "
              f"| ratio hand/postprod (median of {args.repeats} alternated pairs) | CPU (user+sys): postprod, its "
              "children included | hand-typed | CPU ratio hand/postprod (median of the pairs) "
              "| postprod: start to the batch "
              "(start-up, imports, settings, ffmpeg's capabilities, the store) | the batch (of which the clip: "
              "probe, encode, verify, record) | after the batch (ALE, JSON, exit) | load |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for preset in presets:
            print(whole_command(preset, hq, ffmpeg, 1080, args.repeats), flush=True)


def encodes(sources: dict, presets: list[str], ffmpeg: str, repeats: int) -> None:
    print("| source | preset | postprod × real time (best) | hand-typed ffmpeg × real time (best) "
          "| ratio hand/postprod, best runs | ratio, medians |")
    print("|---|---|---|---|---|---|")
    for label, (src, height, seconds, _) in sources.items():
        for preset in presets:
            w, h = SIZES[preset][height]
            ext = {"avid-dnxhr-lb": ".mxf", "prores-proxy": ".mov", "h264-review": ".mp4"}[preset]
            cmd = hand_typed(preset, ffmpeg, src, OUT / f"hand{ext}", h, w, src.stem)
            ours_t, hand_t = [], []
            for _ in range(repeats):
                hand_t.append(timed(lambda c=cmd: subprocess.run(c, check=True)))
                ours_t.append(timed(lambda p=preset, s=src: ours(p, s)))
            o, hnd = min(ours_t), min(hand_t)
            med = statistics.median(hand_t) / statistics.median(ours_t)
            print(f"| {label}, {seconds:g} s | {preset} | {seconds / o:.2f} ({o:.2f} s) | {seconds / hnd:.2f} "
                  f"({hnd:.2f} s) | {hnd / o:.3f} | {med:.3f} |", flush=True)


def overhead(src: Path, presets: list[str], repeats: int) -> None:
    """What postprod adds per clip outside ffmpeg (probe, hashes, re-probe, verification, catalogue): timed
    around the encode itself, so the machine's load barely touches it."""
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
    print(f"\n| preset, {src.name} | whole make_proxy (best) | of which ffmpeg | postprod's own work per clip |")
    print("|---|---|---|---|")
    for preset in presets:
        rows = []
        for _ in range(repeats):
            spent.clear()
            one = plan_batch([src], preset, "bench", bench_settings(), workers=1, out=fresh_out("over"))
            t = time.perf_counter()
            proxy_module.make_proxy(one.jobs[0], one)
            whole = time.perf_counter() - t
            rows.append((whole - spent[0], whole, spent[0]))
        own, whole, enc = min(rows)
        print(f"| {preset} | {whole:.2f} s | {enc:.2f} s | {own * 1000:.0f} ms |", flush=True)
    proxy_module.run_ffmpeg = real_run


def batch(ffmpeg: str, size: int, seconds: float, repeats: int) -> None:
    """Batch throughput: N clips of 1080p ProRes HQ, h264-review, bound 1 vs default, against the same
    hand-typed commands run as many at a time (a shell loop; `xargs -P`), alternated."""
    from concurrent.futures import ThreadPoolExecutor

    card = OUT / "batch_card"
    if not card.exists() or len(list(card.glob("*.mov"))) != size:
        shutil.rmtree(card, ignore_errors=True)
        one = OUT / f"batch_{seconds:g}s.mov"
        if not one.exists():
            make_clip(one, ClipSpec(width=1920, height=1080, seconds=seconds, codec="prores_hq",
                                    timecode="10:00:00:00", reel="A001"), ffmpeg)
        card.mkdir(parents=True)
        for i in range(size):
            shutil.copy2(one, card / f"A001C{i + 1:03d}.mov")
    clips = sorted(card.glob("*.mov"))
    hand_out = OUT / "runs" / "hand_batch"
    hand_out.mkdir(parents=True, exist_ok=True)
    commands = [hand_typed("h264-review", ffmpeg, c, hand_out / f"{c.stem}.mp4", 540, 960, c.stem) for c in clips]
    total = size * seconds
    print(f"\n| batch of {size} × {seconds:g} s 1080p ProRes HQ, h264-review | postprod wall time (median) "
          "| × real time | clips/min | hand-typed, as many at a time (median) | ratio hand/postprod (median) | load |")
    print("|---|---|---|---|---|---|---|")
    for workers in (1, default_workers()):
        def ours_batch(w: int = workers) -> None:
            run_batch(plan_batch([card], "h264-review", "bench", bench_settings(), workers=w, out=fresh_out("batch")))

        def hand_batch(w: int = workers) -> None:
            with ThreadPoolExecutor(max_workers=w) as pool:
                list(pool.map(lambda c: subprocess.run(c, check=True), commands))

        o, hnd, ratio = alternated(max(1, repeats - 1), ours_batch, hand_batch)
        print(f"| proxy_workers = {workers} | {o:.2f} s | {total / o:.2f} | {size / o * 60:.1f} | {hnd:.2f} s "
              f"| {ratio:.3f} | {load()} |", flush=True)


if __name__ == "__main__":
    main()
