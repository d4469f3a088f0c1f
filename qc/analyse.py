"""One ffmpeg decode of a master → per-frame measurements (loudness, peaks, silence, black, freeze, levels, fields).

The file is decoded once; the decoded frames feed three filter graphs, which ffmpeg runs side by side
(one thread each):

    picture: area downscale (1/4 each way at HD) → blackdetect → freezedetect
             → area downscale (1/2 more at HD) → signalstats                min/max Y, Cb, Cr per frame
    fields:  crop (a quarter of the width, every line) → idet               real field order per frame
    sound:   each channel alone ─┬─ silencedetect (channels that must carry sound)
                                 ├─ [programme channels] atrim(head) → amerge → ebur128 (true peak)
                                 └─ [all channels] amerge → 4x oversampling → astats per video frame

Why it is fast: full-resolution signalstats costs about six decodes, and it costs per pixel. EBU R103
lets excursions over less than 1 % of the picture pass and asks for a spatially filtered measurement;
an area-average downscale *is* that low-pass filter. At HD each measured pixel averages 8x8 source
pixels (0.003 % of the picture, about 300 times less than R103's 1 %), so any excursion R103 counts
still shows in the reduced picture, while ringing and isolated overshoots, which it tells us to ignore,
do not. A black or frozen picture stays black or frozen when averaged (those two run at 4x4, so that a
small moving object still shows as motion). idet needs every line (fields are lines) but not every
column: a full-height crop costs nothing (crop moves a pointer). Per-frame true peak comes from astats
on 4x-oversampled audio cut into one-video-frame chunks (BS.1770's own true-peak method), so an over
is located to the frame; ebur128 gives the standard figures. Every measurement is read from per-frame
metadata written to files, not from the log (ffmpeg prints a bogus first ebur128 summary in
-filter_complex mode).
"""

from __future__ import annotations

import math
import re
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_serializer

from config.errors import PostprodError, ToolError
from ingest.media import MediaFile, MediaKind
from qc.profile import DeliveryProfile

Progress = Callable[[float, float], None]  # (seconds analysed, total seconds)


class UnusableMaster(PostprodError):
    """A file that cannot be QC'd at all: not media, no picture, not decodable."""


class Interval(BaseModel):
    """Frames [start, end) from the file's first frame; `value` is the worst reading inside."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int
    end: int
    value: float | None = None
    channel: int | None = None  # 1-based audio channel


class Analysis(BaseModel):
    """What one decode measured. Frame numbers count from the file's first frame."""

    model_config = ConfigDict(extra="forbid")

    path: str
    rate: Fraction
    declared_frames: int | None
    frames_decoded: int = 0
    last_frame: int | None = None  # index of the last frame decoded
    missing: list[Interval] = []  # frames absent from the decoded sequence
    decode_errors: list[str] = []
    integrated: float | None = None  # LUFS, programme channels, head left out
    lra: float | None = None
    true_peak: float | None = None  # dBTP, ebur128, programme channels
    max_short_term: float | None = None
    max_momentary: float | None = None
    loudness_series: list[tuple[float, float, float]] = []  # (seconds, momentary, short-term), every 100 ms
    loudness_from: float = 0.0  # seconds where the loudness measurement starts (after the head)
    frame_peaks_over: list[Interval] = []  # frames whose 4x-oversampled peak (any channel) is over the limit
    max_frame_peak: float | None = None  # dBTP estimate, all channels
    silence: list[Interval] = []
    black: list[Interval] = []
    freeze: list[Interval] = []
    luma_out: list[Interval] = []
    chroma_out: list[Interval] = []
    luma_range: tuple[float, float] | None = None  # min, max over the file (filtered picture)
    chroma_range: tuple[float, float] | None = None
    field_counts: dict[str, int] = {}  # idet multi-frame classification
    field_runs: dict[str, list[Interval]] = {}  # runs of frames classified tff / bff / progressive
    reduction: int = 1  # black and freeze are measured on a picture this many times smaller each way
    levels_reduction: int = 1  # levels on a picture this many times smaller each way
    first_pts: float = 0.0  # seconds: the first video frame's time, frame 0 for picture and sound alike
    elapsed_seconds: float = 0.0
    cpu_seconds: float | None = None  # user + system of the ffmpeg process, all its threads
    command: list[str] = []

    @field_serializer("rate")
    def _rate(self, value: Fraction) -> str:
        return f"{value.numerator}/{value.denominator}"


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


