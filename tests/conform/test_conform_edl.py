"""Our CMX3600 reader over sample EDLs named after the case they pin (tests/conform/data/edl/)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from conform.model import TimelineError
from conform.timeline import read_timeline

DATA = Path(__file__).parent / "data" / "edl"
NTSC = Fraction(30000, 1001)

# file -> (rate option, event count, record durations in frames, extra checks)
CASES: dict[str, tuple[Fraction | None, int, list[int], object]] = {
    "basic_cmx3600.edl": (None, 3, [50, 37, 25], lambda tl: tl.events[2].track == "A1A2V"),
    "utf8_bom.edl": (None, 3, [50, 37, 25], lambda tl: tl.encoding == "utf-8-sig" and tl.name == "BASIC CUT"),
    "cr_only_line_endings_classic_mac.edl": (None, 3, [50, 37, 25], lambda tl: tl.line_endings == "cr"
                                             and tl.events[0].clip_name == "A001C001_261123_R1AB"),
    "crlf_windows_line_endings.edl": (None, 3, [50, 37, 25], lambda tl: tl.line_endings == "crlf"),
    "latin1_windows_text.edl": (None, 1, [50], lambda tl: tl.events[0].clip_name == "Scène_12_prise_3 – été"
                                and tl.encoding == "cp1252"),
    "long_reel_names_32_chars.edl": (None, 2, [50, 25],
                                     lambda tl: tl.events[0].reel == "A001C003_230514_R2EC_LONGREELNAM"
                                     and len(tl.events[0].reel) == 32 and tl.events[1].reel == "B001C001_261123_K7QX_CAMERA_B_1"),
    "resolve_file_names_as_reels.edl": (None, 2, [50, 25],
                                        lambda tl: tl.events[1].reel == "My Phone Clip 0042.MP4"),
    "six_digit_event_numbers.edl": (None, 2, [50, 25], lambda tl: [e.number for e in tl.events] == [1, 2]),
    # 00:00:59:28 -> 00:01:00:02 is 2 frames in drop-frame (00:01:00:00 and :01 do not exist), 4 at minute 10.
    "drop_frame_via_fcm_colon_timecodes.edl": (NTSC, 2, [2, 4], lambda tl: tl.drop_frame
                                               and tl.header()["record_out"] == "01:01:00;06"
                                               and tl.header()["duration_frames"] == 6
                                               and tl.events[0].source_in.drop_frame
                                               and str(tl.events[0].source_out) == "00:01:00;02"),
    "fcm_switches_per_event.edl": (NTSC, 2, [2, 2], lambda tl: tl.events[0].source_in.drop_frame
                                   and not tl.events[1].source_in.drop_frame
                                   and tl.events[1].source_out.frames - tl.events[1].source_in.frames == 2),
    "semicolon_source_timecodes_fcpx.edl": (NTSC, 1, [2], lambda tl: tl.events[0].source_in.drop_frame),
    "dissolve_on_first_event.edl": (None, 3, [50, 25, 25],
                                    lambda tl: tl.events[0].transition == "D" and tl.events[0].transition_frames == 25
                                    and tl.events[1].tail_frames == 10
                                    and tl.events[1].clip_name == "A001C002_261123_R1AB"
                                    and tl.events[2].clip_name == "B001C001_261123_K7QX"),
    "dissolve_from_black_on_first_event.edl": (None, 2, [0, 50], lambda tl: tl.events[0].is_generator
                                               and tl.events[1].transition == "D" and tl.event_count() == 1
                                               and tl.header()["duration_frames"] == 50),
    "frame_numbers_instead_of_timecode.edl": (None, 2, [50, 25], lambda tl: str(tl.events[0].source_in)
                                              == "10:00:01:00" and str(tl.events[0].record_in) == "01:00:00:00"),
    "zero_length_audio_leader.edl": (None, 2, [50, 0], lambda tl: tl.events[1].reel == "AX"
                                     and tl.events[1].track == "A1A2"),
    "m2_freeze_frame.edl": (None, 1, [50], lambda tl: tl.events[0].freeze and tl.events[0].used_source()[1]
                            - tl.events[0].used_source()[0] == 1),
    # 12.5 fps in a 25 fps list: 50 record frames read 25 source frames.
    "m2_speed_change_half.edl": (None, 1, [50], lambda tl: tl.events[0].speed == Fraction(25, 2)
                                 and tl.events[0].used_source()[1] - tl.events[0].used_source()[0] == 25),
    "unreadable_lines_reported.edl": (None, 2, [50, 25],
                                      lambda tl: [(f.rule, f.line) for f in tl.findings if f.line]
                                      == [("unparsed_line", 5), ("unreadable_event", 6)]),
    "music_tool_nonstandard_headers.edl": (None, 2, [50, 50], lambda tl: all(f.severity == "info" for f in tl.findings
                                                                              if f.rule != "timeline_rate")),
    # A 30 fps list in a 25 fps production: its title says 30 and its frame fields reach 29.
    "wrong_rate_30fps_list_read_at_25.edl": (None, 2, [62, 58], lambda tl: tl.rate == 30 and tl.rate_source == "file"
                                             and tl.findings[0].rule == "timeline_rate"),
    "overlapping_and_reversed_record.edl": (None, 3, [50, 25, -25], lambda tl: True),
    "key_with_background_and_wipe.edl": (None, 5, [50, 0, 25, 25, 25],
                                         lambda tl: [e.transition for e in tl.events] == ["C", "C", "W", "K", "K"]
                                         and tl.events[1].tail_frames == 10 and tl.events[2].transition_frames == 10),
    "cut_written_with_zero_duration.edl": (None, 2, [50, 25], lambda tl: tl.events[0].transition == "C"
                                           and tl.events[0].reel == "A001" and not tl.accounting.not_taken),
    "avid_aux_source_file_comments.edl": (None, 2, [50, 25],
                                          lambda tl: tl.events[0].source_file == "A001C001_261123_R1AB"
                                          and tl.events[0].clip_name == "12A-3"),
}

UNUSABLE = {
    "binary_garbage.edl": "binary data",
    "empty_titles_only_no_events.edl": "no edit event",
}


def test_every_sample_has_a_case() -> None:
    from test_conform_cases import ISSUE_15_CASES

    assert {p.name for p in DATA.glob("*.edl")} == set(CASES) | set(UNUSABLE) | set(ISSUE_15_CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_edl_sample(name: str) -> None:
    rate, count, durations, check = CASES[name]
    tl = read_timeline(DATA / name, rate=rate, default_rate=Fraction(25))
    assert len(tl.events) == count
    assert [e.record_frames for e in tl.events] == durations
    assert check(tl), name
    assert all(e.line is not None for e in tl.events)


@pytest.mark.parametrize("name", sorted(UNUSABLE))
def test_unusable_edl_is_a_clear_error(name: str) -> None:
    with pytest.raises(TimelineError, match=UNUSABLE[name]) as info:
        read_timeline(DATA / name, rate=None, default_rate=Fraction(25))
    assert name in str(info.value)


def test_a_rate_option_that_the_frame_fields_contradict_is_an_error() -> None:
    with pytest.raises(TimelineError, match="fps allows"):
        read_timeline(DATA / "wrong_rate_30fps_list_read_at_25.edl", rate=Fraction(25), default_rate=Fraction(25))


def test_drop_frame_fcm_at_25_fps_given_as_option_is_refused() -> None:
    with pytest.raises(TimelineError, match="drop-frame exists only"):
        read_timeline(DATA / "drop_frame_via_fcm_colon_timecodes.edl", rate=Fraction(25), default_rate=Fraction(25))


def test_fcm_drop_frame_sets_the_rate_when_no_option_gives_it() -> None:
    tl = read_timeline(DATA / "drop_frame_via_fcm_colon_timecodes.edl", rate=None, default_rate=Fraction(25))
    assert tl.rate == NTSC and tl.rate_source == "file" and [e.record_frames for e in tl.events] == [2, 4]


def test_otio_reader_gets_drop_frame_wrong_where_ours_does_not() -> None:
    """Pins the gap we fix: OTIO's EDL reader ignores FCM: DROP FRAME with colon timecodes."""
    path = DATA / "drop_frame_via_fcm_colon_timecodes.edl"
    theirs = otio.adapters.read_from_file(str(path), rate=30000 / 1001)
    their_durations = [round(c.source_range.duration.value) for c in theirs.find_clips()]
    ours = read_timeline(path, rate=NTSC, default_rate=Fraction(25))
    assert [e.record_frames for e in ours.events] == [2, 4]
    assert their_durations != [2, 4]
