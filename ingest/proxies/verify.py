"""Whether a source can have a proxy, and whether a made proxy equals its source where the conform needs it."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.hashing import hash_file
from ingest.proxies.encode import Encoded
from ingest.proxies.models import ProxyBatch
from ingest.proxies.presets import ProxyPreset
from ingest.proxies.reads import SourceRow
from media.model import MediaFile, MediaKind
from media.probe import probe_file


def describe_source(path: Path, st: os.stat_result, row: SourceRow | None) -> MediaFile:
    """The catalogue's description of the source (its `row`) when the file is unchanged since its ingest, else
    MediaInfo's.

    MediaInfo only when probing: the encode decodes every frame anyway, and its errors and frame count
    are checked.
    """
    if row and row.media_json and row.size == st.st_size and row.mtime_ns == st.st_mtime_ns:
        stored = row.media
        if stored.kind is not MediaKind.UNREADABLE:
            return stored.model_copy(update={"path": str(path)})
    return probe_file(path, ffmpeg=None, decode_check="none")


def usable_source(media: MediaFile, preset: ProxyPreset) -> str | None:
    """Why a proxy cannot be made of this file, or None."""
    if media.kind is MediaKind.SIDECAR:
        return "not a clip: still image or card metadata"
    if media.error:
        return media.error
    if media.video is None:
        return "sound only: no picture to make a proxy of"
    v = media.video
    if not v.codec or not v.width or not v.height:
        return f"unknown or unreadable video codec ({v.codec or 'no format'}): cannot decode the picture"
    if v.frame_rate is None:
        return "no frame rate: cannot make an exact proxy"
    if media.duration_frames is None:
        return "frame count unknown: the proxy could not be verified"
    if preset.container == "mxf" and v.variable_frame_rate:
        return "variable frame rate: MXF needs a constant rate; make a constant-rate copy first"
    return None


Hashed = tuple[str, str, int | None]  # (algorithm, hash, the original's catalogue id when it was ingested)


def source_hash(batch: ProxyBatch, path: Path, st: os.stat_result,
                row: SourceRow | None) -> Hashed:
    """The source's content hash: the catalogue's (its `row`) when the file is unchanged since its ingest, else
    computed."""
    algo = batch.settings.hash_algorithm
    if (row and row.hash and row.hash_algorithm == algo and row.size == st.st_size
            and row.mtime_ns == st.st_mtime_ns and row.role == "original"):
        return algo, row.hash, int(row.id)
    digest = hash_file(path, [algo])[algo]
    return algo, digest, (int(row.id) if row and row.role == "original" else None)


def verify(source: MediaFile, proxy: MediaFile, channels: int) -> list[str]:
    """What differs between a proxy and its source where the conform needs them equal."""
    problems = []
    if proxy.video is None:
        return ["the proxy has no picture"]
    if proxy.duration_frames != source.duration_frames:
        problems.append(f"{proxy.duration_frames} frames, the source has {source.duration_frames}")
    if source.video and proxy.video.frame_rate != source.video.frame_rate and not source.video.variable_frame_rate:
        problems.append(f"frame rate {proxy.video.frame_rate}, the source has {source.video.frame_rate}")
    if (source.start and source.start.frames) != (proxy.start and proxy.start.frames) or \
            source.start_timecode != proxy.start_timecode:
        problems.append(f"start timecode {proxy.start_timecode}, the source has {source.start_timecode}")
    if (source.reel or None) != (proxy.reel or None):
        problems.append(f"reel {proxy.reel!r}, the source has {source.reel!r}")
    got = sum(a.channels or 0 for a in proxy.audio)
    if got != channels:
        problems.append(f"{got} audio channels, {channels} expected")
    return problems


def proxy_problems(source: MediaFile, proxy: MediaFile, channels: int, encoded: Encoded) -> list[str]:
    """Why a made proxy is refused: what its probe shows differs from the source (verify), what the encode's own
    report says (cut short, frames it made against those the file holds), errors the source decode logged.

    No second decode of the proxy: the encode decoded every source frame (its errors are here) and counted
    what it encoded; MediaInfo's probe of the file shows what was written (frames, rate, timecode, reel, sound).
    """
    problems = verify(source, proxy, channels)
    problems += encoded.problems(source.duration_frames, proxy.duration_frames)
    if encoded.errors:
        problems.append(f"the source does not decode cleanly: {encoded.errors[0][-300:]}")
    if proxy.duration_frames is not None and source.duration_frames is not None and \
            proxy.duration_frames < source.duration_frames and problems:
        problems[-1] += " (the source does not decode to the end?)"
    return problems
