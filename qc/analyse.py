"""One ffmpeg decode of a master → per-frame measurements (loudness, peaks, silence, black, freeze, levels, fields).

The file is decoded once. ffmpeg does only what it does best and cheapest beside the decode, and hands
two small raw streams to numpy (qc/meters.py):

    picture:  area downscale (1/8 each way at HD), 4:4:4  ─→ raw frames on stdout ─→ PictureMeter:
              levels, chroma, R'G'B' gamut, black, freeze per frame
    fields:   luma of a full-height strip (1/16 of the width) → idet → nullsink (split off the picture's
              graph; no output of its own)  ─→ real field order per frame
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

What each branch costs on the 2-core AMD EPYC (2026-12-01, Debian's ffmpeg 5.1, `bench/qc_bench.py
--branches`; CPU seconds, which hold under load where wall clocks do not), over a bare decode of the XDCAM
master: the picture reduction +18 %, the idet strip +6 %, ebur128 +6 % (its true peak two thirds of that),
the raw sound +3 %, the numpy meters +8 % (in threads of ours, beside ffmpeg). ffmpeg 5.1 runs every filter
and output in its main thread. For 8 s of XDCAM a bare decode spends 0.7 s in that thread and 0.95 s in two
slice threads (1.35 cores busy on the idle Intel machine of 2026-11-23), and the QC's branches lengthen the
main thread to 1.18 s: that thread is what an MPEG-2 master waits for. ProRes decodes in frame threads and
keeps both cores busy, so there the branches cost their CPU. Tried without a gain: `-filter_complex_threads 1`
and `-threads 2` (CPU within the noise). Done: ffmpeg starts before numpy is loaded (numpy loads while
ffmpeg starts and runs, not beside the probe: qc/run.py), and the pipes hold 1 MiB (ten reduced frames) instead of
64 KiB, so that ffmpeg's main thread does not wait at every frame for the meters to read the last one; while
numpy loads, threads read the pipes ahead into memory (qc/pipes.py `meanwhile`), so that a short master's
ffmpeg is not held up by a full pipe meanwhile (the meters then read the same bytes, in the same order).
Done since (issue 17): on such an ffmpeg (before 7.0) the sound runs in a second ffmpeg (`-vn`, its own
demux), which takes its branches off the picture process's main thread; the picture process reads no sound
(`-an`: the sound process decodes every audio stream, so every decoder message is said by one of the two; the
picture process decoding them again into anullsink cost 4 % of its main thread on the 60 s XDCAM master).
Two processes' messages cannot be put back in the order one prints them, so the split's result is kept only
when both end with 0 and print nothing; else (a damaged master) the pass runs again in one process
(`_run_split`, `_measure`). The idet strip ends in a nullsink inside the picture's graph, not in an output of
its own (qc/graph.py).

Where the CPU beyond a bare decode goes now (2026-12-01, Debian's 5.1, the 2-core EPYC shared, load 5-10;
`perf record -e cpu-clock` by library and thread, and callgrind's instruction counts, which no load moves).
60 s masters, the whole `postprod qc` before the two changes above: XDCAM 13.7 s of CPU against 9.95 s for the
bare decode (1.37x), ProRes 18.7 s against 14.1 s (1.32x). Of the extra:
- swscale's area reduction: 1.48 s and 2.08 s, 15 % of the bare decode on both masters (callgrind, 5 s of
  XDCAM: 630 M instructions against 2,913 M for the whole bare decode; 8 s of ProRes: 989 M against 10,463 M,
  at a lower rate of instructions per cycle than the decode), nearly all of it its SSSE3 horizontal filters
  (4 and 8 taps over every source line). zimg's zscale costs the same, pixelize twice as much.
- the sound process: 0.5-0.95 s (callgrind, 5 s of XDCAM: 436 M instructions, 15 % of the bare decode's,
  beside 190 M for the dynamic linker's start of Debian's ffmpeg, which every ffmpeg process pays); the
  loudness branch (amerge, ebur128) is half of it, ebur128's true peak (a 4x resampling in double precision)
  a quarter.
- the numpy meters: 0.55 s (picture 0.35-0.40 s, sound 0.15-0.18 s). Scratch arrays kept from batch to batch
  were tried: no gain.
- the idet strip, the frame times and the raw output: about 0.6 s. idet's SSE2 line filter leaves 8 of the
  strip's 120 columns to C, half its cost on 8-bit XDCAM, but another width would measure other columns; on
  10-bit ProRes idet's 16-bit filter is 395 M instructions of the 8 s (3.8 % of the bare decode's).
- Python's start, MediaInfo's parse of the MXF (0.5 s) and the reports: about 0.9 s.
The two changes above take 0.25-0.35 s off the picture process at 60 s of XDCAM (1.6 % of its instructions,
7 % of its main thread's CPU). So on two busy cores a QC within 1.1x of a bare decode cannot be had while
swscale reduces the picture: that step alone is 1.15x.

Cheaper reductions looked for (2026-12-01 afternoon; callgrind's instruction counts, which no load moves, on 25
frames of the 60 s XDCAM master, `-threads 2`): a bare decode on 5.1 is 841 M instructions (185 M of them the
dynamic linker's start), the picture process 1,024 M: of its 183 M more, swscale is 135 M (its set-up included),
libavfilter's own filters (idet, the strip, the frame times) 37 M.
swscale's two horizontal filters cost per output, not per tap (SSSE3: about 5 instructions an output with 4 taps,
6 with 8): the chroma's (4 taps, 2 x 240 outputs a source line) is 65.7 M, the luma's (8 taps, 240) 39.4 M. The
bundled 9.0.2 runs the very same filters (the same counts) and gives the same reduced bytes as 5.1. Tried:
- scale's slice threads (`threads=2`, FFmpeg 5.0 on): the same bytes and the same filter counts; on 5.1 the
  main thread is not shortened (30 s of XDCAM: 2.35 s of its CPU against 2.18 s), so no gain anywhere.
- reducing in the source's 4:2:2 (8 taps to 120 chroma outputs a line): swscale 107 M instead of 135 M (4.5 %
  of the bare XDCAM decode's 634 M past the linker; ProRes 98 M against 125 M, 1.9 %), but each chroma value
  then averages 16 x 8 source pixels, not 8 x 8: chroma and gamut would be measured through another filter (a
  narrow excursion diluted twice as much; a gamut sample's luma and chroma no longer from the same pixels),
  not the same findings: not done.
- AVX2 filters: ffmpeg marks this Zen 3 EPYC's gathers slow and keeps the SSSE3 ones; forced with `-cpuflags
  -slowgather` they take fewer instructions (714 M against 770 M for 25 frames on 9.0.2, the same bytes) but
  more time (15 s of XDCAM: 1.41x the bare decode's CPU against 1.11x on 9.0.2, 1.36x against 1.12x on 5.1).
  Where ffmpeg does not mark gathers slow it picks them itself: the reduction's share there is its own.
- luma alone (`format=gray`): 973 M against 980 M (swscale still filters the chroma); nearest neighbour, not
  an average (a floor only): 24 M over the bare decode.
- the full-resolution planes into numpy: an 8 x 8 box sum of the luma alone takes 1.9 ms a frame (the best
  of three ways), swscale's whole reduction 0.75 ms, before 4 MB a frame through the pipe.
So no filter of ffmpeg's nor numpy gives the same 8 x 8 block means for less: the reduction is at its floor.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import subprocess
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, TYPE_CHECKING

from config import children
from config.errors import ToolError
from media.ffmpeg.caps import Job, capabilities
from media.ffmpeg.errors import failure
from media.model import MediaFile, MediaKind
from qc import headstart, passthumbs, scratch
from qc.analysis import Analysis, Interval, Progress, UnusableMaster, runs
from qc.graph import build_command, build_split, channels_of, raw_depth, reduction_for
from qc.levels import level_limits, matrix_for
from qc.pipes import meanwhile, picture_reader, read_all, sound_reader, widen
from qc.readback import read_audio, read_video

if TYPE_CHECKING:  # the profile is read, never built, here (and qc.profile checks its ids against CHECKS)
    from qc.meters import PictureMeter, SoundMeter
    from qc.profile import DeliveryProfile

__all__ = ["Analysis", "Interval", "Progress", "UnusableMaster", "analyse", "level_limits", "pass_command", "runs"]


@dataclass
class _Plan:
    """What the pass needs to know before it starts: rate, head, picture geometry, sound; then the meters.

    The meters (numpy) are made once ffmpeg is running (`_meters`): numpy loads while ffmpeg starts.
    """

    rate: Fraction
    head_seconds: float
    size: tuple[int, int]
    depth: int
    total_seconds: float
    channels: int  # audio channels measured (0: no sound pipe)
    sample_rate: int  # of the raw sound (the common one, else what it is resampled to)
    resample_to: int | None  # mixed or unknown sample rates: all channels resampled to this
    picture: PictureMeter | None = None
    sound: SoundMeter | None = None


def _usable(media: MediaFile, profile: DeliveryProfile, ffmpeg: str) -> Fraction:
    """The master's frame rate, once it is known to be something one decode can measure."""
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
    return rate