def _runs(flags: list[tuple[int, float | None]], worst: Callable[[float, float], float] = max) -> list[Interval]:
    """Consecutive frame numbers → intervals, keeping the worst value of each."""
    out: list[Interval] = []
    for frame, value in sorted(flags, key=lambda x: x[0]):
        if out and frame == out[-1].end:
            last = out[-1]
            v = last.value if value is None else (value if last.value is None else worst(last.value, value))
            out[-1] = last.model_copy(update={"end": frame + 1, "value": v})
        else:
            out.append(Interval(start=frame, end=frame + 1, value=value))
    return out


def level_limits(bit_depth: int, min_pct: float, max_pct: float, chroma: bool) -> tuple[float, float]:
    """Code values for R103 percentages: 8-bit luma 16-235 (chroma 16-240), scaled for deeper bits."""
    scale = 1 << max(bit_depth - 8, 0)
    low, high = 16 * scale, (240 if chroma else 235) * scale
    span = high - low
    return low + span * min_pct / 100, low + span * max_pct / 100


def _channels(media: MediaFile) -> list[tuple[int, int, int]]:
    """(stream index, channel index in stream, count in stream) for every channel, in order."""
    out = []
    for s, a in enumerate(media.audio):
        n = a.channels or 1
        out += [(s, c, n) for c in range(n)]
    return out


