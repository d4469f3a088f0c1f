"""The QC measures the same with every supported ffmpeg: 5.1's ebur128 has no framelog=quiet (its equivalent
is proved equal here on the same file), and the distribution's ffmpeg, where installed, reads what the bundled
build reads on the same master."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from test_qc import PLANTED, TEST_PROFILE

import qc.analyse
from config.tools import bundled_ffmpeg
from media.ffmpeg.caps import capabilities
from media.probe import probe_file
from qc.analyse import Analysis, analyse
from qc.profile import load_profile
from qc.synth import MasterSpec, make_master

VOLATILE = {"elapsed_seconds", "cpu_seconds", "meter_cpu_seconds", "command", "path"}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("qc-ffmpeg")
    (folder / "p.toml").write_text(TEST_PROFILE)
    # Made with the bundled build, so that both ffmpegs read the very same bytes.
    master = make_master(folder / "planted.mxf", MasterSpec(defects=PLANTED), bundled_ffmpeg())
    return master, folder / "p.toml"


def _measure(master: Path, profile: Path, ffmpeg: str) -> Analysis:
    return analyse(probe_file(master, ffmpeg=ffmpeg, decode_check="none"), load_profile(profile), ffmpeg)


def _facts(a: Analysis) -> dict:
    return a.model_dump(mode="json", exclude=VOLATILE)


def test_ebur128_without_framelog_quiet_measures_the_same(planted, monkeypatch: pytest.MonkeyPatch) -> None:
    master, profile = planted
    ffmpeg = bundled_ffmpeg()
    caps = capabilities(ffmpeg)
    assert caps.ebur128_framelog_quiet
    quiet = _measure(master, profile, ffmpeg)
    assert "framelog=quiet" in " ".join(quiet.command)
    # The same build, told it has no framelog=quiet (as 5.1): the command without it measures the same.
    monkeypatch.setattr(qc.analyse, "capabilities", lambda _: dataclasses.replace(caps, ebur128_framelog_quiet=False))
    plain = _measure(master, profile, ffmpeg)
    assert "framelog" not in " ".join(plain.command)
    assert _facts(plain) == _facts(quiet)
    assert quiet.integrated is not None and quiet.loudness_series and quiet.silence and quiet.black


def _other_ffmpegs() -> list[str]:
    bundled = capabilities(bundled_ffmpeg()).version
    found = {p for p in (shutil.which("ffmpeg"), "/usr/bin/ffmpeg") if p and Path(p).is_file()}
    return sorted(p for p in found if capabilities(p).version != bundled)


@pytest.mark.parametrize("other", _other_ffmpegs() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no ffmpeg here other than the bundled build"))])
def test_the_distribution_ffmpeg_measures_what_the_bundled_build_does(planted, other: str) -> None:
    master, profile = planted
    mine, theirs = _measure(master, profile, bundled_ffmpeg()), _measure(master, profile, other)
    a, b = _facts(mine), _facts(theirs)
    for key in ("integrated", "lra", "true_peak", "max_short_term", "max_momentary", "max_sample_peak"):
        assert a.pop(key) == pytest.approx(b.pop(key), abs=0.05), key
    series_a, series_b = a.pop("loudness_series"), b.pop("loudness_series")
    assert len(series_a) == len(series_b)
    assert all(x == pytest.approx(y, abs=0.05) for x, y in zip(series_a, series_b, strict=True))
    assert a == b  # frames, black, freeze, silence, levels, gamut, fields: the same
