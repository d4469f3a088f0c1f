"""A QC whose decode is stopped has no verdict: not "truncated", not "fail", not a half-written report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import children
from qc.profile import load_profile
from qc.run import qc_master
from qc.synth import MasterSpec, make_master


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    return make_master(tmp_path_factory.mktemp("stopped") / "clean.mxf", MasterSpec(), ffmpeg)


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_qc import TEST_PROFILE

    p = tmp_path_factory.mktemp("stopped-profile") / "test-small.toml"
    p.write_text(TEST_PROFILE)
    return p


def _ffmpeg_that(tmp_path: Path, ffmpeg: str, on_pass: str) -> Path:
    """The real ffmpeg, except that its QC pass (the one with a filter graph) does `on_pass` instead."""
    wrapper = tmp_path / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\ncase "$*" in *-filter_complex*) {on_pass};; esac\nexec "{ffmpeg}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def test_a_decode_killed_by_a_signal_is_interrupted_not_a_verdict(master, profile, ffmpeg, tmp_path):
    # As the OOM killer or an operator's `kill -9` does to ffmpeg: before, this read as "no picture could be
    # decoded" (unusable) or, part-way, as a truncated master (fail).
    killed = _ffmpeg_that(tmp_path, ffmpeg, "kill -KILL $$")
    with pytest.raises(children.Interrupted, match="SIGKILL"):
        qc_master(master, load_profile(profile), str(killed))
    assert qc_master(master, load_profile(profile), ffmpeg).verdict == "pass"  # the same master, left alone


def test_ffmpeg_that_caught_a_stop_signal_is_interrupted(master, ffmpeg):
    # Real ffmpeg, read in real time so that it is still running: on SIGTERM it closes its output and exits
    # 255 as if the input had ended. That exit is recognised as a stop, whatever the ffmpeg version.
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-re", "-i", str(master), "-f", "null", "-"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    # Signal it once it is decoding ("Stream mapping:" comes after its signal handlers are set): a fixed sleep
    # raced ffmpeg's own start-up on a loaded machine.
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("Stream mapping:"):
            break
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=30)
    stderr = "".join(seen) + rest
    with pytest.raises(children.Interrupted, match="signal 15"):
        children.check_stopped(cmd, proc.returncode, stderr)
    children.check_stopped(cmd, 0, "")  # an ended run is no stop
    children.check_stopped(cmd, 1, "Error while decoding stream")


def test_a_service_stop_ends_the_qc_and_its_ffmpeg_without_a_report(master, profile, ffmpeg, tmp_path):
    # systemd's stop (SIGTERM to postprod): the command unwinds, stops its ffmpeg (in a session of its own,
    # so it hears only postprod) and writes no report; before, postprod died on the spot, ffmpeg running on.
    pidfile = tmp_path / "ffmpeg.pid"
    slow = _ffmpeg_that(tmp_path, ffmpeg, f'echo $$ > "{pidfile}"; sleep 60; exit 0')
    reports = tmp_path / "reports"
    env = {**os.environ, "POSTPROD_FFMPEG": str(slow)}
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "qc", str(master), "--profile", str(profile),
                             "--report", str(reports)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + 60
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the QC pass never started"
        time.sleep(0.05)
    child = int(pidfile.read_text())
    born = _started(child)  # its start time: a pid used again by another process later is not this child
    assert os.getsid(child) != os.getsid(proc.pid)  # its own session: a Ctrl-C to the terminal does not reach it
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    deadline = time.monotonic() + 10  # killed at once; its reaping by init may lag on a loaded machine
    while _alive(child, born) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child, born)
    assert not list(reports.glob("**/*.json"))


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return []


def _started(pid: int) -> str | None:
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else None  # starttime, field 22 of proc(5)


def _alive(pid: int, born: str | None) -> bool:
    """That process running (not gone, not a zombie waiting for init to reap it, not another one since)."""
    fields = _stat(pid)
    return len(fields) > 19 and fields[0] != "Z" and fields[19] == born
