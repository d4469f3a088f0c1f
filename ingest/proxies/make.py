"""Proxies the online can trust: sized by rule, burnt-in source timecode, same frames, start TC and reel.

Each proxy is encoded to a locked temporary file beside its target, re-probed (frame count, start
timecode, reel, audio channels must equal the source's) and only then renamed into place and recorded
in the catalogue (role "proxy", source_id → the original). A second run skips every proxy already made
from the same source content (hash) with the same preset; leftovers of a killed run are removed first.
"""

from __future__ import annotations

import ctypes
import errno
import math
import os
import re
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from config.errors import ConfigError, PostprodError
from config.settings import Production, Settings
from config.tools import ffmpeg_has_encoder
from ingest.catalogue import Catalogue
from ingest.hashing import hash_file
from ingest.ingest import scan
from ingest.locks import Slots, create_locked, remove_if_stale
from ingest.proxies.ale import AleClip, write_ales
from ingest.proxies.presets import ProxyPreset, load_preset
from ingest.proxies.store import ProxyStore
from media.model import MediaFile, MediaKind
from media.probe import SIDECAR_EXTENSIONS, probe_file
from media.timecode import Timecode, format_rate

REPORT_SCHEMA_VERSION = 1
TEMP_MARK = ".proxy-part-"
IMAGE_EXTENSIONS = {".dpx", ".exr", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".cin", ".ari", ".tga", ".bmp"}
VIDEO_EXTENSIONS = {".mov", ".mp4", ".mxf", ".m4v", ".avi", ".mkv", ".mts", ".m2ts", ".mpg", ".mpeg", ".dv",
                    ".r3d", ".braw", ".crm", ".ari", ".3gp", ".webm", ".wmv", ".vob"}
FFMPEG_FORMATS = {"mov": "mov", "mp4": "mp4", "mxf": "mxf"}

ClipStatus = Literal["made", "skipped", "error", "ignored"]


def font_file() -> Path:
    """DejaVu Sans Mono, shipped in the package: burn-ins never depend on the machine's fonts."""
    return Path(str(resources.files("config") / "fonts" / "DejaVuSansMono.ttf"))


