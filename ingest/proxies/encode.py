"""One proxy encode: the encoder chosen, the command (media/ffmpeg/commands.py), ffmpeg run and watched."""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ingest.proxies.filters import sound_map, video_filters
from ingest.proxies.models import ProxyBatch
from ingest.proxies.presets import ProxyPreset
from media.ffmpeg.caps import Job, capabilities
from media.ffmpeg.commands import ProxyEncode, encoder_test_command, proxy_command
from media.ffmpeg.errors import first_error
from media.model import MediaFile

FFMPEG_FORMATS = {"mov": "mov", "mp4": "mp4", "mxf": "mxf"}


# What an NVIDIA encoder needs on Linux: the driver's control device (WSL2: the DirectX GPU device).
NVIDIA_DEVICES = ("/dev/nvidiactl", "/dev/dxg")


def no_nvidia_driver(encoder: str) -> bool:
    """An NVENC encoder on a Linux host without the NVIDIA driver's devices: it cannot work, no trial needed
    (the trial is a whole ffmpeg start, 0.1-0.3 s a batch). Elsewhere the trial decides."""
    return "nvenc" in encoder and sys.platform == "linux" and not any(os.path.exists(d) for d in NVIDIA_DEVICES)


@lru_cache(maxsize=8)
def encoder_works(ffmpeg: str, encoder: str) -> bool:
    """Listed by this ffmpeg and able to encode here: a listed NVENC fails without an NVIDIA GPU and driver.
    Tried once per process (a 0.2 s encode), unless the host has no NVIDIA driver at all."""
    if encoder not in capabilities(ffmpeg).encoders or no_nvidia_driver(encoder):
        return False
    try:
        proc = subprocess.run(encoder_test_command(ffmpeg, encoder), capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def choose_encoder(ffmpeg: str, preset: ProxyPreset, allow_hw: bool = True) -> tuple[str, list[str]]:
    if allow_hw and preset.video.hw_encoder and encoder_works(ffmpeg, preset.video.hw_encoder):
        return preset.video.hw_encoder, list(preset.video.hw_args)
    return preset.video.encoder, list(preset.video.args)


def encode_threads(batch: ProxyBatch) -> int | None:
    """Threads for an encode starting now: the cores shared by the encodes that run at once (those running and
    those of the batch still to start; clips skipped or refused take none); an encode that runs alone leaves
    ffmpeg its own count (all the cores), as typed by hand."""
    running = batch.at_once()
    return max(1, (os.cpu_count() or 2) // running) if running > 1 else None


def ffmpeg_command(batch: ProxyBatch, media: MediaFile, output: Path) -> tuple[list[str], int, int, int]:
    """The whole ffmpeg command for one proxy; also the output size and audio channel count."""
    preset = batch.preset
    args = batch.encoder_args
    pix_fmt = args[args.index("-pix_fmt") + 1] if "-pix_fmt" in args[:-1] else None
    chain, width, height = video_filters(media, preset, batch.lut, pix_fmt)
    sound, channels = sound_map(media, preset)
    start = media.start
    encode = ProxyEncode(
        source=media.path, output=str(output), video=tuple(chain), sound=sound, encoder=batch.encoder,
        encoder_args=tuple(args), audio_codec=preset.audio.codec, audio_args=tuple(preset.audio.args),
        container=FFMPEG_FORMATS[preset.container],
        threads=encode_threads(batch),
        timecode=start.format() if start is not None else None, reel=media.reel)
    return proxy_command(batch.ffmpeg, encode), width, height, channels


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    # A killed run must not leave an ffmpeg writing on: it dies with us (Linux prctl PR_SET_PDEATHSIG).
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)


try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None

SYNC_FILE_RANGE_WRITE = 2  # start writing the dirty pages out, do not wait


def _sync_file_range() -> Callable[..., int] | None:
    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # not Linux
        return None
    call.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    call.restype = ctypes.c_int
    return call


_SYNC_FILE_RANGE = _sync_file_range()


def start_writeback(fd: int) -> None:
    """Start writing the file's dirty pages to disk, without waiting for them (Linux's sync_file_range WRITE; elsewhere
    nothing). The proxy's rows are committed with an fsync, and an ordered journal (ext4's default) makes that fsync
    wait for the data of the proxy renamed just before it (0.1 s for 20 s of DNxHR LB 1080): started as ffmpeg
    writes, those writes are done by the time the rows are. The durability is the commit's, as before."""
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, 0, 0, SYNC_FILE_RANGE_WRITE)  # an error (EIO, ENOSPC) is the commit's fsync's to say


