"""`postprod qc` starts the pass's ffmpeg before pydantic, the settings and the probe load (qc/headstart.py), on an
ffmpeg before 7.0; the analysis takes it only for its very command, and the reports are those of a pass started
the usual way. Which processes start, and what they make: nothing timed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from media.ffmpeg.caps import capabilities
from qc.synth import Defect, MasterSpec, make_master

ROOT = Path(__file__).resolve().parents[2]

# `postprod qc ARGS` in a fresh interpreter, each child started through config.children noted (its first words,
# whether pydantic was loaded then, its exit code); `early=0` turns the head start off (the usual way).
RUN = """
import json, sys
from pathlib import Path
from config import children
from qc import headstart

spawned = []
popen = children.popen

def noting(cmd, **kwargs):
    note = {"script": "-filter_complex_script" in cmd, "pydantic": "pydantic" in sys.modules}
    spawned.append(note)
    cm = popen(cmd, **kwargs)
    proc = cm.__enter__()
    note["proc"] = proc

    class Wrapped:
        def __enter__(self):
            return proc

        def __exit__(self, *exc):
            return cm.__exit__(*exc)
    return Wrapped()

children.popen = noting
if sys.argv[1] == "0":
    headstart.start = lambda *a, **k: None
from cli.main import run
code = run(sys.argv[2:])
print(json.dumps({"code": code, "spawned": [{"script": n["script"], "pydantic": n["pydantic"],
                  "rc": n["proc"].returncode} for n in spawned], "live": len(children._live),
                  "left": headstart._head is not None}))
"""

TIMES = re.compile(r'"(checked_at|elapsed_seconds|analysis_seconds|cpu_seconds|meter_cpu_seconds)": [^,\n]+')


def qc(early: bool, master: Path, profile: str, reports: Path, ffmpeg: str, tmp: Path) -> tuple[dict, dict, str]:
    """(what the run noted, the JSON report as printed, the HTML page), times taken out."""
    out = tmp / f"out-{early}.json"
    scratch = tmp / "scratch"  # its own temporary folder: what another process leaves in /tmp is not its
    scratch.mkdir(exist_ok=True)
    env = {**{k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}, "POSTPROD_FFMPEG": ffmpeg,
           "PYTHONPATH": str(ROOT), "DO_NOT_TRACK": "1", "TMPDIR": str(scratch)}
    done = subprocess.run([sys.executable, "-c", RUN, "1" if early else "0", "qc", str(master), "--profile",
                           profile, "--report", str(reports), "--json"], capture_output=True, text=True,
                          cwd=tmp, env=env, timeout=300, check=False)
    noted = json.loads(done.stdout.strip().splitlines()[-1])
    printed = "\n".join(done.stdout.strip().splitlines()[:-1])
    if not printed:
        return noted, {}, ""
    out.write_text(TIMES.sub("", printed.replace(str(reports), "REPORTS")))
    html = next(reports.glob("*.html")).read_text()
    html = re.sub(r"checked \S+ · [\d.]+ s|one ffmpeg decode, [\d.]+ s", "", html)
    return noted, json.loads(TIMES.sub(r'"\1": 0', printed.replace(str(reports), "REPORTS"))), html


@pytest.mark.parametrize("sound", [8, 0])
def test_the_early_ffmpeg_is_the_pass_or_is_killed_and_the_reports_are_the_same(sound, ffmpeg, tmp_path):
    spec = MasterSpec(seconds=1.0, audio_channels=sound, defects=(Defect("black", 5, 10),) if sound else ())
    master = make_master(tmp_path / "m.mxf", spec, ffmpeg)
    early, early_json, early_html = qc(True, master, "ebu-r128-hd25", tmp_path / "a", ffmpeg, tmp_path)
    usual, usual_json, usual_html = qc(False, master, "ebu-r128-hd25", tmp_path / "b", ffmpeg, tmp_path)
    assert early_json and early_json == usual_json and early_html == usual_html
    assert early["code"] == usual["code"] == 1  # fails ebu-r128-hd25's raster at least
    assert early["live"] == usual["live"] == 0 and not early["left"]
    assert usual["spawned"] == [{"script": False, "pydantic": True, "rc": 0}]  # the usual way
    release = capabilities(ffmpeg).release
    if release is None or release >= (7, 0):  # not started early
        assert early["spawned"] == usual["spawned"]
    elif sound:  # started before pydantic loaded, and taken
        assert early["spawned"] == [{"script": True, "pydantic": False, "rc": 0}]
    else:  # started, killed unused (no sound: another command line), then the usual pass
        assert early["spawned"] == [{"script": True, "pydantic": False, "rc": -9},
                                    {"script": False, "pydantic": True, "rc": 0}]
    assert not list((tmp_path / "scratch").iterdir())  # its folders (the pass's, the thumbnails') all removed


def test_an_early_ffmpeg_nobody_takes_is_killed(ffmpeg, tmp_path):
    master = make_master(tmp_path / "m.mxf", MasterSpec(seconds=1.0), ffmpeg)
    noted, printed, _ = qc(True, master, "no-such-profile", tmp_path / "a", ffmpeg, tmp_path)
    assert noted["code"] == 2 and not printed  # the unknown profile, before any analysis
    assert noted["live"] == 0 and not noted["left"]
    release = capabilities(ffmpeg).release
    expected = [] if release is None or release >= (7, 0) else [{"script": True, "pydantic": False, "rc": -9}]
    assert noted["spawned"] == expected
