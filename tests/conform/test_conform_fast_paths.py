"""The conform check's shortcuts give what the slow path gives, on every input tried: timecodes read from an
event line and written into a report without the general Timecode code, and the check with the cyclic collector
paused. Deterministic grids, no timing."""

from __future__ import annotations

import gc
import random
from fractions import Fraction

import pytest

from conform.edl_syntax import FRAMES, TC, WrongRate, timecode
from conform.model import tc_label, tc_text
from media.timecode import Timecode, TimecodeError, drop_frame_allowed, nominal_fps

RATES = [Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30), Fraction(48),
         Fraction(50), Fraction(60000, 1001), Fraction(60), Fraction(120)]


def _outcome(fn, *args):
    try:
        return fn(*args)
    except WrongRate as exc:
        return ("wrong rate", exc.token, exc.frame)
    except TimecodeError as exc:
        return ("error", str(exc))


def _timecode_before(token: str, rate: Fraction, drop_frame: bool, fcm_stated: bool) -> Timecode:
    """edl_syntax.timecode as it was: every token through Timecode.parse."""
    if FRAMES.match(token):
        return Timecode(int(token), rate, drop_frame)
    match = TC.match(token)
    if not match:
        raise TimecodeError(f"not a timecode: {token!r}")
    ff = int(match.group(5))
    if ff >= nominal_fps(rate) and int(match.group(2)) < 60 and int(match.group(3)) < 60:
        raise WrongRate(token, ff)
    df = drop_frame if fcm_stated else (match.group(4) in ";." and drop_frame_allowed(rate))
    if df and not drop_frame_allowed(rate):
        df = False
    return Timecode.parse(token, rate, df)


def _label_before(frames: int, rate: Fraction, drop_frame: bool) -> str:
    return str(Timecode(frames, rate, drop_frame))


@pytest.mark.parametrize("rate", RATES, ids=str)
def test_labels_are_the_timecodes_own(rate: Fraction) -> None:
    rnd = random.Random(17)
    frames = [0, 1, -1, -3600, 10**9, *range(0, 200_000, 997), *(rnd.randint(-10**6, 10**8) for _ in range(800))]
    for df in (False, True):
        for n in frames:
            expected = _outcome(_label_before, n, rate, df)
            assert _outcome(tc_label, n, rate, df) == expected, (n, rate, df)
            if not isinstance(expected, tuple):
                assert tc_text(Timecode(n, rate, df)) == expected


@pytest.mark.parametrize("rate", RATES, ids=str)
def test_event_timecodes_read_as_timecode_parse_reads_them(rate: Fraction) -> None:
    rnd = random.Random(3)
    tokens = ["00:00:00:00", "23:59:59:23", "10:00:00;00", "10:01:00;00", "10:01:00;02", "1:02:03:04", "99:59:59:29",
              "10:00:00:100", "10:00:00.12", "10.00.00.12", "10:00:00,12", "10:60:00:00", "10:00:60:00", "0", "123456"]
    for _ in range(1200):
        tokens.append(f"{rnd.choice(['0', '00', '1', '09', '23', '99'])}{rnd.choice(':;.')}{rnd.randint(0, 70):02d}"
                      f"{rnd.choice(':;.')}{rnd.randint(0, 70):02d}{rnd.choice(':;.,')}"
                      f"{rnd.randint(0, 130):0{rnd.choice([2, 3])}d}")
    for token in tokens:
        for drop_frame in (False, True):
            for stated in (False, True):
                assert _outcome(timecode, token, rate, drop_frame, stated) == \
                    _outcome(_timecode_before, token, rate, drop_frame, stated), (token, rate, drop_frame, stated)


def test_the_check_leaves_the_collector_as_it_found_it(tmp_path) -> None:
    from conform.check import _collector_paused

    assert gc.isenabled()
    with _collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with _collector_paused():
            pass
        assert not gc.isenabled()  # paused by someone else: left paused
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), _collector_paused():
        raise RuntimeError("a check that fails")
    assert gc.isenabled()
