"""Conform check against a catalogue built by really ingesting tiny generated clips; CLI, reports, relink."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import jsonschema
import opentimelineio as otio
import pytest
from conftest import SMALL_SPEC, small_clip
from typer.testing import CliRunner

import cli.commands.conform  # noqa: F401  (registers the command)
from cli.app import app
from cli.schemas import SCHEMA_DIR
from config.errors import PostprodError
from config.settings import load_settings
from conform.check import check_conform
from flows.ingest import run_ingest
from ingest.catalogue import Catalogue
from media.probe import probe_file

# 25 fps, 2 s clips = 50 frames each.
CARDS = {
    "DAY01_A001/Clips/A001C001_261123_R1AB.mov": {"timecode": "10:00:00:00", "reel": "A001", "seconds": 2.0},
    "DAY01_A001/Clips/A001C002_261123_R1AB.mov": {"timecode": "10:00:10:00", "reel": "A001", "seconds": 2.0},
    "DAY01_B001/B001C001_261123_K7QX.mov": {"timecode": "14:30:00:00", "reel": "B001", "seconds": 2.0},
    "DAY02_D001/D001C001_261124_AAAA.mov": {"timecode": "11:00:00:00", "reel": "D001", "seconds": 2.0},
    "DAY02_D001_COPY/D001C001_261124_BBBB.mov": {"timecode": "11:00:00:00", "reel": "D001", "seconds": 1.6},
    "DAY02_E001/E001C001_261124_CCCC.mov": {"timecode": "12:00:00:00", "reel": "E001", "seconds": 1.0,
                                                "rate": Fraction(24)},
}

EDL = """TITLE: MATCH TEST
FCM: NON-DROP FRAME

