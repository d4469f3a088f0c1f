"""The QC's pipes read ahead while the meters are made (numpy loading): the meters then read the very bytes of
the pipe, in order, and the analysis measures what it measures without reading ahead."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import replace

import pytest

import qc.analyse
import qc.pipes
from media.probe import probe_file
from qc.pipes import meanwhile
from qc.profile import load_profile
from qc.synth import Defect, MasterSpec, make_master

# 3 MiB of numbered lines, written in uneven pieces
WRITER = ("import sys\n"
          "data = b''.join(b'%08d\\n' % i for i in range(350_000))\n"
          "for i in range(0, len(data), 77_777): sys.stdout.buffer.write(data[i:i + 77_777]); sys.stdout.flush()\n")
EXPECTED = b"".join(b"%08d\n" % i for i in range(350_000))


def _writer() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE)


@pytest.mark.parametrize("limit", [64 << 20, 100_000])  # all of it ahead; ahead only up to a limit
@pytest.mark.parametrize("wait", [0.0, 0.5])
def test_what_was_read_ahead_then_the_rest_in_order(limit, wait, monkeypatch):
    monkeypatch.setattr(qc.pipes, "READ_AHEAD_BYTES", limit)
    with _writer() as proc:
        (fh,) = meanwhile([proc.stdout], lambda: time.sleep(wait))  # type: ignore[list-item]
        got, view = bytearray(), memoryview(bytearray(1_000_003))
        while n := fh.readinto(view):  # as the picture reader reads
            got += view[:n]
        fh.close()
    assert bytes(got) == EXPECTED
    with _writer() as proc:
        (fh,) = meanwhile([proc.stdout], lambda: time.sleep(wait))  # type: ignore[list-item]
        with fh:
            pieces = list(iter(lambda: fh.read(384_000), b""))  # as the sound reader reads
    assert b"".join(pieces) == EXPECTED
    assert {len(p) for p in pieces[:-1]} == {384_000}


def test_the_work_failing_stops_the_reading_ahead():
    def fails() -> None:
        raise RuntimeError("no numpy")

    with _writer() as proc:
        with pytest.raises(RuntimeError, match="no numpy"):
            meanwhile([proc.stdout], fails)  # type: ignore[list-item]
        proc.kill()
    assert not [t for t in threading.enumerate() if t.name == "qc-read-ahead"]


def test_a_pass_read_ahead_measures_what_it_measures_read_as_it_comes(tmp_path, ffmpeg, monkeypatch):
    from test_qc import TEST_PROFILE

    profile_path = tmp_path / "p.toml"
    profile_path.write_text(TEST_PROFILE)
    profile = load_profile(profile_path)
    spec = replace(MasterSpec(seconds=1.0), defects=(Defect("black", 5, 4), Defect("silence", 12, 6, channel=2),
                                                     Defect("peak", 18, 2), Defect("illegal", 20, 3)))
    master = make_master(tmp_path / "m.mxf", spec, ffmpeg)
    media = probe_file(master, ffmpeg=ffmpeg, decode_check="none")

    def measured() -> dict:
        a = qc.analyse.analyse(media, profile, ffmpeg)
        return a.model_dump(mode="json", exclude={"command", "elapsed_seconds", "cpu_seconds", "meter_cpu_seconds"})

    meters = qc.analyse._meters
    monkeypatch.setattr(qc.analyse, "_meters", lambda *a: (time.sleep(1.0), meters(*a)))  # ffmpeg runs ahead
    ahead = measured()
    monkeypatch.setattr(qc.analyse, "meanwhile", lambda pipes, work: (work(), pipes)[1])  # read as it comes
    assert measured() == ahead
    assert ahead["frames_decoded"] == 25 and ahead["black"] and ahead["silence"]
