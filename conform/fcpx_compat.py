"""Exact time for FCPXML: otio-fcpx-xml-adapter 1.0.0 truncates times to whole frames with int() and
counts 29.97 as 29 fps; FCPXML times are exact rationals ("900013/25s", "1001/30000s"), so we read them
as such. Applied once, before the adapter reads a file; the adapter's writer is left as it is."""

from __future__ import annotations

from fractions import Fraction


def _seconds(value: str) -> Fraction:
    return Fraction(value.strip().rstrip("s") or "0")


def _rate(fps: float | Fraction) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


def install() -> None:
    import opentimelineio as otio

    # The plugin system loads the adapter from its file as its own module object: patch that one.
    fcpx_xml = otio.adapters.from_name("fcpx_xml").module()
    if getattr(fcpx_xml, "_postprod_exact_time", False):
        return

    def to_rational_time(rational_number, fps):
        frames = 0 if rational_number in ("0s", None) else round(_seconds(rational_number) * _rate(fps))
        return otio.opentime.RationalTime(frames, float(_rate(fps)))

    def _format_frame_rate(self, format_id):
        total, rate = self._format_frame_duration(format_id)
        return float(Fraction(rate) / Fraction(total))

    def _number_of_frames(self, time_value, format_id):
        if time_value in ("0s", None):
            return 0
        total, rate = self._format_frame_duration(format_id)
        return round(_seconds(time_value) * Fraction(rate) / Fraction(total))

    fcpx_xml.to_rational_time = to_rational_time
    fcpx_xml.FcpxXml._format_frame_rate = _format_frame_rate
    fcpx_xml.FcpxXml._number_of_frames = _number_of_frames
    fcpx_xml._postprod_exact_time = True
