"""Probe and proxies give the same facts with the bundled build and the distribution's ffmpeg (where installed)."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import small_clip

from config.settings import load_settings
from config.tools import bundled_ffmpeg
from ingest.proxies.make import plan_batch, run_batch
from media.ffmpeg.caps import capabilities
from media.probe import probe_file
from media.synth import TakeSpec


def _others() -> list[str]:
    bundled = capabilities(bundled_ffmpeg()).version
    found = {p for p in (shutil.which("ffmpeg"), "/usr/bin/ffmpeg") if p and Path(p).is_file()}
    return sorted(p for p in found if capabilities(p).version != bundled)


OTHERS = _others() or [pytest.param(None, marks=pytest.mark.skip(reason="no ffmpeg here other than the bundled"))]
SOURCES = {
    "A001C001.mov": small_clip(codec="prores_hq", timecode="10:00:00:00", reel="A001", audio_channels=3),
    "B001C002.mxf": small_clip(codec="dnxhr_lb", rate=Fraction(24000, 1001), timecode="01:00:00:00"),
    "C001C003.mp4": small_clip(codec="h264", rate=Fraction(30000, 1001), timecode="00:59:59;28", audio_codec="aac"),
    "D01_T04.wav": TakeSpec(channels=4, rate=Fraction(24000, 1001), start_timecode="14:00:00:00"),
}


@pytest.mark.parametrize("other", OTHERS)
def test_probe_facts_equal(make_media, other: str) -> None:
    for name, spec in SOURCES.items():
        path = make_media(name, spec)
        mine = probe_file(path, ffmpeg=bundled_ffmpeg(), decode_check="full")
        theirs = probe_file(path, ffmpeg=other, decode_check="full")
        assert mine.error is None, (name, mine.error)
        assert theirs.model_dump() == mine.model_dump(), name


@pytest.mark.parametrize("other", OTHERS)
@pytest.mark.parametrize("preset", ["avid-dnxhr-lb", "h264-review"])
def test_proxy_facts_equal(workspace: Path, make_media, other: str, preset: str) -> None:
    clip = make_media("A001C001.mov", SOURCES["A001C001.mov"])
    facts = []
    for ffmpeg in (bundled_ffmpeg(), other):
        settings = load_settings(workspace / "postprod.toml").model_copy(update={"ffmpeg": ffmpeg})
        [made] = run_batch(plan_batch([clip], preset, "test", settings, out=workspace / Path(ffmpeg).name)).clips
        assert made.status == "made", made.error
        proxy = probe_file(Path(made.proxy), ffmpeg=ffmpeg, decode_check="full")
        facts.append((made.frames, made.start_timecode, made.reel, made.audio_channels, made.width, made.height,
                      proxy.error, proxy.duration_frames, proxy.start_timecode, proxy.reel,
                      [a.channels for a in proxy.audio], proxy.video.codec, proxy.video.frame_rate))
    assert facts[0] == facts[1]