def _plan(media: MediaFile, rate: Fraction, result: Analysis) -> _Plan:
    assert media.video is not None and media.video.width and media.video.height
    width, height = media.video.width, media.video.height
    red = result.reduction
    size = (max(2, round(width / red)), max(2, round(height / red)))
    depth = raw_depth(media.video.bit_depth or 8)
    rates = {a.sample_rate for a in media.audio if a.sample_rate}
    sample_rate = next(iter(rates)) if len(rates) == 1 else 48000
    total = media.duration_seconds or (float(media.duration_frames / rate) if media.duration_frames else 0.0)
    return _Plan(rate, result.loudness_from, size, depth, total, len(channels_of(media)), sample_rate,
                 None if len(rates) == 1 else sample_rate)


def _meters(plan: _Plan, profile: DeliveryProfile, matrix: str) -> None:
    """The numpy meters of the plan (numpy is loaded here, the first time)."""
    from qc.meters import PictureMeter, SoundMeter

    lv, bl, depth = profile.levels, profile.black, plan.depth
    plan.picture = PictureMeter(
        plan.size[0], plan.size[1], depth,
        luma=level_limits(depth, lv.luma_min_pct, lv.luma_max_pct, chroma=False),
        chroma=level_limits(depth, lv.chroma_min_pct, lv.chroma_max_pct, chroma=True),
        rgb_pct=(lv.rgb_min_pct, lv.rgb_max_pct), area_pct=lv.area_pct,
        black_pixel=bl.pixel_threshold, black_ratio=bl.picture_ratio, freeze_noise_db=profile.freeze.noise_db,
        matrix=matrix)
    plan.sound = SoundMeter(plan.channels, plan.sample_rate, plan.rate, silence_channels=profile.silence.channels,
                            silence_db=profile.silence.threshold_db,
                            true_peak_max=profile.loudness.true_peak_max) if plan.channels else None


