from fractions import Fraction

import pytest

from media.timecode import Timecode, TimecodeError, parse_rate

NTSC = Fraction(30000, 1001)


@pytest.mark.parametrize(
    ("text", "rate", "frames"),
    [
        ("00:00:00:00", Fraction(25), 0),
        ("10:00:00:00", Fraction(25), 900000),
        ("01:00:00:00", Fraction(24000, 1001), 86400),
        ("00:01:00;02", NTSC, 1800),  # first frame of minute 1 in drop-frame
        ("00:10:00;00", NTSC, 17982),  # tenth minute: no frames dropped
        ("01:00:00;00", NTSC, 107892),
        ("00:01:00;04", Fraction(60000, 1001), 3600),  # 59.94 drops 4
    ],
)
def test_parse_and_format_round_trip(text: str, rate: Fraction, frames: int) -> None:
    tc = Timecode.parse(text, rate)
    assert tc.frames == frames
    assert tc.format() == text


def test_drop_frame_skips_labels_each_minute_except_tenth() -> None:
    tc = Timecode.parse("00:00:59;29", NTSC)
    assert (tc + 1).format() == "00:01:00;02"
    assert (Timecode.parse("00:09:59;29", NTSC) + 1).format() == "00:10:00;00"
    with pytest.raises(TimecodeError):
        Timecode.parse("00:01:00;00", NTSC)


def test_colon_timecode_can_be_declared_drop_frame() -> None:
    # EDLs write DF with colons and say so in FCM: the caller decides.
    assert Timecode.parse("00:01:00:02", NTSC, drop_frame=True).frames == 1800


def test_no_drop_frame_at_25() -> None:
    with pytest.raises(TimecodeError):
        Timecode(10, Fraction(25), drop_frame=True)
    assert Timecode.parse("00:00:01;00", Fraction(25)).drop_frame is False


@pytest.mark.parametrize(
    ("value", "rate"),
    [("29.97", NTSC), ("23.976", Fraction(24000, 1001)), ("25", Fraction(25)), ("30000/1001", NTSC),
     (59.94, Fraction(60000, 1001)), ("24/1", Fraction(24))],
)
def test_rates_are_exact(value: object, rate: Fraction) -> None:
    assert parse_rate(value) == rate


@pytest.mark.parametrize("bad", ["abc", "0", "-25", "25/0", ""])
def test_bad_rates(bad: str) -> None:
    with pytest.raises(TimecodeError):
        parse_rate(bad)


def test_out_of_range_timecode() -> None:
    with pytest.raises(TimecodeError):
        Timecode.parse("00:00:00:25", Fraction(25))
    with pytest.raises(TimecodeError):
        Timecode.parse("00:61:00:00", Fraction(25))