def build_graph(media: MediaFile, profile: DeliveryProfile, work: Path, rate: Fraction,
                head_seconds: float, reduction: int) -> tuple[list[str], list[str]]:
    """The filter graphs and the -map options; one metadata file per measuring branch goes into `work`.

    Three graphs fed by the one decode (field order, picture, sound): ffmpeg runs each graph in its own
    thread, so the measurements run side by side instead of one after the other.
    """
    v = work
    bl = profile.black
    fr = profile.freeze
    # Shortest events we look for: one frame. Durations are applied by the checks (pure), not here.
    frame_s = float(1 / rate)
    fields = ("[0:v:0]crop=w=trunc(iw/8)*2:h=ih:x=trunc(iw*3/16)*2:y=0,idet,"
              f"metadata=mode=print:key=lavfi.idet.multiple.current_frame:file={v / 'idet.txt'}[vfield]")
    scale = (f"scale=w=trunc(iw/{reduction}/2)*2:h=trunc(ih/{reduction}/2)*2:flags=area,"
             if reduction > 1 else "")
    # Levels on a picture halved again at HD (8x8 source pixels per measured one, 0.003 % of the picture):
    # signalstats costs per pixel, and R103's 1 % area is still 300 times larger than what is averaged.
    levels = "scale=w=trunc(iw/4)*2:h=trunc(ih/4)*2:flags=area," if reduction >= 4 else ""
    picture = (f"[0:v:0]{scale}blackdetect=d={frame_s / 2:.6f}:pic_th={bl.picture_ratio}:pix_th="
               f"{bl.pixel_threshold},freezedetect=n={fr.noise_db}dB:d={frame_s * 1.5:.6f},{levels}signalstats,"
               f"metadata=mode=print:file={v / 'video.txt'}[vout]")
    graphs = [picture, fields]
    maps = ["-map", "[vout]", "-map", "[vfield]"]

    channels = _channels(media)
    total = len(channels)
    if not total:
        return graphs, maps
    graph: list[str] = []
    uses: dict[int, list[str]] = {i: [] for i in range(total)}
    for i in range(total):
        if i + 1 in profile.silence.channels:
            uses[i].append("sil")
        if i + 1 in profile.loudness.channels:
            uses[i].append("lud")
        uses[i].append("pk")
    # One mono pad per channel, whatever the track layout (8 mono tracks, or one 8-channel track).
    by_stream: dict[int, list[int]] = {}
    for i, (s, _, _) in enumerate(channels):
        by_stream.setdefault(s, []).append(i)
    for s, idx in by_stream.items():
        n = len(idx)
        if n == 1:
            graph.append(f"[0:a:{s}]asplit={len(uses[idx[0]])}" + "".join(f"[c{idx[0]}{u}]" for u in uses[idx[0]]))
        else:
            graph.append(f"[0:a:{s}]asplit={n}" + "".join(f"[s{s}c{k}]" for k in range(n)))
            for k, i in enumerate(idx):
                graph.append(f"[s{s}c{k}]pan=mono|c0=c{k},asplit={len(uses[i])}"
                             + "".join(f"[c{i}{u}]" for u in uses[i]))
    sp = profile.silence
    for i in range(total):
        if "sil" in uses[i]:
            graph.append(f"[c{i}sil]silencedetect=n={sp.threshold_db}dB:d={frame_s / 2:.6f},"
                         f"ametadata=mode=print:file={v / f'silence{i + 1}.txt'},anullsink")
    lud = [i for i in range(total) if "lud" in uses[i]]
    if lud:
        trim = f"atrim=start={head_seconds:.6f}," if head_seconds > 0 else ""
        if len(lud) == 1:
            src = f"[c{lud[0]}lud]"
        else:
            graph.append("".join(f"[c{i}lud]" for i in lud) + f"amerge=inputs={len(lud)}[lmix]")
            src = "[lmix]"
        graph.append(f"{src}{trim}ebur128=peak=true:metadata=1:framelog=quiet,"
                     f"ametadata=mode=print:file={v / 'r128.txt'}[aout]")
        maps += ["-map", "[aout]"]
    pk = "".join(f"[c{i}pk]" for i in range(total))
    head = f"{pk}amerge=inputs={total}," if total > 1 else f"{pk}"
    per_frame = max(1, round(48000 * 4 / rate))
    sink = ",anullsink" if lud else "[apk]"
    graph.append(f"{head}aresample=192000,asetnsamples=n={per_frame}:p=0,astats=metadata=1:reset=1:"
                 f"measure_perchannel=none:measure_overall=Peak_level,"
                 f"ametadata=mode=print:file={v / 'peaks.txt'}{sink}")
    if not lud:
        maps += ["-map", "[apk]"]
    graphs.append(";".join(graph))
    return graphs, maps


_ERROR_LINE = re.compile(r"^\[(?:[^\]]*\] \[)?(error|fatal|panic)\]")


