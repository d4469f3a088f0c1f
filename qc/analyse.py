"""One ffmpeg decode of a master → per-frame measurements (loudness, peaks, silence, black, freeze, levels, fields).

The file is decoded once. ffmpeg does only what it does best and cheapest beside the decode, and hands
two small raw streams to numpy (qc/meters.py):

    picture:  area downscale (1/8 each way at HD), 4:4:4  ─→ raw frames on stdout ─→ PictureMeter:
              levels, chroma, R'G'B' gamut, black, freeze per frame
    fields:   luma of a full-height strip (1/16 of the width) → idet  ─→ real field order per frame
    loudness: programme channels → ebur128 (true peak)  ─→ integrated, LRA, momentary and short-term
    sound:    every channel, 32-bit float  ─→ raw samples on a pipe ─→ SoundMeter:
              silence and sample peak per channel and frame, BS.1770 true peak where it can be over

Where the time went before (60 s of 1080p ProRes HQ, this kind of machine): a bare decode about 6 s,
full-resolution signalstats about 42 s; on the reduced picture, signalstats still cost as much as the
downscale because it computes hue and saturation per pixel; idet on every column costs about a decode;
4x-oversampling every channel to find true-peak overs frame by frame cost more than ebur128 itself. So:
the picture is reduced once and measured in numpy (a few array reductions per frame), idet sees only a
luma strip (fields are lines, not columns), and the true-peak filter runs only on the frames whose sample
peak could reach the limit. See bench/RESULTS.md for the figures.
"""

from __future__ import annotations

import math
import os
import re
import resource
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, field_serializer

from config.errors import PostprodError, ToolError
from media.ffmpeg.caps import Job, capabilities
from media.ffmpeg.commands import qc_command
from media.ffmpeg.errors import failure
from media.model import MediaFile, MediaKind
from media.timecode import format_rate
from qc.meters import PictureMeter, SoundMeter, db, matrix_for

if TYPE_CHECKING:  # the profile is read, never built, here (and qc.profile checks its ids against CHECKS)
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
    frame_peaks_over: list[Interval] = []  # frames whose true peak (BS.1770 Annex 2) is over the limit, per channel
    max_frame_peak: float | None = None  # dBTP, largest true peak computed (frames that could be over), all channels
    max_sample_peak: float | None = None  # dBFS, all channels
    silence: list[Interval] = []
    black: list[Interval] = []
    freeze: list[Interval] = []
    luma_out: list[Interval] = []
    chroma_out: list[Interval] = []
    gamut_out: list[Interval] = []  # value: how far outside, in % of the R'G'B' range
    luma_range: tuple[float, float] | None = None  # min, max over the file (filtered picture)
    chroma_range: tuple[float, float] | None = None
    rgb_range: tuple[float, float] | None = None  # % of the nominal R'G'B' range (filtered picture)
    colour_matrix: str | None = None  # the matrix the gamut was computed with
    field_counts: dict[str, int] = {}  # idet single-frame classification
    field_runs: dict[str, list[Interval]] = {}  # runs of frames classified tff / bff / progressive
    reduction: int = 1  # the picture is measured this many times smaller each way (area average)
    levels_reduction: int = 1  # same as `reduction` (kept for readers of the earlier shape)
    first_pts: float = 0.0  # seconds: the first video frame's time, frame 0 for picture and sound alike
    elapsed_seconds: float = 0.0
    cpu_seconds: float | None = None  # user + system of the ffmpeg process, all its threads
    meter_cpu_seconds: float | None = None  # CPU of the numpy meters reading ffmpeg's raw picture and sound
    command: list[str] = []

    @field_serializer("rate")
    def _rate(self, value: Fraction) -> str:
        return format_rate(value)


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


_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}