_FRAME_RE = re.compile(rb"^frame=(\d+)")


class EncodeError(Exception):
    pass


@dataclass(frozen=True)
class Encoded:
    """What an encode said of itself: the frames it encoded (its -progress report), whether it reported its end,
    and the errors it logged (bad source frames) though it finished."""

    frames: int | None
    ended: bool
    errors: list[str]

    def problems(self, source_frames: int | None, proxy_frames: int | None) -> list[str]:
        """Why the encode's own report says the proxy is not whole: cut short, or frames lost or added between
        the encoder and the file (the file's count against the source's is verify's)."""
        if not self.ended:
            return ["the encode did not report its end (cut short?)"]
        if self.frames is None:
            return ["the encode reported no frame count"]
        if proxy_frames is not None and self.frames != proxy_frames:
            return [f"the encode made {self.frames} frames, the proxy file holds {proxy_frames}"]
        if proxy_frames is None and source_frames is not None and self.frames != source_frames:
            return [f"the encode made {self.frames} frames, the source has {source_frames}"]
        return []


def run_ffmpeg(cmd: list[str], lock_fd: int, progress: Callable[[int], None] | None,
               source: str = "", started: Callable[[], None] | None = None) -> Encoded:
    """Run one encode; raise EncodeError if it fails, else say what it encoded (frames, end, errors logged).

    stderr goes to a temporary file, never a pipe that could fill up; stdout is ffmpeg's -progress report.
    `started` is called once ffmpeg runs (what the batch does beside the encode begins then, not before it).
    `lock_fd` is the output's (locked) file: its writing to disk is started at each report (start_writeback).
    """
    with tempfile.TemporaryFile() as errlog:
        # preexec_fn with threads: it only calls prctl, resolved before the fork (glibc's fork resets malloc).
        die = _die_with_parent if _PRCTL else None
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errlog, stdin=subprocess.DEVNULL,
                                pass_fds=(lock_fd,), preexec_fn=die)  # noqa: PLW1509
        if started is not None:
            try:
                started()
            except BaseException:
                proc.kill()
                proc.wait()
                raise
        done, frames, ended = 0, None, False
        assert proc.stdout is not None
        for line in proc.stdout:
            m = _FRAME_RE.match(line)
            if m:
                frames = int(m.group(1))
                if progress is not None and frames > done:
                    progress(frames - done)
                    done = frames
            elif line.startswith(b"progress="):  # the end of a report, every half second
                ended = line.strip() == b"progress=end"
                start_writeback(lock_fd)
        rc = proc.wait()
        start_writeback(lock_fd)  # what the muxer wrote last (an MXF's header, a MOV's index)
        errlog.seek(0)
        stderr = errlog.read().decode("utf-8", "replace")
    if rc != 0:
        raise EncodeError(explain_failure(stderr, rc, source, cmd[0]))
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return Encoded(frames=frames, ended=ended, errors=[first_error(stderr)] if lines else [])


def explain_failure(stderr: str, rc: int, source: str = "", ffmpeg: str = "") -> str:
    if rc == -signal.SIGXFSZ:
        return "the proxy volume refused the file: file size limit reached"
    if rc < 0:
        return f"ffmpeg was killed by signal {-rc}"
    if "No space left on device" in stderr:
        return "disk full: no space left on the proxy volume"
    if "File too large" in stderr:
        return "the proxy volume refused the file: too large (file size limit)"
    if "Permission denied" in stderr:
        return "permission denied writing the proxy"
    version = f", ffmpeg {capabilities(ffmpeg).version}" if ffmpeg else ""
    name = Path(source).name if source else "the source"
    return f"ffmpeg failed (exit {rc}, {Job.PROXY_ENCODE} of {name}{version}): {first_error(stderr, rc)[-300:]}"