def analyse(media: MediaFile, profile: DeliveryProfile, ffmpeg: str, *, progress: Progress | None = None,
            threads: int = 0) -> Analysis:
    """Decode `media` once and measure it. Raises UnusableMaster when there is nothing to measure."""
    if media.kind is MediaKind.SIDECAR or (media.video is None and not media.audio):
        raise UnusableMaster(media.error or "not a video file", path=media.path)
    if media.video is None:
        raise UnusableMaster("audio only: a PAD master needs a picture", path=media.path)
    rate = media.video.frame_rate or profile.frame_rate
    if rate is None:
        raise UnusableMaster("frame rate unknown", path=media.path)
    start = media.start
    head_frames = 0
    if profile.timecode.programme_start and start is not None:
        from ingest.timecode import Timecode

        prog = Timecode.parse(profile.timecode.programme_start, start.rate, start.drop_frame)
        head_frames = max(0, prog.frames - start.frames)
    head_seconds = float(head_frames / rate)
    width = media.video.width or 0
    # Reduce HD and above by 4 each way, smaller pictures by 2.
    reduction = 4 if width >= 1280 else 2
    declared = media.duration_frames
    if media.error and "truncated" in media.error and media.duration_seconds:
        # MediaInfo counts the frames that are there; the header's duration is what was meant to be.
        declared = max(declared or 0, round(media.duration_seconds * rate))
    result = Analysis(path=media.path, rate=rate, declared_frames=declared,
                      loudness_from=head_seconds, reduction=reduction,
                      levels_reduction=reduction * 2 if reduction >= 4 else reduction)
    total_s = media.duration_seconds or (float(media.duration_frames / rate) if media.duration_frames else 0.0)
    with tempfile.TemporaryDirectory(prefix="postprod-qc-") as tmp:
        work = Path(tmp)
        graphs, maps = build_graph(media, profile, work, rate, head_seconds, reduction)
        cmd = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+error",
               "-threads", str(threads), "-i", str(media.path)]
        for g in graphs:
            cmd += ["-filter_complex", g]
        cmd += [*maps,
               "-f", "null", "-progress", "pipe:1", "-"]
        result.command = cmd
        t0 = time.monotonic()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        errlog = work / "stderr.txt"
        with errlog.open("w") as errfh:
            try:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfh, text=True)
            except OSError as exc:
                raise ToolError(f"cannot run ffmpeg ({ffmpeg}): {exc}") from exc
            assert proc.stdout is not None
            for line in proc.stdout:
                if progress and line.startswith("out_time_us="):
                    us = _float(line.split("=", 1)[1])
                    if us is not None:
                        progress(us / 1e6, total_s)
            rc = proc.wait()
        result.elapsed_seconds = time.monotonic() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # Exact when nothing else of ours ran meanwhile (the command line); an upper bound otherwise.
        result.cpu_seconds = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
        stderr = errlog.read_text(errors="replace")
        errors = [re.sub(r"^(\[[^\]]*\] )*", "", ln).strip() for ln in stderr.splitlines() if "error" in ln.lower()]
        result.decode_errors = errors[:50]
        _read_video(result, work, rate, media, profile)
        if not result.frames_decoded:
            tail = stderr.strip().splitlines()[-1] if stderr.strip() else f"ffmpeg exit {rc}"
            raise UnusableMaster(f"no picture could be decoded: {tail}", path=media.path)
        _read_audio(result, work, rate, media, profile)
        if progress:
            progress(total_s, total_s)
    return result


def _frame(t: float, t0: float, rate: Fraction) -> int:
    # Frame containing time t (a 1 µs guard keeps 0.4 s at 25 fps on frame 10, not 9).
    return math.floor((t - t0) * rate + 1e-3)