def _gather(channels: list[tuple[int, int, int]], wanted: list[int], label: str) -> tuple[list[str], str]:
    """Filter chains that make one stream of the `wanted` channels (0-based, in order); returns (chains, pad).

    Whole streams are taken as they are (8 mono tracks: amerge; one 8-channel track: itself); a channel
    taken out of a larger stream goes through pan.
    """
    by_stream: dict[int, list[int]] = {}
    for i in wanted:
        by_stream.setdefault(channels[i][0], []).append(channels[i][1])
    counts = {s: n for s, _, n in channels}
    chains: list[str] = []
    pads: list[str] = []
    for s, chs in by_stream.items():
        if chs == list(range(counts[s])):
            pads.append(f"[0:a:{s}]")
        else:
            layout = _LAYOUTS.get(len(chs), f"{len(chs)}c")
            chains.append(f"[0:a:{s}]pan={layout}|" + "|".join(f"c{k}=c{c}" for k, c in enumerate(chs))
                          + f"[{label}s{s}]")
            pads.append(f"[{label}s{s}]")
    if len(pads) == 1:
        return chains, pads[0]
    chains.append("".join(pads) + f"amerge=inputs={len(pads)}[{label}m]")
    return chains, f"[{label}m]"


def reduction_for(width: int) -> int:
    """How many times smaller each way the picture is measured: 8 at HD and above (8x8 source pixels each)."""
    return 8 if width >= 1280 else 4 if width >= 640 else 2


def raw_format(depth: int) -> str:
    return "yuv444p" if depth <= 8 else "yuv444p10le" if depth <= 10 else "yuv444p12le" if depth <= 12 \
        else "yuv444p16le"


def _raw_depth(depth: int) -> int:
    return 8 if depth <= 8 else 10 if depth <= 10 else 12 if depth <= 12 else 16


def build_command(media: MediaFile, profile: DeliveryProfile, work: Path, ffmpeg: str, *, head_seconds: float,
                  size: tuple[int, int], depth: int, audio_fd: int | None, sample_rate: int | None,
                  threads: int = 0, framelog_quiet: bool = True) -> list[str]:
    """The one ffmpeg command: raw reduced picture on stdout, raw sound on `audio_fd`, the rest into `work`."""
    w, h = size
    # Picture: one area-average downscale straight to 4:4:4; each frame's time goes to a file (the raw
    # stream has none), which is how missing frames are found.
    picture = (f"[0:v:0]scale=w={w}:h={h}:flags=area,format={raw_format(depth)},"
               f"metadata=mode=add:key=postprod.frame:value=1,"
               f"metadata=mode=print:file={work / 'frames.txt'}[vpic]")
    # Fields are lines: idet needs every line but not every column, nor the colour.
    strip = ("[0:v:0]crop=w='max(min(iw,64),trunc(iw/32)*2)':h=ih:x='trunc((iw-ow)/4)*2':y=0,extractplanes=y,"
             f"idet,metadata=mode=print:key=lavfi.idet.multiple.current_frame"
             f":file={work / 'idet.txt'}[vfield]")
    graphs, measured = [picture, strip], ["[vfield]"]
    channels = _channels(media)
    sound: tuple[str, int] | None = None
    if channels:
        total = len(channels)
        lud = [c - 1 for c in profile.loudness.channels if 0 < c <= total]
        if lud:
            chains, pad = _gather(channels, lud, "l")
            trim = f"atrim=start={head_seconds:.6f}," if head_seconds > 0 else ""
            # framelog=quiet (ffmpeg 6.0 on) only silences the per-frame log, which metadata=1 already sends to
            # the verbose level that -loglevel error hides: 5.1 measures the same without it.
            quiet = ":framelog=quiet" if framelog_quiet else ""
            chains.append(f"{pad}{trim}ebur128=peak=true:metadata=1{quiet},"
                          f"ametadata=mode=print:file={work / 'r128.txt'}[aout]")
            graphs.append(";".join(chains))
            measured.append("[aout]")
        if audio_fd is not None:
            chains, pad = _gather(channels, list(range(total)), "r")
            rate = f":sample_rates={sample_rate}" if sample_rate else ""
            chains.append(f"{pad}aformat=sample_fmts=flt{rate},ametadata=mode=add:key=postprod.audio:value=1,"
                          f"ametadata=mode=print:file={work / 'audio.txt'}[araw]")
            graphs.append(";".join(chains))
            sound = ("[araw]", audio_fd)
    return qc_command(ffmpeg, media.path, graphs=graphs, picture="[vpic]", measured=measured, sound=sound,
                      threads=threads)


def _read_exact(fh: IO[bytes], view: memoryview) -> int:
    n = 0
    while n < len(view):
        got = fh.readinto(view[n:])  # type: ignore[attr-defined]
        if not got:
            break
        n += got
    return n


