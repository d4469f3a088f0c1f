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
from media.ffmpeg.commands import synth_command
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


def run_ffmpeg(ffmpeg: str, args: list[str]) -> None:
    proc = subprocess.run(synth_command(ffmpeg, args), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ToolError(f"ffmpeg failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")


def make_clip(out: Path, spec: ClipSpec, ffmpeg: str) -> Path:
    """A camera-like clip: test pattern, 1 kHz tone per channel, source timecode and reel kept."""
    rate = format_rate(spec.rate)
    frames = round(spec.seconds * spec.rate)
    video_src = f"testsrc2=size={spec.width}x{spec.height}:rate={rate}"
    args = ["-f", "lavfi", "-i", video_src]
    for i in range(spec.audio_channels):
        short = f":duration={spec.audio_seconds}" if spec.audio_seconds is not None else ""
        args += ["-f", "lavfi", "-i", f"sine=frequency={440 * (i + 1)}:sample_rate={spec.sample_rate}{short}"]
    filters = []
    if spec.vfr:
        # A phone: frames arrive at uneven times.
        filters.append("settb=1/90000,setpts='N/FRAME_RATE/TB+if(mod(N\\,7)\\,0\\,0.013/TB)"
                       "+if(mod(N\\,11)\\,0\\,0.021/TB)'")
    if spec.interlaced:
        filters.append(f"setfield={spec.interlaced}")
    if spec.pixel_aspect is not None:
        filters.append(f"setsar={spec.pixel_aspect.numerator}/{spec.pixel_aspect.denominator}")
    args += ["-map", "0:v"]
    if filters:
        args += ["-vf", ",".join(filters)]
    if spec.audio_channels:
        if spec.audio_channels > 1:
            inputs = "".join(f"[{i + 1}:a]" for i in range(spec.audio_channels))
            args += ["-filter_complex", f"{inputs}amerge=inputs={spec.audio_channels}[a]", "-map", "[a]"]
        else:
            args += ["-map", "1:a"]
        args += ["-c:a", spec.audio_codec, "-ar", str(spec.sample_rate)]
    args += VIDEO_CODECS[spec.codec]
    if spec.interlaced:
        args += ["-flags", "+ildct+ilme", "-field_order", "tt" if spec.interlaced == "tff" else "bb"]
    args += ["-frames:v", str(frames)]
    if spec.audio_channels:
        args += ["-t", f"{float(frames / spec.rate):.6f}"]
    if spec.vfr:
        args += ["-fps_mode", "passthrough", "-video_track_timescale", "90000"]
    if spec.timecode:
        args += ["-timecode", spec.timecode]
    if spec.reel:
        args += ["-metadata", f"reel_name={spec.reel}", "-metadata:s:v:0", f"reel_name={spec.reel}"]
    with atomic_path(out, suffix=out.suffix) as tmp:
        fmt = {".mxf": "mxf", ".mov": "mov", ".mp4": "mp4"}.get(out.suffix.lower())
        run_ffmpeg(ffmpeg, [*args, *(["-f", fmt] if fmt else []), str(tmp)])
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
    args = []
    for i in range(take.channels):
        args += ["-f", "lavfi", "-i", f"sine=frequency={300 + 110 * i}:sample_rate={take.sample_rate}"]
    inputs = "".join(f"[{i}:a]" for i in range(take.channels))
    merge = f"{inputs}amerge=inputs={take.channels}[a]" if take.channels > 1 else "[0:a]anull[a]"
    args += ["-filter_complex", merge, "-map", "[a]", "-c:a", codec, "-t", str(take.seconds),
             "-rf64", "never", "-f", "wav"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        raw = Path(scratch) / "pcm.wav"
        run_ffmpeg(ffmpeg, [*args, str(raw)])
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
