"""probe_file on real media made by ffmpeg: what a user checks in `postprod probe --json`."""

import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import small_clip

from media.model import MediaKind
from media.probe import clip_reel, probe_file
from media.synth import TakeSpec, truncated_copy


def test_quicktime_clip_with_timecode_and_reel(make_media, ffmpeg) -> None:
    path = make_media("A001C001_261123_R1AB.mov", small_clip(timecode="10:00:00:00", reel="A001", audio_channels=2))
    m = probe_file(path, ffmpeg=ffmpeg)
    assert m.error is None and m.kind is MediaKind.MEDIA
    assert m.container == "MPEG-4" and m.container_profile == "QuickTime"
    assert m.start_timecode == "10:00:00:00" and m.drop_frame is False
    assert m.reel == "A001" and m.reel_source == "tmcd-name"
    assert m.duration_frames == 25
    v = m.video
    assert v is not None
    assert (v.codec, v.width, v.height, v.frame_rate, v.scan) == ("ProRes", 320, 180, Fraction(25), "progressive")
    assert v.variable_frame_rate is False
    assert v.bit_depth == 10 and v.chroma_subsampling == "4:2:2"  # MediaInfo is blind here: ffmpeg tells
    assert [(a.codec, a.channels, a.sample_rate, a.bit_depth) for a in m.audio] == [("PCM", 2, 48000, 24)]


def test_drop_frame_2997(make_media, ffmpeg) -> None:
    path = make_media("df.mov", small_clip(rate=Fraction(30000, 1001), timecode="01:00:00;00", reel="B002"))
    m = probe_file(path, ffmpeg=ffmpeg)
    assert m.start_timecode == "01:00:00;00" and m.drop_frame is True
    assert m.video.frame_rate == Fraction(30000, 1001)
    assert m.start.frames == 107892
    assert m.model_dump(mode="json")["video"]["frame_rate"] == "30000/1001"


def test_23976_clip(make_media, ffmpeg) -> None:
    path = make_media("C003.mov", small_clip(rate=Fraction(24000, 1001), timecode="12:40:00:00"))
    m = probe_file(path, ffmpeg=ffmpeg)
    assert m.video.frame_rate == Fraction(24000, 1001)
    assert m.start_timecode == "12:40:00:00" and m.duration_frames == 24


def test_mxf_dnxhr(make_media, ffmpeg) -> None:
    path = make_media("B001C001.mxf", small_clip(width=1280, height=720, codec="dnxhr_lb", timecode="14:30:00:00",
                                                 reel="B001"))
    m = probe_file(path, ffmpeg=ffmpeg)
    assert m.container == "MXF" and m.container_profile == "OP-1a"
    assert m.start_timecode == "14:30:00:00" and m.timecode_source == "mxf"
    assert m.reel == "B001"
    assert m.video.codec == "VC-3" and m.video.bit_depth == 8


def test_interlaced_field_order(make_media, ffmpeg) -> None:
    tff = probe_file(make_media("tff.mov", small_clip(width=320, height=180, codec="prores_hq", interlaced="tff")),
                     ffmpeg=ffmpeg)
    bff = probe_file(make_media("bff.mov", small_clip(width=320, height=180, codec="prores_hq", interlaced="bff")),
                     ffmpeg=ffmpeg)
    assert tff.video.scan == "tff"
    assert bff.video.scan == "bff"


def test_phone_clip_vfr_no_timecode(make_media, ffmpeg) -> None:
    path = make_media("IMG_0042.MP4", small_clip(rate=Fraction(30), codec="h264", timecode=None, vfr=True,
                                                 audio_channels=1, sample_rate=44100, audio_codec="aac"))
    m = probe_file(path, ffmpeg=ffmpeg)
    assert m.video.variable_frame_rate is True
    assert m.start_timecode is None
    assert m.audio[0].codec == "AAC" and m.audio[0].sample_rate == 44100