def analyse(media: MediaFile, profile: DeliveryProfile, ffmpeg: str, *, progress: Progress | None = None,
            threads: int = 0) -> Analysis:
    """Decode `media` once and measure it. Raises UnusableMaster when there is nothing to measure."""
    if media.kind is MediaKind.SIDECAR or (media.video is None and not media.audio):
        raise UnusableMaster(media.error or "not a video file", path=media.path)
    if media.video is None:
        raise UnusableMaster("audio only: a PAD master needs a picture", path=media.path)
    missing = capabilities(ffmpeg).lacks(Job.QC_ANALYSIS)
    if missing:
        raise ToolError(f"{capabilities(ffmpeg).describe()} cannot do the QC analysis: it lacks {', '.join(missing)}")
    rate = media.video.frame_rate or profile.frame_rate
    if rate is None:
        raise UnusableMaster("frame rate unknown", path=media.path)
    if not media.video.width or not media.video.height:
        raise UnusableMaster("picture size unknown", path=media.path)
    start = media.start
    head_frames = 0
    if profile.timecode.programme_start and start is not None:
        from media.timecode import Timecode

        prog = Timecode.parse(profile.timecode.programme_start, start.rate, start.drop_frame)
        head_frames = max(0, prog.frames - start.frames)
    head_seconds = float(head_frames / rate)
    width, height = media.video.width, media.video.height
    red = reduction_for(width)
    size = (max(2, round(width / red)), max(2, round(height / red)))
    depth = _raw_depth(media.video.bit_depth or 8)
    declared = media.duration_frames
    if media.error and "truncated" in media.error and media.duration_seconds:
        # MediaInfo counts the frames that are there; the header's duration is what was meant to be.
        declared = max(declared or 0, round(media.duration_seconds * rate))
    matrix = matrix_for(media.video.matrix, height)
    result = Analysis(path=media.path, rate=rate, declared_frames=declared, loudness_from=head_seconds,
                      reduction=red, levels_reduction=red, colour_matrix=matrix)
    total_s = media.duration_seconds or (float(media.duration_frames / rate) if media.duration_frames else 0.0)

    lv, bl = profile.levels, profile.black
    picture = PictureMeter(
        size[0], size[1], depth,
        luma=level_limits(depth, lv.luma_min_pct, lv.luma_max_pct, chroma=False),
        chroma=level_limits(depth, lv.chroma_min_pct, lv.chroma_max_pct, chroma=True),
        rgb_pct=(lv.rgb_min_pct, lv.rgb_max_pct), area_pct=lv.area_pct,
        black_pixel=bl.pixel_threshold, black_ratio=bl.picture_ratio, freeze_noise_db=profile.freeze.noise_db,
        matrix=matrix)
    channels = _channels(media)
    rates = {a.sample_rate for a in media.audio if a.sample_rate}
    same_rate = len(rates) == 1
    sample_rate = next(iter(rates)) if same_rate else 48000  # mixed or unknown rates: resampled to 48 kHz
    sound = SoundMeter(len(channels), sample_rate, rate, silence_channels=profile.silence.channels,
                       silence_db=profile.silence.threshold_db,
                       true_peak_max=profile.loudness.true_peak_max) if channels else None

    with tempfile.TemporaryDirectory(prefix="postprod-qc-") as tmp:
        work = Path(tmp)
        read_fd = write_fd = None
        if sound is not None:
            read_fd, write_fd = os.pipe()
        cmd = build_command(media, profile, work, ffmpeg, head_seconds=head_seconds, size=size, depth=depth,
                            audio_fd=write_fd, sample_rate=None if same_rate else sample_rate,
                            threads=threads, framelog_quiet=capabilities(ffmpeg).ebur128_framelog_quiet)
        result.command = cmd
        failures: list[BaseException] = []
        meter_cpu: list[float] = []
        t0 = time.monotonic()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        errlog = work / "stderr.txt"
        with errlog.open("w") as errfh:
            try:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfh,
                                        pass_fds=(write_fd,) if write_fd is not None else ())
            except OSError as exc:
                raise ToolError(f"cannot run ffmpeg ({ffmpeg}): {exc}") from exc
            finally:
                if write_fd is not None:
                    os.close(write_fd)
            assert proc.stdout is not None

            def read_picture() -> None:
                c0 = time.thread_time()
                try:
                    batch = picture.batch_buffer(25)
                    raw = memoryview(batch.reshape(-1).view("u1"))
                    while True:
                        n = _read_exact(proc.stdout, raw)  # type: ignore[arg-type]
                        frames = n // picture.frame_bytes
                        if frames:
                            picture.feed(batch[:frames])
                            if progress:
                                progress(float(picture.frames / rate), total_s)
                        if n < len(raw):
                            break
                    picture.finish()
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    failures.append(exc)
                    proc.kill()
                meter_cpu.append(time.thread_time() - c0)

            def read_sound() -> None:
                assert sound is not None and read_fd is not None
                c0 = time.thread_time()
                try:
                    with os.fdopen(read_fd, "rb") as fh:
                        chunk = sound.sr * sound.ch * 4  # a second of sound at a time
                        while data := fh.read(chunk):
                            sound.feed(data)
                    sound.finish()
                except BaseException as exc:  # noqa: BLE001
                    failures.append(exc)
                    proc.kill()
                meter_cpu.append(time.thread_time() - c0)

            readers = [threading.Thread(target=read_picture, daemon=True)]
            if sound is not None:
                readers.append(threading.Thread(target=read_sound, daemon=True))
            for t in readers:
                t.start()
            for t in readers:
                t.join()
            rc = proc.wait()
        if failures:
            raise failures[0]
        result.elapsed_seconds = time.monotonic() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # Exact when nothing else of ours ran meanwhile (the command line); an upper bound otherwise.
        result.cpu_seconds = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
        result.meter_cpu_seconds = round(sum(meter_cpu), 3)
        stderr = errlog.read_text(errors="replace")
        errors = [re.sub(r"^(\[[^\]]*\] )*", "", ln).strip() for ln in stderr.splitlines() if "error" in ln.lower()]
        result.decode_errors = errors[:50]
        _read_video(result, work, rate, picture)
        if not result.frames_decoded:
            why = failure(Job.QC_ANALYSIS, media.path, stderr, rc, capabilities(ffmpeg).version)
            raise UnusableMaster(f"no picture could be decoded: {why}", path=media.path)
        _read_audio(result, work, rate, sound)
        if progress:
            progress(total_s, total_s)
    return result


