"""Issue 15, case by case: each real-world pattern as a small list written for it (tests/conform/data/edl/)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from conform.match import CatalogueClip, CatalogueIndex, conform
from conform.model import TimelineError
from conform.report import report_data
from conform.timeline import read_timeline

DATA = Path(__file__).parent / "data" / "edl"
NTSC = Fraction(30000, 1001)

ISSUE_15_CASES = {
    "zero_length_source_placeholders.edl": "1: zero-length sources over a real record length",
    "avid_blank_transition_field.edl": "2: an Avid wipe with a blank transition field, then its M2",
    "dos_eof_padding.edl": "3: ^Z and NUL bytes after the last line",
    "rate_24_frames_never_pass_23.edl": "4: a 24 fps list, read in a 25 fps production",
    "rate_in_title_23976.edl": "4: the title says the rate",
    "fcm_drop_frame_late_on_line_13.edl": "4: the only FCM (drop-frame) on line 13",
    "flame_starless_comments_and_tags.edl": "5: star-less comments, DLEDL tags, REM, M2 MSTR offsets, frames",
    "resolve_marker_lines.edl": "5: Resolve's marker lines after an event",
    "source_out_before_in.edl": "7: source out before source in",
    "impossible_timecode_99.edl": "7: 99:99:99:99 on an event line, with an M2 after it",
    "repeated_event_lines.edl": "7: one event repeated",
}


def read(name: str, rate: Fraction | None = None, production: Fraction = Fraction(25), catalogue=None):
    return read_timeline(DATA / name, rate=rate, default_rate=production, catalogue=catalogue)


def clip(path: str, reel: str, start: str, frames: int, rate: Fraction = Fraction(25)) -> CatalogueClip:
    """A catalogue row as the store gives it to matching (the store itself is tested with real ingests)."""
    from media.timecode import Timecode

    return CatalogueClip(id=abs(hash(path)) % 10**6, path=path, card="/cards/" + reel, reel=reel, clip_name=None,
                         start_frames=Timecode.parse(start, rate).frames, duration_frames=frames, rate=rate,
                         drop_frame=False)


def check(name: str, clips: list[CatalogueClip], **kw) -> dict:
    tl = read(name, **kw)
    return report_data(conform(tl, CatalogueIndex(clips), 0), production="test")


def rules(event: dict) -> list[str]:
    return sorted(f["rule"] for f in event["findings"])


# 1 -------------------------------------------------------------------------------------------------------
def test_zero_length_sources_are_reported_with_their_record_range() -> None:
    data = check("zero_length_source_placeholders.edl", [clip("/r/A001C001.mov", "A001", "10:00:00:00", 100)])
    by_line = {e["line"]: e for e in data["events"]}
    assert rules(by_line[4]) == []
    leader, music, marker = by_line[5], by_line[7], by_line[9]
    assert (leader["record_in"], leader["record_out"], leader["duration_frames"]) == ("01:00:00:00", "01:00:02:00", 50)
    assert rules(leader) == ["missing_media"] and "zero-length source" in leader["findings"][0]["message"]
    assert rules(music) == ["missing_media"] and music["duration_frames"] == 62
    assert rules(marker) == []  # zero on both sides: nothing plays, nothing is missing
    assert data["summary"]["errors"] == 2


def test_a_zero_length_source_that_matches_media_still_says_so() -> None:
    data = check("zero_length_source_placeholders.edl", [clip("/r/PLACEHOL.wav", "PLACEHOL", "00:00:00:00", 100)])
    music = next(e for e in data["events"] if e["line"] == 7)
    assert music["media"] == "/r/PLACEHOL.wav" and rules(music) == ["zero_length_source"]


# 2 -------------------------------------------------------------------------------------------------------
def test_a_blank_transition_field_is_read_and_its_m2_stays_on_its_event() -> None:
    tl = read("avid_blank_transition_field.edl")
    by_line = {e.line: e for e in tl.events}
    assert sorted(by_line) == [4, 5, 6, 9]
    wipe = by_line[6]
    assert (wipe.reel, wipe.transition, wipe.transition_frames, wipe.speed) == ("B001", "W", 8, Fraction(25, 2))
    assert str(wipe.source_in) == "14:30:00:00" and wipe.clip_name == "B001C001_261123_K7QX"
    assert by_line[5].tail_frames == 8 and by_line[4].speed is None and by_line[5].speed is None
    note = next(f for f in tl.findings if f.line == 6)
    assert note.rule == "edl_note" and "no transition code" in note.message
    assert tl.event_count() == 3


def test_an_m2_after_an_unreadable_event_line_falls_on_no_neighbour() -> None:
    tl = read("impossible_timecode_99.edl")
    assert [e.line for e in tl.events] == [4, 8]
    assert all(e.speed is None and not e.freeze for e in tl.events)
    assert tl.events[0].clip_name is None  # the comment of line 7 belonged to the lost event
    found = {f.line: f.rule for f in tl.findings if f.line}
    assert found == {5: "unreadable_event", 6: "unparsed_line"}


# 3 -------------------------------------------------------------------------------------------------------
def test_dos_end_of_file_padding_is_not_binary() -> None:
    assert (DATA / "dos_eof_padding.edl").read_bytes().endswith(b"\x1a" + b"\x00" * 127)
    tl = read("dos_eof_padding.edl")
    assert [e.record_frames for e in tl.events] == [50, 25] and tl.line_endings == "crlf"
    assert tl.accounting.padding == "1 ^Z and 127 NUL bytes"
    assert not [f for f in tl.findings if f.severity != "info" and f.rule != "timeline_rate"]


# 4 -------------------------------------------------------------------------------------------------------
def test_a_24_fps_list_is_not_read_at_the_production_rate() -> None:
    tl = read("rate_24_frames_never_pass_23.edl")
    assert tl.rate == 24 and tl.rate_source == "file"
    said = tl.findings[0]
    assert said.rule == "timeline_rate" and said.severity == "warning" and "23" in said.message


def test_the_catalogue_says_23976_where_the_list_only_bounds_it() -> None:
    def catalogue(reels):
        assert {"A001", "A002", "A003"} <= set(reels)
        return Counter({Fraction(24000, 1001): 3, Fraction(25): 1})

    tl = read("rate_24_frames_never_pass_23.edl", catalogue=catalogue)
    assert tl.rate == Fraction(24000, 1001) and tl.rate_source == "catalogue"
    assert "3 of 4 files" in tl.findings[0].message


def test_frame_fields_past_the_production_rate_choose_the_smallest_rate_that_counts_them(tmp_path: Path) -> None:
    body = (DATA / "wrong_rate_30fps_list_read_at_25.edl").read_text().replace("TITLE: 30 FPS", "TITLE: DOC")
    (tmp_path / "doc.edl").write_text(body)
    tl = read_timeline(tmp_path / "doc.edl", rate=None, default_rate=Fraction(25))
    assert tl.rate == NTSC and tl.rate_source == "file"
    said = tl.findings[0]
    assert said.severity == "warning" and "29 (line 2)" in said.message and "production's 25" in said.message


def test_the_title_states_the_rate() -> None:
    tl = read("rate_in_title_23976.edl")
    assert tl.rate == Fraction(24000, 1001) and tl.rate_source == "file"
    assert tl.findings[0].severity == "info" and "title" in tl.findings[0].message


def test_a_production_rate_assumed_with_doubt_is_a_warning_naming_it() -> None:
    tl = read("basic_cmx3600.edl")
    said = tl.findings[0]
    assert tl.rate == 25 and tl.rate_source == "production"
    assert said.rule == "timeline_rate" and said.severity == "warning" and "--rate" in said.message


def test_the_option_is_said_too() -> None:
    tl = read("basic_cmx3600.edl", rate=Fraction(25))
    assert tl.rate_source == "option" and tl.findings[0].severity == "info" and "--rate 25" in tl.findings[0].message


def test_a_late_drop_frame_fcm_sets_the_rate_of_the_whole_list() -> None:
    tl = read("fcm_drop_frame_late_on_line_13.edl")
    assert tl.rate == NTSC and "line 13" in tl.rate_reason
    assert all(e.rate == NTSC for e in tl.events)
    # Before the FCM: non-drop (10:00:59:28 -> 10:01:00:02 is 4 frames); after it: drop-frame (2 frames).
    first, last = tl.events[0], tl.events[-1]
    assert first.source_out.frames - first.source_in.frames == 4 and not first.source_in.drop_frame
    assert last.source_out.frames - last.source_in.frames == 2 and last.source_in.drop_frame
    assert any(f.line == 13 and f.severity == "warning" for f in tl.findings)


# 5 -------------------------------------------------------------------------------------------------------
def test_flame_forms_are_read_as_comments_and_tags() -> None:
    tl = read("flame_starless_comments_and_tags.edl")
    first, second, third = tl.events
    assert first.clip_name == "A001C003_230514_R2EC" and second.clip_name == "A002C001_230514_R2EC"
    assert third.clip_name == "B001C001_261123_K7QX"
    assert second.freeze and str(second.source_in) == "11:00:00:10"  # M2 MSTR ... I +00:00:00:10
    assert str(third.source_in) == "14:30:00:00" and str(third.record_in) == "01:00:04:00"
    assert tl.accounting.kinds["tag"] == 3 and tl.accounting.kinds["comment"] == 3
    assert not [f for f in tl.findings if f.severity != "info" and f.rule != "timeline_rate"]
    frames = next(f for f in tl.findings if f.rule == "edl_note" and "frame counts" in f.message)
    assert frames.line == 11
    data = report_data(conform(tl, CatalogueIndex([]), 0), production="test")
    second_event = next(e for e in data["events"] if e["line"] == 8)
    assert "freeze_frame" in rules(second_event)


def test_resolve_marker_lines_are_comments() -> None:
    tl = read("resolve_marker_lines.edl")
    assert [e.clip_name for e in tl.events] == ["A001C001_261123_R1AB.mov", "B001C001_261123_K7QX.mov"]
    assert tl.accounting.kinds["tag"] == 1 and not tl.accounting.not_taken
    assert tl.events[0].comments == ["|C:ResolveColorBlue |M:Marker 1 |D:1"]


def test_semicolons_yield_to_a_title_that_states_a_rate(tmp_path: Path) -> None:
    (tmp_path / "semi.edl").write_text("TITLE: PROMO 25P\n"
                                       "001  A001 V C 10:00:01;00 10:00:03;00 01:00:00:00 01:00:02:00\n")
    tl = read_timeline(tmp_path / "semi.edl", rate=None, default_rate=Fraction(25))
    assert tl.rate == 25 and not tl.events[0].source_in.drop_frame and "title" in tl.rate_reason
    (tmp_path / "semi.edl").write_text("TITLE: PROMO\n"
                                       "001  A001 V C 10:00:01;00 10:00:03;00 01:00:00:00 01:00:02:00\n")
    tl = read_timeline(tmp_path / "semi.edl", rate=None, default_rate=Fraction(25))
    assert tl.rate == NTSC and tl.events[0].source_in.drop_frame and "';'" in tl.rate_reason


# 7 -------------------------------------------------------------------------------------------------------
def test_source_out_before_source_in_is_an_error() -> None:
    data = check("source_out_before_in.edl", [clip("/r/A001C001.mov", "A001", "10:00:00:00", 1000)])
    first, second = data["events"]
    assert "source_reversed" in rules(first) and rules(second) == []


def test_an_impossible_timecode_is_an_error_not_a_silent_drop() -> None:
    data = check("impossible_timecode_99.edl", [])
    lost = [f for f in data["findings"] if f["line"] == 5]
    assert [f["rule"] for f in lost] == ["unreadable_event"] and lost[0]["severity"] == "error"
    assert "99:99:99:99" in lost[0]["message"]
    acc = data["timeline"]["accounting"]
    assert acc["event_lines"] == 3 and acc["events_in_report"] == 2 and acc["event_lines_not_taken"] == 1


def test_a_repeated_event_is_counted_once_and_the_repeats_named() -> None:
    data = check("repeated_event_lines.edl", [clip("/r/A001C001.mov", "A001", "10:00:00:00", 1000),
                                               clip("/r/B001C001.mov", "B001", "14:30:00:00", 1000)])
    assert data["summary"]["events"] == 2 and data["summary"]["matched"] == 2
    acc = data["timeline"]["accounting"]
    assert acc["event_lines"] == 6 and acc["events_in_report"] == 2 and acc["event_lines_not_taken"] == 4
    runs = [(n["line"], n["last_line"], n["count"]) for n in acc["not_taken"]]
    assert runs == [(6, 10, 3), (13, 13, 1)]
    duplicates = [f for f in data["findings"] if f["rule"] == "duplicate_event"]
    assert [f["line"] for f in duplicates] == [6, 13]
    assert "lines 6-10: 3 event lines repeating" in duplicates[0]["message"]


def test_a_run_of_unreadable_lines_is_one_entry_and_one_finding(tmp_path: Path) -> None:
    body = (DATA / "basic_cmx3600.edl").read_text() + "Lorem ipsum dolor\n" * 5000 + "\n" + "sit amet\n"
    (tmp_path / "prose.edl").write_text(body)
    tl = read_timeline(tmp_path / "prose.edl", rate=None, default_rate=Fraction(25))
    first = len((DATA / "basic_cmx3600.edl").read_text().splitlines()) + 1
    assert [(n.line, n.last_line, n.count, n.event_line) for n in tl.accounting.not_taken] == [
        (first, first + 5001, 5001, False)]
    (finding,) = [f for f in tl.findings if f.rule == "unparsed_line"]
    assert finding.line == first and f"lines {first}-{first + 5001} (5001 lines)" in finding.message


def test_a_10_mb_list_of_one_repeated_event_stays_small(tmp_path: Path) -> None:
    line = "001  A001     V     C        10:00:01:00 10:00:03:00 01:00:00:00 01:00:02:00\n"
    big = tmp_path / "loop.edl"
    big.write_text("TITLE: LOOP\n" + line * (10 * 1024 * 1024 // len(line)))
    script = (
        "import json, sys\nfrom fractions import Fraction\nfrom pathlib import Path\n"
        "from conform.match import CatalogueIndex, conform\nfrom conform.report import report_data\n"
        "from conform.timeline import read_timeline\n"
        "tl = read_timeline(Path(sys.argv[1]), rate=None, default_rate=Fraction(25))\n"
        "d = report_data(conform(tl, CatalogueIndex([]), 12), production='t')\n"
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would count the pytest parent.
        "hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "print(json.dumps({'rss_mb': hwm / 1024, "
        "'summary': d['summary'], 'acc': d['timeline']['accounting']}))\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    out = subprocess.run([sys.executable, "-c", script, str(big)], capture_output=True, text=True, env=env,
                         check=True).stdout
    import json

    got = json.loads(out)
    lines = (10 * 1024 * 1024 // len(line))
    assert got["summary"]["events"] == 1 and got["summary"]["event_lines"] == 1
    assert got["acc"]["event_lines"] == lines and got["acc"]["event_lines_not_taken"] == lines - 1
    assert len(got["acc"]["not_taken"]) == 1
    assert got["rss_mb"] < 200, got["rss_mb"]


def test_a_fifo_named_edl_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "cut.edl"
    os.mkfifo(fifo)
    with pytest.raises(TimelineError, match="FIFO") as info:
        read_timeline(fifo, rate=None, default_rate=Fraction(25))  # would block forever if opened
    assert "cut.edl" in str(info.value)


# 6 -------------------------------------------------------------------------------------------------------
OTHER = Path(__file__).parent / "data"
# The same cut in three formats: A001C001 22 frames, then a nested sequence (shown from its frame 25 for 50
# frames: 15 frames of B001C001 from its 25th frame, then 35 of A001C002), then D001C001 10 frames.
NESTED_CUT = [("A001C001_261123_R1AB", "10:00:00:13", 22), ("B001C001_261123_K7QX", "14:30:01:00", 15),
              ("A001C002_261123_R1AB", "10:00:10:00", 35), ("D001C001_261124_AAAA", "11:00:00:00", 10)]


@pytest.mark.parametrize("name", ["otio/nested_stack_in_track.otio", "xml/nested_sequence.xml",
                                  "fcpxml/compound_clip.fcpxml"])
def test_nested_sequences_and_compound_clips_are_flattened_frame_exact(name: str) -> None:
    tl = read_timeline(OTHER / name, rate=None, default_rate=Fraction(25))
    assert [(e.clip_name, str(e.source_in), e.record_frames) for e in tl.events] == NESTED_CUT
    records = [e.record_in.frames - tl.events[0].record_in.frames for e in tl.events]
    assert records == [0, 22, 37, 72] and {e.track for e in tl.events} == {"V"}
    assert any(f.rule == "edl_note" and "SCENE 12 NEST" in f.message for f in tl.findings)
    assert tl.accounting.unit == "clip" and tl.accounting.event_lines == 4 and not tl.accounting.not_taken


def test_a_nested_sequence_that_cannot_be_placed_is_reported_clip_by_clip() -> None:
    tl = read_timeline(OTHER / "otio/nested_with_speed_effect.otio", rate=None, default_rate=Fraction(25))
    assert [e.clip_name for e in tl.events] == ["A001C001_261123_R1AB", "D001C001_261124_AAAA"]
    (entry,) = tl.accounting.not_taken
    assert (entry.item, entry.count) == ("SCENE 12 NEST", 2)
    finding = next(f for f in tl.findings if f.rule == "not_checked")
    assert finding.severity == "error" and "SCENE 12 NEST" in finding.message and "2 clips" in finding.message


def test_every_project_of_an_fcpxml_is_read() -> None:
    tl = read_timeline(OTHER / "fcpxml/two_projects.fcpxml", rate=None, default_rate=Fraction(25))
    assert [(e.clip_name, e.track, str(e.source_in), e.record_frames) for e in tl.events] == [
        ("A001C001_261123_R1AB", "P1.V", "10:00:00:13", 20), ("B001C001_261123_K7QX", "P2.V", "14:30:00:15", 21)]
    note = next(f for f in tl.findings if "2 timelines" in f.message)
    assert "PROJECT 1" in note.message and "PROJECT 2" in note.message


def test_aaf_drop_frame_timeline_stays_drop_frame() -> None:
    """An AAF made with pyaaf2 (what otio-aaf-adapter reads with): composition timecode 05:00:00;00 DF at
    29.97; the adapter loses the drop flag (it would read 04:59:42:00); we read it from the composition."""
    tl = read_timeline(OTHER / "aaf/df_2997_start_05h.aaf", rate=None, default_rate=Fraction(25))
    assert tl.rate == NTSC and tl.drop_frame and tl.header()["record_in"] == "05:00:00;00"
    first, second = tl.events
    assert (str(first.source_in), first.record_frames, first.reel) == ("10:01:00;12", 4, "C001")
    assert str(second.record_in) == "05:00:00;04" and second.record_frames == 30


# 7 (OTIO) -------------------------------------------------------------------------------------------------
def test_a_stack_straight_in_the_tracks_is_read_not_a_traceback() -> None:
    tl = read_timeline(OTHER / "otio/stack_in_tracks.otio", rate=None, default_rate=Fraction(25))
    assert [(e.clip_name, e.track, str(e.record_in)) for e in tl.events] == [
        ("A001C001_261123_R1AB", "V", "01:00:00:00"), ("B001C001_261123_K7QX", "V2", "01:00:00:10")]


def test_an_otio_nested_100000_deep_is_refused_before_parsing(tmp_path: Path) -> None:
    depth = 100_000
    text = ('{"OTIO_SCHEMA": "Timeline.1", "name": "deep", "tracks": ' + '{"OTIO_SCHEMA": "Stack.1", "children": ['
            * depth + "]}" * depth + "}")
    (tmp_path / "deep.otio").write_text(text)
    script = ("import sys\nfrom fractions import Fraction\nfrom pathlib import Path\n"
              "from conform.model import TimelineError\nfrom conform.timeline import read_timeline\n"
              "try:\n    read_timeline(Path(sys.argv[1]), rate=None, default_rate=Fraction(25))\n"
              "except TimelineError as exc:\n    print(exc)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path / "deep.otio")], capture_output=True,
                          text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]  # a segfault is -11
    assert "deep.otio: OTIO nested 200001 levels deep" in proc.stdout


def test_a_clip_otio_cannot_place_is_named_not_a_traceback() -> None:
    tl = read_timeline(OTHER / "otio/clip_without_range.otio", rate=None, default_rate=Fraction(25))
    assert tl.events == []
    (entry,) = tl.accounting.not_taken
    assert entry.item == "noRange" and entry.count == 1
    assert any(f.rule == "not_checked" and "'noRange'" in f.message and f.severity == "error" for f in tl.findings)


def test_an_xml_nested_too_deep_is_refused_before_the_adapter_recurses(tmp_path: Path) -> None:
    nest = 2000
    text = ('<?xml version="1.0"?><xmeml version="4"><sequence><name>s</name><media><video><track>'
            + "<clipitem><name>c</name><sequence><media><video><track>" * nest
            + "</track></video></media></sequence></clipitem>" * nest + "</track></video></media></sequence></xmeml>")
    (tmp_path / "deep.xml").write_text(text)
    with pytest.raises(TimelineError, match="XML nested 10005 levels deep") as info:
        read_timeline(tmp_path / "deep.xml", rate=None, default_rate=Fraction(25))
    assert "deep.xml" in str(info.value)
