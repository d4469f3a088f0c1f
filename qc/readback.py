"""Reading back what the QC's ffmpeg pass wrote beside its raw streams: frame times, idet, ebur128, and the
meters' per-frame flags placed on the picture's frame numbers."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from qc.analysis import Analysis, Interval, runs
from qc.levels import db

if TYPE_CHECKING:  # numpy loads while ffmpeg starts (qc/analyse.py), not with this module
    from qc.meters import PictureMeter, SoundMeter


def _metadata_frames(path: Path) -> Iterator[tuple[float, dict[str, str]]]:
    """Parse the `metadata=mode=print:file=` format: a 'frame:N pts:P pts_time:T' line, then key=value lines."""
    if not path.exists():
        return
    t: float | None = None
    data: dict[str, str] = {}
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("frame:"):
                if t is not None:
                    yield t, data
                match = re.search(r"pts_time:(\S+)", line)
                t = float(match.group(1)) if match and match.group(1) != "NOPTS" else math.nan
                data = {}
            elif "=" in line:
                key, _, value = line.strip().partition("=")
                data[key] = value
    if t is not None:
        yield t, data


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _frame(t: float, t0: float, rate: Fraction) -> int:
    # Frame containing time t (a 1 µs guard keeps 0.4 s at 25 fps on frame 10, not 9).
    return math.floor((t - t0) * rate + 1e-3)


def read_video(result: Analysis, work: Path, rate: Fraction, picture: PictureMeter) -> None:
    times = [t for t, _ in _metadata_frames(work / "frames.txt")][: picture.frames]
    if not times:
        return
    t0 = times[0] if math.isfinite(times[0]) else 0.0
    result.first_pts = t0
    # Raw frame i is the i-th frame that came out of the graph; its number is where its time puts it.
    index: list[int] = []
    for i, t in enumerate(times):
        index.append(_frame(t, t0, rate) if math.isfinite(t) else (index[-1] + 1 if index else i))

    def at(flags: list[tuple[int, float]]) -> list[tuple[int, float | None]]:
        return [(index[i], v) for i, v in flags if i < len(index)]

    result.luma_out = runs(at(picture.luma_bad))
    result.chroma_out = runs(at(picture.chroma_bad))
    result.gamut_out = runs(at(picture.gamut_bad))
    result.black = runs([(index[i], None) for i in picture.black if i < len(index)])
    result.freeze = [Interval(start=index[a], end=index[b - 1] + 1) for a, b in picture.freeze if b - 1 < len(index)]
    if picture.ymin is not None:
        result.luma_range = (picture.ymin, picture.ymax)  # type: ignore[assignment]
        result.chroma_range = (picture.cmin, picture.cmax)  # type: ignore[assignment]
    if picture.rgb_min is not None:
        result.rgb_range = (round(picture.rgb_min * 100, 2), round(picture.rgb_max * 100, 2))  # type: ignore[operator]
    seen = sorted(set(index))
    result.frames_decoded = len(index)
    result.last_frame = seen[-1]
    present = set(seen)
    result.missing = runs([(n, None) for n in range(seen[-1] + 1) if n not in present])

    counts: dict[str, int] = {}
    per_kind: dict[str, list[tuple[int, float | None]]] = {}
    idet = list(_metadata_frames(work / "idet.txt"))
    if idet:
        it0 = idet[0][0]
        for t, data in idet:
            kind = data.get("lavfi.idet.multiple.current_frame", "undetermined")
            counts[kind] = counts.get(kind, 0) + 1
            if kind in ("tff", "bff", "progressive"):
                per_kind.setdefault(kind, []).append((_frame(t, it0, rate), None))
    result.field_counts = counts
    result.field_runs = {k: runs(v) for k, v in per_kind.items()}


def read_audio(result: Analysis, work: Path, rate: Fraction, sound: SoundMeter | None) -> None:
    t0 = result.first_pts
    if sound is not None:
        # The sound meter counts frames on the sound's own clock; shift them onto the picture's.
        first = next(_metadata_frames(work / "audio.txt"), None)
        shift = _frame(first[0], t0, rate) if first and math.isfinite(first[0]) else 0
        end = result.last_frame + 1 if result.last_frame is not None else sound.frames
        for ch, frames in sound.silent.items():
            for iv in runs([(f + shift, None) for f in frames]):
                s, e = max(iv.start, 0), min(iv.end, end)
                if e > s:
                    result.silence.append(Interval(start=s, end=e, channel=ch))
        by_channel: dict[int, list[tuple[int, float | None]]] = {}
        for f, ch, value in sound.over:
            by_channel.setdefault(ch, []).append((f + shift, value))
        result.frame_peaks_over = sorted((iv.model_copy(update={"channel": ch}) for ch, flags in by_channel.items()
                                          for iv in runs(flags)), key=lambda iv: (iv.start, iv.channel))
        if sound.true_peak:
            result.max_frame_peak = db(sound.true_peak)
        peak = float(sound.sample_peak.max()) if len(sound.sample_peak) else 0.0
        result.max_sample_peak = db(peak) if peak > 0 else None

    series: list[tuple[float, float, float]] = []
    last: dict[str, str] = {}
    for t, data in _metadata_frames(work / "r128.txt"):
        m, s = _float(data.get("lavfi.r128.M")), _float(data.get("lavfi.r128.S"))
        # The value on the frame at t covers the 100 ms block ending at t + 0.1.
        if m is not None and s is not None:
            series.append((round(t + 0.1, 3), m, s))
        last = data
    result.loudness_series = series
    if last:
        result.integrated = _float(last.get("lavfi.r128.I"))
        result.lra = _float(last.get("lavfi.r128.LRA"))
        tp = _float(last.get("lavfi.r128.true_peak"))  # the running maximum: the last one is the file's
        if tp is not None:
            result.true_peak = 20 * math.log10(tp) if tp > 0 else -math.inf
    # Momentary needs 400 ms and short-term 3 s of signal: ebur128 writes -120.7 before that.
    ms = [m for _, m, _ in series if m > -120]
    ss = [s for t, _, s in series if s > -120 and t >= result.loudness_from + 3.0]
    result.max_momentary = max(ms) if ms else None
    result.max_short_term = max(ss) if ss else None
