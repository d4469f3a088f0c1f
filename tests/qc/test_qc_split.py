"""The QC pass as two processes (picture, sound), on an ffmpeg that runs every filter on its main thread (before
7.0), measures what one process measures, on real masters made by real ffmpeg; a master whose decode says
anything (a damaged one) is measured in one process, so that its decoder messages stay those of one pass."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import qc.analyse
from media.probe import probe_file
from media.synth import truncated_copy
from qc.analyse import analyse
from qc.profile import load_profile
from qc.synth import Defect, MasterSpec, make_master

PLANTED = (Defect("black", 7, 4), Defect("freeze", 17, 7), Defect("silence", 21, 9, channel=2),
           Defect("peak", 33, 2, channel=1), Defect("intersample", 12, 3, channel=2), Defect("illegal", 41, 3))
VARYING = ("elapsed_seconds", "cpu_seconds", "meter_cpu_seconds", "command")


@pytest.fixture(scope="module")
def split_ffmpeg(ffmpeg: str) -> str:
    from media.ffmpeg.caps import capabilities

    release = capabilities(ffmpeg).release
    if release is None or release >= (7, 0):
        pytest.skip(f"ffmpeg {capabilities(ffmpeg).version} runs its filters in threads of their own: one process")
    return ffmpeg


@pytest.fixture(autouse=True)
def split_short_masters(monkeypatch: pytest.MonkeyPatch) -> None:
    """These masters are 2 s long, under SPLIT_MIN_SECONDS: split anyway, to hold the two ways equal on them."""
    monkeypatch.setattr(qc.analyse, "SPLIT_MIN_SECONDS", 0.0)


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_qc import TEST_PROFILE

    p = tmp_path_factory.mktemp("split-profile") / "test-small.toml"
    p.write_text(TEST_PROFILE)
    return p


def both(master: Path, profile: Path, ffmpeg: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict, bool]:
    """(what the default pass measured, what one process measured, whether the default ran split)."""
    media, prof = probe_file(master, ffmpeg=ffmpeg), load_profile(profile)
    default = analyse(media, prof, ffmpeg)
    with monkeypatch.context() as m:
        m.setattr(qc.analyse, "split_commands", lambda *a, **k: None)
        one = analyse(media, prof, ffmpeg)
    assert "-an" not in one.command
    split = "-an" in default.command  # the picture process of a split pass reads no sound
    return default.model_dump(exclude=set(VARYING)), one.model_dump(exclude=set(VARYING)), split


@pytest.mark.parametrize("spec", [
    MasterSpec(defects=PLANTED),  # XDCAM-like: MPEG-2 in MXF, 8 mono tracks
    MasterSpec(defects=PLANTED, timecode="09:59:59:15"),  # a leader: the loudness starts after it (atrim)
    MasterSpec(codec="prores", scan="progressive", audio_layout="one-track", defects=PLANTED),  # one 8-channel track
], ids=["xdcam", "xdcam-leader", "prores-one-track"])
def test_split_pass_measures_what_one_pass_measures(spec, tmp_path, profile, split_ffmpeg, monkeypatch):
    master = make_master(tmp_path / ("m.mov" if spec.codec == "prores" else "m.mxf"), spec, split_ffmpeg)
    default, one, split = both(master, profile, split_ffmpeg, monkeypatch)
    assert split
    assert default == one
    assert default["black"] and default["freeze"] and default["silence"] and default["frame_peaks_over"]


def damaged(clean: Path, out: Path, spans: list[tuple[float, int]], fill: bool = False) -> Path:
    """A copy of `clean` with bytes overwritten at (fraction of the file, length): zeros, or garbage."""
    data = bytearray(clean.read_bytes())
    for at, length in spans:
        start = int(len(data) * at)
        data[start:start + length] = bytes((i * 7919 + 13) % 256 for i in range(length)) if fill else bytes(length)
    out.write_bytes(bytes(data))
    return out


def test_a_damaged_master_is_measured_in_one_process(tmp_path, profile, split_ffmpeg, monkeypatch):
    clean = make_master(tmp_path / "clean.mxf", MasterSpec(), split_ffmpeg)
    said = []
    for master in (truncated_copy(clean, tmp_path / "cut.mxf", 0.5),  # the decoder speaks at the very end
                   damaged(clean, tmp_path / "holes.mxf", [(0.2 + 0.15 * k, 3000) for k in range(5)]),  # mid-file
                   damaged(clean, tmp_path / "garbage.mxf", [(0.45, 60000)], fill=True)):
        default, one, split = both(master, profile, split_ffmpeg, monkeypatch)
        assert default == one
        assert not split or not default["decode_errors"]  # any decoder message: one process
        said.append(bool(default["decode_errors"]))
    assert said[:2] == [True, True]  # both ways of falling back to one process were taken


def test_no_sound_no_split(tmp_path, profile, split_ffmpeg, monkeypatch):
    master = make_master(tmp_path / "mute.mxf", replace(MasterSpec(), audio_channels=0), split_ffmpeg)
    default, one, split = both(master, profile, split_ffmpeg, monkeypatch)
    assert not split and default == one



def test_a_short_master_is_measured_in_one_process(tmp_path, profile, split_ffmpeg, monkeypatch):
    master = make_master(tmp_path / "short.mxf", MasterSpec(defects=PLANTED), split_ffmpeg)
    monkeypatch.setattr(qc.analyse, "SPLIT_MIN_SECONDS", 2.5)  # the master lasts 2 s
    default, one, split = both(master, profile, split_ffmpeg, monkeypatch)
    assert not split and default == one
    monkeypatch.setattr(qc.analyse, "SPLIT_MIN_SECONDS", 1.5)
    assert both(master, profile, split_ffmpeg, monkeypatch)[2]