def _head_frames(media: MediaFile, profile: DeliveryProfile) -> int:
    """Frames before the programme start (the leader), left out of the loudness."""
    start = media.start
    if not profile.timecode.programme_start or start is None:
        return 0
    from media.timecode import Timecode

    prog = Timecode.parse(profile.timecode.programme_start, start.rate, start.drop_frame)
    return max(0, prog.frames - start.frames)


def _run_pass(cmd_for, make_meters, plan: _Plan, ffmpeg: str, errfh: IO[str],  # noqa: ANN001
              progress: Progress | None) -> tuple[int, list[str], float]:
    """Start the one ffmpeg pass, then make the meters and feed them from its pipes; returns (exit code,
    command, meter CPU). The meters are made once ffmpeg runs: its start-up overlaps numpy's import."""
    read_fd = write_fd = None
    if plan.channels:
        read_fd, write_fd = os.pipe()
        widen(read_fd)
    cmd = cmd_for(write_fd)
    # In a session of its own: a Ctrl-C or a service stop reaches postprod, which stops it; ffmpeg stopped by
    # anyone else (the OOM killer) makes the QC `Interrupted`, never a verdict on a half-decoded master.
    started = False
    try:
        with children.popen(cmd, stdout=subprocess.PIPE, stderr=errfh, stdin=subprocess.DEVNULL,
                            pass_fds=(write_fd,) if write_fd is not None else ()) as proc:
            started = True
            widen(proc.stdout.fileno())  # type: ignore[union-attr]
            if write_fd is not None:
                os.close(write_fd)
                write_fd = None
            pipes = [proc.stdout] if read_fd is None else [proc.stdout, os.fdopen(read_fd, "rb")]
            read_fd = None  # the file owns it
            return _read_pass(proc, cmd, plan, progress, meanwhile(pipes, make_meters))  # type: ignore[list-item]
    except OSError as exc:
        if started:
            raise
        raise ToolError(f"cannot run ffmpeg ({ffmpeg}): {exc}") from exc
    finally:
        if write_fd is not None:
            os.close(write_fd)
        if read_fd is not None:
            os.close(read_fd)