@pytest.mark.parametrize(
    ("rate", "start", "drop"),
    [(Fraction(25), "10:00:00:00", False), (Fraction(24000, 1001), "12:40:00:00", False),
     (Fraction(30000, 1001), "15:12:09;14", True), (Fraction(24), "01:00:00:12", False)],
)
def test_bwf_start_uses_ixml_rate(make_media, ffmpeg, rate: Fraction, start: str, drop: bool) -> None:
    take = TakeSpec(seconds=1, channels=3, rate=rate, drop_frame=drop, start_timecode=start, tape="D01")
    m = probe_file(make_media(f"take_{rate.numerator}_{start.replace(':', '').replace(';', '')}.wav", take),
                   ffmpeg=ffmpeg)
    assert m.container == "Wave"
    assert m.start_timecode == start, "a BWF start must be right at 23.976 too (not the wall-clock reading)"
    assert m.timecode_rate == rate and m.timecode_source == "bext+ixml"
    assert m.reel == "D01" and m.reel_source == "ixml-tape"
    assert [(a.channels, a.sample_rate, a.bit_depth) for a in m.audio] == [(3, 48000, 24)]
    assert m.duration_frames == int(rate)  # one second of sound


def test_bwf_without_ixml_rate_falls_back_to_spec_rate(tmp_path: Path, ffmpeg: str) -> None:
    import subprocess

    path = tmp_path / "plain.wav"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=sample_rate=48000:duration=1", "-c:a",
                    "pcm_s24le", str(path)], check=True)
    m = probe_file(path, ffmpeg=ffmpeg, default_rate=Fraction(25))
    assert m.start_timecode is None and m.timecode_rate == Fraction(25) and m.duration_frames == 25


def test_truncated_copy_is_unreadable(make_media, ffmpeg, tmp_path: Path) -> None:
    source = make_media("long.mov", small_clip(seconds=2.0))
    cut = truncated_copy(source, tmp_path / "cut.mov", 0.5)
    m = probe_file(cut, ffmpeg=ffmpeg)
    assert m.kind is MediaKind.UNREADABLE and m.error


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [("zero.mov", b"", "zero-byte"), ("notes.mov", b"just some text\n" * 50, "not a media file")],
)
def test_bad_files(tmp_path: Path, ffmpeg: str, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    m = probe_file(path, ffmpeg=ffmpeg)
    assert m.kind is MediaKind.UNREADABLE and reason in m.error


def test_missing_file(tmp_path: Path) -> None:
    m = probe_file(tmp_path / "gone.mov")
    assert m.kind is MediaKind.UNREADABLE and "not found" in m.error


@pytest.mark.parametrize("name", ["clip with spaces.mov", "quote's \"double\".mov", "scène_été.mov",
                                  "new\nline.mov"])
def test_odd_names(make_media, tmp_path: Path, ffmpeg: str, name: str) -> None:
    path = tmp_path / name
    shutil.copy(make_media("plain.mov", small_clip()), path)
    m = probe_file(path, ffmpeg=ffmpeg)
    assert m.error is None and m.path == str(path) and m.video.width == 320


@pytest.mark.parametrize(("name", "reel"), [("A001C003_230514_R2EC", "A001"), ("B002_C010_0514XY", "B002"),
                                           ("A001_08241517_C012", "A001"), ("IMG_0042", None)])
def test_reel_from_camera_naming(name: str, reel: str | None) -> None:
    assert clip_reel(name) == reel


def test_mxf_package_named_after_the_clip_gives_the_camera_roll(make_media, ffmpeg) -> None:
    # An ARRI-style MXF whose package name is the clip name: the reel is the camera roll, A007.
    path = make_media("A007C012_261123_R1AB.mxf", small_clip(codec="dnxhr_lb", width=1280, height=720,
                                                             reel="A007C012_261123_R1AB"))
    m = probe_file(path, ffmpeg=ffmpeg)
    assert (m.reel, m.reel_source) == ("A007", "clip-name")


def test_generic_tmcd_name_is_not_a_reel(make_media, ffmpeg) -> None:
    m = probe_file(make_media("X_generic.mov", small_clip(reel="Timecode")), ffmpeg=ffmpeg)
    assert m.reel is None
