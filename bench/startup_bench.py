"""How long a user waits for a command to answer: `postprod probe CLIP`, `plan status`, a small conform and QC,
and every `--help`, each beside `python -c pass` (the interpreter alone) and, where there is one, the raw tool
doing the same (`mediainfo CLIP` for probe, a bare ffmpeg decode for QC).

Runs every command once per round, in turn (so that load falls on all of them alike), N rounds; prints the
median wall time and the median CPU time (user + system, the command's children included) of each, as
markdown table rows, with the machine and its load. The ffmpeg capabilities cache is warm (a first run fills
it), as it is for a user from their second command on.

`qc`'s own start is shown apart where strace is installed: the time from the command's exec to its analysis's
ffmpeg exec (strace --seccomp-bpf traces execve alone: the Python start runs untraced), i.e. what the command costs
before the work it was asked for begins; the whole command's wall follows in its own row.

Run: python3 bench/startup_bench.py [N] [--uv] [--clip CLIP.mov] [--before TREE]
  --uv      run `python3 -m uv run postprod ...` (the README's way) instead of .venv/bin/postprod
  --clip    the clip to probe and QC (default: a 1 s 320x180 ProRes clip made with media/synth.py)
  --before  a copy of older code (`git archive COMMIT | tar -x -C TREE`): each command (but --help) runs from it
            and from this tree in turn, in this venv, both compiled first; prints before and after, wall and CPU,
            and the median of the paired ratios (after / before)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import OUT, load, machine, stamp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EDL = """TITLE: STARTUP BENCH
001  A001     V     C        10:00:00:00 10:00:00:10 01:00:00:00 01:00:00:10
* FROM CLIP NAME: A001C001_261123_R1AB
"""


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the process and the children it waited for) of one run."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = 0  # reaped by wait4
    return wall, usage.ru_utime + usage.ru_stime


def to_analysis(cmd: list[str], cwd: Path, env: dict[str, str]) -> float | None:
    """Seconds from `cmd`'s exec to the exec of its first ffmpeg with a filter graph (the QC's analysis pass), read
    from strace's timestamps; None without strace or without such an ffmpeg."""
    strace = shutil.which("strace")
    if not strace:
        return None
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "execve.txt"
        done = subprocess.run([strace, "--seccomp-bpf", "-f", "-ttt", "-e", "trace=execve", "-o", str(log), *cmd],
                              cwd=cwd, env=env, capture_output=True, check=False)
        if done.returncode not in (0, 1) or not log.exists():
            return None
        starts = [(float(line.split()[1]), line) for line in log.read_text().splitlines()
                  if " execve(" in line and "= 0" in line]
    if not starts:
        return None
    analysis = next((t for t, line in starts if "ffmpeg" in line.split("execve(", 1)[1].split(",", 1)[0]
                     and '"-filter_complex' in line), None)
    return None if analysis is None else analysis - starts[0][0]


