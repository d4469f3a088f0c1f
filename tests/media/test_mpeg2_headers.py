"""media/mpeg2_headers.py on MPEG-2 elementary streams made by the run's ffmpeg: the first picture's headers say what
the encoder was asked for (the MXF reader built on them is held equal to MediaInfo in test_facts_differential.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from media.mpeg2_headers import read_picture


def _stream(ffmpeg: str, out: Path, *args: str, size: str = "256x144", rate: str = "25", vf: str = "null") -> bytes:
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}:d=0.2",
                    "-vf", vf, "-c:v", "mpeg2video", *args, "-f", "mpeg2video", str(out)], check=True)
    return out.read_bytes()


@pytest.mark.parametrize(("args", "vf", "tff", "progressive"), [
    (("-pix_fmt", "yuv422p", "-flags", "+ildct+ilme", "-field_order", "tt"), "setfield=tff", True, False),
    (("-pix_fmt", "yuv422p", "-flags", "+ildct+ilme", "-field_order", "bb"), "setfield=bff", False, False),
    (("-pix_fmt", "yuv422p"), "null", False, True),
])
def test_first_picture_of_an_xdcam_like_stream(ffmpeg: str, tmp_path: Path, args, vf, tff, progressive) -> None:
    data = _stream(ffmpeg, tmp_path / "v.m2v", "-b:v", "5M", "-g", "12", "-bf", "2", *args, vf=vf)
    picture = read_picture(data[:1024])
    seq = picture.sequence
    assert seq is not None and (seq.width, seq.height) == (256, 144)
    assert seq.chroma == 2 and seq.profile_level >> 4 == 8  # 4:2:2 profile (the escape bit set)
    assert seq.rate_code == 3 and seq.rate_ext == (0, 0)  # 25 frames a second
    assert seq.progressive is progressive
    assert picture.coding_type == 1 and picture.structure == 3 and not picture.repeat_first_field
    assert picture.top_field_first is tff and picture.progressive_frame is progressive
    assert picture.gop is not None


def test_colour_and_420(ffmpeg: str, tmp_path: Path) -> None:
    data = _stream(ffmpeg, tmp_path / "v.m2v", "-pix_fmt", "yuv420p", "-colorspace", "bt709", "-color_primaries",
                   "bt709", "-color_trc", "bt709", size="98x66", rate="30000/1001")
    seq = read_picture(data[:1024]).sequence
    assert seq is not None and seq.chroma == 1 and (seq.width, seq.height) == (98, 66)
    assert seq.rate_code == 4 and seq.display == (98, 66)
    # 5.1 writes the three BT.709 codes; 9.x the matrix only (primaries and transfer 2, unspecified)
    assert seq.colour in ((1, 1, 1), (2, 2, 1))


def test_not_mpeg2_is_refused() -> None:
    with pytest.raises(ValueError):
        read_picture(b"\x00\x00\x01\xb3" + bytes(20))  # a sequence header with nothing after it
    with pytest.raises(ValueError):
        read_picture(b"not a picture at all")
