"""Facts from our own readers (media/facts.py) are MediaInfo's, field for field, on real files made by ffmpeg;
anything they do not know goes to MediaInfo."""

import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from media.facts import own_tracks
from media.probe import probe_file
from media.synth import TakeSpec, truncated_copy

TAKES = {
    "take25.wav": TakeSpec(seconds=1.0),
    "take2398.wav": TakeSpec(seconds=1.0, rate=Fraction(24000, 1001), bit_depth=16, channels=2),
    "take2997df.wav": TakeSpec(seconds=1.0, rate=Fraction(30000, 1001), drop_frame=True, sample_rate=96000,
                               start_timecode="01:00:00;02"),
    "mono32.wav": TakeSpec(seconds=0.3, channels=1, bit_depth=32),
    "eight.wav": TakeSpec(seconds=0.3, channels=8, sample_rate=44100),
    "three.wav": TakeSpec(seconds=0.3, channels=3),
}
# Plain ffmpeg WAVEs: (codec, channels, sample rate, samples), odd lengths for MediaInfo's rounding of the duration.
PLAIN = [("s24le", 2, 48000, 48001), ("s16le", 1, 48000, 4799), ("s16le", 2, 44100, 4411), ("s24le", 6, 48000, 12345),
         ("f32le", 2, 48000, 2400), ("f32le", 1, 48000, 2401), ("s32le", 2, 96000, 9601), ("s16le", 4, 48000, 1001), ("u8", 1, 8000, 801)]


def _both(path: Path, ffmpeg: str) -> tuple[dict, dict]:
    ours = probe_file(path, ffmpeg=ffmpeg, default_rate=Fraction(25)).model_dump(mode="json")
    theirs = probe_file(path, ffmpeg=ffmpeg, default_rate=Fraction(25), own=False).model_dump(mode="json")
    return ours, theirs


def _plain(ffmpeg: str, out: Path, codec: str, channels: int, rate: int, samples: int, *extra: str) -> Path:
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=f=1000:r={rate}", "-af",
                    f"atrim=end_sample={samples}", "-ac", str(channels), "-c:a", f"pcm_{codec}", *extra, str(out)],
                   check=True)
    return out


@pytest.mark.parametrize("name", sorted(TAKES))
def test_bwf_take_facts_are_mediainfos(make_media, ffmpeg: str, name: str) -> None:
    take = make_media(name, TAKES[name])
    assert own_tracks(take, take.stat().st_size) is not None
    ours, theirs = _both(take, ffmpeg)
    assert ours == theirs


@pytest.mark.parametrize("plain", PLAIN, ids=lambda p: "_".join(map(str, p)))
def test_plain_wave_facts_are_mediainfos(ffmpeg: str, tmp_path: Path, plain: tuple) -> None:
    wav = _plain(ffmpeg, tmp_path / "plain.wav", *plain)
    assert own_tracks(wav, wav.stat().st_size) is not None
    ours, theirs = _both(wav, ffmpeg)
    assert ours == theirs


def test_what_our_readers_do_not_know_goes_to_mediainfo(make_media, ffmpeg: str, tmp_path: Path) -> None:
    cut = truncated_copy(make_media("take25.wav", TAKES["take25.wav"]), tmp_path / "cut.wav", 0.6)
    rf64 = _plain(ffmpeg, tmp_path / "rf64.wav", "s24le", 2, 48000, 4800, "-rf64", "always")
    for path in (cut, rf64):
        assert own_tracks(path, path.stat().st_size) is None
        ours, theirs = _both(path, ffmpeg)
        assert ours == theirs
