"""Camera MP4/MOV start timecode from the tmcd sample, as ffmpeg reads it, even where MediaInfo reads it wrong."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from pymediainfo import MediaInfo

from media.probe import probe_file
from media.qt_timecode import read_tmcd


def _ffmpeg_start(ffmpeg: str, path: Path) -> str:
    """ffmpeg's own reading of the file's start timecode (its input dump)."""
    out = subprocess.run([ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    return re.search(r"timecode\s*:\s*(\S+)", out).group(1)


def _camera_mp4(ffmpeg: str, path: Path, timecode: str, rate: str = "30000/1001") -> Path:
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=64x36:rate={rate}:d=0.2",
                    "-c:v", "libx264", "-timecode", timecode, str(path)], check=True)
    return path


@pytest.mark.parametrize(("timecode", "rate"), [("01:02:03;04", "30000/1001"), ("23:59:59:24", "25"),
                                                ("10:00:00:00", "24000/1001"), ("00:00:10;02", "60000/1001")])
def test_mp4_start_is_ffmpegs_reading_of_the_tmcd_sample(ffmpeg, tmp_path, timecode, rate) -> None:
    clip = _camera_mp4(ffmpeg, tmp_path / "clip.mp4", timecode, rate)
    media = probe_file(clip, ffmpeg=ffmpeg)
    assert media.start_timecode == _ffmpeg_start(ffmpeg, clip) == timecode
    assert media.timecode_source == "tmcd" and media.findings == []


def test_a_tmcd_whose_frames_byte_disagrees_keeps_the_files_value_with_an_info_finding(ffmpeg, tmp_path) -> None:
    # As some action cameras write it: timescale 30000/1001, but 29 in the frames-per-second byte.
    clip = _camera_mp4(ffmpeg, tmp_path / "GX010042.mp4", "10:00:00;00")
    data = bytearray(clip.read_bytes())
    description = bytes.fromhex("00007530" "000003e9" "1e")  # timescale 30000, frame duration 1001, 30 frames
    assert data.count(description) == 1
    data[data.find(description) + 8] = 29
    clip.write_bytes(bytes(data))
    assert read_tmcd(clip).frames_per_second == 29
    mediainfo = [t.time_code_of_first_frame for t in MediaInfo.parse(clip).other_tracks]
    assert mediainfo and mediainfo[0] != "10:00:00;00"  # MediaInfo's reading is off by minutes

    media = probe_file(clip, ffmpeg=ffmpeg)
    assert media.start_timecode == _ffmpeg_start(ffmpeg, clip) == "10:00:00;00"
    [finding] = media.findings
    assert finding.severity.value == "info" and finding.rule == "timecode.source"
    assert "10:00:00;00" in finding.message and mediainfo[0] in finding.message


def test_a_damaged_tmcd_box_falls_back_to_mediainfo_without_reading_past_the_file(ffmpeg, tmp_path) -> None:
    clip = _camera_mp4(ffmpeg, tmp_path / "clip.mp4", "01:00:00:00", "25")
    data = bytearray(clip.read_bytes())
    at = data.rfind(b"stco")  # the tmcd track comes after the picture's
    data[at - 4:at] = (2**31).to_bytes(4, "big")  # a chunk-offset box claiming 2 GiB
    clip.write_bytes(bytes(data))
    assert read_tmcd(clip) is None
    assert probe_file(clip, ffmpeg=None, decode_check="none").findings == []  # MediaInfo's reading, as before


def test_mxf_start_agrees_with_ffmpegs_reading_of_the_timecode_component(ffmpeg, tmp_path) -> None:
    clip = tmp_path / "A002C001.mxf"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=25:d=0.2",
                    "-c:v", "mpeg2video", "-timecode", "09:59:50:12", str(clip)], check=True)
    media = probe_file(clip, ffmpeg=ffmpeg)
    assert media.start_timecode == _ffmpeg_start(ffmpeg, clip) == "09:59:50:12"
    assert media.timecode_source == "mxf" and media.findings == []
