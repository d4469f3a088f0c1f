"""Spec rules: each compares one aspect of a probed file with the production's technical spec.

Rules are pure and registered by id; a mismatch is a Finding, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction

from config.spec import TechSpec
from media.findings import Finding, Severity
from media.model import MediaFile, MediaKind
from media.timecode import format_fps, format_rate

Rule = Callable[[MediaFile, TechSpec], list[Finding]]
RULES: dict[str, Rule] = {}
DEFAULT_SEVERITY: dict[str, Severity] = {}


def rule(rule_id: str, severity: Severity) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[rule_id] = fn
        DEFAULT_SEVERITY[rule_id] = severity
        return fn

    return register


def _finding(spec: TechSpec, rule_id: str, message: str, expected: object = None,
             measured: object = None) -> Finding:
    severity = Severity(spec.severity.get(rule_id, DEFAULT_SEVERITY[rule_id]))
    return Finding(rule=rule_id, severity=severity, message=message,
                   expected=None if expected is None else str(expected),
                   measured=None if measured is None else str(measured))


def _fps(rate: Fraction) -> str:
    return f"{format_fps(rate)} ({format_rate(rate)})"


@rule("unreadable", Severity.ERROR)
def check_unreadable(media: MediaFile, spec: TechSpec) -> list[Finding]:
    if media.kind is MediaKind.UNREADABLE:
        return [_finding(spec, "unreadable", f"cannot be used: {media.error}", "a complete media file",
                         media.error)]
    return []


@rule("frame_rate", Severity.ERROR)
def check_frame_rate(media: MediaFile, spec: TechSpec) -> list[Finding]:
    v = media.video
    if v is None or v.frame_rate is None or v.frame_rate == spec.video.frame_rate:
        return []
    return [_finding(spec, "frame_rate",
                     f"shot at {_fps(v.frame_rate)} fps in a {_fps(spec.video.frame_rate)} fps production",
                     format_rate(spec.video.frame_rate), format_rate(v.frame_rate))]


@rule("variable_frame_rate", Severity.ERROR)
def check_vfr(media: MediaFile, spec: TechSpec) -> list[Finding]:
    if media.video is None or not media.video.variable_frame_rate:
        return []
    return [_finding(spec, "variable_frame_rate",
                     "variable frame rate (phone or screen capture): transcode to a constant rate before editing",
                     "constant", "variable")]


@rule("resolution", Severity.WARNING)
def check_resolution(media: MediaFile, spec: TechSpec) -> list[Finding]:
    v = media.video
    if v is None or v.width is None or v.height is None:
        return []
    if (v.width, v.height) == (spec.video.width, spec.video.height):
        return []
    return [_finding(spec, "resolution", f"{v.width}x{v.height} is not the project's raster",
                     f"{spec.video.width}x{spec.video.height}", f"{v.width}x{v.height}")]


@rule("pixel_aspect", Severity.WARNING)
def check_pixel_aspect(media: MediaFile, spec: TechSpec) -> list[Finding]:
    v = media.video
    if v is None or v.pixel_aspect is None or v.pixel_aspect == spec.video.pixel_aspect:
        return []
    return [_finding(spec, "pixel_aspect", "non-square or anamorphic pixels: desqueeze in the proxies",
                     spec.video.pixel_aspect, v.pixel_aspect)]


@rule("scan", Severity.ERROR)
def check_scan(media: MediaFile, spec: TechSpec) -> list[Finding]:
    v = media.video
    if v is None or v.scan is None:
        return []
    want = spec.video.scan
    if v.scan == want or (want == "interlaced" and v.scan in ("tff", "bff")):
        return []
    return [_finding(spec, "scan", f"{v.scan} picture in a {want} production", want, v.scan)]


@rule("codec", Severity.WARNING)
def check_codec(media: MediaFile, spec: TechSpec) -> list[Finding]:
    v = media.video
    if v is None or not spec.video.codecs or v.codec in spec.video.codecs:
        return []
    return [_finding(spec, "codec", f"{v.codec} is not taken natively by the editing system: transcode",
                     ", ".join(spec.video.codecs), v.codec)]


@rule("audio_sample_rate", Severity.ERROR)
def check_sample_rate(media: MediaFile, spec: TechSpec) -> list[Finding]:
    rates = sorted({a.sample_rate for a in media.audio if a.sample_rate and a.sample_rate != spec.audio.sample_rate})
    return [_finding(spec, "audio_sample_rate", f"audio at {r / 1000:g} kHz", spec.audio.sample_rate, r)
            for r in rates]


@rule("audio_bit_depth", Severity.WARNING)
def check_bit_depth(media: MediaFile, spec: TechSpec) -> list[Finding]:
    depths = sorted({a.bit_depth for a in media.audio
                     if a.bit_depth and a.codec == "PCM" and a.bit_depth < spec.audio.bit_depth})
    return [_finding(spec, "audio_bit_depth", f"{d}-bit audio", spec.audio.bit_depth, d) for d in depths]


@rule("audio_codec", Severity.WARNING)
def check_audio_codec(media: MediaFile, spec: TechSpec) -> list[Finding]:
    accepted = spec.audio.codecs
    codecs = sorted({a.codec for a in media.audio if a.codec and accepted and a.codec not in accepted})
    return [_finding(spec, "audio_codec", f"{c} audio", ", ".join(spec.audio.codecs), c) for c in codecs]


@rule("timecode_missing", Severity.ERROR)
def check_timecode(media: MediaFile, spec: TechSpec) -> list[Finding]:
    if media.kind is not MediaKind.MEDIA or not spec.timecode.required or media.start_timecode is not None:
        return []
    return [_finding(spec, "timecode_missing", "no timecode: the conform cannot find this clip by timecode",
                     "a start timecode", "none")]


DEFAULT_SEVERITY["duplicate_name"] = Severity.WARNING


def check_file(media: MediaFile, spec: TechSpec) -> MediaFile:
    """Apply every per-file rule; sidecars get none."""
    if media.kind is MediaKind.SIDECAR:
        return media
    findings = [f for fn in RULES.values() for f in fn(media, spec)]
    return media.with_findings(findings)


def check_duplicates(files: list[MediaFile], spec: TechSpec, known: Iterable[tuple[str, str]] = ()) -> list[MediaFile]:
    """Flag clip names seen twice: within the batch, or in the catalogue at another path.

    `known` holds (clip_name, path) pairs already catalogued for the production.
    """
    seen: dict[str, set[str]] = {}
    for name, path in known:
        seen.setdefault(name.casefold(), set()).add(path)
    for m in files:
        if m.kind is MediaKind.MEDIA and m.clip_name:
            seen.setdefault(m.clip_name.casefold(), set()).add(m.path)
    out = []
    for m in files:
        others = sorted(seen.get((m.clip_name or "").casefold(), set()) - {m.path}) if m.kind is MediaKind.MEDIA else []
        if others:
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            m = m.with_findings([_finding(spec, "duplicate_name",
                                          f"clip name '{m.clip_name}' also at {shown}", "a unique clip name",
                                          f"{len(others) + 1} files")])
        out.append(m)
    return out