def _read_pass(proc: subprocess.Popen, cmd: list[str], plan: _Plan, progress: Progress | None,
               pipes: list[IO[bytes]]) -> tuple[int, list[str], float]:
    assert plan.picture is not None  # made once ffmpeg started
    jobs = [picture_reader(pipes[0], plan.picture, plan.rate, plan.total_seconds, progress)]
    if plan.sound is not None and len(pipes) > 1:
        jobs.append(sound_reader(pipes[1], plan.sound))
    cpu = read_all(jobs, (proc,))
    return proc.wait(), cmd, cpu


def _prepare(media: MediaFile, profile: DeliveryProfile, ffmpeg: str) -> tuple[Analysis, _Plan]:
    """The result to fill and the plan of the pass (no numpy yet)."""
    rate = _usable(media, profile, ffmpeg)
    assert media.video is not None and media.video.width and media.video.height
    declared = media.duration_frames
    if media.error and "truncated" in media.error and media.duration_seconds:
        # MediaInfo counts the frames that are there; the header's duration is what was meant to be.
        declared = max(declared or 0, round(media.duration_seconds * rate))
    red = reduction_for(media.video.width)
    result = Analysis(path=media.path, rate=rate, declared_frames=declared,
                      loudness_from=float(_head_frames(media, profile) / rate), reduction=red, levels_reduction=red,
                      colour_matrix=matrix_for(media.video.matrix, media.video.height))
    return result, _plan(media, rate, result)


def pass_command(media: MediaFile, profile: DeliveryProfile, ffmpeg: str, work: Path, *,
                 audio_fd: int | None = None, threads: int = 0) -> list[str]:
    """The ffmpeg command `analyse` runs on `media` in one process, its side files in `work` (bench/qc_bench.py
    times its branches one by one)."""
    _, plan = _prepare(media, profile, ffmpeg)
    return build_command(media, profile, work, ffmpeg, head_seconds=plan.head_seconds, size=plan.size,
                         depth=plan.depth, audio_fd=audio_fd if plan.channels else None, sample_rate=plan.resample_to,
                         threads=threads, framelog_quiet=capabilities(ffmpeg).ebur128_framelog_quiet)


# A master shorter than this is measured in one process even where two would be faster on a long one: a second
# ffmpeg's start (Debian's links about 215 shared libraries: about 0.1 s of CPU) outweighs the main-thread time the
# split saves (1 s ProRes clip: 0.21 s of CPU in one process, 0.34 s split; 5 s XDCAM 1.28 s against 1.47 s, the
# wall no shorter, at load 5-6). Unknown duration (0): one process.
SPLIT_MIN_SECONDS = 10.0


