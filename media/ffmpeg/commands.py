"""Every ffmpeg command line postprod runs is built here, with ffmpeg-python where it can express the command.

ffmpeg-python always writes its graph as one `-filter_complex`, which drops the source's timecode: the
timecode and the metadata are passed as output options. It escapes filter options itself (both of
ffmpeg's levels), so callers describe filters as data (`Filter`), never as graph text; it double-escapes
positional filter arguments, so every option here is named. Global options go first, in `cmd`.

Built as plain argument lists, each for the reason given beside it:
- the QC analysis (`qc_command`): three independent graphs, one of whose outputs is a raw pipe on an
  inherited file descriptor (`pipe:N`, passed with Popen's pass_fds); ffmpeg-python merges everything
  into one graph and its runner wires stdin, stdout and stderr only;
- the QC report's thumbnails (`thumbnails_command`): on the way to the QC's answer, where importing
  ffmpeg-python would cost more than building the command;
bench/ keeps its raw reference commands: they are what the figures compare against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any


class _FfmpegPython:
    """ffmpeg-python, imported at its first use: a probe that needs no ffmpeg command (most files, see
    media/proven.py) does not load it and the `future` package it brings. An `import` each time: the import
    system's module lock makes threads building commands together wait for one whole import (importlib's
    LazyLoader does not, in Python 3.11: a second thread saw a module without its functions)."""

    def __getattr__(self, name: str) -> Any:
        import ffmpeg

        return getattr(ffmpeg, name)


if TYPE_CHECKING:
    import ffmpeg as ffpy
else:
    ffpy = _FfmpegPython()

QUIET = ("-hide_banner", "-nostdin", "-nostats")


def filter_value(value: str) -> str:
    """Escape a value for a filter option inside a filtergraph (both of ffmpeg's escaping levels)."""
    value = value.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    for ch in "\\'[],;":
        value = value.replace(ch, "\\" + ch)
    return value


@dataclass(frozen=True)
class Filter:
    """One filter and its named options, as data: the builder escapes them."""

    name: str
    options: dict[str, str | int] = field(default_factory=dict)

    def text(self) -> str:
        """The filter as graph text (for -vf and the tests' reference drawings)."""
        opts = ":".join(f"{k}={filter_value(str(v))}" for k, v in self.options.items())
        return f"{self.name}={opts}" if opts else self.name


def apply(stream: ffpy.nodes.FilterableStream, filters: Sequence[Filter]) -> ffpy.nodes.FilterableStream:
    for f in filters:
        stream = stream.filter(f.name, **f.options)
    return stream


def _options(args: Sequence[str]) -> dict[str, str]:
    """Encoder arguments from a preset (`-profile:v dnxhr_lb -pix_fmt yuv422p`) as ffmpeg-python options."""
    out: dict[str, str] = {}
    items = list(args)
    while items:
        key = items.pop(0)
        if not key.startswith("-") or not items:
            raise ValueError(f"encoder arguments must be -option value pairs: {' '.join(args)}")
        out[key[1:]] = items.pop(0)
    return out


# -- decode check and encoder test ----------------------------------------------------------------


def decode_check_command(ffmpeg: str, path: Path | str, *, tail_seconds: float | None) -> list[str]:
    """Decode every picture and sound frame (or the last `tail_seconds`) to nothing, logging errors with levels."""
    inp = ffpy.input(str(path), **({"sseof": f"-{tail_seconds:g}"} if tail_seconds else {}))
    out = ffpy.output(inp["v?"], inp["a?"], "-", format="null")
    return ffpy.compile(out, cmd=[ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "level+info"])


def encoder_test_command(ffmpeg: str, encoder: str) -> list[str]:
    """A fifth of a second of test pattern through `encoder`: a listed NVENC fails here without a GPU."""
    inp = ffpy.input("testsrc2=size=256x144:rate=25:duration=0.2", format="lavfi")
    out = ffpy.output(inp, "-", format="null", pix_fmt="yuv420p", **{"c:v": encoder})
    return ffpy.compile(out, cmd=[ffmpeg, *QUIET, "-loglevel", "error"])


def thumbnail_command(ffmpeg: str, source: Path | str, seconds: float, width: int) -> list[str]:
    """One JPEG on stdout of the frame at `seconds` (a frame-accurate seek: decoded from the key frame before)."""
    inp = ffpy.input(str(source), ss=f"{seconds:.4f}")
    picture = inp["v:0"].filter("scale", w=width, h=-2)
    out = ffpy.output(picture, "-", format="image2pipe", **{"frames:v": 1, "c:v": "mjpeg", "q:v": 5})
    return ffpy.compile(out, cmd=[ffmpeg, *QUIET, "-loglevel", "error"])


def thumbnails_command(ffmpeg: str, source: Path | str, seconds: Sequence[float], width: int,
                       outputs: Sequence[Path | str]) -> list[str]:
    """`thumbnail_command` for several frames in one ffmpeg: the source opened once per frame, each input seeked
    as that command seeks it, each JPEG into its own file of `outputs` (the same bytes: tests/qc/test_qc_thumbs.py).
    A plain list: it is built on the QC's way to its answer, where ffmpeg-python's import would cost more than
    the command (nothing in it needs escaping: the source is an input, never graph text)."""
    if len(seconds) != len(outputs) or not seconds:
        raise ValueError("one output file per thumbnail, and at least one")
    cmd = [ffmpeg, *QUIET, "-loglevel", "error"]
    for at in seconds:
        cmd += ["-ss", f"{at:.4f}", "-i", str(source)]
    cmd += ["-filter_complex", ";".join(f"[{i}:v:0]scale=h=-2:w={int(width)}[s{i}]" for i in range(len(seconds)))]
    for i, out in enumerate(outputs):
        cmd += ["-map", f"[s{i}]", "-f", "image2pipe", "-c:v", "mjpeg", "-frames:v", "1", "-q:v", "5", str(out)]
    return cmd


@dataclass(frozen=True)
class MasterMaking:
    """A synthetic PAD master (qc/synth.py): a picture source and chain with freezes, one tone source per channel."""

    output: str
    picture_source: str  # a lavfi source (testsrc2=...)
    sound_sources: tuple[str, ...]  # lavfi sources (aevalsrc=...), one per channel
    before_freezes: tuple[Filter, ...]
    freezes: tuple[tuple[int, int], ...]  # (first, last) frames shown as the first
    after: tuple[Filter, ...]
    one_track: bool  # the channels in one stream; else one mono track each
    options: tuple[tuple[str, str], ...]
    container: str


def master_command(ffmpeg: str, master: MasterMaking) -> list[str]:
    picture = apply(ffpy.input(master.picture_source, format="lavfi"), master.before_freezes)
    for first, last in master.freezes:
        split = picture.split()
        picture = ffpy.filter([split[0], split[1]], "freezeframes", first=first, last=last, replace=first)
    picture = apply(picture, master.after)
    sound = [ffpy.input(source, format="lavfi") for source in master.sound_sources]
    if master.one_track and len(sound) > 1:
        sound = [ffpy.filter(sound, "amerge", inputs=len(sound))]
    out = ffpy.output(picture, *sound, master.output, format=master.container, **dict(master.options))
    return ffpy.compile(out, cmd=[ffmpeg, *QUIET, "-loglevel", "error", "-y"])


# -- test media (media/synth.py) -------------------------------------------------------------------


def _tones(count: int, sample_rate: int, first: int, step: int, seconds: float | None = None) -> list:
    """`count` sine inputs (first, first+step... Hz), merged into one stream of `count` channels."""
    duration = {"duration": seconds} if seconds is not None else {}
    tones = [ffpy.input(f"sine=frequency={first + step * i}:sample_rate={sample_rate}"
                        + "".join(f":{k}={v}" for k, v in duration.items()), format="lavfi") for i in range(count)]
    if count == 1:
        return tones
    return [ffpy.filter(tones, "amerge", inputs=count)]


@dataclass(frozen=True)
class ClipMaking:
    """A camera-like test clip: test pattern, a tone per channel, timecode and reel (media/synth.ClipSpec)."""

    output: str
    width: int
    height: int
    rate: str  # "25/1", "24000/1001"
    frames: int
    seconds: float  # frames / rate
    video_args: tuple[str, ...]
    video: tuple[Filter, ...] = ()
    audio_channels: int = 2
    sample_rate: int = 48000
    audio_codec: str = "pcm_s24le"
    audio_seconds: float | None = None
    output_options: tuple[tuple[str, str], ...] = ()  # field order, VFR timescale...
    timecode: str | None = None
    reel: str | None = None
    container: str | None = None


def clip_command(ffmpeg: str, clip: ClipMaking) -> list[str]:
    picture = ffpy.input(f"testsrc2=size={clip.width}x{clip.height}:rate={clip.rate}", format="lavfi")
    picture = apply(picture, clip.video)
    opts: dict[str, object] = {**_options(clip.video_args), "frames:v": clip.frames, **dict(clip.output_options)}
    sound = _tones(clip.audio_channels, clip.sample_rate, 440, 440, clip.audio_seconds) if clip.audio_channels else []
    if sound:
        opts.update({"c:a": clip.audio_codec, "ar": clip.sample_rate, "t": f"{clip.seconds:.6f}"})
    if clip.timecode:
        opts["timecode"] = clip.timecode
    if clip.reel:
        opts.update({"metadata": f"reel_name={clip.reel}", "metadata:s:v:0": f"reel_name={clip.reel}"})
    if clip.container:
        opts["format"] = clip.container
    out = ffpy.output(picture, *sound, clip.output, **opts)
    return ffpy.compile(out, cmd=[ffmpeg, *QUIET, "-loglevel", "error", "-y"])


def take_command(ffmpeg: str, output: str, *, channels: int, sample_rate: int, seconds: float, codec: str) -> list[str]:
    """The PCM of a recorder take (media/synth.py then writes the BWF chunks around it): plain WAV, never RF64."""
    out = ffpy.output(*_tones(channels, sample_rate, 300, 110), output, format="wav", rf64="never", t=str(seconds),
                      **{"c:a": codec})
    return ffpy.compile(out, cmd=[ffmpeg, *QUIET, "-loglevel", "error", "-y"])


# -- proxies --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoundMap:
    """The proxy's sound: whole source streams, or chosen channels as mono tracks; padded or not.

    `channels`: None keeps every source stream as it is; else (stream, channel) pairs, one mono track each.
    `pad_seconds`: every track padded with silence to at least this long (MXF OP1a stops at its shortest).
    """

    streams: int
    channels: tuple[tuple[int, int], ...] | None = None
    pad_seconds: float | None = None


def _sound(inp: ffpy.nodes.InputNode, sound: SoundMap) -> list[ffpy.nodes.Stream]:
    pad = [Filter("apad", {"whole_dur": f"{sound.pad_seconds:.6f}"})] if sound.pad_seconds else []
    if sound.channels is None:
        return [apply(inp[f"a:{s}"], pad) if pad else inp[f"a:{s}"] for s in range(sound.streams)]
    by_stream: dict[int, list[int]] = {}
    for s, c in sound.channels:
        by_stream.setdefault(s, []).append(c)
    tracks: dict[tuple[int, int], ffpy.nodes.Stream] = {}
    for s, chans in by_stream.items():
        source = inp[f"a:{s}"]
        split = source.filter_multi_output("asplit") if len(chans) > 1 else None
        for i, c in enumerate(chans):
            branch = split[i] if split is not None else source
            tracks[(s, c)] = apply(branch, [Filter("pan", {"args": f"mono|c0=c{c}"}), *pad])
    return [tracks[key] for key in sound.channels]


@dataclass(frozen=True)
class ProxyEncode:
    """Everything one proxy encode needs, as data."""

    source: str
    output: str
    video: tuple[Filter, ...]
    sound: SoundMap
    encoder: str
    encoder_args: tuple[str, ...]
    audio_codec: str
    audio_args: tuple[str, ...]
    container: str  # ffmpeg's muxer: mov, mp4, mxf
    threads: int | None = None  # several encodes share the cores: each gets this many
    timecode: str | None = None
    reel: str | None = None


def proxy_command(ffmpeg: str, job: ProxyEncode) -> list[str]:
    """One proxy: the picture through its filters, the sound mapped, frames one for one, timecode and reel kept."""
    inp = ffpy.input(job.source)
    picture = apply(inp["v:0"], job.video)
    sound = _sound(inp, job.sound)
    opts: dict[str, object] = {"c:v": job.encoder, **_options(job.encoder_args), "fps_mode": "passthrough",
                               "map_metadata": "-1", "map_chapters": "-1"}
    if sound:
        opts.update({"c:a": job.audio_codec, **_options(job.audio_args)})
    if job.threads:
        opts["threads"] = job.threads
    if job.timecode is not None:
        opts["timecode"] = job.timecode
    if job.reel:
        # MOV: the tmcd track's name; MXF: the package name; MP4: an mdta tag (no named tmcd there).
        opts.update({"metadata": f"reel_name={job.reel}", "metadata:s:v:0": f"reel_name={job.reel}"})
    if job.container == "mp4":
        flags = str(opts.get("movflags", ""))
        opts["movflags"] = flags + "+use_metadata_tags"
    out = ffpy.output(picture, *sound, job.output, format=job.container, **opts)
    globals_ = [ffmpeg, *QUIET, "-loglevel", "level+error", "-progress", "pipe:1", "-y"]
    if job.threads:
        globals_ += ["-filter_complex_threads", str(job.threads)]
    return ffpy.compile(out, cmd=globals_)


# -- QC analysis ----------------------------------------------------------------------------------


def qc_command(ffmpeg: str, source: str, *, graphs: Sequence[str], picture: str | None, measured: Sequence[str],
               sound: tuple[str, int] | None, threads: int = 0, input_options: Sequence[str] = ()) -> list[str]:
    """The QC's one decode (qc/analyse.py builds its graphs): raw reduced picture on stdout, raw sound on an
    inherited descriptor, the loudness branch into a null output (the fields end in a nullsink inside the
    picture's graph).

    A plain list, not ffmpeg-python: the graphs stay separate `-filter_complex` arguments (ffmpeg-python
    joins everything into one), and the sound goes to `pipe:N` on a descriptor passed with Popen's pass_fds,
    which ffmpeg-python's runner cannot pass. The same builder makes the two halves of a split pass
    (qc/graph.py `build_split`): no `picture` and the sound on `pipe:1`, with `input_options` `-vn`.
    """
    cmd = [ffmpeg, *QUIET, "-loglevel", "level+error", "-threads", str(threads), *input_options, "-i", str(source)]
    for graph in graphs:
        cmd += ["-filter_complex", graph]
    if picture is not None:
        cmd += ["-map", picture, "-fps_mode", "passthrough", "-f", "rawvideo", "pipe:1"]
    for label in measured:
        cmd += ["-map", label]
    if measured:
        cmd += ["-f", "null", "-"]
    if sound is not None:
        label, fd = sound
        cmd += ["-map", label, "-f", "f32le", f"pipe:{fd}"]
    return cmd
