"""Spec rules on real probes, and spec files that are wrong in the ways people get them wrong."""

from fractions import Fraction
from pathlib import Path

import pytest
from conftest import SMALL_SPEC, small_clip

from config.errors import ConfigError, UnknownNameError
from config.spec import load_spec
from ingest.rules import check_duplicates, check_file
from media.probe import probe_file
from media.synth import TakeSpec


@pytest.fixture()
def spec(tmp_path: Path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL_SPEC)
    return load_spec(path)


def rules_of(media) -> dict[str, str]:
    return {f.rule: f.severity.value for f in media.findings}


def test_clip_that_fits_has_no_findings(make_media, ffmpeg, spec) -> None:
    m = check_file(probe_file(make_media("fits.mov", small_clip(reel="A001")), ffmpeg=ffmpeg), spec)
    assert m.findings == []


def test_wrong_rate_raster_scan_and_codec(make_media, ffmpeg, spec) -> None:
    clip = small_clip(width=640, height=360, rate=Fraction(24000, 1001), codec="hevc", interlaced=None)
    m = check_file(probe_file(make_media("bad.mov", clip), ffmpeg=ffmpeg), spec)
    found = rules_of(m)
    assert found["frame_rate"] == "error" and found["resolution"] == "warning" and found["codec"] == "warning"
    rate = next(f for f in m.findings if f.rule == "frame_rate")
    assert (rate.expected, rate.measured) == ("25/1", "24000/1001")


def test_interlaced_in_progressive_production(make_media, ffmpeg, spec) -> None:
    m = check_file(probe_file(make_media("i.mov", small_clip(codec="prores_hq", interlaced="tff")), ffmpeg=ffmpeg),
                   spec)
    assert rules_of(m)["scan"] == "error"


def test_phone_clip(make_media, ffmpeg, spec) -> None:
    clip = small_clip(rate=Fraction(30), codec="h264", timecode=None, vfr=True, audio_channels=1,
                      sample_rate=44100, audio_codec="aac")
    found = rules_of(check_file(probe_file(make_media("phone.mp4", clip), ffmpeg=ffmpeg), spec))
    assert {"variable_frame_rate", "timecode_missing", "audio_sample_rate", "audio_codec"} <= set(found)


def test_sound_take_441_16bit(make_media, ffmpeg, spec) -> None:
    take = TakeSpec(seconds=1, channels=2, sample_rate=44100, bit_depth=16)
    found = rules_of(check_file(probe_file(make_media("t441.wav", take), ffmpeg=ffmpeg), spec))
    assert found == {"audio_sample_rate": "error", "audio_bit_depth": "warning"}


def test_severity_override(tmp_path: Path, make_media, ffmpeg) -> None:
    path = tmp_path / "lenient.toml"
    path.write_text(SMALL_SPEC + '\n[severity]\nframe_rate = "info"\n')
    m = check_file(probe_file(make_media("C003.mov", small_clip(rate=Fraction(24000, 1001))), ffmpeg=ffmpeg),
                   load_spec(path))
    assert rules_of(m)["frame_rate"] == "info"


def test_duplicate_names_within_batch_and_catalogue(make_media, ffmpeg, spec, tmp_path: Path) -> None:
    import shutil

    a, b = tmp_path / "A" / "X001C001.mov", tmp_path / "B" / "X001C001.mov"
    for p in (a, b):
        p.parent.mkdir()
        shutil.copy(make_media("dup.mov", small_clip()), p)
    items = check_duplicates([probe_file(a, ffmpeg=ffmpeg), probe_file(b, ffmpeg=ffmpeg)], spec)
    assert all("duplicate_name" in rules_of(m) for m in items)
    alone = check_duplicates([probe_file(a, ffmpeg=ffmpeg)], spec, known=[("x001c001", "/elsewhere/X001C001.mov")])
    assert "duplicate_name" in rules_of(alone[0])


@pytest.mark.parametrize(
    ("edit", "field", "reason"),
    [
        (lambda s: s.replace('frame_rate = "25/1"', 'frame_rate = "fast"'), "video.frame_rate", "not a frame rate"),
        (lambda s: s.replace("schema_version = 1", "schema_version = 7"), "schema_version", "unsupported"),
        (lambda s: s.replace("width = 320", "widht = 320"), "video.widht", "unknown field"),
        (lambda s: s.replace("height = 180", "height = -5"), "video.height", "greater than 0"),
        (lambda s: s.replace("[audio]", "[audio\n"), None, "not valid TOML"),
    ],
)
def test_bad_spec_files_name_the_field(tmp_path: Path, edit, field, reason) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(edit(SMALL_SPEC))
    with pytest.raises(ConfigError) as info:
        load_spec(path)
    assert info.value.field == field and reason in str(info.value) and str(path) in str(info.value)


def test_float_rate_in_spec_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "ntsc.toml"
    path.write_text(SMALL_SPEC.replace('frame_rate = "25/1"', "frame_rate = 29.97"))
    assert load_spec(path).video.frame_rate == Fraction(30000, 1001)


def test_unknown_spec_name_lists_available() -> None:
    with pytest.raises(UnknownNameError) as info:
        load_spec("nope")
    assert "available: default" in str(info.value)