def default_workers() -> int:
    """Parallel encodes by default: each ffmpeg is itself multi-threaded, so a quarter of the cores, 2 at least."""
    return max(2, (os.cpu_count() or 2) // 4)


def proxy_root(settings: Settings, production: Production) -> Path:
    """Where a production's proxies go: its proxy_root, else output_root/proxies, else the data directory."""
    if production.proxy_root is not None:
        return production.proxy_root
    if production.output_root is not None:
        return production.output_root / "proxies"
    return settings.data_path / "proxies" / production.name


# -- models --------------------------------------------------------------------------------------


class ClipResult(BaseModel):
    """What happened to one source."""

    model_config = ConfigDict(extra="forbid")

    source: str
    card: str
    relpath: str
    status: ClipStatus
    proxy: str | None = None
    error: str | None = None
    encoder: str | None = None
    source_hash: str | None = None
    frames: int | None = None
    rate: str | None = None
    start_timecode: str | None = None
    reel: str | None = None
    audio_channels: int | None = None
    width: int | None = None
    height: int | None = None
    seconds: float | None = None  # encode + verify wall time


class ProxyReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = REPORT_SCHEMA_VERSION
    production: str
    preset: str
    fingerprint: str
    root: str
    workers: int
    encoder: str
    started_at: datetime
    finished_at: datetime | None = None
    cleaned: list[str] = []  # leftovers of killed runs, removed before starting
    clips: list[ClipResult] = []
    ale: list[str] = []
    summary: dict[str, int] = {}


class ProxyJob(BaseModel):
    """One source to make a proxy of, and where the proxy goes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    card_root: str
    card: str  # the folder name of the card in the proxy tree (disambiguated when two cards share a name)
    relpath: str
    target: str
    explicit: bool  # named on the command line (a non-media file is then an error, not ignored)


@dataclass
class ProxyBatch:
    """Everything the encodes of one run share."""

    settings: Settings
    production: Production
    preset: ProxyPreset
    root: Path  # <proxy root>/<preset>
    ffmpeg: str
    encoder: str
    encoder_args: list[str]
    workers: int
    threads: int
    lut: Path | None
    catalogue: Catalogue
    store: ProxyStore
    slots: Slots
    jobs: list[ProxyJob] = field(default_factory=list)
    problems: list[ClipResult] = field(default_factory=list)  # found while planning (image sequences...)
    cleaned: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    progress: Callable[[str, int], None] | None = None  # (source, frames encoded since last call)


# -- encoder choice ------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def encoder_works(ffmpeg: str, encoder: str) -> bool:
    """Listed by this ffmpeg and able to encode here: a listed NVENC fails without an NVIDIA GPU and driver."""
    if not ffmpeg_has_encoder(ffmpeg, encoder):
        return False
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
           "testsrc2=size=256x144:rate=25:duration=0.2", "-c:v", encoder, "-pix_fmt", "yuv420p", "-f", "null", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def choose_encoder(ffmpeg: str, preset: ProxyPreset, allow_hw: bool = True) -> tuple[str, list[str]]:
    if allow_hw and preset.video.hw_encoder and encoder_works(ffmpeg, preset.video.hw_encoder):
        return preset.video.hw_encoder, list(preset.video.hw_args)
    return preset.video.encoder, list(preset.video.args)


# -- size, filters, command ----------------------------------------------------------------------


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


def filter_value(value: str) -> str:
    """Escape a value for a filter option inside a filtergraph (both of ffmpeg's escaping levels)."""
    value = value.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    for ch in "\\'[],;":
        value = value.replace(ch, "\\" + ch)
    return value


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
                   static_timecode: str | None = None) -> list[str]:
    """drawbox + drawtext: an opaque band with the clip name (and reel) on the left, running timecode right.

    The timecode runs from the source's start timecode at its rate (drop-frame kept); a source without
    timecode counts from 00:00:00:00. `static_timecode` draws a fixed string instead (tests use it as the
    reference picture of a given frame's timecode).
    """
    b = preset.burnin
    if not (b.timecode or b.clip_name or b.reel):
        return []
    lay = burnin_layout(width, height, preset)
    font = filter_value(str(font_file()))
    band_y = "ih-" + str(lay.band) if b.position == "bottom" else "0"
    filters = [f"drawbox=x=0:y={band_y}:w=iw:h={lay.band}:color=black@1:t=fill"]
    common = f"fontfile={font}:fontsize={lay.font_size}:fontcolor=white:y={lay.text_y}"
    label = []
    if b.clip_name and media.clip_name:
        label.append(media.clip_name)
    if b.reel and media.reel:
        label.append(f"reel {media.reel}")
    if label:
        text = filter_value("  ".join(label))
        filters.append(f"drawtext={common}:expansion=none:x={lay.margin}:text={text}")
    if b.timecode:
        rate = media.timecode_rate or (media.video.frame_rate if media.video else None) or Fraction(25)
        start = media.start or Timecode(0, rate)
        x = f"w-tw-{lay.margin}"
        if static_timecode is not None:
            filters.append(f"drawtext={common}:expansion=none:x={x}:text={filter_value(static_timecode)}")
        else:
            filters.append(f"drawtext={common}:x={x}:timecode={filter_value(start.format())}"
                           f":timecode_rate={format_rate(rate)}")
    return filters


def video_filter(media: MediaFile, preset: ProxyPreset, lut: Path | None,
                 pix_fmt: str | None = None) -> tuple[str, int, int]:
    """The video chain (deinterlace, scale, LUT, burn-in) and the output size. Never a rate change.

    With the encoder's pix_fmt known, the picture is converted once, right after scaling, so the burn-in
    is drawn in the final format (measured faster than converting after it: bench/proxy.py).
    """
    width, height = proxy_size(media, preset)
    chain = []
    video = media.video
    assert video is not None
    if preset.video.deinterlace and video.scan in ("tff", "bff", "interlaced"):
        # One output frame per input frame: the frame rate (and count) stay the source's.
        chain.append("bwdif=mode=send_frame:parity=auto:deint=all")
    chain.append(f"scale={width}:{height}:flags=bicubic")
    chain.append("setsar=1")
    if lut is not None and preset.lut:
        chain.append(f"lut3d=file={filter_value(str(lut))}")
    if pix_fmt:
        chain.append(f"format={pix_fmt}")
    chain += burnin_filters(media, width, height, preset)
    return ",".join(chain), width, height


def audio_plan(media: MediaFile, preset: ProxyPreset,
               pad_to: Fraction | None = None) -> tuple[list[str], list[str], int]:
    """Filtergraph parts and -map arguments for the audio; and the channel count the proxy must have.

    `pad_to` (seconds): every sound track is padded with silence to at least the picture's duration. MXF
    OP1a's muxer stops at its shortest track, so a clip whose sound ends a few frames before its picture
    would lose those frames.
    """
    pad = f",apad=whole_dur={math.ceil(pad_to * 1_000_000) / 1_000_000:.6f}" if pad_to else ""
    streams = [a.channels or 0 for a in media.audio]
    total = sum(streams)
    where = [(s, c) for s, n in enumerate(streams) for c in range(n)]  # global channel → (stream, channel)
    wanted = preset.audio.channels
    if wanted:
        missing = [c for c in wanted if c > total]
        if missing:
            raise PostprodError(f"preset '{preset.name}' maps audio channel {missing[0]}, the source has {total}")
        picks = [where[c - 1] for c in wanted]
    elif preset.audio.layout == "mono":
        picks = where
    elif pad:
        parts = [f"[0:a:{s}]anull{pad}[ap{s}]" for s in range(len(streams))]
        return parts, [arg for s in range(len(streams)) for arg in ("-map", f"[ap{s}]")], total
    else:
        return [], [arg for s in range(len(streams)) for arg in ("-map", f"0:a:{s}")], total
    parts, maps = [], []
    by_stream: dict[int, list[int]] = {}
    for s, c in picks:
        by_stream.setdefault(s, []).append(c)
    labels: dict[tuple[int, int], str] = {}
    for s, channels in by_stream.items():
        splits = [f"as{s}_{i}" for i in range(len(channels))]
        parts.append(f"[0:a:{s}]asplit={len(channels)}" + "".join(f"[{x}]" for x in splits) if len(channels) > 1
                     else f"[0:a:{s}]anull[{splits[0]}]")
        for split, c in zip(splits, channels, strict=True):
            label = f"am{s}_{c}"
            parts.append(f"[{split}]pan=mono|c0=c{c}{pad}[{label}]")
            labels[(s, c)] = label
    for key in picks:
        maps += ["-map", f"[{labels[key]}]"]
    return parts, maps, len(picks)


def _with_movflags(args: list[str], extra: str) -> list[str]:
    out = list(args)
    if "-movflags" in out:
        i = out.index("-movflags") + 1
        out[i] = out[i] + extra
    else:
        out += ["-movflags", extra]
    return out


def ffmpeg_command(batch: ProxyBatch, media: MediaFile, output: Path) -> tuple[list[str], int, int, int]:
    """The whole ffmpeg command for one proxy; also the output size and audio channel count."""
    preset = batch.preset
    args = batch.encoder_args
    pix_fmt = args[args.index("-pix_fmt") + 1] if "-pix_fmt" in args[:-1] else None
    vchain, width, height = video_filter(media, preset, batch.lut, pix_fmt)
    video = media.video
    pad_to = (Fraction(media.duration_frames) / video.frame_rate if preset.container == "mxf" and video
              and video.frame_rate and media.duration_frames else None)
    aparts, amaps, channels = audio_plan(media, preset, pad_to)
    graph = ";".join([f"[0:v:0]{vchain}[v]", *aparts])
    # Several encodes at once share the cores; a single one uses ffmpeg's own thread count.
    threads = ["-threads", str(batch.threads)] if batch.workers > 1 else []
    filter_threads = ["-filter_complex_threads", str(batch.threads)] if batch.workers > 1 else []
    cmd = [batch.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
           "-y", "-i", media.path, *filter_threads, "-filter_complex", graph,
           "-map", "[v]", *amaps, "-c:v", batch.encoder, *batch.encoder_args, *threads]
    if amaps:
        cmd += ["-c:a", preset.audio.codec, *preset.audio.args]
    # Frames pass through one for one: no duplicate or drop to reach a rate.
    cmd += ["-fps_mode", "passthrough", "-map_metadata", "-1", "-map_chapters", "-1"]
    start = media.start
    if start is not None:
        cmd += ["-timecode", start.format()]
    if media.reel:
        # MOV: the tmcd track's name; MXF: the package name; MP4: an mdta tag (no named tmcd there).
        cmd += ["-metadata", f"reel_name={media.reel}", "-metadata:s:v:0", f"reel_name={media.reel}"]
    if preset.container == "mp4":
        cmd = _with_movflags(cmd, "+use_metadata_tags")
    cmd += ["-f", FFMPEG_FORMATS[preset.container], str(output)]
    return cmd, width, height, channels


# -- running ffmpeg ------------------------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    # A killed run must not leave an ffmpeg writing on: it dies with us (Linux prctl PR_SET_PDEATHSIG).
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)