001  A001     V     C        10:00:00:13 10:00:01:10 01:00:00:00 01:00:00:22
* FROM CLIP NAME: A001C001_261123_R1AB
002  A001     V     C        10:00:10:05 10:00:11:00 01:00:00:22 01:00:01:17
003  A001     V     C        10:00:01:20 10:00:02:10 01:00:01:17 01:00:02:07
* FROM CLIP NAME: A001C001_261123_R1AB
004  Z999     V     C        09:00:00:00 09:00:01:00 01:00:02:07 01:00:03:07
005  A001     V     C        10:05:00:15 10:05:01:00 01:00:03:07 01:00:03:17
* FROM CLIP NAME: A001C009_261123_R1AB
006  D001     V     C        11:00:00:15 11:00:01:00 01:00:03:17 01:00:04:02
007  AX       V     C        14:30:00:15 14:30:01:05 01:00:04:02 01:00:04:17
* SOURCE FILE: B001C001_261123_K7QX.mov
008  E001     V     C        12:00:00:12 12:00:00:13 01:00:04:17 01:00:04:18
009  A001     V     C        10:00:00:20 10:00:00:21 01:00:04:18 01:00:05:05
M2   A001       000.0                10:00:00:20
010  BL       V     C        00:00:00:00 00:00:00:12 01:00:05:05 01:00:05:17
011  AX       V     C        14:30:00:14 14:30:00:20 01:00:05:17 01:00:05:23
012  B001     V     C        14:30:00:20 14:30:01:00 01:00:05:20 01:00:06:00
this is not an edit
"""

# event -> the rules it must raise, and nothing else
EXPECTED = {
    1: [],
    2: ["insufficient_handles"],
    3: ["source_out_of_range"],
    4: ["missing_media"],
    5: ["proxy_only"],
    6: ["ambiguous_match"],
    7: [],
    8: ["frame_rate_mismatch"],
    9: ["freeze_frame"],
    10: [],
    11: [],
    12: ["record_overlap"],
}


@pytest.fixture(scope="module")
def catalogue_ws(tmp_path_factory: pytest.TempPathFactory, make_media) -> Path:
    """A production whose cards were really ingested, plus one proxy whose original never came in."""
    ws = tmp_path_factory.mktemp("conform")
    (ws / "small.toml").write_text(SMALL_SPEC)
    (ws / "postprod.toml").write_text('data_dir = "data"\n\n[productions.test]\nspec = "small.toml"\nhandles = 12\n')
    cards = set()
    for rel, kw in CARDS.items():
        src = make_media(Path(rel).name, small_clip(audio_channels=1, **kw))
        dst = ws / "cards" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        cards.add(str(ws / "cards" / rel.split("/")[0]))
    settings = load_settings(ws / "postprod.toml")
    run_ingest(sorted(cards), "test", settings)
    proxy = make_media("A001C009_261123_R1AB_proxy.mov",
                       small_clip(timecode="10:05:00:00", reel="A001", seconds=2.0, audio_channels=1))
    media = probe_file(proxy, ffmpeg=settings.ffmpeg_exe(), decode_check="none")
    media = media.model_copy(update={"clip_name": "A001C009_261123_R1AB"})
    Catalogue(settings.db_url).record("test", media, card=str(proxy.parent), relpath=proxy.name,
                                      hash_algorithm=None, hash_value=None, ingest_id=None, role="proxy")
    (ws / "cut.edl").write_text(EDL)
    return ws


@pytest.fixture()
def cws(catalogue_ws: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POSTPROD_CONFIG", str(catalogue_ws / "postprod.toml"))
    monkeypatch.chdir(catalogue_ws)
    return catalogue_ws


def run_cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_findings_on_each_event_and_nothing_else(cws: Path) -> None:
    result = run_cli("conform", "cut.edl", "-p", "test", "--json", "--report", str(cws / "reports"))
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    got = {e["event"]: sorted(f["rule"] for f in e["findings"]) for e in data["events"]}
    assert got == EXPECTED
    by_event = {e["event"]: e for e in data["events"]}
    assert Path(by_event[1]["media"]).name == "A001C001_261123_R1AB.mov"
    assert by_event[7]["matched_by"] == "source file"
    assert by_event[11]["matched_by"] == "timecode"
    assert Path(by_event[11]["media"]).name == "B001C001_261123_K7QX.mov"
    assert by_event[8]["findings"][0]["severity"] == "error"  # 24 vs 25: the timecode counts differ
    # Findings carry event number and line.
    assert by_event[4]["findings"][0]["line"] == 9 and by_event[4]["findings"][0]["event"] == 4
    assert [(f["rule"], f["line"]) for f in data["findings"]] == [
        ("timeline_rate", None), ("unparsed_line", EDL.splitlines().index("this is not an edit") + 1)]
    # The catalogued media of the list's reels say 25; the list alone would leave 24 possible.
    assert data["timeline"]["rate_source"] == "catalogue" and data["findings"][0]["severity"] == "info"
    acc = data["timeline"]["accounting"]
    assert (acc["read"], acc["event_lines"], acc["events_in_report"], acc["event_lines_not_taken"]) == (21, 12, 12, 0)
    assert [(n["line"], n["event_line"]) for n in acc["not_taken"]] == [(21, False)]
    assert data["summary"]["by_rule"]["missing_media"] == 1
    assert data["summary"]["events"] == 12 and data["summary"]["errors"] == 4
    assert Path(data["report_json"]).is_file() and Path(data["report_html"]).is_file()


def test_handles_option_changes_the_verdict(cws: Path) -> None:
    s = load_settings(cws / "postprod.toml")
    strict = check_conform(cws / "cut.edl", "test", s, handles=16, write_report=False)
    loose = check_conform(cws / "cut.edl", "test", s, handles=0, write_report=False)
    rules = lambda d: {e["event"] for e in d["events"] for f in e["findings"]
                       if f["rule"] == "insufficient_handles"}
    assert rules(loose.data) == set()
    assert {1, 2} <= rules(strict.data)


def test_clean_list_exits_zero_and_html_is_escaped(cws: Path) -> None:
    (cws / "clean.edl").write_text(
        "TITLE: <script>alert(1)</script>\n"
        "001  A001     V     C        10:00:00:13 10:00:01:10 01:00:00:00 01:00:00:22\n"
        "* FROM CLIP NAME: A001C001_261123_R1AB\n")
    result = run_cli("conform", "clean.edl", "-p", "test", "--report", str(cws / "reports"))
    assert result.exit_code == 0, result.output
    html = max((cws / "reports").glob("conform-clean-*.html")).read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_relink_points_at_the_originals(cws: Path) -> None:
    out = cws / "relinked.otio"
    result = run_cli("conform", "cut.edl", "-p", "test", "--relink", str(out), "--json")
    assert result.exit_code == 1
    tl = otio.adapters.read_from_file(str(out))
    clips = {c.metadata["postprod"]["event"]: c for c in tl.find_clips()}
    c1 = clips[1]
    assert c1.media_reference.target_url.endswith("DAY01_A001/Clips/A001C001_261123_R1AB.mov")
    assert c1.media_reference.available_range.start_time.to_frames() == 900000  # 10:00:00:00 at 25
    assert c1.media_reference.available_range.duration.to_frames() == 50
    assert c1.source_range.start_time.to_frames() == 900013
    assert isinstance(clips[4].media_reference, otio.schema.MissingReference)
    assert any(isinstance(e, otio.schema.FreezeFrame) for e in clips[9].effects)


@pytest.mark.parametrize("suffix", [".xml", ".fcpxml", ".otio"])
def test_other_formats_read_through_otio(cws: Path, suffix: str) -> None:
    """Write the relinked cut with OTIO's adapters, then check that file: same events, same media."""
    out = cws / f"roundtrip{suffix}"
    assert run_cli("conform", "cut.edl", "-p", "test", "--relink", str(out)).exit_code == 1
    result = run_cli("conform", str(out), "-p", "test", "--json", "--handles", "0")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    assert data["timeline"]["format"] == {".xml": "fcp_xml", ".fcpxml": "fcpx_xml", ".otio": "otio"}[suffix]
    media = {Path(e["media"]).name for e in data["events"] if e["media"]}
    assert "A001C001_261123_R1AB.mov" in media and "B001C001_261123_K7QX.mov" in media
    first = next(e for e in data["events"] if e["record_in"].endswith("00:00:00"))
    assert first["source_in"] == "10:00:00:13" and first["findings"] == []


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xmeml version="4"><sequence><name>&lol3;</name></sequence></xmeml>
"""


@pytest.mark.parametrize("name,content,message", [
    ("garbage.edl", bytes(range(256)) * 16, "binary data"),
    ("empty.edl", b"", "empty file"),
    ("notes.txt", b"Call the lab about the grade on Monday.\n", "unknown timeline format"),
    ("bomb.xml", BOMB.encode(), "XML refused"),
    ("broken.xml", b"<xmeml><sequence>", "not well-formed XML"),
    ("cut.aaf", b"\xd0\xcf\x11\xe0not really an aaf" * 10, "aaf reader could not read it"),
])
def test_bad_inputs_exit_2_with_a_clear_message(cws: Path, name: str, content: bytes, message: str) -> None:
    (cws / name).write_bytes(content)
    result = run_cli("conform", name, "-p", "test")
    assert isinstance(result.exception, PostprodError) and result.exception.exit_code == 2
    assert message in str(result.exception) and name in str(result.exception)


def test_a_rate_option_that_the_frame_fields_contradict_exits_2(cws: Path) -> None:
    (cws / "at30.edl").write_bytes((Path(__file__).parent / "data/edl/wrong_rate_30fps_list_read_at_25.edl").read_bytes())
    result = run_cli("conform", "at30.edl", "-p", "test", "--rate", "25")
    assert isinstance(result.exception, PostprodError) and result.exception.exit_code == 2
    assert "fps allows" in str(result.exception) and "at30.edl" in str(result.exception)


def test_real_command_exit_code_and_message_without_traceback(cws: Path) -> None:
    (cws / "garbage2.edl").write_bytes(bytes(range(256)) * 4)
    proc = subprocess.run([sys.executable, "-m", "cli.main", "conform", "garbage2.edl", "-p", "test"],
                          capture_output=True, text=True, cwd=cws, check=False)
    assert proc.returncode == 2
    assert "garbage2.edl: not a text EDL:" in proc.stderr and "Traceback" not in proc.stderr


def test_huge_file_refused_without_reading_it(cws: Path) -> None:
    with open(cws / "huge.edl", "wb") as fh:
        fh.truncate(65 * 1024 * 1024)  # sparse: no disk used
    result = run_cli("conform", "huge.edl", "-p", "test")
    assert isinstance(result.exception, PostprodError) and "too large" in str(result.exception)


def test_edl_with_a_txt_extension_is_recognised(cws: Path) -> None:
    (cws / "cut_copy.txt").write_text(EDL)
    result = run_cli("conform", "cut_copy.txt", "-p", "test", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["summary"]["events"] == 12


def test_rate_option_is_exact(cws: Path) -> None:
    (cws / "ntsc.edl").write_text("FCM: DROP FRAME\n001  A001 V C 00:00:59:28 00:01:00:02 01:00:00:00 01:00:00:02\n")
    result = run_cli("conform", "ntsc.edl", "-p", "test", "--rate", "29.97", "--json")
    data = json.loads(result.stdout)
    assert data["timeline"]["rate"] == "30000/1001" and data["timeline"]["drop_frame"] is True
    assert data["events"][0]["duration_frames"] == 2


DF_EDL = """TITLE: DF
FCM: DROP FRAME
001  C001     V     C        10:01:00:12 10:01:00:16 01:00:00:00 01:00:00:04
FCM: NON-DROP FRAME
002  C001     V     C        10:01:00:12 10:01:00:16 01:00:00:04 01:00:00:08
"""


def test_drop_frame_media_against_an_fcm_drop_frame_list(workspace: Path, settings, make_media) -> None:
    """A 29.97 DF clip from 10:00:59;28 (30 frames): 10:01:00;12 is 12 frames in, because ;00 and ;01 do
    not exist at minute 1; read as NDF it would be 14 frames in."""
    clip = make_media("C001C001_DF.mov", small_clip(rate=Fraction(30000, 1001), timecode="10:00:59;28",
                                                    reel="C001", audio_channels=1))
    media = probe_file(clip, ffmpeg=settings.ffmpeg_exe(), decode_check="none")
    assert media.drop_frame and media.duration_frames == 30
    Catalogue(settings.db_url).record("test", media, card=str(clip.parent), relpath=clip.name,
                                      hash_algorithm=None, hash_value=None, ingest_id=None)
    (workspace / "df.edl").write_text(DF_EDL)
    data = check_conform(workspace / "df.edl", "test", settings, rate="29.97", handles=20,
                         write_report=False).data
    first, second = data["events"]
    assert first["source_in"] == "10:01:00;12" and first["duration_frames"] == 4
    assert [(f["rule"], f["measured"]) for f in first["findings"]] == [("insufficient_handles", "head 12, tail 14")]
    assert {f["rule"] for f in second["findings"]} == {"drop_frame_mismatch", "insufficient_handles"}


def write_avid_like_aaf(path: Path, clips: list[tuple[str, str, int, int, str, int, int]], rate: int = 25) -> None:
    """An AAF as Avid structures it: composition -> master mob -> file source mob (locator URL) -> tape
    source mob (reel name, start timecode). Made with pyaaf2, the library otio-aaf-adapter reads with."""
    import aaf2

    with aaf2.open(str(path), "w") as f:
        comp = f.create.CompositionMob("AVID CUT")
        f.content.mobs.append(comp)
        sequence = comp.create_picture_slot(rate).segment
        for name, tape_name, tc_start, length, url, src_offset, duration in clips:
            tape = f.create.SourceMob()
            f.content.mobs.append(tape)
            tape_slot, tc_slot = tape.create_tape_slots(tape_name, rate, rate, media_kind="picture")
            tc_slot.segment.start = tc_start
            file_mob = f.create.SourceMob(name + ".PHYS")
            f.content.mobs.append(file_mob)
            desc = f.create.CDCIDescriptor()
            for key, value in (("ComponentWidth", 8), ("HorizontalSubsampling", 2), ("ImageAspectRatio", "16/9"),
                               ("StoredWidth", 320), ("StoredHeight", 180), ("FrameLayout", "FullFrame"),
                               ("VideoLineMap", [42, 0]), ("SampleRate", rate), ("Length", length)):
                desc[key].value = value
            locator = f.create.NetworkLocator()
            locator["URLString"].value = url
            desc["Locator"].append(locator)
            file_mob.descriptor = desc
            fslot = file_mob.create_empty_slot(rate, media_kind="picture", slot_id=1)
            fslot.segment.length = length
            fslot.segment.mob_id = tape.mob_id
            fslot.segment.slot_id = tape_slot.slot_id
            fslot.segment.start = tc_start
            master = f.create.MasterMob(name)
            f.content.mobs.append(master)
            mslot = master.create_timeline_slot(rate)
            mslot.segment = file_mob.create_source_clip(1, start=0, length=length, media_kind="picture")
            sequence.components.append(master.create_source_clip(mslot.slot_id, start=src_offset,
                                                                 length=duration, media_kind="picture"))


def test_avid_aaf(cws: Path) -> None:
    a = cws / "cards/DAY01_A001/Clips/A001C001_261123_R1AB.mov"
    write_avid_like_aaf(cws / "cut.aaf", [
        ("A001C001_261123_R1AB", "A001", 10 * 3600 * 25, 50, a.as_uri(), 13, 22),
        ("B001C001_261123_K7QX", "B001", (14 * 3600 + 30 * 60) * 25, 50, "file:///avid/media/B001C001.mxf", 15, 15),
        ("Z999C001_261123_ZZZZ", "Z999", 9 * 3600 * 25, 50, "file:///avid/media/Z999C001.mxf", 0, 25),
    ])
    result = run_cli("conform", "cut.aaf", "-p", "test", "--json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["timeline"]["format"] == "aaf" and data["timeline"]["name"] == "AVID CUT"
    events = data["events"]
    assert [e["reel"] for e in events] == ["A001", "B001", "Z999"]
    assert [e["source_in"] for e in events] == ["10:00:00:13", "14:30:00:15", "09:00:00:00"]
    assert [e["duration_frames"] for e in events] == [22, 15, 25]
    assert Path(events[1]["media"]).name == "B001C001_261123_K7QX.mov"  # by reel, the Avid MXF path unknown
    assert [[f["rule"] for f in e["findings"]] for e in events] == [[], [], ["missing_media"]]


def test_json_shape_is_stable(cws: Path) -> None:
    """The documented keys (docs/conform.md), no more, no less: other tools read this."""
    data = json.loads(run_cli("conform", "cut.edl", "-p", "test", "--json").stdout)
    jsonschema.validate(data, json.loads((SCHEMA_DIR / "conform.schema.json").read_text()))
    assert set(data) == {"schema_version", "kind", "checked_at", "production", "handles", "timeline", "summary",
                         "findings", "events", "relinked", "report_json", "report_html"}
    assert data["schema_version"] == 1 and data["kind"] == "conform"
    assert set(data["timeline"]) == {"name", "path", "format", "rate", "drop_frame", "rate_source", "encoding",
                                     "line_endings", "events", "event_lines", "record_in", "record_out",
                                     "duration_frames", "rate_reason", "accounting"}
    assert set(data["timeline"]["accounting"]) == {"unit", "read", "blank", "event_lines", "events_in_report",
                                                   "event_lines_not_taken", "not_taken_entries", "kinds", "padding",
                                                   "not_taken"}
    assert set(data["timeline"]["accounting"]["not_taken"][0]) == {"line", "last_line", "count", "event_line",
                                                                   "reason", "item"}
    assert set(data["summary"]) == {"events", "event_lines", "matched", "errors", "warnings", "info", "by_rule",
                                    "lines_read", "event_lines_in_list", "event_lines_not_taken", "lines_not_taken"}
    assert set(data["summary"]["by_rule"]) == {
        "missing_media", "ambiguous_match", "source_out_of_range", "insufficient_handles", "frame_rate_mismatch",
        "drop_frame_mismatch", "speed_effect", "freeze_frame", "proxy_only", "record_overlap", "unparsed_line",
        "unreadable_event", "duplicate_event", "zero_length_source", "source_reversed", "not_checked",
        "timeline_rate", "edl_note", "production_hint", "media_not_verified"}
    assert set(data["events"][0]) == {
        "event", "line", "track", "reel", "clip_name", "source_file", "source_in", "source_out", "record_in",
        "record_out", "record_in_frames", "duration_frames", "transition", "transition_frames", "speed", "freeze",
        "media", "matched_by", "findings"}
    assert set(data["events"][1]["findings"][0]) == {"rule", "severity", "message", "event", "line", "expected",
                                                     "measured"}


def test_drop_frame_media_through_fcp_xml_frame_counts(workspace: Path, settings, make_media) -> None:
    """XML carries frame counts, not labels: DF media must match exactly whatever the XML's DF display says."""
    clip = make_media("C001C001_DF.mov", small_clip(rate=Fraction(30000, 1001), timecode="10:00:59;28",
                                                    reel="C001", audio_channels=1))
    media = probe_file(clip, ffmpeg=settings.ffmpeg_exe(), decode_check="none")
    Catalogue(settings.db_url).record("test", media, card=str(clip.parent), relpath=clip.name,
                                      hash_algorithm=None, hash_value=None, ingest_id=None)
    (workspace / "df.edl").write_text(DF_EDL.split("FCM: NON-DROP")[0])
    check_conform(workspace / "df.edl", "test", settings, rate="29.97", relink=workspace / "df.xml",
                  write_report=False)
    data = check_conform(workspace / "df.xml", "test", settings, handles=20, write_report=False).data
    assert data["timeline"]["rate"] == "30000/1001"
    (event,) = data["events"]
    assert [(f["rule"], f["measured"]) for f in event["findings"]] == [("insufficient_handles", "head 12, tail 14")]


