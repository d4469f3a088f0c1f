"""Signal checks, from the one decode: loudness, true peak, silence, black, freeze, R103 levels, gamut, fields."""

from __future__ import annotations

import math
from fractions import Fraction

from media.findings import Severity
from qc.analysis import Interval
from qc.checks.registry import Context, Outcome, check
from qc.levels import level_limits

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
    from qc.analysis import runs as _runs

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