try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None


_FRAME_RE = re.compile(rb"^frame=(\d+)")


class EncodeError(Exception):
    pass


def run_ffmpeg(cmd: list[str], lock_fd: int, progress: Callable[[int], None] | None) -> list[str]:
    """Run one encode; raise EncodeError if it fails, else return the errors it logged (bad source frames).

    stderr goes to a temporary file, never a pipe that could fill up.
    """
    with tempfile.TemporaryFile() as errlog:
        # preexec_fn with threads: it only calls prctl, resolved before the fork (glibc's fork resets malloc).
        die = _die_with_parent if _PRCTL else None
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errlog, stdin=subprocess.DEVNULL,
                                pass_fds=(lock_fd,), preexec_fn=die)  # noqa: PLW1509
        done = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            m = _FRAME_RE.match(line)
            if m and progress is not None:
                n = int(m.group(1))
                if n > done:
                    progress(n - done)
                    done = n
        rc = proc.wait()
        errlog.seek(0)
        stderr = errlog.read().decode("utf-8", "replace")
    if rc != 0:
        raise EncodeError(_explain_ffmpeg(stderr, rc))
    return [ln.strip() for ln in stderr.splitlines() if ln.strip()]


def _explain_ffmpeg(stderr: str, rc: int) -> str:
    if rc == -signal.SIGXFSZ:
        return "the proxy volume refused the file: file size limit reached"
    if rc < 0:
        return f"ffmpeg was killed by signal {-rc}"
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    text = "\n".join(lines)
    if "No space left on device" in text:
        return "disk full: no space left on the proxy volume"
    if "File too large" in text:
        return "the proxy volume refused the file: too large (file size limit)"
    if "Permission denied" in text:
        return "permission denied writing the proxy"
    first = next((ln for ln in lines if "rror" in ln or "nvalid" in ln), lines[-1] if lines else "")
    return f"ffmpeg failed (exit {rc}): {first[-300:]}" if first else f"ffmpeg failed (exit {rc})"


