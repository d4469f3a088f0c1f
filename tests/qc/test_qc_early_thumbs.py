"""The QC's pass makes the thumbnails of the master's first frames beside its measurements, on the ffmpeg started
early (qc/headstart.py, an ffmpeg before 7.0) or in the usual one-process pass (qc/passthumbs.py): each is the very
JPEG that a seek to its frame makes (`qc.report.thumbnail`), on masters made by the ffmpeg of the run (ProRes,
open-GOP MPEG-2 in MXF, open-GOP H.264 with B-frames), and the report takes them only where every frame decoded
in its place."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from media.ffmpeg.caps import Job, capabilities, ffmpeg_for
from qc import headstart, passthumbs, scratch
from qc.profile import load_profile
from qc.report import early_frames, frame_seconds, thumbnail
from qc.run import qc_master
from qc.synth import Defect, MasterSpec, make_master

MASTERS = {
    "xdcam-25.mxf": MasterSpec(codec="xdcam", seconds=1.0, defects=(Defect("black", 3, 2),)),
    "xdcam-2997.mxf": MasterSpec(codec="xdcam", rate=Fraction(30000, 1001), seconds=1.0,
                                 defects=(Defect("black", 5, 1),)),
    "prores-2997.mov": MasterSpec(codec="prores", rate=Fraction(30000, 1001), seconds=1.0, audio_channels=2,
                                  defects=(Defect("black", 2, 1),)),
    # a picture scaled down to its thumbnail (the others are 320 wide already): 4 frames within THUMBS_PIXELS
    "prores-720p.mov": MasterSpec(codec="prores", width=1280, height=720, seconds=0.4, audio_channels=2,
                                  defects=(Defect("black", 2, 1),)),
    # H.264 from the MPEG-2 one: open GOPs of 12, 3 B-frames (leading B-frames refer to the GOP before)
    "h264-open-gop.mov": MasterSpec(codec="xdcam", seconds=1.0, audio_channels=2, defects=(Defect("black", 6, 1),)),
}


def before_7(ffmpeg: str) -> str | None:
    """The run's ffmpeg if it is one the pass starts early (before 7.0), else Debian's on this machine, if any."""
    for candidate in (ffmpeg, shutil.which("ffmpeg"), "/usr/bin/ffmpeg"):
        if candidate and Path(candidate).exists():
            release = capabilities(candidate).release
            if release is not None and release < (7, 0):
                return ffmpeg_for(Job.QC_ANALYSIS, candidate).path
    return None


def made(name: str, folder: Path, ffmpeg: str) -> Path:
    spec = MASTERS[name]
    if not name.startswith("h264"):
        return make_master(folder / name, spec, ffmpeg)
    source = make_master(folder / "source.mxf", spec, ffmpeg)
    out = folder / name
    subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-i", str(source), "-map", "0", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-g", "12", "-bf", "3", "-x264-params", "open-gop=1", "-c:a", "copy",
                    str(out)], check=True, capture_output=True, timeout=120)
    return out


@pytest.mark.parametrize("early", [True, False], ids=["early", "usual"])
@pytest.mark.parametrize("name", sorted(MASTERS))
def test_the_first_thumbnails_of_the_pass_are_those_a_seek_makes(name, early, tmp_path, ffmpeg, monkeypatch):
    """`early`: the pass on the ffmpeg the command started early (an ffmpeg before 7.0: qc/headstart.py); else
    the usual one-process pass on the run's ffmpeg (qc/passthumbs.py). Eight first frames asked (the commands
    ask for the first only): frame N is the Nth decoded."""
    monkeypatch.setattr(headstart, "THUMBS_FIRST", 8)
    use = before_7(ffmpeg) if early else ffmpeg_for(Job.QC_ANALYSIS, ffmpeg).path
    if use is None:
        pytest.skip("no ffmpeg before 7.0 here: nothing is started early")
    master = made(name, tmp_path, ffmpeg).absolute()
    spec = MASTERS[name]
    if early:
        headstart.start(master, use)
    head = headstart._head
    try:
        assert (head is not None) == early
        report = qc_master(master, load_profile("ebu-r128-hd25"), use)
        by_head, by_pass = headstart.thumbnails(use, str(master)), passthumbs.take(use, str(master))
    finally:
        headstart.discard()
        scratch.wait()
    assert not head or (not head.thumbs.exists() and not head.folder.exists())
    assert not (by_head and by_pass)  # one pass made them
    jpegs = by_head or by_pass
    pixels = spec.width * spec.height
    assert len(jpegs) == min(8, headstart.THUMBS_PIXELS // pixels)  # 320x180: 8 frames, 1280x720: 4
    first = list(range(len(jpegs)))
    assert early_frames(report, first, len(jpegs)) == first  # every frame decoded in its place
    rate = float(spec.rate)
    assert jpegs == [thumbnail(master, frame_seconds(n, rate), use) for n in first]
    black = spec.defects[0].start
    assert jpegs[black] != jpegs[black - 1]


def test_only_a_master_decoded_frame_by_frame_in_place_takes_them(tmp_path, ffmpeg):
    master = make_master(tmp_path / "m.mxf", MasterSpec(seconds=1.0, audio_channels=2), ffmpeg)
    report = qc_master(master, load_profile("ebu-r128-hd25"), ffmpeg)  # no early ffmpeg: the usual pass made them
    assert headstart.thumbnails(ffmpeg, str(master)) == []
    assert len(passthumbs.take(ffmpeg, str(master))) == headstart.THUMBS_FIRST == 1
    assert passthumbs.take(ffmpeg, str(master)) == []  # once
    assert early_frames(report, [0, 3, 7, 30], 8) == [0, 3, 7]
    assert early_frames(report, [0, 3], 0) == []
    m = report.measurements or {}
    for change in ({"missing": [{"start": 4, "end": 5}]}, {"decode_errors": ["concealing 3 errors"]},
                   {"frames_decoded": m["frames_decoded"] - 1}):
        assert early_frames(report.model_copy(update={"measurements": {**m, **change}}), [0, 3], 8) == []


def test_a_picture_too_wide_for_a_thumbnail_320_wide_keeps_the_pass_apart(tmp_path, ffmpeg):
    early = before_7(ffmpeg)
    if early is None:
        pytest.skip("no ffmpeg before 7.0 here: nothing is started early")
    master = make_master(tmp_path / "wide.mov", MasterSpec(codec="prores", width=640, height=64, seconds=0.4,
                                                           audio_channels=2, defects=(Defect("black", 0, 1),)),
                         ffmpeg).absolute()
    headstart.start(master, early)
    head = headstart._head
    try:
        assert head is not None
        report = qc_master(master, load_profile("ebu-r128-hd25"), early)
        assert headstart.thumbnails(early, str(master)) == []
    finally:
        headstart.discard()
        scratch.wait()
    assert head.proc is not None and head.proc.returncode == -9  # killed unused: the pass ran on its own
    assert report.verdict == "fail" and report.measurements and report.measurements["frames_decoded"] == 10


@pytest.mark.parametrize("broken", [(2, 5), tuple(range(25))])
def test_a_damaged_master_gets_the_report_of_the_usual_pass(broken, tmp_path, ffmpeg):
    """Frames that do not decode (their ProRes header overwritten): the thumbnails' branch says nothing of its own
    (the messages, the verdict, the thumbnails are those of a pass started the usual way)."""
    from test_qc_headstart import qc

    good = make_master(tmp_path / "good.mov", MasterSpec(codec="prores", seconds=1.0, audio_channels=2), ffmpeg)
    data = bytearray(good.read_bytes())
    at = [i for i in range(len(data) - 4) if data[i:i + 4] == b"icpf"]
    assert len(at) == 25
    for n in broken:
        data[at[n]:at[n] + 4] = b"XXXX"
    master = tmp_path / "damaged.mov"
    master.write_bytes(bytes(data))
    early, early_json, early_html = qc(True, master, "ebu-r128-hd25", tmp_path / "a", ffmpeg, tmp_path)
    usual, usual_json, usual_html = qc(False, master, "ebu-r128-hd25", tmp_path / "b", ffmpeg, tmp_path)
    assert early_json and early_json == usual_json and early_html == usual_html
    if len(broken) == 25:
        assert early["code"] == usual["code"] == 2 and early_json["verdict"] == "unusable"
    else:  # the thumbnails seeked (decode errors: frame N is not known to be the Nth decoded)
        assert early["code"] == usual["code"] == 1 and early_json["measurements"]["decode_errors"]
        shown = [f["thumbnail"] for c in early_json["checks"] for f in c["findings"] if c["check_id"] == "stream.decode"]
        assert len(shown) == len(broken) and all(shown)  # frames 2 and 5 (their neighbours: seeked)