def split_commands(media: MediaFile, profile: DeliveryProfile, ffmpeg: str, work: Path, *,
                   threads: int = 0) -> tuple[list[str], list[str]] | None:
    """The same pass as two processes (picture, sound), where that is faster: an ffmpeg before 7.0 (every filter
    on its main thread, which a slice-threaded decode such as MPEG-2 waits for) and a master with sound, of
    SPLIT_MIN_SECONDS or more. None: one process."""
    release = capabilities(ffmpeg).release
    if release is None or release >= (7, 0) or not channels_of(media):
        return None
    _, plan = _prepare(media, profile, ffmpeg)
    if plan.total_seconds < SPLIT_MIN_SECONDS:
        return None
    return build_split(media, profile, work, ffmpeg, head_seconds=plan.head_seconds, size=plan.size,
                       depth=plan.depth, sample_rate=plan.resample_to, threads=threads,
                       framelog_quiet=capabilities(ffmpeg).ebur128_framelog_quiet)


def _run_split(cmds: tuple[list[str], list[str]], make_meters, plan: _Plan, work: Path,  # noqa: ANN001
               progress: Progress | None) -> tuple[int, list[str], float, str] | None:
    """The pass as two processes; (exit code, command, meter CPU, stderr), or None where the two could tell
    another story than one process: either said anything (with `-loglevel level+error` every line it prints is
    an error) or did not end with 0. Two processes' messages cannot be put back in the order one prints them,
    nor known to be the same ones (which audio packets one pass decodes depends on when its outputs end), so
    such a master is measured again in one process (`_measure`); the split stops as soon as either speaks."""
    video_cmd, sound_cmd = cmds
    spoke: list[bool] = []
    with (work / "stderr.txt").open("w") as verr, (work / "stderr-sound.txt").open("w") as serr, \
            contextlib.ExitStack() as running:
        try:
            vproc = running.enter_context(children.popen(video_cmd, stdout=subprocess.PIPE, stderr=verr,
                                                         stdin=subprocess.DEVNULL))
            spoke.append(False)  # started: an OSError from here on is not a missing ffmpeg
            # A stop while the second one starts stops both (children.popen holds it until the child is known).
            sproc = running.enter_context(children.popen(sound_cmd, stdout=subprocess.PIPE, stderr=serr,
                                                         stdin=subprocess.DEVNULL))
        except OSError as exc:
            if spoke:
                raise
            raise ToolError(f"cannot run ffmpeg ({video_cmd[0]}): {exc}") from exc

        def stop() -> bool:
            if os.fstat(verr.fileno()).st_size or os.fstat(serr.fileno()).st_size:
                spoke.append(True)
                vproc.kill()
                sproc.kill()
            return spoke[-1]

        widen(vproc.stdout.fileno())  # type: ignore[union-attr]
        widen(sproc.stdout.fileno())  # type: ignore[union-attr]
        picture, sound = meanwhile([vproc.stdout, sproc.stdout], make_meters)  # type: ignore[list-item]
        assert plan.picture is not None and plan.sound is not None
        cpu = read_all([picture_reader(picture, plan.picture, plan.rate, plan.total_seconds, progress, stop),
                        sound_reader(sound, plan.sound)], (vproc, sproc))
    if spoke[-1]:
        return None
    stderr, sound_err = ((work / name).read_text(errors="replace") for name in ("stderr.txt", "stderr-sound.txt"))
    children.check_stopped(video_cmd, vproc.returncode, stderr)
    children.check_stopped(sound_cmd, sproc.returncode, sound_err)
    if vproc.returncode or sproc.returncode or stderr or sound_err:
        return None
    return 0, video_cmd, cpu, stderr


def _run_one(media: MediaFile, profile: DeliveryProfile, ffmpeg: str, work: Path, make_meters, plan: _Plan,  # noqa: ANN001
             progress: Progress | None, threads: int) -> tuple[int, list[str], float, str]:
    def cmd_for(audio_fd: int | None) -> list[str]:  # with the first frames' thumbnails where asked (qc/passthumbs.py)
        return [*pass_command(media, profile, ffmpeg, work, audio_fd=audio_fd, threads=threads),
                *passthumbs.output(ffmpeg, media.path)]

    with (work / "stderr.txt").open("w") as errfh:
        rc, cmd, cpu = _run_pass(cmd_for, make_meters, plan, ffmpeg, errfh, progress)
    stderr = (work / "stderr.txt").read_text(errors="replace")
    children.check_stopped(cmd, rc, stderr)
    return rc, cmd, cpu, stderr


