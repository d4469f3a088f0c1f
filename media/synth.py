"""Synthetic rushes made with ffmpeg: camera clips with timecode and reel, BWF sound takes, and trouble.

Used by `postprod demo` and by the tests; every file is written to a temporary name, then renamed.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from config.atomic import atomic_path, write_bytes_atomic
from config.errors import ToolError
from media.bwf import bext_chunk, ixml_document, write_bwf
from media.ffmpeg.commands import ClipMaking, Filter, clip_command, take_command
from media.timecode import Timecode, format_rate

VIDEO_CODECS: dict[str, list[str]] = {
    "prores_proxy": ["-c:v", "prores_ks", "-profile:v", "0", "-pix_fmt", "yuv422p10le", "-q:v", "8"],
    "prores_hq": ["-c:v", "prores_ks", "-profile:v", "3", "-pix_fmt", "yuv422p10le", "-q:v", "8"],
    "dnxhr_lb": ["-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p"],
    "h264": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error"],
}


@dataclass(frozen=True)
class ClipSpec:
    """What to make: a test pattern with a tone, timecode and reel."""

    width: int = 320
    height: int = 180
    rate: Fraction = Fraction(25)
    seconds: float = 2.0
    codec: str = "prores_proxy"
    timecode: str | None = "10:00:00:00"
    reel: str | None = None
    audio_channels: int = 2
    sample_rate: int = 48000
    audio_codec: str = "pcm_s24le"
    interlaced: str | None = None  # "tff" | "bff"
    vfr: bool = False
    pixel_aspect: Fraction | None = None
    audio_seconds: float | None = None  # sound that ends before the picture (a camera stopping its sound first)
    moov_first: bool = False  # QuickTime/MP4: the index before the samples, as a streaming copy wants it


def run_command(cmd: list[str]) -> None:
    """Run a test-media command built by media/ffmpeg/commands.py; a failure is a ToolError with its stderr."""
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ToolError(f"ffmpeg failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")


def make_clip(out: Path, spec: ClipSpec, ffmpeg: str) -> Path:
    """A camera-like clip: test pattern, 1 kHz tone per channel, source timecode and reel kept."""
    frames = round(spec.seconds * spec.rate)
    filters = []
    if spec.vfr:
        # A phone: frames arrive at uneven times.
        filters += [Filter("settb", {"expr": "1/90000"}),
                    Filter("setpts", {"expr": "N/FRAME_RATE/TB+if(mod(N,7),0,0.013/TB)+if(mod(N,11),0,0.021/TB)"})]
    if spec.interlaced:
        filters.append(Filter("setfield", {"mode": spec.interlaced}))
    if spec.pixel_aspect is not None:
        filters.append(Filter("setsar", {"sar": f"{spec.pixel_aspect.numerator}/{spec.pixel_aspect.denominator}"}))
    options: list[tuple[str, str]] = []
    if spec.interlaced:
        options += [("flags", "+ildct+ilme"), ("field_order", "tt" if spec.interlaced == "tff" else "bb")]
    if spec.vfr:
        options += [("fps_mode", "passthrough"), ("video_track_timescale", "90000")]
    if spec.moov_first:
        options.append(("movflags", "+faststart"))
    with atomic_path(out, suffix=out.suffix) as tmp:
        making = ClipMaking(
            output=str(tmp), width=spec.width, height=spec.height, rate=format_rate(spec.rate), frames=frames,
            seconds=float(frames / spec.rate), video_args=tuple(VIDEO_CODECS[spec.codec]), video=tuple(filters),
            audio_channels=spec.audio_channels, sample_rate=spec.sample_rate, audio_codec=spec.audio_codec,
            audio_seconds=spec.audio_seconds, output_options=tuple(options), timecode=spec.timecode,
            reel=spec.reel, container={".mxf": "mxf", ".mov": "mov", ".mp4": "mp4"}.get(out.suffix.lower()))
        run_command(clip_command(ffmpeg, making))
    return out


@dataclass(frozen=True)
class TakeSpec:
    """A sound recorder take: polyphonic BWF with bext TimeReference and iXML."""

    seconds: float = 2.0
    channels: int = 4
    sample_rate: int = 48000
    bit_depth: int = 24
    rate: Fraction = Fraction(25)
    drop_frame: bool = False
    start_timecode: str = "10:00:00:00"
    tape: str = "SOUND_D01"
    scene: str = "12"
    take: str = "1"
    project: str = "DEMO"


def make_bwf_take(out: Path, take: TakeSpec, ffmpeg: str) -> Path:
    """A BWF as a location recorder writes it; its start is frames at the iXML rate, in samples."""
    start = Timecode.parse(take.start_timecode, take.rate, take.drop_frame)
    # Samples since midnight = the start frame's real time at the file's sample rate (exact at 23.976).
    time_reference = int(start.seconds() * take.sample_rate)
    codec = {16: "pcm_s16le", 24: "pcm_s24le", 32: "pcm_s32le"}[take.bit_depth]
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        raw = Path(scratch) / "pcm.wav"
        run_command(take_command(ffmpeg, str(raw), channels=take.channels, sample_rate=take.sample_rate,
                          seconds=take.seconds, codec=codec))
        with atomic_path(out, suffix=".wav") as tmp:
            names = ["MixL", "MixR", "Boom", "Lav1", "Lav2", "Lav3", "Lav4", "Lav5"][:take.channels]
            write_bwf(raw, tmp, bext=bext_chunk(description=f"sSCENE={take.scene}\nsTAKE={take.take}\n",
                                                originator="postprod demo", date="2026-11-23", time="10:00:00",
                                                time_reference=time_reference),
                      ixml=ixml_document(rate=take.rate, drop_frame=take.drop_frame, tape=take.tape,
                                         scene=take.scene, take=take.take, project=take.project,
                                         sample_rate=take.sample_rate, time_reference=time_reference,
                                         channel_names=names))
    return out


def truncated_copy(source: Path, out: Path, fraction: float = 0.6) -> Path:
    """A copy cut short, as an interrupted network copy leaves it."""
    data = source.read_bytes()
    write_bytes_atomic(out, data[: int(len(data) * fraction)])
    return out


def zero_filled_copy(source: Path, out: Path, fraction: float = 0.6) -> Path:
    """A copy at its full size whose bytes after `fraction` are zeros: a preallocated file whose copy stalled."""
    data = bytearray(source.read_bytes())
    cut = int(len(data) * fraction)
    data[cut:] = bytes(len(data) - cut)
    write_bytes_atomic(out, bytes(data))
    return out
