"""Format checks, from the probe: container, codecs, raster, rate, scan, chroma, audio layout, timecode, duration."""

from __future__ import annotations

from fractions import Fraction

from media.timecode import Timecode, TimecodeError, format_rate
from qc.checks.registry import Context, Outcome, _one_of, check

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

