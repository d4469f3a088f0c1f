"""The QC report's thumbnails: each is the frame its finding names (counted from the file's first frame, as the
analysis counts), and one ffmpeg making several gives the very bytes of one ffmpeg a frame."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from qc.report import THUMBS_PER_FFMPEG, frame_seconds, thumbnail, thumbnails
from qc.synth import Defect, MasterSpec, make_master

MASTERS = {
    # long GOP (12, B-frames): a seek decodes from the key frame before
    "xdcam-25.mxf": MasterSpec(codec="xdcam", seconds=1.0, defects=(Defect("black", 7, 2),)),
    # at 29.97 the start of a frame, written with 4 decimals, can be after it (MOV) and the middle before the
    # previous one wins (MXF): both are asked for every frame
    "xdcam-2997.mxf": MasterSpec(codec="xdcam", rate=Fraction(30000, 1001), seconds=1.0,
                                 defects=(Defect("black", 10, 1),)),
    "prores-2997.mov": MasterSpec(codec="prores", rate=Fraction(30000, 1001), seconds=1.0,
                                  defects=(Defect("black", 13, 1),)),
}


def decoded(ffmpeg: str, args: list[str], stdin: bytes | None = None) -> np.ndarray:
    """Luma pictures, 320x180, of what `args` (ffmpeg's input options) decode."""
    quiet = ["-v", "error"] if stdin is not None else ["-v", "error", "-nostdin"]
    raw = subprocess.run([ffmpeg, *quiet, *args, "-vf",
                          "scale=w=320:h=180", "-f", "rawvideo", "-pix_fmt", "gray", "-"], input=stdin,
                         capture_output=True, check=True, timeout=120).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, 180, 320).astype(np.float64)


@pytest.mark.parametrize("name", sorted(MASTERS))
def test_each_thumbnail_is_its_frame_and_one_ffmpeg_makes_them_as_one_a_frame(name, tmp_path, ffmpeg):
    spec = MASTERS[name]
    master = make_master(tmp_path / name, spec, ffmpeg)
    frames = decoded(ffmpeg, ["-i", str(master)])  # every frame, from the first
    count = len(frames)
    assert count == round(spec.seconds * spec.rate)
    rate = float(spec.rate)
    asked = [*range(count), count + 3]  # every frame, then one after the end
    shots = thumbnails(master, [frame_seconds(n, rate) for n in asked], ffmpeg)

    assert shots[-1] is None  # no frame there: no thumbnail
    assert all(shots[:-1]), [n for n, s in zip(asked, shots, strict=True) if not s]
    pictures = decoded(ffmpeg, ["-f", "image2pipe", "-c:v", "mjpeg", "-i", "-"], stdin=b"".join(shots[:-1]))
    assert len(pictures) == count
    for n, picture in enumerate(pictures):  # the nearest frame of all (ties: frames alike, the black ones)
        error = ((frames - picture) ** 2).mean(axis=(1, 2))
        assert error[n] == error.min(), (n, int(error.argmin()))
    black = [d for d in spec.defects if d.kind == "black"][0]
    means = pictures.mean(axis=(1, 2))
    assert all(means[black.start:black.start + black.frames] < 20)
    assert means[black.start - 1] > 40 and means[black.start + black.frames] > 40

    # Several frames to an ffmpeg (groups of THUMBS_PER_FFMPEG, the last one shorter): the bytes of one a frame.
    some = [0, 5, black.start, count - 1, count + 3, 11]
    assert len(some) > THUMBS_PER_FFMPEG
    one_each = [thumbnail(master, frame_seconds(n, rate), ffmpeg) for n in some]
    assert one_each == [shots[asked.index(n)] for n in some]
    assert thumbnails(master, [frame_seconds(n, rate) for n in some], ffmpeg) == one_each


def test_a_thumbnail_that_one_ffmpeg_did_not_make_is_asked_alone(tmp_path, ffmpeg, monkeypatch):
    master = make_master(tmp_path / "m.mxf", MASTERS["xdcam-25.mxf"], ffmpeg)
    import qc.report

    def failing(ffmpeg: str, source: Path | str, seconds, width, outputs) -> list[str]:
        return [ffmpeg, "-v", "error", "-i", str(tmp_path / "missing.mxf"), "-f", "null", "-"]

    monkeypatch.setattr(qc.report, "thumbnails_command", failing)
    at = [frame_seconds(n, 25.0) for n in (3, 9)]
    assert thumbnails(master, at, ffmpeg) == [thumbnail(master, a, ffmpeg) for a in at] != [None, None]


def test_every_located_picture_defect_gets_its_frame(tmp_path, ffmpeg):
    from test_qc import TEST_PROFILE

    from qc.profile import load_profile
    from qc.report import add_thumbnails
    from qc.run import qc_master

    profile = tmp_path / "test-small.toml"
    profile.write_text(TEST_PROFILE)
    # Declared progressive, interlaced: a field-order finding from frame 0, as the illegal levels; black later.
    spec = MasterSpec(codec="xdcam", seconds=1.0, flagged="progressive", audio_channels=2,
                      defects=(Defect("illegal", 0, 3), Defect("black", 12, 4)))
    master = make_master(tmp_path / "m.mxf", spec, ffmpeg)
    report = qc_master(master, load_profile(profile), ffmpeg)
    located = {f"{c.check_id}-{i}": f.start_frame for c in report.checks for i, f in enumerate(c.findings)
               if f.start_frame is not None and c.check_id.startswith(("video.", "stream."))}
    assert sorted(set(located.values())) == [0, 12], located  # two defects or more share frame 0
    assert len(located) >= 3, located
    shots = add_thumbnails(report, ffmpeg)
    assert set(shots) == set(located)
    for key, frame in located.items():
        assert shots[key] == thumbnail(master, frame_seconds(frame, 25.0), ffmpeg), key
    assert {f.thumbnail for c in report.checks for f in c.findings if f.thumbnail} == set(located)
