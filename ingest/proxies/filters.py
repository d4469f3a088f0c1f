"""What a proxy looks like: its size (square pixels, never upscaled), its burn-in, its sound tracks.

Filters are data (media/ffmpeg/commands.Filter); media/ffmpeg/commands.py turns them into the command.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import config
from config.errors import PostprodError
from ingest.proxies.presets import ProxyPreset
from media.ffmpeg.commands import Filter, SoundMap
from media.model import MediaFile
from media.timecode import Timecode, format_rate


def font_file() -> Path:
    """DejaVu Sans Mono, shipped in the package: burn-ins never depend on the machine's fonts."""
    # The package's folder, what importlib.resources.files("config") gives (config/datafiles.py reads its data files
    # so too): without importlib.resources' modules (and zipfile), 5 ms before the encode starts.
    return Path(config.__file__).parent / "fonts" / "DejaVuSansMono.ttf"


def _round_to(value: Fraction | float, multiple: int) -> int:
    return max(multiple, round(Fraction(value) / multiple) * multiple)


def proxy_size(media: MediaFile, preset: ProxyPreset) -> tuple[int, int]:
    """Output width and height, square pixels: the display aspect of the source (anamorphic unsqueezed)."""
    video = media.video
    assert video is not None and video.width and video.height
    par = video.pixel_aspect or Fraction(1)
    dar = Fraction(video.width, video.height) * par
    rule = preset.size
    if rule.rule == "height":
        height = Fraction(rule.height or video.height)
        if not rule.upscale:
            height = min(height, Fraction(video.height))
    elif rule.rule == "scale":
        height = video.height * (rule.scale or Fraction(1))
    else:
        height = Fraction(video.height)
    h = _round_to(height, rule.multiple)
    w = _round_to(h * dar, rule.multiple)
    return w, h


@dataclass(frozen=True)
class BurnInLayout:
    font_size: int
    band: int  # height of the opaque band at the bottom (or top) of the picture
    margin: int
    text_y: int


def burnin_layout(width: int, height: int, preset: ProxyPreset) -> BurnInLayout:
    size = max(10, round(height * preset.burnin.text_height))
    band = round(size * 1.5)
    margin = max(4, size // 2)
    text_y = (height - band if preset.burnin.position == "bottom" else 0) + (band - size) // 2
    return BurnInLayout(size, band, margin, text_y)


def burnin_filters(media: MediaFile, width: int, height: int, preset: ProxyPreset,
                   static_timecode: str | None = None) -> list[Filter]:
    """drawbox + drawtext: an opaque band with the clip name (and reel) on the left, running timecode right.

    The timecode runs from the source's start timecode at its rate (drop-frame kept); a source without
    timecode counts from 00:00:00:00. `static_timecode` draws a fixed string instead (tests use it as the
    reference picture of a given frame's timecode).
    """
    b = preset.burnin
    if not (b.timecode or b.clip_name or b.reel):
        return []
    lay = burnin_layout(width, height, preset)
    band_y = "ih-" + str(lay.band) if b.position == "bottom" else "0"
    filters = [Filter("drawbox", {"x": 0, "y": band_y, "w": "iw", "h": lay.band, "color": "black@1", "t": "fill"})]
    common: dict[str, str | int] = {"fontfile": str(font_file()), "fontsize": lay.font_size, "fontcolor": "white",
                                    "y": lay.text_y}
    label = []
    if b.clip_name and media.clip_name:
        label.append(media.clip_name)
    if b.reel and media.reel:
        label.append(f"reel {media.reel}")
    if label:
        filters.append(Filter("drawtext", {**common, "expansion": "none", "x": lay.margin,
                                           "text": "  ".join(label)}))
    if b.timecode:
        rate = media.timecode_rate or (media.video.frame_rate if media.video else None) or Fraction(25)
        start = media.start or Timecode(0, rate)
        x = f"w-tw-{lay.margin}"
        if static_timecode is not None:
            filters.append(Filter("drawtext", {**common, "expansion": "none", "x": x, "text": static_timecode}))
        else:
            filters.append(Filter("drawtext", {**common, "x": x, "timecode": start.format(),
                                               "timecode_rate": format_rate(rate)}))
    return filters


def video_filters(media: MediaFile, preset: ProxyPreset, lut: Path | None,
                  pix_fmt: str | None = None) -> tuple[list[Filter], int, int]:
    """The video chain (deinterlace, scale, LUT, burn-in) and the output size. Never a rate change.

    With the encoder's pix_fmt known, a `format` filter ends the chain. Where the burn-in can draw in that
    format (8-bit YUV), ffmpeg's format negotiation makes the scaler convert to it directly: the picture is
    converted once, in the scaler. Where it cannot (yuv422p10le: drawbox and drawtext draw 8-bit only, in
    Debian's 5.1 and in 9.0.2), the scaler picks the nearest format the burn-in draws in and one conversion
    follows it, as in the command typed by hand. A `format` placed before the burn-in there cost two more
    conversions of every frame (10-bit to 8-bit for the burn-in, back to 10-bit for the encoder).
    """
    width, height = proxy_size(media, preset)
    chain = []
    video = media.video
    assert video is not None
    if preset.video.deinterlace and video.scan in ("tff", "bff", "interlaced"):
        # One output frame per input frame: the frame rate (and count) stay the source's.
        chain.append(Filter("bwdif", {"mode": "send_frame", "parity": "auto", "deint": "all"}))
    chain.append(Filter("scale", {"w": width, "h": height, "flags": "bicubic"}))
    chain.append(Filter("setsar", {"sar": 1}))
    if lut is not None and preset.lut:
        chain.append(Filter("lut3d", {"file": str(lut)}))
    chain += burnin_filters(media, width, height, preset)
    if pix_fmt:
        chain.append(Filter("format", {"pix_fmts": pix_fmt}))
    return chain, width, height


def sound_map(media: MediaFile, preset: ProxyPreset) -> tuple[SoundMap, int]:
    """The proxy's sound tracks, and the channel count the proxy must have.

    MXF proxies pad every track with silence to the picture's duration: OP1a's muxer stops at its shortest
    track, so a clip whose sound ends a few frames before its picture would lose those frames.
    """
    streams = [a.channels or 0 for a in media.audio]
    total = sum(streams)
    where = [(s, c) for s, n in enumerate(streams) for c in range(n)]  # global channel → (stream, channel)
    video = media.video
    pad = (float(Fraction(media.duration_frames) / video.frame_rate) + 0.000001
           if preset.container == "mxf" and video and video.frame_rate and media.duration_frames else None)
    wanted = preset.audio.channels
    if wanted:
        missing = [c for c in wanted if c > total]
        if missing:
            raise PostprodError(f"preset '{preset.name}' maps audio channel {missing[0]}, the source has {total}")
        picks = tuple(where[c - 1] for c in wanted)
        return SoundMap(len(streams), picks, pad), len(picks)
    if preset.audio.layout == "mono":
        return SoundMap(len(streams), tuple(where), pad), len(where)
    return SoundMap(len(streams), None, pad), total