def workspace(clip: Path | None) -> tuple[Path, Path]:
    """A production ('bench') with a plan, an edit list and a clip, in bench/out/startup."""
    folder = OUT / "startup"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "postprod.toml").write_text('data_dir = "data"\n\n[productions.bench]\nspec = "default"\n')
    (folder / "cut.edl").write_text(EDL)
    if clip is None:
        from fractions import Fraction

        from config.tools import find_ffmpeg
        from media.synth import ClipSpec, make_clip

        clip = folder / "A001C001_261123_R1AB.mov"
        if not clip.exists():
            make_clip(clip, ClipSpec(width=320, height=180, rate=Fraction(25), seconds=1.0, reel="A001",
                                     timecode="10:00:00:00"), find_ffmpeg())
    return folder, clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=11)
    parser.add_argument("--uv", action="store_true", help="run `python3 -m uv run postprod` (the README's way)")
    parser.add_argument("--clip", type=Path, default=None)
    parser.add_argument("--before", type=Path, default=None, help="older code to compare with, alternated")
    args = parser.parse_args()

    folder, clip = workspace(args.clip.resolve() if args.clip else None)
    venv_bin = ROOT / ".venv" / "bin"
    # The README's `python3 -m uv`: the system's Python, where uv is installed (the project's venv has no uv).
    postprod = [shutil.which("python3") or "python3", "-m", "uv", "run", "--project", str(ROOT), "postprod"] \
        if args.uv else [str(venv_bin / "postprod")]
    env = {**os.environ, "POSTPROD_CONFIG": str(folder / "postprod.toml"), "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    mediainfo = shutil.which("mediainfo")
    from config.tools import find_ffmpeg

    ffmpeg = find_ffmpeg(os.environ.get("POSTPROD_FFMPEG"))
    subprocess.run([*postprod, "plan", "create", "-p", "bench", "--template", "fiction"], cwd=folder, env=env,
                   capture_output=True, check=False)  # once (a second time says it exists)
    subprocess.run([*postprod, "probe", str(clip)], cwd=folder, env=env, capture_output=True, check=False)

    # (name, postprod's arguments, the raw tool's command or None)
    rows: list[tuple[str, list[str], list[str] | None]] = [
        (f"probe {clip.name}", ["probe", str(clip)], [mediainfo, str(clip)] if mediainfo else None),
        (f"probe {clip.name} --json", ["probe", str(clip), "--json"], None),
        # in a production whose catalogue exists: what it knows of the file is asked (ingest/catalogue_read.py)
        (f"probe {clip.name} -p bench --json", ["probe", str(clip), "-p", "bench", "--json"], None),
        ("conform cut.edl (1 event)", ["conform", "cut.edl", "-p", "bench", "--json"], None),
        (f"qc {clip.name}", ["qc", str(clip), "--profile", "ebu-r128-hd25", "--json"],
         [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(clip), "-f", "null", "-"]),
        ("plan status", ["plan", "status"], None),
        ("plan status --json", ["plan", "status", "--json"], None),
        ("--help", ["--help"], None),
        *[(f"{c} --help", [*c.split(), "--help"], None)
          # one of each command module (cli/main.py's COMMANDS), so that none of "every --help" goes unmeasured
          for c in ("probe", "conform", "qc", "plan", "plan status", "ingest", "proxy", "watch", "serve", "demo",
                    "deploy", "worker", "plan quote")],
    ]
    for name, argv, raw in rows:  # each runs as it should before it is timed (a failure is fast, and wrong)
        for cmd in ([*postprod, *argv], raw):
            if cmd:
                done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, check=False)
                if done.returncode not in (0, 1):
                    sys.exit(f"{name}: `{' '.join(cmd)}` exited {done.returncode}: {done.stderr[-1500:]}")
    if args.before:
        before_and_after(args.n, args.before.resolve(), [r for r in rows if "--help" not in r[1]], folder, env)
        return
    baseline = [str(venv_bin / "python"), "-c", "pass"]
    times: dict[str, list[tuple[float, float]]] = {}
    for _ in range(args.n):
        times.setdefault("python -c pass", []).append(timed(baseline, folder, env))
        for name, argv, raw in rows:
            times.setdefault(name, []).append(timed([*postprod, *argv], folder, env))
            if raw:
                times.setdefault(f"raw: {name}", []).append(timed(raw, folder, env))

    qc_args = next(argv for name, argv, _ in rows if name.startswith("qc "))
    to_pass = [t for _ in range(args.n) if (t := to_analysis([*postprod, *qc_args], folder, env)) is not None]
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    how = "python3 -m uv run postprod" if args.uv else ".venv/bin/postprod"
    print(f"\n{stamp()}, {machine()}, {load()}, {how}, median of {args.n}, capabilities cache warm\n")
    print("| command | wall s | CPU s | raw tool wall s | × raw | × `python -c pass` |")
    print("|---|---|---|---|---|---|")
    base = med([w for w, _ in times["python -c pass"]])
    print(f"| `python -c pass` | {base:.3f} | {med([c for _, c in times['python -c pass']]):.3f} | | | 1 |")
    for name, _, raw in rows:
        wall, cpu = med([w for w, _ in times[name]]), med([c for _, c in times[name]])
        raw_wall = med([w for w, _ in times[f"raw: {name}"]]) if raw else None
        raw_cells = f"{raw_wall:.3f} | {wall / raw_wall:.1f}" if raw_wall else " | "
        print(f"| `postprod {name}` | {wall:.3f} | {cpu:.3f} | {raw_cells} | {wall / base:.0f} |")
    if to_pass:
        print(f"| `postprod {qc_args[0]} ...`: from its exec to its analysis's ffmpeg exec (strace, {len(to_pass)} runs) "
              f"| {med(to_pass):.3f} | | | | {med(to_pass) / base:.0f} |")


def before_and_after(n: int, before: Path, rows: list[tuple[str, list[str], list[str] | None]], folder: Path,
                     env: dict[str, str]) -> None:
    """Each command from the older tree and from this one, in turn (the order swapped every round), in this
    venv: the medians of each and of the paired ratios, wall and CPU."""
    python = str(ROOT / ".venv" / "bin" / "python")
    for tree in (before, ROOT):
        subprocess.run([python, "-m", "compileall", "-qq", str(tree)], check=True)
    launch = [python, "-c", "from cli.main import main; main()"]
    envs = {"before": {**env, "PYTHONPATH": str(before)}, "after": {**env, "PYTHONPATH": str(ROOT)}}
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for i in range(n):
        for name, argv, _ in rows:
            for side in ("before", "after") if i % 2 == 0 else ("after", "before"):
                times.setdefault((name, side), []).append(timed([*launch, *argv], folder, envs[side]))
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    print(f"\n{stamp()}, {machine()}, {load()}, before: {before}, after: {ROOT}, {n} alternated pairs, medians\n")
    print("| command | before wall s | after wall s | after ÷ before (wall) | before CPU s | after CPU s "
          "| after ÷ before (CPU) |")
    print("|---|---|---|---|---|---|---|")
    for name, _, _ in rows:
        b, a = times[(name, "before")], times[(name, "after")]
        wall = med([y[0] / x[0] for x, y in zip(b, a, strict=True)])
        cpu = med([y[1] / x[1] for x, y in zip(b, a, strict=True)])
        print(f"| `postprod {name}` | {med([t[0] for t in b]):.3f} | {med([t[0] for t in a]):.3f} | {wall:.2f} "
              f"| {med([t[1] for t in b]):.3f} | {med([t[1] for t in a]):.3f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
