"""QC checks: pure functions registered by id, from (probe, measurements, profile) to findings.

A check returns an Outcome (what was expected, what was measured, and its findings) or None when the
profile does not ask for it. A failed QC is a result, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, field_serializer

from media.findings import Finding, Severity
from media.model import MediaFile
from media.timecode import Timecode, TimecodeError, format_rate
from qc.analyse import Analysis, Interval, level_limits

if TYPE_CHECKING:  # the profile is read, never built, here (and qc.profile checks its ids against CHECKS)
    from qc.profile import DeliveryProfile


class CheckResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check_id: str
    title: str
    severity: Severity
    status: Literal["pass", "fail"]
    expected: str | None = None
    measured: str | None = None
    findings: list[Finding] = []  # each one's `rule` is this check_id

    @field_serializer("findings")
    def _findings(self, findings: list[Finding]) -> list[dict[str, Any]]:
        return [f.qc_dict() for f in findings]


@dataclass
class Context:
    media: MediaFile
    analysis: Analysis | None
    profile: DeliveryProfile
    expected_duration: str | None = None

    @property
    def rate(self) -> Fraction | None:
        if self.analysis is not None:
            return self.analysis.rate
        return self.media.video.frame_rate if self.media.video else None

    def start(self) -> Timecode | None:
        return self.media.start

    def tc(self, frame: int) -> str | None:
        start = self.start()
        if start is not None:
            return (start + frame).format()
        rate = self.rate
        return Timecode(frame, rate).format() if rate else None

    @property
    def head_frames(self) -> int:
        start = self.start()
        if not self.profile.timecode.programme_start or start is None:
            return 0
        try:
            prog = Timecode.parse(self.profile.timecode.programme_start, start.rate, start.drop_frame)
        except TimecodeError:
            return 0
        return max(0, prog.frames - start.frames)

    @property
    def total_frames(self) -> int | None:
        a = self.analysis
        if a is not None and a.last_frame is not None:
            return max(a.last_frame + 1, a.declared_frames or 0)
        return self.media.duration_frames

    def programme(self) -> tuple[int, int]:
        """Frames [first, end) of the programme: the head (leader) and the tail window left out."""
        total = self.total_frames or 0
        rate = self.rate or Fraction(25)
        tail = round(self.profile.timecode.tail_seconds * rate)
        return self.head_frames, max(self.head_frames, total - tail)


@dataclass(frozen=True)
class Outcome:
    expected: str | None
    measured: str | None
    findings: list[tuple[str, Interval | None]]  # (message, where); empty = pass


CheckFn = Callable[[Context], Outcome | None]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: Severity
    fn: CheckFn


CHECKS: dict[str, Check] = {}


def check(check_id: str, title: str, severity: Severity = Severity.ERROR) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS[check_id] = Check(check_id, title, severity, fn)
        return fn

    return register


def _one_of(expected: list, measured: object, what: str, prefix: bool = False) -> Outcome | None:
    if not expected:
        return None
    exp = " or ".join(str(e) for e in expected)
    if prefix:
        ok = measured is not None and any(str(measured).startswith(str(e)) for e in expected)
    else:
        ok = measured in expected
    return Outcome(exp, str(measured), [] if ok else [(f"{what} is {measured}, expected {exp}", None)])


# ---- format (from the probe) ------------------------------------------------------------------------

@check("format.container", "Container")
def _container(c: Context) -> Outcome | None:
    return _one_of(c.profile.format.containers, c.media.container, "container")


@check("format.operational_pattern", "Operational pattern")
def _op(c: Context) -> Outcome | None:
    return _one_of(c.profile.format.operational_patterns, c.media.container_profile, "operational pattern")


@check("format.video_codec", "Video codec")
def _vcodec(c: Context) -> Outcome | None:
    return _one_of(c.profile.format.video_codecs, c.media.video.codec if c.media.video else None, "video codec")


@check("format.video_profile", "Video codec profile")
def _vprofile(c: Context) -> Outcome | None:
    v = c.media.video
    return _one_of(c.profile.format.video_profiles, v.codec_profile if v else None, "codec profile", prefix=True)


@check("format.video_bit_rate", "Video bit rate")
def _bitrate(c: Context) -> Outcome | None:
    f = c.profile.format
    if f.video_bit_rate is None:
        return None
    measured = c.media.video.bit_rate if c.media.video else None
    exp = f"{f.video_bit_rate / 1e6:g} Mb/s ±{f.video_bit_rate_tolerance * 100:g} %"
    if measured is None:
        return Outcome(exp, "unknown", [("video bit rate unknown", None)])
    ok = abs(measured - f.video_bit_rate) <= f.video_bit_rate * f.video_bit_rate_tolerance
    got = f"{measured / 1e6:.2f} Mb/s"
    return Outcome(exp, got, [] if ok else [(f"video bit rate {got}, expected {exp}", None)])


@check("format.raster", "Resolution")
def _raster(c: Context) -> Outcome | None:
    f = c.profile.format
    if f.width is None and f.height is None:
        return None
    v = c.media.video
    got = f"{v.width}x{v.height}" if v else "none"
    exp = f"{f.width or '*'}x{f.height or '*'}"
    ok = v is not None and (f.width is None or v.width == f.width) and (f.height is None or v.height == f.height)
    return Outcome(exp, got, [] if ok else [(f"resolution {got}, expected {exp}", None)])


@check("format.frame_rate", "Frame rate")
def _rate(c: Context) -> Outcome | None:
    f = c.profile.format
    if f.frame_rate is None:
        return None
    got = c.media.video.frame_rate if c.media.video else None

    def fmt(r: Fraction | None) -> str:
        return format_rate(r) if r is not None else "unknown"

    ok = got == f.frame_rate
    return Outcome(fmt(f.frame_rate), fmt(got), [] if ok else [((f"frame rate {fmt(got)}, expected "
                                                                   f"{fmt(f.frame_rate)}"), None)])


@check("format.scan", "Scan and field order (declared)")
def _scan(c: Context) -> Outcome | None:
    f = c.profile.format
    if f.scan is None:
        return None
    got = c.media.video.scan if c.media.video else None
    return Outcome(f.scan, str(got), [] if got == f.scan else [(f"declared scan {got}, expected {f.scan}", None)])


@check("format.chroma", "Chroma subsampling")
def _chroma(c: Context) -> Outcome | None:
    f = c.profile.format
    if f.chroma_subsampling is None:
        return None
    got = c.media.video.chroma_subsampling if c.media.video else None
    ok = got == f.chroma_subsampling
    return Outcome(f.chroma_subsampling, str(got), [] if ok else [((f"chroma {got}, expected "
                                                                     f"{f.chroma_subsampling}"), None)])


@check("format.bit_depth", "Video bit depth")
def _depth(c: Context) -> Outcome | None:
    return _one_of(c.profile.format.bit_depth, c.media.video.bit_depth if c.media.video else None, "bit depth")


@check("format.audio_channels", "Audio channel count")
def _channels(c: Context) -> Outcome | None:
    total = sum(a.channels or 0 for a in c.media.audio)
    out = _one_of(c.profile.format.audio_channels, total, "audio channel count")
    if out is None:
        return None
    layout = " + ".join(str(a.channels) for a in c.media.audio) or "no audio"
    return Outcome(out.expected, f"{total} ({len(c.media.audio)} track(s): {layout})", out.findings)


@check("format.audio_tracks", "Audio track layout")
def _tracks(c: Context) -> Outcome | None:
    f = c.profile.format
    if not f.audio_tracks:
        return None
    n = len(c.media.audio)
    layout = " + ".join(str(a.channels) for a in c.media.audio) or "no audio"
    exp = " or ".join(str(t) for t in f.audio_tracks) + " track(s)"
    ok = n in f.audio_tracks
    return Outcome(exp, f"{n} track(s): {layout} channel(s)",
                   [] if ok else [(f"{n} audio track(s) ({layout} channels), expected {exp}", None)])


@check("format.audio_codec", "Audio codec")
def _acodec(c: Context) -> Outcome | None:
    f = c.profile.format
    if not f.audio_codecs:
        return None
    got = sorted({str(a.codec) for a in c.media.audio}) or ["none"]
    bad = [g for g in got if g not in f.audio_codecs]
    return Outcome(" or ".join(f.audio_codecs), ", ".join(got),
                   [(f"audio codec {', '.join(bad)}, expected {' or '.join(f.audio_codecs)}", None)] if bad else [])


@check("format.audio_sample_rate", "Audio sample rate")
def _arate(c: Context) -> Outcome | None:
    f = c.profile.format
    if f.audio_sample_rate is None:
        return None
    got = sorted({a.sample_rate for a in c.media.audio if a.sample_rate})
    ok = bool(got) and got == [f.audio_sample_rate]
    shown = ", ".join(f"{g} Hz" for g in got) or "none"
    return Outcome(f"{f.audio_sample_rate} Hz", shown, [] if ok else [((f"sample rate {shown}, expected "
                                                                         f"{f.audio_sample_rate} Hz"), None)])


@check("format.audio_bit_depth", "Audio bit depth")
def _abits(c: Context) -> Outcome | None:
    f = c.profile.format
    if not f.audio_bit_depth:
        return None
    got = sorted({a.bit_depth for a in c.media.audio if a.bit_depth})
    exp = " or ".join(str(b) for b in f.audio_bit_depth)
    if not got:  # a stream that declares no depth (a master too short to tell): say so, do not guess
        what = "the file declares no audio bit depth" if c.media.audio else "the file has no audio stream"
        return Outcome(f"{exp} bit", "unknown", [(what, None)])
    ok = all(g in f.audio_bit_depth for g in got)
    shown = ", ".join(str(g) for g in got)
    return Outcome(f"{exp} bit", f"{shown} bit", [] if ok else [(f"audio bit depth {shown}, expected {exp}", None)])


@check("format.start_timecode", "Start timecode")
def _start_tc(c: Context) -> Outcome | None:
    t = c.profile.timecode
    accepted = t.file_starts or ([t.programme_start] if t.programme_start else [])
    if not accepted:
        return None
    got = c.media.start_timecode
    exp = " or ".join(accepted)
    if got is None:
        return Outcome(exp, "none", [("the file has no start timecode", None)])
    ok = got.replace(";", ":") in [a.replace(";", ":") for a in accepted]
    return Outcome(exp, got, [] if ok else [(f"file starts at {got}, expected {exp}", None)])


@check("format.duration", "Programme duration")
def _duration(c: Context) -> Outcome | None:
    want = c.expected_duration or c.profile.timecode.duration
    rate = c.rate
    if not want or rate is None or c.media.duration_frames is None:
        return None
    try:
        exp = Timecode.parse(want, rate).frames
    except TimecodeError:
        return Outcome(want, None, [(f"expected duration {want!r} is not a timecode", None)])
    got = c.media.duration_frames - c.head_frames
    tol = c.profile.timecode.duration_tolerance_frames
    shown = Timecode(got, rate).format()
    ok = abs(got - exp) <= tol
    return Outcome(f"{want} ±{tol} frames", shown, [] if ok else [(f"programme lasts {shown}, expected {want}", None)])


# ---- stream integrity ---------------------------------------------------------------------------------

@check("stream.truncated", "Decodes to the declared end")
def _truncated(c: Context) -> Outcome | None:
    a = c.analysis
    if a is None or a.declared_frames is None or a.last_frame is None:
        return None
    decoded = a.last_frame + 1
    exp = f"{a.declared_frames} frames"
    if decoded >= a.declared_frames:
        return Outcome(exp, f"{decoded} frames", [])
    where = Interval(start=decoded, end=a.declared_frames)
    return Outcome(exp, f"{decoded} frames", [((f"decoding stops at {c.tc(decoded)}, {a.declared_frames - decoded} "
                                               f"frame(s) before the declared end"), where)])


@check("stream.decode", "Every frame decodes")
def _decode(c: Context) -> Outcome | None:
    a = c.analysis
    if a is None:
        return None
    why = f" (decoder: {a.decode_errors[0]})" if a.decode_errors else ""
    out: list[tuple[str, Interval | None]] = [(f"{iv.end - iv.start} frame(s) missing from the decode{why}", iv)
                                              for iv in a.missing]
    if a.decode_errors and not out:
        first = a.decode_errors[0]
        out.append((f"{len(a.decode_errors)} decoder error(s), first: {first}", None))
    return Outcome("no decoder error", f"{len(a.decode_errors)} error(s), {sum(i.end - i.start for i in a.missing)} "
                   "missing frame(s)", out)


# ---- signal (one decode) -----------------------------------------------------------------------------

def _fmt(x: float | None, unit: str) -> str:
    if x is None:
        return "not measured"
    return f"{x:.1f} {unit}" if math.isfinite(x) else f"-inf {unit}"


@check("audio.loudness", "Integrated loudness (BS.1770)")
def _loudness(c: Context) -> Outcome | None:
    a, lp = c.analysis, c.profile.loudness
    if a is None:
        return None
    exp = f"{lp.integrated:g} LUFS ±{lp.tolerance:g} LU"
    if not c.media.audio:
        return Outcome(exp, "no audio", [("the master has no sound", None)])
    got = a.integrated
    if got is None:
        return Outcome(exp, "not measured", [("loudness could not be measured (programme channels missing?)", None)])
    ok = abs(got - lp.integrated) <= lp.tolerance + 1e-9
    return Outcome(exp, _fmt(got, "LUFS"), [] if ok else [(f"integrated loudness {got:.1f} LUFS, expected {exp}",
                                                           None)])


@check("audio.true_peak", "Maximum true peak")
def _true_peak(c: Context) -> Outcome | None:
    a, lp = c.analysis, c.profile.loudness
    if a is None or not c.media.audio:
        return None
    exp = f"≤ {lp.true_peak_max:g} dBTP"
    values = [v for v in (a.true_peak, a.max_frame_peak) if v is not None]
    worst = max(values) if values else None
    out = []
    for iv in a.frame_peaks_over:
        out.append((f"true peak {iv.value:.1f} dBTP over {lp.true_peak_max:g} dBTP", iv))
    if not out and a.true_peak is not None and a.true_peak > lp.true_peak_max:
        out.append((f"true peak {a.true_peak:.1f} dBTP over {lp.true_peak_max:g} dBTP", None))
    return Outcome(exp, _fmt(worst, "dBTP"), out)


@check("audio.loudness_range", "Loudness range", Severity.WARNING)
def _lra(c: Context) -> Outcome | None:
    a, lp = c.analysis, c.profile.loudness
    if a is None or lp.lra_max is None or not c.media.audio:
        return None
    got = a.lra
    ok = got is None or got <= lp.lra_max
    return Outcome(f"≤ {lp.lra_max:g} LU", _fmt(got, "LU"), [] if ok else [(f"loudness range {got:.1f} LU", None)])


def _over_series(c: Context, limit: float, index: int, what: str) -> list[tuple[str, Interval | None]]:
    a = c.analysis
    assert a is not None and c.rate is not None
    flags = [(math.floor(t * c.rate), v[index - 1]) for t, *v in a.loudness_series
             if v[index - 1] > limit and (index == 1 or t >= a.loudness_from + 3.0)]
    from qc.analyse import _runs

    runs = _runs([(f, v) for f, v in flags])
    # Blocks are 100 ms: several frames apart; merge neighbours into one event.
    merged: list[Interval] = []
    for r in runs:
        if merged and r.start - merged[-1].end <= 3:
            last = merged[-1]
            merged[-1] = last.model_copy(update={"end": r.end, "value": max(last.value or -999, r.value or -999)})
        else:
            merged.append(r)
    return [(f"{what} {iv.value:.1f} LUFS over {limit:g} LUFS", iv) for iv in merged]


@check("audio.short_term_max", "Maximum short-term loudness (3 s)")
def _short(c: Context) -> Outcome | None:
    a, lp = c.analysis, c.profile.loudness
    if a is None or lp.short_term_max is None or not c.media.audio:
        return None
    return Outcome(f"≤ {lp.short_term_max:g} LUFS", _fmt(a.max_short_term, "LUFS"),
                   _over_series(c, lp.short_term_max, 2, "short-term loudness"))


@check("audio.momentary_max", "Maximum momentary loudness (400 ms)")
def _momentary(c: Context) -> Outcome | None:
    a, lp = c.analysis, c.profile.loudness
    if a is None or lp.momentary_max is None or not c.media.audio:
        return None
    return Outcome(f"≤ {lp.momentary_max:g} LUFS", _fmt(a.max_momentary, "LUFS"),
                   _over_series(c, lp.momentary_max, 1, "momentary loudness"))


def _in_programme(c: Context, iv: Interval) -> Interval | None:
    first, end = c.programme()
    s, e = max(iv.start, first), min(iv.end, end)
    return iv.model_copy(update={"start": s, "end": e}) if e > s else None


@check("audio.silence", "Silence on a programme channel")
def _silence(c: Context) -> Outcome | None:
    a, sp = c.analysis, c.profile.silence
    if a is None or not sp.channels or not c.media.audio:
        return None
    rate = c.rate or Fraction(25)
    min_frames = math.ceil(sp.min_seconds * rate - 1e-9)
    total = sum(x.channels or 0 for x in c.media.audio)
    out: list[tuple[str, Interval | None]] = []
    for ch in sp.channels:
        if ch > total:
            out.append((f"channel {ch} must carry sound but the file has {total} channel(s)", None))
    for iv in a.silence:
        clipped = _in_programme(c, iv)
        if clipped and clipped.end - clipped.start >= min_frames:
            secs = float((clipped.end - clipped.start) / rate)
            out.append((f"channel {iv.channel} silent for {secs:.2f} s (below {sp.threshold_db:g} dBFS)", clipped))
    return Outcome(f"no silence ≥ {sp.min_seconds:g} s on channel(s) {', '.join(map(str, sp.channels))}",
                   f"{len(out)} silent stretch(es)", out)


def _events(c: Context, events: list[Interval], min_seconds: float, what: str,
            exclude: list[Interval] = ()) -> list[tuple[str, Interval | None]]:  # type: ignore[assignment]
    rate = c.rate or Fraction(25)
    min_frames = math.ceil(min_seconds * rate - 1e-9)
    out: list[tuple[str, Interval | None]] = []
    for iv in events:
        clipped = _in_programme(c, iv)
        if clipped is None or clipped.end - clipped.start < min_frames:
            continue
        if any(x.start <= clipped.start and clipped.end <= x.end for x in exclude):
            continue
        secs = float((clipped.end - clipped.start) / rate)
        out.append((f"{what} for {secs:.2f} s ({clipped.end - clipped.start} frames)", clipped))
    return out


@check("video.black", "Black picture inside the programme")
def _black(c: Context) -> Outcome | None:
    a = c.analysis
    if a is None:
        return None
    out = _events(c, a.black, c.profile.black.min_seconds, "black picture")
    return Outcome(f"no black ≥ {c.profile.black.min_seconds:g} s in the programme", f"{len(out)} black stretch(es)",
                   out)


@check("video.freeze", "Frozen picture")
def _freeze(c: Context) -> Outcome | None:
    a = c.analysis
    if a is None:
        return None
    # A black picture is also a frozen one: it is reported as black only.
    out = _events(c, a.freeze, c.profile.freeze.min_seconds, "frozen picture", exclude=a.black)
    return Outcome(f"no freeze ≥ {c.profile.freeze.min_seconds:g} s", f"{len(out)} frozen stretch(es)", out)


def _levels(c: Context, runs: list[Interval], rng: tuple[float, float] | None, chroma: bool) -> Outcome | None:
    a, lv = c.analysis, c.profile.levels
    if a is None:
        return None
    depth = c.media.video.bit_depth if c.media.video and c.media.video.bit_depth else 8
    lo_pct, hi_pct = (lv.chroma_min_pct, lv.chroma_max_pct) if chroma else (lv.luma_min_pct, lv.luma_max_pct)
    lo, hi = level_limits(depth, lo_pct, hi_pct, chroma)
    what = "chroma" if chroma else "luma"
    out = [(f"{what} outside {lo:.0f}–{hi:.0f} ({depth}-bit) over more than {lv.area_pct:g} % of the picture, "
            f"by up to {iv.value:.0f} code values", iv)
           for iv in runs if iv.end - iv.start >= lv.min_frames and _in_programme(c, iv)]
    measured = f"{rng[0]:.0f}–{rng[1]:.0f}" if rng else "not measured"
    return Outcome(f"{lo:.0f}–{hi:.0f} ({lo_pct:g} %…{hi_pct:g} %, {depth}-bit, EBU R103)", measured, out)


@check("video.levels_luma", "Luma within EBU R103 range")
def _luma(c: Context) -> Outcome | None:
    a = c.analysis
    return _levels(c, a.luma_out, a.luma_range, chroma=False) if a else None


@check("video.levels_chroma", "Chroma within EBU R103 range")
def _chromalev(c: Context) -> Outcome | None:
    a = c.analysis
    return _levels(c, a.chroma_out, a.chroma_range, chroma=True) if a else None


@check("video.gamut", "R'G'B' within EBU R103 gamut")
def _gamut(c: Context) -> Outcome | None:
    a, lv = c.analysis, c.profile.levels
    if a is None or a.rgb_range is None:
        return None
    out = [(f"R'G'B' outside {lv.rgb_min_pct:g} %…{lv.rgb_max_pct:g} % over more than {lv.area_pct:g} % of the "
            f"picture, by up to {iv.value:.1f} %", iv)
           for iv in a.gamut_out if iv.end - iv.start >= lv.min_frames and _in_programme(c, iv)]
    lo, hi = a.rgb_range
    return Outcome(f"{lv.rgb_min_pct:g} %…{lv.rgb_max_pct:g} % ({a.colour_matrix}, EBU R103)", f"{lo:.1f} %…{hi:.1f} %",
                   out)


@check("video.field_order", "Real field order (measured)")
def _field_order(c: Context) -> Outcome | None:
    a = c.analysis
    if a is None or c.media.video is None or not a.field_counts:
        return None
    declared = c.media.video.scan
    counts = a.field_counts
    tff, bff, prog = counts.get("tff", 0), counts.get("bff", 0), counts.get("progressive", 0)
    decided = tff + bff + prog
    measured = f"tff {tff}, bff {bff}, progressive {prog}, undetermined {counts.get('undetermined', 0)} frames"
    if decided == 0:
        return Outcome(str(declared), measured, [])
    out: list[tuple[str, Interval | None]] = []
    total = c.total_frames or decided
    if declared in ("tff", "bff"):
        wrong = "bff" if declared == "tff" else "tff"
        n_wrong, n_right = counts.get(wrong, 0), counts.get(declared, 0)
        if n_wrong > n_right and n_wrong >= 0.2 * decided:
            out.append((f"fields are {wrong} but the file declares {declared}: motion will judder",
                        Interval(start=0, end=total)))
        else:
            for iv in a.field_runs.get(wrong, []):
                if iv.end - iv.start >= 5:
                    out.append((f"{iv.end - iv.start} frames with {wrong} fields in a {declared} file", iv))
    elif declared == "progressive":
        inter = tff + bff
        if inter > prog and inter >= 0.2 * decided:
            out.append((f"declared progressive but the picture is interlaced ({'tff' if tff >= bff else 'bff'})",
                        Interval(start=0, end=total)))
    return Outcome(f"fields as declared ({declared})", measured, out[:20])


# ---- running them -------------------------------------------------------------------------------------

def severity_for(profile: DeliveryProfile, chk: Check) -> Severity | None:
    override = profile.severity.get(chk.id)
    if override == "off":
        return None
    return Severity(override) if override else chk.severity


def run_checks(ctx: Context) -> list[CheckResult]:
    """Every registered check the profile asks for, in registry order."""
    results: list[CheckResult] = []
    for chk in CHECKS.values():
        severity = severity_for(ctx.profile, chk)
        if severity is None:
            continue
        outcome = chk.fn(ctx)
        if outcome is None:
            continue
        findings = []
        for message, where in outcome.findings:
            f = Finding(rule=chk.id, severity=severity, message=message, expected=outcome.expected,
                        measured=outcome.measured)
            if where is not None:
                f = f.model_copy(update={"start_frame": where.start, "end_frame": where.end,
                                         "start_tc": ctx.tc(where.start), "end_tc": ctx.tc(max(where.end - 1,
                                                                                            where.start)),
                                         "channel": where.channel})
            findings.append(f)
        results.append(CheckResult(check_id=chk.id, title=chk.title, severity=severity,
                                   status="fail" if findings else "pass", expected=outcome.expected,
                                   measured=outcome.measured, findings=findings))
    return results
