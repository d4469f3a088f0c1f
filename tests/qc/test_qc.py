"""PAD QC on synthetic masters with defects planted at known frames (320x180, 2 s, real ffmpeg)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from config.errors import ConfigError, UnknownNameError
from media.probe import probe_file
from media.synth import TakeSpec, make_bwf_take, truncated_copy
from planning.stages import Stage, StageState
from planning.store import PlanningStore
from qc.checks import CHECKS
from qc.profile import builtin_profiles, load_profile
from qc.report import write_reports
from qc.run import QcReport, qc_master
from qc.synth import Defect, MasterSpec, make_master

TEST_PROFILE = """schema_version = 1
name = "test-small"
description = "fr-pad-hd's checks at a test-sized raster"
[format]
containers = ["MXF"]
operational_patterns = ["OP-1a"]
video_codecs = ["MPEG Video"]
video_profiles = ["4:2:2@High"]
video_bit_rate = 2000000
width = 320
height = 180
frame_rate = "25/1"
scan = "tff"
chroma_subsampling = "4:2:2"
bit_depth = [8]
audio_channels = [8]
audio_tracks = [8]
audio_codecs = ["PCM"]
audio_sample_rate = 48000
audio_bit_depth = [24]
[timecode]
programme_start = "10:00:00:00"
[loudness]
channels = [1, 2]
integrated = -23.0
tolerance = 0.5
true_peak_max = -1.0
[silence]
channels = [1, 2]
min_seconds = 0.2
[black]
min_seconds = 0.12
[freeze]
min_seconds = 0.2
"""

CLEAN = MasterSpec()
# Defects away from each other, at frames of a 2 s (50 frame) master.
PLANTED = (Defect("black", 7, 4), Defect("freeze", 17, 7), Defect("silence", 21, 9, channel=2),
           Defect("peak", 33, 2, channel=1), Defect("illegal", 41, 3))


@pytest.fixture(scope="module")
def profile_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("profiles") / "test-small.toml"
    p.write_text(TEST_PROFILE)
    return p


@pytest.fixture(scope="module")
def masters(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str):
    folder = tmp_path_factory.mktemp("masters")
    cache: dict[str, Path] = {}

    def make(name: str, spec: MasterSpec) -> Path:
        if name not in cache:
            cache[name] = make_master(folder / name, spec, ffmpeg)
        return cache[name]

    return make


def tc(frame: int) -> str:
    """The timecode of a frame counted from 10:00:00:00 at 25 fps, computed here without the code under test."""
    return f"10:00:{frame // 25:02d}:{frame % 25:02d}"


def qc(path: Path, profile_path: Path, ffmpeg: str) -> QcReport:
    return qc_master(path, load_profile(profile_path), ffmpeg)


def findings(report: QcReport, check_id: str):
    return [f for c in report.checks if c.check_id == check_id for f in c.findings]


def test_clean_master_passes_with_nothing_above_info(masters, profile_path, ffmpeg):
    report = qc(masters("clean.mxf", CLEAN), profile_path, ffmpeg)
    above = [f for c in report.checks for f in c.findings if f.severity.value != "info"]
    assert above == []
    assert report.verdict == "pass" and report.exit_code == 0
    ids = {c.check_id for c in report.checks}
    assert {"format.container", "audio.loudness", "video.black", "video.levels_luma", "video.field_order"} <= ids


@pytest.mark.parametrize(("check_id", "defect"), [
    ("video.black", PLANTED[0]), ("video.freeze", PLANTED[1]), ("audio.silence", PLANTED[2]),
    ("audio.true_peak", PLANTED[3]), ("video.levels_luma", PLANTED[4]),
])
def test_planted_defect_found_at_its_timecode(masters, profile_path, ffmpeg, check_id, defect):
    report = qc(masters("defects.mxf", replace(CLEAN, defects=PLANTED)), profile_path, ffmpeg)
    found = findings(report, check_id)
    assert len(found) == 1, found
    f = found[0]
    assert abs(f.start_frame - defect.start) <= 1
    assert abs(f.end_frame - (defect.start + defect.frames)) <= 1
    # Timecodes come from the file's start timecode (10:00:00:00), frame-exact.
    assert f.start_tc == tc(f.start_frame)
    assert f.end_tc == tc(f.end_frame - 1)
    assert f.severity.value == "error" and report.exit_code == 1
    if check_id == "audio.silence":
        assert f.channel == 2


def test_levels_follow_r103_area_rule_and_gamut_is_its_own_check(masters, profile_path, ffmpeg):
    # R103 ignores excursions over less than 1 % of the picture: a 0.4 % patch at the code maximum passes,
    # a 6 % one is found. A light red whose Y', Cb and Cr are each legal but whose R' is far over 105 %
    # is a gamut finding, not a levels one (the superwhite patch is out of gamut too: R'G'B' over 105 %).
    spec = replace(CLEAN, defects=(Defect("illegal", 8, 3, area=0.004), Defect("illegal", 20, 3, area=0.06),
                                   Defect("gamut", 32, 4, area=0.3)))
    report = qc(masters("r103.mxf", spec), profile_path, ffmpeg)
    luma = findings(report, "video.levels_luma")
    assert [(abs(f.start_frame - 20) <= 1, abs(f.end_frame - 23) <= 1) for f in luma] == [(True, True)], luma
    gamut = sorted(findings(report, "video.gamut"), key=lambda f: f.start_frame)
    assert [(f.start_frame, f.end_frame) for f in gamut] == [(20, 23), (32, 36)], gamut
    assert gamut[1].start_tc == tc(32) and gamut[1].end_tc == tc(35)
    assert findings(report, "video.levels_chroma") == []
    assert report.measurements["rgb_range"][1] > 105


def test_intersample_over_is_found_by_the_true_peak_meter(masters, profile_path, ffmpeg):
    # A quarter-rate tone at 45° on channel 3: every sample stays 3 dB under the limit, the signal
    # between them does not. A sample-peak meter would pass it.
    d = Defect("intersample", 30, 4, channel=3)
    report = qc(masters("intersample.mxf", replace(CLEAN, defects=(d,))), profile_path, ffmpeg)
    found = findings(report, "audio.true_peak")
    assert len(found) == 1, found
    assert found[0].channel == 3
    assert abs(found[0].start_frame - 30) <= 1 and abs(found[0].end_frame - 34) <= 1
    m = report.measurements
    assert m["max_sample_peak"] < -2.5 < -1.0 < m["max_frame_peak"] < 0.5


def test_loudness_off_and_within_a_tenth_of_plain_ebur128(masters, profile_path, ffmpeg):
    path = masters("loud.mxf", replace(CLEAN, programme_lufs=-19.0))
    report = qc(path, profile_path, ffmpeg)
    [f] = findings(report, "audio.loudness")
    assert "-19.0 LUFS" in f.measured
    proc = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path), "-filter_complex",
                           "[0:a:0][0:a:1]amerge=inputs=2,ebur128=peak=true", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    plain = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", proc.stderr)[-1])
    assert abs(report.measurements["integrated"] - plain) <= 0.1
    plain_tp = float(re.findall(r"Peak:\s+(-?[\d.]+) dBFS", proc.stderr)[-1])
    assert abs(report.measurements["true_peak"] - plain_tp) <= 0.1


def test_wrong_field_order_measured_against_declared(masters, profile_path, ffmpeg):
    # Bottom-field-first pictures in a file that says top field first.
    report = qc(masters("bff-as-tff.mxf", replace(CLEAN, scan="bff", flagged="tff")), profile_path, ffmpeg)
    [f] = findings(report, "video.field_order")
    assert f.start_frame == 0 and f.start_tc == "10:00:00:00" and "bff" in f.message
    assert findings(report, "format.scan") == []
    # Declared bff where the profile wants tff: the format check says so.
    report = qc(masters("bff.mxf", replace(CLEAN, scan="bff")), profile_path, ffmpeg)
    assert findings(report, "format.scan") and findings(report, "video.field_order") == []


def test_idet_in_a_nullsink_sees_every_frame_as_an_output_of_its_own_would(masters, profile_path, ffmpeg, tmp_path):
    """The idet strip ends in a nullsink inside the picture's graph (qc/graph.py): its figures must be those of
    the same strip mapped to an output of its own, the last frame (which idet holds back a frame) included,
    on a whole master and on one cut short."""
    from qc.analyse import analyse
    from qc.graph import _picture_graph
    from qc.readback import _metadata_frames

    cut = truncated_copy(masters("clean.mxf", CLEAN), tmp_path / "cut.mxf", 0.5)
    for master in (masters("clean.mxf", CLEAN), cut):
        a = analyse(probe_file(master, ffmpeg=ffmpeg), load_profile(profile_path), ffmpeg)
        assert sum(a.field_counts.values()) == a.frames_decoded > 0
        [strip] = [g for g in _picture_graph(tmp_path, (40, 23), 8).split(";") if g.startswith("[f]")]
        chain = strip.removeprefix("[f]").removesuffix(",nullsink").replace(str(tmp_path / "idet.txt"),
                                                                           str(tmp_path / "own.txt"))
        subprocess.run([ffmpeg, "-nostdin", "-loglevel", "quiet", "-y", "-i", str(master), "-filter_complex",
                        f"[0:v:0]{chain}[vf]", "-map", "[vf]", "-f", "null", "-"], check=False)
        own: dict[str, int] = {}
        for _, data in _metadata_frames(tmp_path / "own.txt"):
            kind = data.get("lavfi.idet.multiple.current_frame", "undetermined")
            own[kind] = own.get(kind, 0) + 1
        assert a.field_counts == own


def test_wrong_channel_count_and_layout(masters, profile_path, ffmpeg):
    report = qc(masters("4ch.mxf", replace(CLEAN, audio_channels=4)), profile_path, ffmpeg)
    [f] = findings(report, "format.audio_channels")
    assert f.measured.startswith("4") and f.expected == "8"
    # Eight channels, but in one track where the profile wants eight mono tracks.
    report = qc(masters("1x8.mxf", replace(CLEAN, audio_layout="one-track")), profile_path, ffmpeg)
    assert findings(report, "format.audio_channels") == []
    [f] = findings(report, "format.audio_tracks")
    assert "1 audio track(s) (8 channels)" in f.message
    assert findings(report, "audio.loudness") == []  # the programme channels are found in any layout
    # No sound at all: the loudness check says so rather than passing quietly.
    report = qc(masters("mute.mxf", replace(CLEAN, audio_channels=0)), profile_path, ffmpeg)
    assert [f.measured for f in findings(report, "audio.loudness")] == ["no audio"]


def test_truncated_master_reports_where_decoding_stops(masters, profile_path, ffmpeg, tmp_path):
    cut = truncated_copy(masters("clean.mxf", CLEAN), tmp_path / "cut.mxf", 0.5)
    report = qc(cut, profile_path, ffmpeg)
    [f] = findings(report, "stream.truncated")
    proc = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(cut), "-map", "0:v", "-f", "null", "-"],
                          capture_output=True, text=True, check=False)
    decoded = int(re.findall(r"frame=\s*(\d+)", proc.stderr)[-1])
    assert abs(f.start_frame - decoded) <= 1 and 0 < decoded < 50
    assert f.start_tc == tc(f.start_frame)
    assert report.exit_code == 1


def test_corrupt_frames_are_reported(masters, profile_path, ffmpeg, tmp_path):
    data = bytearray(masters("clean.mxf", CLEAN).read_bytes())
    start = int(len(data) * 0.45)
    data[start:start + 60000] = bytes((i * 7919 + 13) % 256 for i in range(60000))  # garbage mid-file
    bad = tmp_path / "corrupt.mxf"
    bad.write_bytes(bytes(data))
    report = qc(bad, profile_path, ffmpeg)
    found = findings(report, "stream.decode")
    assert found and report.exit_code == 1
    assert report.measurements["decode_errors"] or report.measurements["missing"]
    located = [f for f in found if f.start_tc]
    assert all(0 <= f.start_frame < 50 for f in located)


def test_head_window_excludes_the_leader(masters, profile_path, ffmpeg, tmp_path):
    # File starts 10 frames before the programme: black there is the leader, not a defect.
    spec = replace(CLEAN, timecode="09:59:59:15", defects=(Defect("black", 0, 10),))
    text = profile_path.read_text().replace('programme_start = "10:00:00:00"',
                                            'programme_start = "10:00:00:00"\nfile_starts = ["09:59:59:15"]')
    prof = tmp_path / "leader.toml"
    prof.write_text(text)
    report = qc_master(masters("leader.mxf", spec), load_profile(prof), ffmpeg)
    assert findings(report, "video.black") == [] and findings(report, "format.start_timecode") == []
    assert report.measurements["loudness_from"] == pytest.approx(0.4)


def test_profiles_builtin_user_and_bad(tmp_path, profile_path):
    names = set(builtin_profiles())
    assert {"fr-pad-hd", "arte-hd", "dpp-as11-hd", "ebu-r128-hd25", "netflix-hd"} <= names
    for name in names:
        assert load_profile(name).name == name
    assert load_profile("fr-pad-hd").format.video_bit_rate == 50_000_000
    assert load_profile(profile_path).name == "test-small"
    with pytest.raises(UnknownNameError, match="available: arte-hd, dpp-as11-hd"):
        load_profile("fr-pad")
    bad = tmp_path / "bad.toml"
    bad.write_text(TEST_PROFILE.replace("tolerance = 0.5", "tolerance = 0.5\nwhatever = 1"))
    with pytest.raises(ConfigError, match="loudness.whatever"):
        load_profile(bad)
    bad.write_text(TEST_PROFILE + '[severity]\n"video.nothing" = "warning"\n')
    with pytest.raises(ConfigError, match="unknown check id"):
        load_profile(bad)
    assert "video.freeze" in CHECKS


def test_report_escapes_names_and_inlines_thumbnails(masters, profile_path, ffmpeg, tmp_path):
    odd = tmp_path / "<b>PAD & 'co'.mxf"
    shutil.copy(masters("defects.mxf", replace(CLEAN, defects=PLANTED)), odd)
    report = write_reports(qc(odd, profile_path, ffmpeg), tmp_path / "rep", ffmpeg, -23.0, 0.5)
    html = Path(report.report_html).read_text()
    assert "<b>PAD" not in html and "&lt;b&gt;PAD &amp; &#x27;co&#x27;" in html
    assert html.index("FAIL") < html.index("Failed checks") < html.index("Passed checks")
    assert html.count("data:image/jpeg;base64,") >= 3  # black, freeze, levels
    assert "<svg" in html and "target -23 LUFS" in html
    data = json.loads(Path(report.report_json).read_text())
    assert data["verdict"] == "fail" and data["schema_version"] == 1


def _cli(args: list[str]):
    from cli.app import app
    from cli.commands import qc as _qc_command  # noqa: F401

    return CliRunner().invoke(app, args)


def test_cli_exit_codes_and_json(masters, profile_path, ffmpeg, workspace, tmp_path, monkeypatch):
    clean = masters("clean.mxf", CLEAN)
    res = _cli(["qc", str(clean), "--profile", str(profile_path), "--json", "--report", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["verdict"] == "pass" and data["exit_code"] == 0 and Path(data["report_html"]).exists()
    assert {"check_id", "title", "severity", "status", "expected", "measured", "findings"} <= set(data["checks"][0])

    res = _cli(["qc", str(masters("defects.mxf", replace(CLEAN, defects=PLANTED))), "--profile",
                str(profile_path), "--report", str(tmp_path / "r")])
    assert res.exit_code == 1 and "10:00:00:07" in res.stdout

    text = tmp_path / "notes.mov"
    text.write_text("not a video at all\n" * 50)
    res = _cli(["qc", str(text), "--profile", str(profile_path), "--report", str(tmp_path / "r")])
    assert res.exit_code == 2 and "notes.mov" in res.output

    wav = make_bwf_take(tmp_path / "take.wav", TakeSpec(seconds=1.0, channels=2), ffmpeg)
    res = _cli(["qc", str(wav), "--profile", str(profile_path), "--json", "--report", str(tmp_path / "r")])
    assert res.exit_code == 2 and "audio only" in json.loads(res.stdout)["error"]

    # No --profile: the production's delivery_profile (a file path relative to the settings file).
    (workspace / "delivery.toml").write_text(TEST_PROFILE)
    settings_file = workspace / "postprod.toml"
    settings_file.write_text(settings_file.read_text() + 'delivery_profile = "delivery.toml"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    res = _cli(["qc", str(clean), "-p", "test", "--json", "--report", str(tmp_path / "r")])
    assert res.exit_code == 0 and json.loads(res.stdout)["profile"] == "test-small"
    res = _cli(["qc", str(clean), "--json", "--report", str(tmp_path / "r")])
    assert res.exception.exit_code == 2 and "no delivery profile" in str(res.exception)

    from cli.main import main  # the entry point turns the unknown profile into a message and exit 2

    proc = subprocess.run([shutil.which("postprod") or "postprod", "qc", str(clean), "--profile", "nope"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "unknown delivery profile 'nope'; available: arte-hd" in proc.stderr
    assert main  # imported for the registration path


# The one Prefect run (its temporary server takes ~25 s to start): the flow moves the PAD delivery stage.
def test_qc_flow_blocks_on_fail_and_direct_pass_marks_done(workspace, settings, ffmpeg, tmp_path, monkeypatch):
    # A loaded machine can take more than Prefect's default 20 s to start the temporary server.
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from flows.qc import qc_flow
    from planning.transitions import record_delivery
    from qc.master import run_qc

    profile = workspace / "test-small.toml"
    profile.write_text(TEST_PROFILE)
    bad = make_master(tmp_path / "bad.mxf", replace(MasterSpec(), defects=(Defect("black", 10, 6),)), ffmpeg)
    data = qc_flow(str(bad), str(profile), "test", str(workspace / "postprod.toml"))
    assert data["verdict"] == "fail"
    store = PlanningStore(settings.db_url)
    assert store.state("test", Stage.PAD_DELIVERY) is StageState.BLOCKED
    event = store.events("test", Stage.PAD_DELIVERY)[-1]
    assert "report_html" in event["evidence"] and "fail" in event["note"]

    good = make_master(tmp_path / "good.mxf", MasterSpec(), ffmpeg)
    report = run_qc(str(good), str(profile), settings, str(tmp_path / "rep"))
    assert record_delivery("test", report, settings) is StageState.DONE
    assert store.state("test", Stage.PAD_DELIVERY) is StageState.DONE


def test_checks_are_pure_windows_and_black_over_freeze(profile_path):
    """No ffmpeg: measurements in, findings out. Head and tail windows; a black stretch is not also a freeze."""
    from fractions import Fraction

    from media.model import MediaFile, VideoStream
    from qc.analyse import Analysis, Interval
    from qc.checks import Context, run_checks

    text = profile_path.read_text().replace('programme_start = "10:00:00:00"',
                                            'programme_start = "10:00:01:00"\ntail_seconds = 1.0')
    prof = load_profile_from_text(text)
    video = VideoStream(codec="MPEG Video", width=320, height=180, frame_rate=Fraction(25), scan="tff",
                        variable_frame_rate=False, bit_depth=8, chroma_subsampling="4:2:2")
    media = MediaFile(path="m.mxf", container="MXF", start_timecode="10:00:00:00", timecode_rate=Fraction(25),
                      drop_frame=False, duration_frames=250, video=video)
    analysis = Analysis(path="m.mxf", rate=Fraction(25), declared_frames=250, frames_decoded=250, last_frame=249,
                        black=[Interval(start=0, end=25), Interval(start=100, end=110), Interval(start=230, end=250)],
                        freeze=[Interval(start=100, end=110), Interval(start=150, end=160)])
    results = {r.check_id: r for r in run_checks(Context(media=media, analysis=analysis, profile=prof))}
    black = results["video.black"].findings
    assert [(f.start_tc, f.end_tc) for f in black] == [("10:00:04:00", "10:00:04:09")]  # leader and tail left out
    freeze = results["video.freeze"].findings
    assert [(f.start_tc, f.end_tc) for f in freeze] == [("10:00:06:00", "10:00:06:09")]  # not the black one


def load_profile_from_text(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.toml"
        path.write_text(text)
        return load_profile(path)
