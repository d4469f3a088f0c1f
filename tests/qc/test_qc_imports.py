"""The QC's decode starts before numpy is loaded: the command's modules load none of it (qc/analyse.py makes the
meters once ffmpeg runs, and nothing loads it before: the analysis ffmpeg starts first). Which modules, not how fast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_qc_command_modules_load_no_numpy() -> None:
    code = ("import sys, cli.commands.qc, flows.qc, qc.analyse, qc.checks, qc.report, qc.graph; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'numpy')[:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout.strip()
    assert out == "[]", out


# Run in a fresh interpreter (this one may have numpy loaded already): the QC of a master, each child's start noted
# with whether numpy was loaded at that moment.
WATCH_STARTS = """
import sys
from pathlib import Path
from config import children
from qc.profile import load_profile
from qc.run import qc_master

starts = []
popen = children.popen

def noting(cmd, **kwargs):
    starts.append((Path(cmd[0]).name, "numpy" in sys.modules))
    return popen(cmd, **kwargs)

children.popen = noting
report = qc_master(Path(sys.argv[1]), load_profile("ebu-r128-hd25"), sys.argv[2])
print(report.verdict, starts, "numpy" in sys.modules)
"""


def test_the_analysis_ffmpeg_starts_before_numpy_loads(make_media, ffmpeg) -> None:
    # numpy loads once the analysis runs (the meters are made then), not beside the probe: a thread importing it
    # there shares the interpreter with the probe's own readers and puts off ffmpeg's start (2026-12-01, issue 17).
    from conftest import small_clip

    clip = make_media("numpy-after.mov", small_clip(timecode="10:00:00:00", reel="A001"))
    out = subprocess.run([sys.executable, "-c", WATCH_STARTS, str(clip), ffmpeg], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout.strip()
    verdict, rest = out.split(" ", 1)
    assert verdict in ("pass", "fail"), out
    assert rest == "[('" + Path(ffmpeg).name + "', False)] True", out  # one analysis ffmpeg; numpy after it