def test_fcp_xml_in_latin1_follows_its_encoding_declaration(cws: Path) -> None:
    assert run_cli("conform", "cut.edl", "-p", "test", "--relink", "latin.xml").exit_code == 1
    text = (cws / "latin.xml").read_text(encoding="utf-8")
    text = text.replace('<?xml version="1.0" ?>', '<?xml version="1.0" encoding="ISO-8859-1"?>', 1)
    text = text.replace("<name>MATCH TEST</name>", "<name>Scène 12 été</name>")
    (cws / "latin.xml").write_bytes(text.encode("latin-1"))
    data = json.loads(run_cli("conform", "latin.xml", "-p", "test", "--json").stdout)
    assert data["timeline"]["name"] == "Scène 12 été" and data["summary"]["events"] >= 10


@pytest.mark.parametrize("args,message", [
    (["--rate", "abc"], "--rate: not a frame rate"),
    (["--rate", "nan"], "--rate: not a frame rate"),
    (["--rate", "inf"], "--rate: not a frame rate"),
    (["--rate", "-inf"], "--rate: not a frame rate"),
    (["--rate", "1e9"], "between 1 and 1000"),
    (["--relink", "out.mp4"], "cannot write '.mp4'; available: .otio, .xml, .fcpxml"),
    (["-p", "nope"], "unknown production 'nope'; available: default, test"),
])
def test_bad_options_are_clear_errors(cws: Path, args: list[str], message: str) -> None:
    result = run_cli("conform", "cut.edl", *(["-p", "test"] if "-p" not in args else []), *args)
    assert isinstance(result.exception, PostprodError) and result.exception.exit_code == 2
    assert message in str(result.exception)


