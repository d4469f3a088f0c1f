"""The relinked timeline: each clip points at its camera original, with the media's available range."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from config.atomic import atomic_path
from conform.match import ConformResult, EventResult
from conform.model import TimelineError

WRITE_ADAPTERS = {".otio": "otio_json", ".xml": "fcp_xml", ".fcpxml": "fcpx_xml"}


def build_otio(result: ConformResult):
    """An OTIO timeline: one track per edit-list track, gaps where nothing plays, missing media marked."""
    import opentimelineio as otio

    tl = result.timeline
    rate = float(tl.rate)
    timeline = otio.schema.Timeline(name=tl.name or Path(tl.path).stem)
    per_track: dict[str, list[EventResult]] = defaultdict(list)
    for r in result.results:
        if r.event.record_frames > 0:
            per_track[r.event.track].append(r)
    first_rec = min((r.event.record_in.frames for rs in per_track.values() for r in rs), default=0)
    timeline.global_start_time = otio.opentime.RationalTime(first_rec, rate)
    for track_name in sorted(per_track, key=lambda t: (0 if "V" in t else 1, t)):
        kind = otio.schema.TrackKind.Video if "V" in track_name else otio.schema.TrackKind.Audio
        track = otio.schema.Track(name=track_name, kind=kind)
        position = first_rec
        for r in sorted(per_track[track_name], key=lambda r: r.event.record_in.frames):
            e = r.event
            if e.record_in.frames < position:
                continue  # overlapping (reported as record_overlap): the first one plays
            if e.record_in.frames > position:
                track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(0, rate),
                    otio.opentime.RationalTime(e.record_in.frames - position, rate))))
            first, _ = e.used_source()
            source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(first, rate),
                                                   otio.opentime.RationalTime(e.record_frames, rate))
            metadata = {"postprod": {"event": e.number, "line": e.line, "reel": e.reel,
                                     "findings": [f.rule for f in r.findings]}}
            if r.media is not None:
                available = None
                if r.media_range is not None:
                    available = otio.opentime.TimeRange(
                        otio.opentime.RationalTime(r.media_range[0], rate),
                        otio.opentime.RationalTime(r.media_range[1] - r.media_range[0], rate))
                ref = otio.schema.ExternalReference(target_url=Path(r.media.path).as_uri(),
                                                    available_range=available)
                ref.name = Path(r.media.path).name
            else:
                ref = otio.schema.MissingReference(name=e.reel or e.clip_name or "")
            clip = otio.schema.Clip(name=e.clip_name or (Path(r.media.path).stem if r.media else e.reel or ""),
                                    media_reference=ref, source_range=source_range, metadata=metadata)
            if e.freeze:
                clip.effects.append(otio.schema.FreezeFrame())
            elif e.speed is not None and e.speed != e.rate:
                clip.effects.append(otio.schema.LinearTimeWarp(time_scalar=float(e.speed / e.rate)))
            track.append(clip)
            position = e.record_out.frames
        timeline.tracks.append(track)
    return timeline


def write_relinked(result: ConformResult, out: Path) -> Path:
    """Write the relinked timeline atomically; the format follows the extension (.otio, .xml, .fcpxml)."""
    import opentimelineio as otio

    adapter = WRITE_ADAPTERS.get(out.suffix.lower())
    if adapter is None:
        raise TimelineError(f"cannot write '{out.suffix}'; available: {', '.join(WRITE_ADAPTERS)}", path=out)
    timeline = build_otio(result)
    try:
        text = otio.adapters.write_to_string(timeline, adapter_name=adapter)
    except Exception as exc:
        raise TimelineError(f"the {adapter} writer failed: {type(exc).__name__}: {exc}", path=out) from exc
    if adapter == "fcpx_xml":
        text = _fcpx_offline(text, timeline)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


def _fcpx_offline(text: str, timeline) -> str:
    """otio-fcpx-xml-adapter writes a clip with a MissingReference as an asset at file:///tmp/<clip name>, a
    file that does not exist and that an NLE may well find one day. Missing media stays offline: such
    assets get an empty src, which the adapter (and an NLE) read back as offline media."""
    import xml.etree.ElementTree as ET

    import opentimelineio as otio

    missing = {f"file:///tmp/{c.name}" for c in timeline.find_clips()
               if isinstance(c.media_reference, otio.schema.MissingReference)}
    real = {c.media_reference.target_url for c in timeline.find_clips()
            if isinstance(c.media_reference, otio.schema.ExternalReference)}
    invented = missing - real
    if not invented:
        return text
    head, sep, body = text.partition("<fcpxml")
    root = ET.fromstring(sep + body)  # our own writer's output, not user input
    for asset in root.iter("asset"):
        if asset.get("src") in invented:
            asset.set("src", "")
    return head + ET.tostring(root, encoding="unicode") + "\n"