def _frame(t: float, t0: float, rate: Fraction) -> int:
    # Frame containing time t (a 1 µs guard keeps 0.4 s at 25 fps on frame 10, not 9).
    return math.floor((t - t0) * rate + 1e-3)


def _read_video(result: Analysis, work: Path, rate: Fraction, picture: PictureMeter) -> None:
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

    result.luma_out = _runs(at(picture.luma_bad))
    result.chroma_out = _runs(at(picture.chroma_bad))
    result.gamut_out = _runs(at(picture.gamut_bad))
    result.black = _runs([(index[i], None) for i in picture.black if i < len(index)])
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
    result.missing = _runs([(n, None) for n in range(seen[-1] + 1) if n not in present])

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


def _read_audio(result: Analysis, work: Path, rate: Fraction, sound: SoundMeter | None) -> None:
    t0 = result.first_pts
    if sound is not None:
        # The sound meter counts frames on the sound's own clock; shift them onto the picture's.
        first = next(_metadata_frames(work / "audio.txt"), None)
        shift = _frame(first[0], t0, rate) if first and math.isfinite(first[0]) else 0
        end = result.last_frame + 1 if result.last_frame is not None else sound.frames
        for ch, frames in sound.silent.items():
            for iv in _runs([(f + shift, None) for f in frames]):
                s, e = max(iv.start, 0), min(iv.end, end)
                if e > s:
                    result.silence.append(Interval(start=s, end=e, channel=ch))
        by_channel: dict[int, list[tuple[int, float | None]]] = {}
        for f, ch, value in sound.over:
            by_channel.setdefault(ch, []).append((f + shift, value))
        result.frame_peaks_over = sorted((iv.model_copy(update={"channel": ch}) for ch, flags in by_channel.items()
                                          for iv in _runs(flags)), key=lambda iv: (iv.start, iv.channel))
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
