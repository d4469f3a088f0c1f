"""Benchmark: `postprod qc` against a bare decode and against one pass per measuring filter, same run.

    uv run python bench/qc_bench.py [--seconds 15] [--out bench/out]

Makes (once, cached in bench/out) an XDCAM HD422-like 1080i25 master (MPEG-2 4:2:2 50 Mb/s, MXF OP1a,
8 mono PCM tracks) and a ProRes 422 HQ 1080p25 master in MOV (8 channels), then times on each:
  * bare decode: `ffmpeg -i X -f null -`
  * each measuring filter in its own pass, at full resolution (ebur128, silencedetect, blackdetect,
    freezedetect, idet, signalstats) and all of them chained in one naive pass
  * the QC command, end to end (`postprod qc X --profile P --json`: Python start, probe, one decode,
    checks, reports with thumbnails) and its analysis alone (the ffmpeg decode and the numpy meters
    reading it).
`--qc-only` skips the separate passes (for long masters: the end-to-end figure against the bare decode).
`--branches` times instead the QC's own ffmpeg pass branch by branch, alternated (bare decode, then the picture
reduction with the idet strip, ebur128 with true peak, the raw sound added one after the other, then the whole
analysis with its numpy meters): wall, CPU (user + system) and the cores each keeps busy (CPU ÷ wall).
Prints a Markdown table with ratios; checks the QC loudness against a plain ebur128 pass.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.tools import find_ffmpeg
from qc.synth import MasterSpec, make_master

REPEAT = 2


CPU: dict[str, float] = {}


def timed(cmd: list[str], name: str = "") -> tuple[float, str]:
    """Wall seconds, best of REPEAT runs (the machine is shared: the minimum is the least disturbed figure).

    The CPU seconds (user + system, all threads) of the best run go into CPU[name]: on a shared machine
    they say more about the work done than the wall clock does.
    """
    best, log = float("inf"), ""
    for _ in range(REPEAT):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        dt = time.monotonic() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-800:]}")
        if dt < best:
            best, log = dt, proc.stdout + proc.stderr
            CPU[name] = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
    return best, log


def passes(ffmpeg: str, master: Path) -> dict[str, list[str]]:
    base = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-i", str(master)]
    two = "[0:a:0][0:a:1]amerge=inputs=2," if master.suffix == ".mxf" else "[0:a:0]pan=stereo|c0=c0|c1=c1,"
    one = "[0:a:0]" if master.suffix == ".mxf" else "[0:a:0]pan=mono|c0=c0,"
    v = "[0:v:0]"
    return {
        "bare decode": [*base, "-f", "null", "-"],
        "ebur128": [*base, "-filter_complex", f"{two}ebur128=peak=true", "-f", "null", "-"],
        "silencedetect": [*base, "-filter_complex", f"{one}silencedetect", "-f", "null", "-"],
        "blackdetect": [*base, "-filter_complex", f"{v}blackdetect", "-f", "null", "-"],
        "freezedetect": [*base, "-filter_complex", f"{v}freezedetect", "-f", "null", "-"],
        "idet": [*base, "-filter_complex", f"{v}idet", "-f", "null", "-"],
        "signalstats": [*base, "-filter_complex", f"{v}signalstats", "-f", "null", "-"],
        "all filters, one naive pass": [*base, "-filter_complex",
                                        (f"{v}blackdetect,freezedetect,idet,signalstats[vo];"
                                        f"{two}asplit[a1][a2];[a1]ebur128=peak=true[ao];"
                                        "[a2]silencedetect,anullsink"), "-map", "[vo]", "-map", "[ao]",
                                        "-f", "null", "-"],
    }


# The picture graph holds the fields too (the idet strip ends in a nullsink inside it).
BRANCHES = {"picture + fields": ("[vpic]", ["-map", "[vpic]", "-fps_mode", "passthrough", "-f", "rawvideo", "/dev/null"]),
            "loudness": ("[aout]", ["-map", "[aout]"]),
            "sound": ("[araw]", ["-map", "[araw]", "-f", "f32le", "/dev/null"])}


def branch_commands(ffmpeg: str, master: Path, profile: str, work: Path) -> dict[str, list[str]]:
    """The bare decode, then the QC's pass with its branches added one by one (outputs thrown away)."""
    from media.probe import probe_file
    from qc.analyse import pass_command
    from qc.profile import load_profile

    full = pass_command(probe_file(master, ffmpeg=ffmpeg, decode_check="none"), load_profile(profile), ffmpeg,
                        work, audio_fd=3)
    graphs = [full[i + 1] for i, arg in enumerate(full) if arg == "-filter_complex"]
    base = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y", "-threads", "0",
            "-i", str(master)]
    out = {"bare decode": [*base, "-f", "null", "-"]}
    chosen: list[str] = []
    for name, (label, _) in BRANCHES.items():
        graph = next((g for g in graphs if label in g), None)
        if graph is None:
            continue
        chosen.append(name)
        cmd = list(base)
        for n in chosen:
            cmd += ["-filter_complex", next(g for g in graphs if BRANCHES[n][0] in g)]
        for n in chosen:
            cmd += BRANCHES[n][1] if n != "loudness" else []
        nulls = [a for n in chosen if n == "loudness" for a in BRANCHES[n][1]]
        if nulls:
            cmd += [*nulls, "-f", "null", "-"]
        out[" + ".join(chosen)] = cmd
    return out