def _read_video(result: Analysis, work: Path, rate: Fraction, media: MediaFile, profile: DeliveryProfile) -> None:
    frames = list(_metadata_frames(work / "video.txt"))
    if not frames:
        return
    t0 = frames[0][0] if math.isfinite(frames[0][0]) else 0.0
    result.first_pts = t0
    depth = media.video.bit_depth if media.video and media.video.bit_depth else 8
    lv = profile.levels
    ylo, yhi = level_limits(depth, lv.luma_min_pct, lv.luma_max_pct, chroma=False)
    clo, chi = level_limits(depth, lv.chroma_min_pct, lv.chroma_max_pct, chroma=True)
    seen: list[int] = []
    luma_bad: list[tuple[int, float | None]] = []
    chroma_bad: list[tuple[int, float | None]] = []
    black_start = freeze_start = None
    ymin = ymax = cmin = cmax = None
    for t, data in frames:
        n = _frame(t, t0, rate)
        seen.append(n)
        y0, y1 = _float(data.get("lavfi.signalstats.YMIN")), _float(data.get("lavfi.signalstats.YMAX"))
        cs = [_float(data.get(f"lavfi.signalstats.{k}")) for k in ("UMIN", "UMAX", "VMIN", "VMAX")]
        if y0 is not None and y1 is not None:
            ymin = y0 if ymin is None else min(ymin, y0)
            ymax = y1 if ymax is None else max(ymax, y1)
            if y0 < ylo or y1 > yhi:
                # The worst excursion, signed: how far outside, in code values.
                luma_bad.append((n, max(ylo - y0, y1 - yhi)))
        if None not in cs:
            c0, c1 = min(cs[0], cs[2]), max(cs[1], cs[3])  # type: ignore[type-var]
            cmin = c0 if cmin is None else min(cmin, c0)
            cmax = c1 if cmax is None else max(cmax, c1)
            if c0 < clo or c1 > chi:
                chroma_bad.append((n, max(clo - c0, c1 - chi)))
        if "lavfi.black_start" in data:
            black_start = _frame(float(data["lavfi.black_start"]), t0, rate)
        if "lavfi.black_end" in data and black_start is not None:
            result.black.append(Interval(start=black_start, end=_frame(float(data["lavfi.black_end"]), t0, rate)))
            black_start = None
        if "lavfi.freezedetect.freeze_start" in data:
            freeze_start = _frame(float(data["lavfi.freezedetect.freeze_start"]), t0, rate)
        if "lavfi.freezedetect.freeze_end" in data and freeze_start is not None:
            result.freeze.append(Interval(start=freeze_start,
                                          end=_frame(float(data["lavfi.freezedetect.freeze_end"]), t0, rate)))
            freeze_start = None
    last = seen[-1] + 1
    # Still black / frozen at the end of the file: the event runs to the last frame.
    if black_start is not None:
        result.black.append(Interval(start=black_start, end=last))
    if freeze_start is not None:
        result.freeze.append(Interval(start=freeze_start, end=last))
    result.frames_decoded = len(seen)
    result.last_frame = seen[-1]
    result.luma_out = _runs(luma_bad)
    result.chroma_out = _runs(chroma_bad)
    result.luma_range = (ymin, ymax) if ymin is not None and ymax is not None else None
    result.chroma_range = (cmin, cmax) if cmin is not None and cmax is not None else None
    present = set(seen)
    result.missing = _runs([(n, None) for n in range(last) if n not in present])

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
    result.field_runs = {k: _runs(v) for k, v in per_kind.items()}


def _read_audio(result: Analysis, work: Path, rate: Fraction, media: MediaFile, profile: DeliveryProfile) -> None:
    total = sum(a.channels or 1 for a in media.audio)
    t0 = result.first_pts
    for ch in range(1, total + 1):
        start = None
        for _, data in _metadata_frames(work / f"silence{ch}.txt"):
            if "lavfi.silence_start" in data:
                start = _frame(float(data["lavfi.silence_start"]), t0, rate)
            if "lavfi.silence_end" in data and start is not None:
                result.silence.append(Interval(start=max(start, 0), channel=ch,
                                               end=_frame(float(data["lavfi.silence_end"]), t0, rate)))
                start = None
        if start is not None:
            # Silent to the end (silencedetect reports no end then).
            end = result.last_frame + 1 if result.last_frame is not None else start
            result.silence.append(Interval(start=max(start, 0), end=max(end, start), channel=ch))

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
        tp = _float(last.get("lavfi.r128.true_peak"))
        if tp is not None:
            result.true_peak = 20 * math.log10(tp) if tp > 0 else -math.inf
    # Momentary needs 400 ms and short-term 3 s of signal: ebur128 writes -120.7 before that.
    ms = [m for _, m, _ in series if m > -120]
    ss = [s for t, _, s in series if s > -120 and t >= result.loudness_from + 3.0]
    result.max_momentary = max(ms) if ms else None
    result.max_short_term = max(ss) if ss else None

    limit = profile.loudness.true_peak_max
    over: list[tuple[int, float | None]] = []
    peak = None
    for t, data in _metadata_frames(work / "peaks.txt"):
        p = _float(data.get("lavfi.astats.Overall.Peak_level"))
        if p is None:
            continue
        peak = p if peak is None else max(peak, p)
        if p > limit:
            over.append((_frame(t, t0, rate), p))
    result.max_frame_peak = peak
    result.frame_peaks_over = _runs(over)