# -- planning -------------------------------------------------------------------------------------


def _image_sequence(files: list[Path]) -> bool:
    stills = [f for f in files if f.suffix.lower() in IMAGE_EXTENSIONS and re.search(r"\d{3,}$", f.stem)]
    return len(stills) >= 2


def plan_batch(paths: list[Path], preset_name: str, production_name: str, settings: Settings, *,
               out: Path | None = None, workers: int | None = None, lut: Path | None = None,
               allow_hw: bool = True, strict: bool = True) -> ProxyBatch:
    """Resolve the preset and production, list the sources and their targets, clean leftovers.

    strict: a file named in `paths` that is not a picture clip (sound take, document) is an error; with
    strict=False (after an ingest) it is ignored, as inside a card.
    """
    production = settings.production(production_name)
    preset = load_preset(preset_name)
    lut = lut or (production.proxy_lut if preset.lut else None)
    if lut is not None:
        check_cube(lut)
    ffmpeg = settings.ffmpeg_exe()
    workers = workers or settings.proxy_workers or default_workers()
    encoder, encoder_args = choose_encoder(ffmpeg, preset, allow_hw)
    root = (out if out is not None else proxy_root(settings, production)) / preset.name
    batch = ProxyBatch(
        settings=settings, production=production, preset=preset, root=Path(os.path.abspath(root)), ffmpeg=ffmpeg,
        encoder=encoder, encoder_args=encoder_args, workers=workers,
        threads=max(1, (os.cpu_count() or 2) // workers), lut=lut, catalogue=Catalogue(settings.db_url),
        store=ProxyStore(settings.db_url), slots=Slots(settings.data_path / "locks" / "proxy", workers))
    claimed: dict[str, str] = {}  # target → source, within this batch
    for given in paths:
        given = Path(os.path.abspath(given))
        if given.is_dir():
            walked = scan(given, settings.ignore)
            by_folder: dict[Path, list[Path]] = {}
            for f in walked.files:
                by_folder.setdefault(f.parent, []).append(f)
            for folder, files in sorted(by_folder.items()):
                if _image_sequence(files):
                    batch.problems.append(ClipResult(
                        source=str(folder), card=given.name, relpath=_rel(folder, given), status="error",
                        error="image sequence folder: proxies of image sequences are not supported; "
                              "wrap the sequence into a clip first"))
                    files = [f for f in files if f.suffix.lower() not in IMAGE_EXTENSIONS]
                for f in files:
                    if f.suffix.lower() in SIDECAR_EXTENSIONS:
                        continue
                    batch.jobs.append(_job(batch, f, given, explicit=False, claimed=claimed))
        elif given.exists():
            batch.jobs.append(_job(batch, given, given.parent, explicit=strict, claimed=claimed))
        else:
            batch.problems.append(ClipResult(source=str(given), card=given.parent.name, relpath=given.name,
                                             status="error", error="no such file or folder"))
    batch.cleaned = clean_stale({Path(j.target).parent for j in batch.jobs})
    return batch


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return path.name


def _job(batch: ProxyBatch, source: Path, card_root: Path, *, explicit: bool, claimed: dict[str, str]) -> ProxyJob:
    row = batch.catalogue.lookup(batch.production.name, str(source))
    if row is not None:  # an ingested rush: its card as the ingest saw it
        card_root = Path(row["card"])
        relpath = row["relpath"]
    else:
        relpath = _rel(source, card_root)
    card = card_root.name or "root"
    rel = Path(relpath)
    candidates = [
        (card, rel.with_suffix(batch.preset.extension)),
        # Same stem, other extension, in the same folder (A.mov and A.mxf): keep both.
        (card, rel.with_name(f"{rel.stem}_{rel.suffix.lstrip('.')}{batch.preset.extension}")),
    ]
    # Two cards with the same folder name from different places: the second gets a stable suffix.
    tag = hash_text(str(card_root))
    candidates.append((f"{card}~{tag}", rel.with_suffix(batch.preset.extension)))
    for card_dir, target_rel in candidates:
        target = str(batch.root / card_dir / target_rel)
        owner = claimed.get(target) or batch.store.owner(batch.production.name, target)
        if owner is None or owner == str(source):
            claimed[target] = str(source)
            return ProxyJob(source=str(source), card_root=str(card_root), card=card_dir, relpath=relpath,
                            target=target, explicit=explicit)
    raise PostprodError("no free proxy path (three candidates taken)", path=source)  # pragma: no cover


def hash_text(text: str) -> str:
    import xxhash

    return xxhash.xxh64(text.encode()).hexdigest()[:8]


def clean_stale(folders: set[Path]) -> list[str]:
    """Remove temporary proxies that no live encode holds (leftovers of a killed run)."""
    removed = []
    for folder in sorted(folders):
        if not folder.is_dir():
            continue
        for tmp in folder.glob(f".*{TEMP_MARK}*"):
            if remove_if_stale(tmp):
                removed.append(str(tmp))
    return removed


def check_cube(path: Path) -> None:
    """A .cube LUT that ffmpeg can read: exists, has LUT_3D_SIZE."""
    try:
        head = path.read_text(errors="replace")[:65536]
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read the LUT: {exc.strerror or exc}") from exc
    if path.suffix.lower() != ".cube" or "LUT_3D_SIZE" not in head:
        raise ConfigError(path, None, "not a 3D .cube LUT (no LUT_3D_SIZE line)")


# -- one proxy -----------------------------------------------------------------------------------


def _fail(job: ProxyJob, message: str, **kw: object) -> ClipResult:
    return ClipResult(source=job.source, card=job.card, relpath=job.relpath, status="error", error=message, **kw)


def usable_source(media: MediaFile, preset: ProxyPreset) -> str | None:
    """Why a proxy cannot be made of this file, or None."""
    if media.kind is MediaKind.SIDECAR:
        return "not a clip: still image or card metadata"
    if media.error:
        return media.error
    if media.video is None:
        return "sound only: no picture to make a proxy of"
    v = media.video
    if not v.codec or not v.width or not v.height:
        return f"unknown or unreadable video codec ({v.codec or 'no format'}): cannot decode the picture"
    if v.frame_rate is None:
        return "no frame rate: cannot make an exact proxy"
    if media.duration_frames is None:
        return "frame count unknown: the proxy could not be verified"
    if preset.container == "mxf" and v.variable_frame_rate:
        return "variable frame rate: MXF needs a constant rate; make a constant-rate copy first"
    return None


def source_hash(batch: ProxyBatch, path: Path, st: os.stat_result) -> tuple[str, str, int | None]:
    """The source's content hash: the catalogue's when the file is unchanged since its ingest, else computed."""
    algo = batch.settings.hash_algorithm
    row = batch.catalogue.lookup(batch.production.name, str(path))
    if (row and row["hash"] and row["hash_algorithm"] == algo and row["size"] == st.st_size
            and row["mtime_ns"] == st.st_mtime_ns and row["role"] == "original"):
        return algo, row["hash"], int(row["id"])
    digest = hash_file(path, [algo])[algo]
    return algo, digest, (int(row["id"]) if row and row["role"] == "original" else None)


def verify(source: MediaFile, proxy: MediaFile, channels: int) -> list[str]:
    """What differs between a proxy and its source where the conform needs them equal."""
    problems = []
    if proxy.video is None:
        return ["the proxy has no picture"]
    if proxy.duration_frames != source.duration_frames:
        problems.append(f"{proxy.duration_frames} frames, the source has {source.duration_frames}")
    if source.video and proxy.video.frame_rate != source.video.frame_rate and not source.video.variable_frame_rate:
        problems.append(f"frame rate {proxy.video.frame_rate}, the source has {source.video.frame_rate}")
    if (source.start and source.start.frames) != (proxy.start and proxy.start.frames) or \
            source.start_timecode != proxy.start_timecode:
        problems.append(f"start timecode {proxy.start_timecode}, the source has {source.start_timecode}")
    if (source.reel or None) != (proxy.reel or None):
        problems.append(f"reel {proxy.reel!r}, the source has {source.reel!r}")
    got = sum(a.channels or 0 for a in proxy.audio)
    if got != channels:
        problems.append(f"{got} audio channels, {channels} expected")
    return problems


def make_proxy(job: ProxyJob, batch: ProxyBatch) -> ClipResult:
    """Make, verify, place and record one proxy; never raises for a bad source (the result says why)."""
    started = time.monotonic()
    source = Path(job.source)
    try:
        st = source.stat()
    except OSError as exc:
        return _fail(job, f"cannot read: {exc.strerror or exc}")
    # MediaInfo only: the encode decodes every frame anyway, and its errors and frame count are checked.
    media = probe_file(source, ffmpeg=None, decode_check="none")
    if media.kind is MediaKind.UNREADABLE and media.error and "no picture or sound" in media.error:
        if not job.explicit and source.suffix.lower() not in VIDEO_EXTENSIONS:
            # Walking a card: a document or unknown file is not a clip.
            return ClipResult(source=job.source, card=job.card, relpath=job.relpath, status="ignored",
                              error=media.error)
        return _fail(job, f"cannot read this clip ({media.error}): cut short, damaged, or an unknown format")
    why = usable_source(media, batch.preset)
    if why:
        # Walking a card: sound takes and card metadata are not clips to make proxies of.
        if not job.explicit and (media.kind is MediaKind.SIDECAR or (media.video is None and media.audio
                                                                      and not media.error)):
            return ClipResult(source=job.source, card=job.card, relpath=job.relpath, status="ignored", error=why)
        return _fail(job, why)
    described = {"frames": media.duration_frames, "start_timecode": media.start_timecode, "reel": media.reel,
                 "rate": format_rate(media.video.frame_rate) if media.video and media.video.frame_rate else None}
    try:
        algo, digest, source_id = source_hash(batch, source, st)
    except OSError as exc:
        return _fail(job, f"cannot read: {exc.strerror or exc}", **described)
    described["source_hash"] = f"{algo}:{digest}"
    prod = batch.production.name
    fingerprint = batch.preset.fingerprint()
    existing = batch.store.at(prod, job.target)
    if (existing is not None and existing["source_hash"] == digest and existing["source_hash_algorithm"] == algo
            and existing["fingerprint"] == fingerprint and existing["source_path"] == job.source):
        try:
            pst = Path(existing["proxy_path"]).stat()
        except OSError:
            pst = None
        if pst is not None and pst.st_size == existing["size"] and pst.st_mtime_ns == existing["mtime_ns"]:
            shape: dict[str, object] = {}
            row = batch.catalogue.lookup(prod, existing["proxy_path"])
            if row is not None:
                made = MediaFile.model_validate_json(row["media_json"])
                shape = {"audio_channels": sum(a.channels or 0 for a in made.audio),
                         "width": made.video.width if made.video else None,
                         "height": made.video.height if made.video else None}
            return ClipResult(source=job.source, card=job.card, relpath=job.relpath, status="skipped",
                              proxy=existing["proxy_path"], encoder=existing["encoder"], **described, **shape)

    target = Path(job.target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(job, f"cannot create the proxy folder {target.parent}: {exc.strerror or exc}", **described)
    tmp = target.parent / f".{target.stem}{TEMP_MARK}{uuid.uuid4().hex[:8]}{target.suffix}"
    lock_fd = None
    try:
        lock_fd = create_locked(tmp)
        cmd, width, height, channels = ffmpeg_command(batch, media, tmp)
        progress = batch.progress
        with batch.slots.acquire():
            decode_errors = run_ffmpeg(cmd, lock_fd, (lambda n: progress(job.source, n)) if progress else None)
        made = probe_file(tmp, ffmpeg=None, decode_check="none")
        problems = verify(media, made, channels)
        if decode_errors:
            problems.append(f"the source does not decode cleanly: {decode_errors[0][-300:]}")
        if problems:
            hint = " (the source does not decode to the end?)" if made.duration_frames is not None and \
                media.duration_frames is not None and made.duration_frames < media.duration_frames else ""
            return _fail(job, "proxy rejected: " + "; ".join(problems) + hint, **described)
        os.replace(tmp, target)
        pst = target.stat()
        proxy_media = made.model_copy(update={"path": str(target), "clip_name": media.clip_name,
                                              "size": pst.st_size, "mtime_ns": pst.st_mtime_ns})
        proxy_hash = hash_file(target, [algo])[algo]
        proxy_id = batch.catalogue.record(prod, proxy_media, card=str(batch.root / job.card),
                                          relpath=_rel(target, batch.root / job.card), hash_algorithm=algo,
                                          hash_value=proxy_hash, ingest_id=None, role="proxy", source_id=source_id)
        batch.store.save(prod, preset=batch.preset.name, fingerprint=fingerprint, source_path=job.source,
                         source_hash_algorithm=algo, source_hash=digest, source_media_id=source_id,
                         proxy_path=str(target), proxy_media_id=proxy_id, size=pst.st_size,
                         mtime_ns=pst.st_mtime_ns, encoder=batch.encoder)
        return ClipResult(source=job.source, card=job.card, relpath=job.relpath, status="made", proxy=str(target),
                          encoder=batch.encoder, audio_channels=channels, width=width, height=height,
                          seconds=round(time.monotonic() - started, 3), **described)
    except EncodeError as exc:
        return _fail(job, str(exc), **described)
    except PostprodError as exc:
        return _fail(job, exc.reason, **described)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return _fail(job, "disk full: no space left on the proxy volume", **described)
        return _fail(job, f"cannot write the proxy: {exc.strerror or exc}", **described)
    finally:
        if tmp.exists():
            tmp.unlink()
        if lock_fd is not None:
            os.close(lock_fd)
        if not target.exists():
            try:
                target.parent.rmdir()  # a folder made for a proxy that was refused goes too, if empty
            except OSError:
                pass


# -- after the encodes ----------------------------------------------------------------------------


def write_batch_ales(batch: ProxyBatch, results: list[ClipResult]) -> list[str]:
    """One ALE per card (and rate) listing every verified proxy of the card, made now or before."""
    if not batch.preset.ale.write:
        return []
    import json

    written: list[str] = []
    prod = batch.production.name
    cards = sorted({r.card for r in results if r.status in ("made", "skipped")})
    for card in cards:
        folder = batch.root / card
        clips, height = [], None
        for row in batch.store.for_folder(prod, batch.preset.name, str(folder)):
            cat = batch.catalogue.lookup(prod, row["proxy_path"])
            if cat is None or not Path(row["proxy_path"]).exists():
                continue
            m = MediaFile.model_validate(json.loads(cat["media_json"]))
            rate = m.timecode_rate or (m.video.frame_rate if m.video else None)
            if rate is None or m.duration_frames is None:
                continue
            src = Path(row["source_path"])
            source_media = batch.catalogue.lookup(prod, row["source_path"])
            if source_media and height is None:
                height = MediaFile.model_validate(json.loads(source_media["media_json"])).video.height \
                    if json.loads(source_media["media_json"]).get("video") else None
            clips.append(AleClip(name=m.clip_name or src.stem, tape=m.reel, start=m.start or Timecode(0, rate),
                                 frames=m.duration_frames, audio_channels=sum(a.channels or 0 for a in m.audio),
                                 source_file=src.name, proxy_file=_rel(Path(row["proxy_path"]), folder)))
        if clips:
            written += [str(p) for p in write_ales(folder, card, clips, height)]
    return written


def summarise(results: list[ClipResult]) -> dict[str, int]:
    statuses = [r.status for r in results]
    return {"clips": len([s for s in statuses if s != "ignored"]), "made": statuses.count("made"),
            "skipped": statuses.count("skipped"), "errors": statuses.count("error"),
            "ignored": statuses.count("ignored")}


def finish_batch(batch: ProxyBatch, results: list[ClipResult]) -> ProxyReport:
    everything = sorted([*batch.problems, *results], key=lambda r: (r.card, r.relpath))
    report = ProxyReport(production=batch.production.name, preset=batch.preset.name,
                         fingerprint=batch.preset.fingerprint(), root=str(batch.root), workers=batch.workers,
                         encoder=batch.encoder, started_at=batch.started_at, cleaned=batch.cleaned,
                         clips=everything)
    report.ale = write_batch_ales(batch, everything)
    report.finished_at = datetime.now(UTC)
    report.summary = summarise(everything)
    return report


def run_batch(batch: ProxyBatch) -> ProxyReport:
    """All encodes of a batch, `workers` at a time (the slot locks bound them across processes too)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=batch.workers) as pool:
        results = list(pool.map(lambda j: make_proxy(j, batch), batch.jobs))
    return finish_batch(batch, results)