def main_thread_cpu(cmd: list[str]) -> tuple[int, str, float]:
    """Run `cmd`; (exit code, stderr, CPU seconds of its main thread, read from /proc every 20 ms until it ends).

    ffmpeg 5.1 runs every filter and output in its main thread: that thread is what a slice-threaded decode
    (MPEG-2) waits for, whatever the load of the machine."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    tick, main = os.sysconf("SC_CLK_TCK"), 0.0
    while proc.poll() is None:
        try:
            stat = Path(f"/proc/{proc.pid}/task/{proc.pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            main = (int(fields[11]) + int(fields[12])) / tick  # the main thread alone: utime + stime
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.02)
    return proc.returncode, proc.stderr.read() if proc.stderr else "", main


def branches(ffmpeg: str, master: Path, profile: str, repeat: int) -> None:
    """Each branch's cost, alternated: every command once per round, `repeat` rounds, medians."""
    import statistics
    import tempfile

    from media.probe import probe_file
    from qc.analyse import analyse
    from qc.profile import load_profile

    with tempfile.TemporaryDirectory() as tmp:
        todo = branch_commands(ffmpeg, master, profile, Path(tmp))
        media, prof = probe_file(master, ffmpeg=ffmpeg, decode_check="none"), load_profile(profile)
        runs: dict[str, list[tuple[float, float, float]]] = {k: [] for k in [*todo, "the analysis (pass + numpy meters)"]}
        for _ in range(repeat):
            for name, cmd in todo.items():
                r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
                rc, stderr, main = main_thread_cpu(cmd)
                dt, r1 = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
                if rc:
                    raise SystemExit(f"failed: {' '.join(cmd)}\n{stderr[-800:]}")
                runs[name].append((dt, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, main))
            a = analyse(media, prof, ffmpeg)
            runs["the analysis (pass + numpy meters)"].append((a.elapsed_seconds,
                                                             (a.cpu_seconds or 0) + (a.meter_cpu_seconds or 0), 0.0))
    med = {k: tuple(statistics.median(r[i] for r in v) for i in range(3)) for k, v in runs.items()}
    bw, bc, bm = med["bare decode"]
    print("| run | wall s | × bare | CPU s | × bare CPU | cores busy | ffmpeg's main thread, CPU s | × bare |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, (w, c, m) in med.items():
        thread = f"{m:.2f} | {m / bm:.2f}" if m else "— | —"
        print(f"| {name} | {w:.2f} | {w / bw:.2f} | {c:.2f} | {c / bc:.2f} | {c / w:.2f} | {thread} |")
    print(f"\n(medians of {repeat} alternated rounds; load average now {os.getloadavg()[0]:.1f})\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    ap.add_argument("--repeat", type=int, default=2, help="runs per figure; the best is kept")
    ap.add_argument("--qc-only", action="store_true", help="only the bare decode and the QC command")
    ap.add_argument("--branches", action="store_true", help="the QC's own pass, branch by branch, alternated")
    args = ap.parse_args()
    global REPEAT
    REPEAT = args.repeat
    ffmpeg = find_ffmpeg(os.environ.get("POSTPROD_FFMPEG"))  # the one postprod runs too
    args.out.mkdir(parents=True, exist_ok=True)
    masters = {
        "XDCAM HD422 1080i25 (MPEG-2 50 Mb/s, MXF, 8 mono PCM)": (
            args.out / f"xdcam_1080i25_{args.seconds:g}s.mxf",
            MasterSpec(width=1920, height=1080, seconds=args.seconds, codec="xdcam", video_bit_rate="50M",
                       scan="tff"), "fr-pad-hd"),
        "ProRes 422 HQ 1080p25 (MOV, 8 ch PCM)": (
            args.out / f"prores_1080p25_{args.seconds:g}s.mov",
            MasterSpec(width=1920, height=1080, seconds=args.seconds, codec="prores", scan="progressive",
                       audio_layout="one-track"), "netflix-hd"),
    }
    postprod = shutil.which("postprod") or str(Path(sys.executable).parent / "postprod")
    print(f"# QC benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}, {args.seconds:g} s of material per master, best of "
          f"{REPEAT} runs, load average at start {os.getloadavg()[0]:.1f}\n")
    for label, (path, spec, profile) in masters.items():
        if not path.exists():
            t0 = time.monotonic()
            make_master(path, spec, ffmpeg)
            print(f"(made {path.name} in {time.monotonic() - t0:.0f} s)\n")
        if args.branches:
            print(f"### {label}: the QC's pass branch by branch\n")
            branches(ffmpeg, path, profile, REPEAT)
            continue
        rows: dict[str, float] = {}
        todo = passes(ffmpeg, path)
        if args.qc_only:
            todo = {k: v for k, v in todo.items() if k in ("bare decode", "ebur128")}
        for name, cmd in todo.items():
            rows[name], log = timed(cmd, name)
            if name == "ebur128":
                plain_i = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1])
        t_qc, out = timed([postprod, "qc", str(path), "--profile", profile, "--json", "--report",
                           str(args.out / "reports")], "qc")
        report = json.loads(out[: out.rindex("}") + 1])
        bare = rows["bare decode"]
        separate = sum(v for k, v in rows.items() if k not in ("bare decode", "all filters, one naive pass"))
        cbare = CPU["bare decode"]
        csep = sum(v for k, v in CPU.items() if k not in ("bare decode", "all filters, one naive pass", "qc"))
        print(f"### {label}\n\n| run | wall s | × bare | CPU s | × bare CPU |\n|---|---:|---:|---:|---:|")
        for name, dt in rows.items():
            print(f"| {name} | {dt:.2f} | {dt / bare:.2f} | {CPU[name]:.2f} | {CPU[name] / cbare:.2f} |")
        if not args.qc_only:
            print(f"| each filter in its own pass, total | {separate:.2f} | {separate / bare:.2f} | {csep:.2f} | "
                  f"{csep / cbare:.2f} |")
        qcpu = report["measurements"]["cpu_seconds"] + (report["measurements"].get("meter_cpu_seconds") or 0)
        print(f"| **postprod qc, its analysis** (the one decode + the numpy meters) | {report['analysis_seconds']:.2f} | "
              f"{report['analysis_seconds'] / bare:.2f} | {qcpu:.2f} | {qcpu / cbare:.2f} |")
        print(f"| **postprod qc, end to end** (CLI start, probe, decode, checks, thumbnails, reports) | "
              f"{t_qc:.2f} | {t_qc / bare:.2f} | {CPU['qc']:.2f} | {CPU['qc'] / cbare:.2f} |")
        CPU.clear()
        qc_i = report["measurements"]["integrated"]
        if not args.qc_only:
            print(f"\nseparate passes ÷ QC analysis: **{separate / report['analysis_seconds']:.1f}×** wall, "
                  f"**{csep / qcpu:.1f}×** CPU; naive one pass ÷ QC analysis: "
                  f"{rows['all filters, one naive pass'] / report['analysis_seconds']:.1f}×; ", end="")
        else:
            print()
        print(f"verdict {report['verdict']}. Integrated loudness: QC {qc_i:.2f} LUFS, plain ebur128 {plain_i:.1f} "
              f"LUFS (Δ {abs(qc_i - plain_i):.2f} LU).\n")


if __name__ == "__main__":
    main()
