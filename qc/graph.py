"""The filter graphs of the QC's one ffmpeg pass (the command itself is built by media/ffmpeg/commands.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from media.ffmpeg.commands import qc_command
from media.model import MediaFile

if TYPE_CHECKING:  # the profile is read, never built, here (and qc.profile checks its ids against CHECKS)
    from qc.profile import DeliveryProfile


def channels_of(media: MediaFile) -> list[tuple[int, int, int]]:
    """(stream index, channel index in stream, count in stream) for every channel, in order."""
    out = []
    for s, a in enumerate(media.audio):
        n = a.channels or 1
        out += [(s, c, n) for c in range(n)]
    return out


_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}


def gather(channels: list[tuple[int, int, int]], wanted: list[int], label: str) -> tuple[list[str], str]:
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


def raw_depth(depth: int) -> int:
    return 8 if depth <= 8 else 10 if depth <= 10 else 12 if depth <= 12 else 16


def _picture_graph(work: Path, size: tuple[int, int], depth: int) -> str:
    """The picture's graph: the reduced picture ([vpic], raw on stdout) and the idet strip, which ends in a
    `nullsink` inside the graph (its figures go to a file), not in an output of its own: an output's encoder,
    muxer and frame bookkeeping cost 3 % of a bare XDCAM decode's CPU, on ffmpeg 5.1's main thread."""
    w, h = size
    # Picture: one area-average downscale straight to 4:4:4; each frame's time goes to a file (the raw
    # stream has none), which is how missing frames are found.
    picture = (f"[p]scale=w={w}:h={h}:flags=area,format={raw_format(depth)},"
               f"metadata=mode=add:key=postprod.frame:value=1,"
               f"metadata=mode=print:file={work / 'frames.txt'}[vpic]")
    # Fields are lines: idet needs every line but not every column, nor the colour.
    strip = ("[f]crop=w='max(min(iw,64),trunc(iw/32)*2)':h=ih:x='trunc((iw-ow)/4)*2':y=0,extractplanes=y,"
             f"idet,metadata=mode=print:key=lavfi.idet.multiple.current_frame"
             f":file={work / 'idet.txt'},nullsink")
    # One graph: ffmpeg 7.0 on refuses a graph without an output.
    return f"[0:v:0]split[p][f];{picture};{strip}"


def _sound_graphs(media: MediaFile, profile: DeliveryProfile, work: Path, *, head_seconds: float, raw: bool,
                  sample_rate: int | None, framelog_quiet: bool) -> tuple[list[str], list[str], str | None]:
    """The sound's branches: (graphs, labels for the null output, the raw sound's label or None)."""
    channels = channels_of(media)
    graphs: list[str] = []
    measured: list[str] = []
    if not channels:
        return graphs, measured, None
    total = len(channels)
    lud = [c - 1 for c in profile.loudness.channels if 0 < c <= total]
    if lud:
        chains, pad = gather(channels, lud, "l")
        trim = f"atrim=start={head_seconds:.6f}," if head_seconds > 0 else ""
        # framelog=quiet (ffmpeg 6.0 on) only silences the per-frame log, which metadata=1 already sends to
        # the verbose level that -loglevel error hides: 5.1 measures the same without it.
        quiet = ":framelog=quiet" if framelog_quiet else ""
        chains.append(f"{pad}{trim}ebur128=peak=true:metadata=1{quiet},"
                      f"ametadata=mode=print:file={work / 'r128.txt'}[aout]")
        graphs.append(";".join(chains))
        measured.append("[aout]")
    if not raw:
        return graphs, measured, None
    chains, pad = gather(channels, list(range(total)), "r")
    rate = f":sample_rates={sample_rate}" if sample_rate else ""
    chains.append(f"{pad}aformat=sample_fmts=flt{rate},ametadata=mode=add:key=postprod.audio:value=1,"
                  f"ametadata=mode=print:file={work / 'audio.txt'}[araw]")
    graphs.append(";".join(chains))
    return graphs, measured, "[araw]"


def build_command(media: MediaFile, profile: DeliveryProfile, work: Path, ffmpeg: str, *, head_seconds: float,
                  size: tuple[int, int], depth: int, audio_fd: int | None, sample_rate: int | None,
                  threads: int = 0, framelog_quiet: bool = True) -> list[str]:
    """The one ffmpeg command: raw reduced picture on stdout, raw sound on `audio_fd`, the rest into `work`."""
    graphs = [_picture_graph(work, size, depth)]
    sound_graphs, sound_measured, raw = _sound_graphs(media, profile, work, head_seconds=head_seconds,
                                                      raw=audio_fd is not None, sample_rate=sample_rate,
                                                      framelog_quiet=framelog_quiet)
    sound = (raw, audio_fd) if raw is not None and audio_fd is not None else None
    return qc_command(ffmpeg, media.path, graphs=graphs + sound_graphs, picture="[vpic]",
                      measured=sound_measured, sound=sound, threads=threads)


def build_split(media: MediaFile, profile: DeliveryProfile, work: Path, ffmpeg: str, *, head_seconds: float,
                size: tuple[int, int], depth: int, sample_rate: int | None, threads: int = 0,
                framelog_quiet: bool = True) -> tuple[list[str], list[str]]:
    """The same pass as two ffmpeg processes, for an ffmpeg that runs every filter on its main thread (before
    7.0): (picture, sound). The picture process reads no sound (`-an`); the sound process (`-vn`) decodes every
    audio stream (all its channels go to the raw sound on stdout), so every decoder message of the file is said
    by one of the two, and qc/analyse.py keeps their result only when both ended cleanly and silent (see there).
    Decoding the sound a second time in the picture process, into `anullsink`, cost 4 % of that process's main
    thread on the 60 s 8-track XDCAM master (each track its own decoder and graph) and told nothing more."""
    video = qc_command(ffmpeg, media.path, graphs=[_picture_graph(work, size, depth)], picture="[vpic]",
                       measured=[], sound=None, threads=threads, input_options=("-an",))
    graphs, measured, raw = _sound_graphs(media, profile, work, head_seconds=head_seconds, raw=True,
                                          sample_rate=sample_rate, framelog_quiet=framelog_quiet)
    assert raw is not None  # called for a master with sound only
    sound = qc_command(ffmpeg, media.path, graphs=graphs, picture=None, measured=measured, sound=(raw, 1),
                       threads=threads, input_options=("-vn",))
    return video, sound
