"""The QC's decode starts before numpy is loaded: the command's modules load none of it (qc/analyse.py makes the
meters once ffmpeg runs, and qc/run.py loads numpy beside MediaInfo's parse). Which modules, not how fast."""

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
