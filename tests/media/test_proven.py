"""The probe's shortcuts (media/proven.py) give the facts the slow way gives, on real media."""

import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import small_clip

from media.model import MediaKind
from media.probe import _pix_fmt_depth, ffmpeg_check, probe_file
from media.proven import PARSE_SPEED, WAVE_PARSE_SPEED, is_wave
from media.synth import TakeSpec, truncated_copy

TAKES = {
    "take25.wav": TakeSpec(seconds=1.0),
    "take2398.wav": TakeSpec(seconds=1.0, rate=Fraction(24000, 1001), bit_depth=16, channels=2),
    "take2997df.wav": TakeSpec(seconds=1.0, rate=Fraction(30000, 1001), drop_frame=True, sample_rate=96000,
                               start_timecode="01:00:00;02"),
}
CLIPS = {
    "prores.mov": small_clip(reel="A001"),
    "hq.mov": small_clip(codec="prores_hq"),
    "dnx.mxf": small_clip(codec="dnxhr_lb", width=640, height=360),
    "phone.mp4": small_clip(codec="h264", rate=Fraction(30000, 1001), audio_codec="aac"),  # 5.1 puts no PCM in MP4
}


def _facts(path: Path, ffmpeg: str, speed: float | None) -> dict:
    return probe_file(path, ffmpeg=ffmpeg, default_rate=Fraction(25), speed=speed).model_dump(mode="json")


@pytest.mark.parametrize("name", sorted(TAKES))
def test_wave_facts_are_the_same_at_the_low_parse_speed(make_media, ffmpeg: str, tmp_path: Path, name: str) -> None:
    take = make_media(name, TAKES[name])
    cut = truncated_copy(take, tmp_path / f"cut-{name}", 0.6)
    for path in (take, cut):
        assert is_wave(path)
        slow, fast = _facts(path, ffmpeg, PARSE_SPEED), _facts(path, ffmpeg, WAVE_PARSE_SPEED)
        assert fast == slow and fast == _facts(path, ffmpeg, None)
    assert probe_file(take, ffmpeg=ffmpeg).audio[0].duration_samples is not None


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_clip_facts_are_the_same_by_default(make_media, ffmpeg: str, name: str) -> None:
    clip = make_media(name, CLIPS[name])
    assert not is_wave(clip)
    assert _facts(clip, ffmpeg, None) == _facts(clip, ffmpeg, PARSE_SPEED)


def _prores_4444(path: Path, ffmpeg: str) -> Path:
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=0.4", "-c:v", "prores_ks",
                    "-profile:v", "4", "-pix_fmt", "yuv444p10le", str(path)], check=True)
    return path


@pytest.mark.parametrize("name", ["prores.mov", "hq.mov", "4444.mov"])
def test_prores_depth_from_its_fourcc_is_what_ffmpeg_decodes(make_media, ffmpeg: str, tmp_path: Path,
                                                             name: str) -> None:
    clip = _prores_4444(tmp_path / name, ffmpeg) if name == "4444.mov" else make_media(name, CLIPS[name])
    m = probe_file(clip, ffmpeg=None, decode_check="none")  # no ffmpeg at all
    _, pix_fmt, _ = ffmpeg_check(clip, ffmpeg, "full", None)
    assert pix_fmt and (m.video.bit_depth, m.video.chroma_subsampling) == _pix_fmt_depth(pix_fmt)
    assert m.video.bit_depth in (10, 12)


def test_whole_pcm_take_needs_no_decode_but_a_cut_one_does(make_media, ffmpeg: str, tmp_path: Path) -> None:
    take = make_media("take25.wav", TAKES["take25.wav"])
    # An ffmpeg that cannot run: the whole take is described without it...
    m = probe_file(take, ffmpeg=str(tmp_path / "no-ffmpeg"), default_rate=Fraction(25))
    assert m.kind is MediaKind.MEDIA and m.error is None and m.start_timecode == "10:00:00:00"
    # ...a copy cut short is not taken on trust: the decode check still runs on it.
    cut = truncated_copy(take, tmp_path / "cut.wav", 0.5)
    with pytest.raises(OSError):
        probe_file(cut, ffmpeg=str(tmp_path / "no-ffmpeg"), default_rate=Fraction(25))
