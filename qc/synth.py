"""Synthetic PAD masters made with ffmpeg, with defects planted at known frames (tests, demo, bench).

A master is a moving test pattern (truly interlaced when asked: fields from a 2x-rate source), a 1 kHz
programme tone on channels 1-2 at a chosen loudness, quieter tones or silence on the other channels,
and a start timecode. Defects are planted by frame number from the file's first frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

from config.atomic import atomic_path
from media.ffmpeg.commands import Filter, MasterMaking, master_command
from media.synth import run_command
from media.timecode import format_rate

DefectKind = Literal["black", "freeze", "silence", "peak", "intersample", "illegal", "gamut"]


@dataclass(frozen=True)
class Defect:
    """A defect from `start` for `frames` frames (0-based, from the file's first frame); `channel` is 1-based."""

    kind: DefectKind
    start: int
    frames: int
    channel: int = 1
    area: float = 1.0  # illegal, gamut: share of the picture (a centred rectangle of the picture's shape)


@dataclass(frozen=True)
class MasterSpec:
    width: int = 320
    height: int = 180
    rate: Fraction = Fraction(25)
    seconds: float = 2.0
    codec: Literal["xdcam", "prores"] = "xdcam"
    video_bit_rate: str = "2M"  # XDCAM HD422 is 50M; tests keep it small
    scan: Literal["progressive", "tff", "bff"] = "tff"  # the real field order of the content
    flagged: Literal["progressive", "tff", "bff"] | None = None  # what the file declares; None = same as scan
    timecode: str = "10:00:00:00"
    audio_channels: int = 8
    audio_layout: Literal["mono-tracks", "one-track"] = "mono-tracks"  # MXF: 8 mono tracks, as XDCAM
    programme_lufs: float = -23.0  # loudness of the 1 kHz tone on channels 1-2
    other_channels_silent: bool = True  # CST-RT-040: unused channels are silent
    defects: tuple[Defect, ...] = field(default_factory=tuple)


def _between(defect: Defect, rate: Fraction, audio: bool) -> str:
    if audio:
        a = float(defect.start / rate)
        b = float((defect.start + defect.frames) / rate)
        return f"between(t,{a:.6f},{b - 1e-6:.6f})"
    return f"between(n,{defect.start},{defect.start + defect.frames - 1})"


def _tone(spec: MasterSpec, ch: int, duration: float) -> str:
    """Channel `ch`'s aevalsrc: 1 kHz programme on 1-2 at the spec's loudness, other tones or silence, defects."""
    amp = 10 ** (spec.programme_lufs / 20)  # 1 kHz: LUFS = 20*log10(amplitude) (K-weighting ~0 dB there)
    # Sample-exact gates: aevalsrc evaluates t per sample (volume's enable= works per audio frame).
    freq = 1000 if ch < 2 else 400 + 100 * ch
    level = amp if ch < 2 else (0.0 if spec.other_channels_silent else 10 ** (-30 / 20))
    gain = [f"{level:.8f}"]
    for d in spec.defects:
        if d.channel != ch + 1:
            continue
        if d.kind == "silence":
            gain.append(f"(1-{_between(d, spec.rate, True)})")
        elif d.kind == "peak":
            # Up to full scale: the tone's true peak becomes about 0 dBTP.
            gain.append(f"if({_between(d, spec.rate, True)}\\,{0.999 / max(level, 1e-9):.6f}\\,1)")
    expr = "*".join([*gain, f"sin(2*PI*{freq}*t)"])
    for d in spec.defects:
        if d.channel == ch + 1 and d.kind == "intersample":
            # A quarter-rate tone at 45°: its samples peak 3 dB under its true (inter-sample) peak,
            # which is about -0.1 dBTP. Only a true-peak meter sees the over.
            expr += f"+if({_between(d, spec.rate, True)}\\,0.99*sin(PI*t*24000+PI/4)\\,0)"
    return f"aevalsrc=exprs='{expr}':s=48000:d={duration:.6f}"


def _planted(spec: MasterSpec) -> list[Filter]:
    """Black, illegal luma and out-of-gamut pictures at their frames, then the declared field order."""
    # Illegal: luma at the code maximum (255, 1023); gamut: a light, strongly red picture whose Y', Cb, Cr
    # are each legal but whose R' is far over 105 %. geq writes code values as they are (lutyuv would clip
    # them to the legal range of a limited-range picture), on a centred rectangle of `area` of the picture.
    top = 255 if spec.codec == "xdcam" else 1023
    q = top / 255
    values = {"illegal": (f"{top}", None, None), "gamut": (f"{200 * q:.0f}", None, f"{250 * q:.0f}")}
    out = []
    for d in spec.defects:
        window = _between(d, spec.rate, False)
        if d.kind == "black":
            out.append(Filter("drawbox", {"x": 0, "y": 0, "w": "iw", "h": "ih", "color": "black", "t": "fill",
                                          "enable": window}))
        elif d.kind in values:
            side = min(d.area, 1.0) ** 0.5
            lo, hi = f"{(1 - side) / 2:.6f}", f"{(1 + side) / 2:.6f}"
            inside = f"between(X/W,{lo},{hi})*between(Y/H,{lo},{hi})"
            planes: dict[str, str | int] = {}
            for name, value in zip(("lum", "cb", "cr"), values[d.kind], strict=True):
                keep = f"{name}(X,Y)"
                planes[name] = f"if({inside},{value},{keep})" if value else keep
            out.append(Filter("geq", {**planes, "enable": window}))
    flagged = spec.flagged or spec.scan
    out.append(Filter("setfield", {"mode": flagged if flagged != "progressive" else "prog"}))
    return out


def _encoding(spec: MasterSpec, duration: float) -> tuple[list[tuple[str, str]], str]:
    """Output options and muxer: XDCAM HD422-like MPEG-2 in MXF, or ProRes 422 HQ in MOV."""
    if spec.codec == "xdcam":
        # XDCAM HD422 style: MPEG-2 4:2:2 Long GOP, constant bit rate, interlaced coding.
        br = spec.video_bit_rate
        opts = [("c:v", "mpeg2video"), ("pix_fmt", "yuv422p"), ("profile:v", "0"), ("level:v", "2"), ("b:v", br),
                ("minrate", br), ("maxrate", br), ("bufsize", "17825792"), ("g", "12"), ("bf", "2"), ("dc", "10"),
                ("intra_vlc", "1"), ("non_linear_quant", "1"), ("qmin", "1"), ("qmax", "12"), ("threads", "2")]
        fmt = "mxf"
    else:
        opts = [("c:v", "prores_ks"), ("profile:v", "3"), ("pix_fmt", "yuv422p10le"), ("q:v", "8")]
        fmt = "mov"
    flagged = spec.flagged or spec.scan
    if flagged != "progressive":
        opts += [("flags", "+ildct+ilme"), ("field_order", "tt" if flagged == "tff" else "bb")]
        if spec.codec == "xdcam":
            opts.append(("alternate_scan", "1"))
    tag = "bt709" if spec.height > 576 else "smpte170m"
    opts += [("colorspace", tag), ("color_primaries", tag), ("color_trc", tag)]
    if spec.audio_channels:
        opts += [("c:a", "pcm_s24le"), ("ar", "48000")]
    # -t alone: ffmpeg 5.1's -frames:v counts B-frames out of order with MPEG-2 and stops one frame short.
    opts += [("t", f"{duration:.6f}"), ("timecode", spec.timecode)]
    return opts, fmt


def make_master(out: Path, spec: MasterSpec, ffmpeg: str) -> Path:
    """Write the master (MXF for xdcam, MOV for prores) atomically."""
    frames = round(spec.seconds * spec.rate)
    duration = float(frames / spec.rate)
    interlaced = spec.scan != "progressive"
    src_rate = spec.rate * 2 if interlaced else spec.rate
    # The pattern is drawn in RGB and converted with the matrix an HD (or SD) master declares, so that a
    # clean master is in R'G'B' gamut when read back through it.
    matrix = "bt709" if spec.height > 576 else "bt601"
    before = [Filter("scale", {"out_color_matrix": matrix, "out_range": "tv"}),
              Filter("format", {"pix_fmts": "yuv422p" if spec.codec == "xdcam" else "yuv422p10le"})]
    if interlaced:
        before.append(Filter("tinterlace", {"mode": "interleave_top" if spec.scan == "tff" else "interleave_bottom"}))
    options, fmt = _encoding(spec, duration)
    with atomic_path(out, suffix=out.suffix) as tmp:
        master = MasterMaking(
            output=str(tmp),
            picture_source=f"testsrc2=size={spec.width}x{spec.height}:rate={format_rate(src_rate)},format=rgb24",
            sound_sources=tuple(_tone(spec, ch, duration) for ch in range(spec.audio_channels)),
            before_freezes=tuple(before),
            freezes=tuple((d.start, d.start + d.frames - 1) for d in spec.defects if d.kind == "freeze"),
            after=tuple(_planted(spec)), one_track=spec.audio_layout == "one-track", options=tuple(options),
            container=fmt)
        run_command(master_command(ffmpeg, master))
    return out