def _measure(media: MediaFile, profile: DeliveryProfile, ffmpeg: str, work: Path, plan: _Plan, matrix: str,
             progress: Progress | None, threads: int,
             head: headstart.Head | None = None) -> tuple[int, list[str], float, str, Path]:
    """Run the pass (split in two where that is faster and tells the same, else one process); (exit code,
    command, meter CPU, stderr, the folder of its side files). `head`: an ffmpeg started early (qc/headstart.py),
    used where it runs the very command of the one-process pass."""
    def make_meters() -> None:
        _meters(plan, profile, matrix)

    split = work / "split"
    split.mkdir()
    cmds = split_commands(media, profile, ffmpeg, split, threads=threads)
    if cmds is not None:
        if head is not None:
            head.discard(keep_folder=True)
            head = None
        done = _run_split(cmds, make_meters, plan, split, progress)
        if done is not None:
            return (*done, split)
    one = work / "one"
    one.mkdir()
    if head is not None:
        done = _run_head(head, media, profile, one, make_meters, plan, progress, threads)
        if done is not None:
            return (*done, one)
    return (*_run_one(media, profile, ffmpeg, one, make_meters, plan, progress, threads), one)


def _run_head(head: headstart.Head, media: MediaFile, profile: DeliveryProfile, work: Path, make_meters,  # noqa: ANN001
              plan: _Plan, progress: Progress | None, threads: int) -> tuple[int, list[str], float, str] | None:
    """The one-process pass on the ffmpeg started early, if it waits for this very command (its graphs are
    handed over); None (it is killed unused) otherwise."""
    cmd = pass_command(media, profile, head.ffmpeg, work, audio_fd=head.sound_fd if plan.channels else None,
                       threads=threads)
    graphs = head.matches(cmd)
    if graphs is None or not head.release(graphs):
        head.discard(keep_folder=True)
        return None
    with head.adopted() as proc:
        widen(proc.stdout.fileno())  # type: ignore[union-attr]
        widen(head.sound_read)
        pipes = [proc.stdout, os.fdopen(head.sound_read, "rb")]
        rc, cmd, cpu = _read_pass(proc, cmd, plan, progress, meanwhile(pipes, make_meters))  # type: ignore[list-item]
    stderr = head.stderr.read_text(errors="replace")
    children.check_stopped(cmd, rc, stderr)
    return rc, cmd, cpu, stderr


def analyse(media: MediaFile, profile: DeliveryProfile, ffmpeg: str, *, progress: Progress | None = None,
            threads: int = 0) -> Analysis:
    """Decode `media` once and measure it. Raises UnusableMaster when there is nothing to measure."""
    result, plan = _prepare(media, profile, ffmpeg)
    rate, matrix = result.rate, result.colour_matrix or "bt709"
    caps = capabilities(ffmpeg)
    head = headstart.take(ffmpeg, media.path)  # the ffmpeg the command started early, if any: its folder is ours
    # removed beside the checks and thumbnails that follow
    with scratch.removed(head.folder) if head else scratch.folder("postprod-qc-") as tmp:
        t0, r0 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
        rc, result.command, result.meter_cpu_seconds, stderr, work = _measure(media, profile, ffmpeg, tmp, plan,
                                                                             matrix, progress, threads, head)
        result.elapsed_seconds = time.monotonic() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # Exact when nothing else of ours ran meanwhile (the command line); an upper bound otherwise.
        result.cpu_seconds = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
        errors = [re.sub(r"^(\[[^\]]*\] )*", "", ln).strip() for ln in stderr.splitlines() if "error" in ln.lower()]
        result.decode_errors = errors[:50]
        assert plan.picture is not None  # made once ffmpeg started, before any frame was read
        read_video(result, work, rate, plan.picture)
        if not result.frames_decoded:
            why = failure(Job.QC_ANALYSIS, media.path, stderr, rc, caps.version)
            raise UnusableMaster(f"no picture could be decoded: {why}", path=media.path)
        read_audio(result, work, rate, plan.sound)
        if progress:
            progress(plan.total_seconds, plan.total_seconds)
    return result