def test_relink_to_fcpxml_keeps_missing_media_offline(cws: Path) -> None:
    """Event 4 (reel Z999) has no media: in the FCPXML it stays offline, not an asset at an invented path."""
    out = cws / "relinked.fcpxml"
    assert run_cli("conform", "cut.edl", "-p", "test", "--relink", str(out)).exit_code == 1
    text = out.read_text()
    assert 'src="file:///tmp/Z999"' not in text and '<asset name="Z999" src=""' in text
    assert "A001C001_261123_R1AB.mov" in text  # the found media are linked
    data = json.loads(run_cli("conform", str(out), "-p", "test", "--json").stdout)
    offline = [e for e in data["events"] if e["source_in"] == "09:00:00:00"]
    assert len(offline) == 1 and offline[0]["source_file"] is None and offline[0]["media"] is None
    assert [f["rule"] for f in offline[0]["findings"]] == ["missing_media"]


def test_without_p_a_hint_that_the_production_may_be_wrong(cws: Path) -> None:
    result = run_cli("conform", "cut.edl", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["production"] == "default" and data["summary"]["matched"] == 0
    (hint,) = [f for f in data["findings"] if f["rule"] == "production_hint"]
    assert "no -p given" in hint["message"] and "'test'" in hint["message"] and hint["expected"] == "-p test"
    shown = run_cli("conform", "cut.edl")
    assert "production_hint" in shown.stdout and "-p NAME" in shown.stdout
    assert "21 lines read: 12 event lines, 12 in the report" in shown.stdout  # the count, on the terminal too
    assert "not taken: line 21: not an event, comment or header" in shown.stdout
    # With the right production, no hint.
    data = json.loads(run_cli("conform", "cut.edl", "-p", "test", "--json").stdout)
    assert not [f for f in data["findings"] if f["rule"] == "production_hint"]
