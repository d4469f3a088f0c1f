"""Avid Log Exchange (ALE): the tab-separated batch list Media Composer reads to carry clip metadata.

One ALE per card and frame rate (an ALE has a single FPS heading). End is exclusive, as Avid writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from config.atomic import write_text_atomic
from ingest.proxies.models import ClipResult, ProxyBatch, rel
from media.timecode import Timecode, format_fps

# The FPS values Media Composer accepts in an ALE heading.
ALE_FPS = {
    Fraction(24000, 1001): "23.976",
    Fraction(24): "24",
    Fraction(25): "25",
    Fraction(30000, 1001): "29.97",
    Fraction(30): "30",
    Fraction(50): "50",
    Fraction(60000, 1001): "59.94",
    Fraction(60): "60",
}

COLUMNS = ["Name", "Tracks", "Start", "End", "Duration", "Tape", "FPS", "Source File", "Proxy File"]


@dataclass(frozen=True)
class AleClip:
    name: str
    tape: str | None
    start: Timecode
    frames: int
    audio_channels: int
    source_file: str
    proxy_file: str

    @property
    def tracks(self) -> str:
        return "V" + "".join(f"A{i}" for i in range(1, self.audio_channels + 1))


def fps_label(rate: Fraction) -> str:
    return ALE_FPS.get(rate) or format_fps(rate)


def video_format(height: int | None) -> str:
    return {1080: "1080", 720: "720", 486: "NTSC", 576: "PAL"}.get(height or 0, "CUSTOM")


def ale_text(clips: list[AleClip], *, rate: Fraction, height: int | None) -> str:
    """The ALE for clips that share one frame rate."""
    fps = fps_label(rate)
    lines = ["Heading", "FIELD_DELIM\tTABS", f"VIDEO_FORMAT\t{video_format(height)}", "AUDIO_FORMAT\t48khz",
             f"FPS\t{fps}", "", "Column", "\t".join(COLUMNS), "", "Data"]
    for c in clips:
        end = c.start + c.frames
        duration = Timecode(c.frames, c.start.rate, c.start.drop_frame)
        row = [c.name, c.tracks, c.start.format(), end.format(), duration.format(), c.tape or "", fps,
               c.source_file, c.proxy_file]
        lines.append("\t".join(v.replace("\t", " ").replace("\n", " ") for v in row))
    return "\n".join(lines) + "\n"


def write_ales(folder: Path, card: str, clips: list[AleClip], height: int | None) -> list[Path]:
    """Write `<card>.ale` (or one `<card>_<fps>.ale` per rate when the card mixes rates); returns the paths."""
    by_rate: dict[Fraction, list[AleClip]] = {}
    for c in clips:
        by_rate.setdefault(c.start.rate, []).append(c)
    written = []
    for rate, group in sorted(by_rate.items()):
        name = f"{card}.ale" if len(by_rate) == 1 else f"{card}_{fps_label(rate)}.ale"
        target = folder / name
        write_text_atomic(target, ale_text(sorted(group, key=lambda c: c.name), rate=rate, height=height))
        written.append(target)
    for old in [folder / f"{card}.ale", *folder.glob(f"{card}_*.ale")]:
        if old not in written and old.exists():
            old.unlink()  # the card's rates changed since the last run
    return written


def write_batch_ales(batch: ProxyBatch, results: list[ClipResult]) -> list[str]:
    """One ALE per card (and rate) listing every verified proxy of the card, made now or before."""
    if not batch.preset.ale.write:
        return []
    written: list[str] = []
    cards = sorted({r.card for r in results if r.status in ("made", "skipped")})
    for card in cards:
        folder = batch.root / card
        clips, height = _card_clips(batch, folder)
        if clips:
            written += [str(p) for p in write_ales(folder, card, clips, height)]
    return written


def _card_clips(batch: ProxyBatch, folder: Path) -> tuple[list[AleClip], int | None]:
    """The card's proxies as ALE clips (from the catalogue's descriptions), and the sources' picture height."""
    prod = batch.production.name
    clips: list[AleClip] = []
    height = None
    for proxy_path, source_path in batch.reads.in_folder(prod, batch.preset.name, str(folder)):
        cat = batch.reads.media(prod, proxy_path)
        if cat is None or not Path(proxy_path).exists():
            continue
        m = cat.media
        rate = m.timecode_rate or (m.video.frame_rate if m.video else None)
        if rate is None or m.duration_frames is None:
            continue
        src = Path(source_path)
        source_media = batch.reads.media(prod, source_path)
        if source_media and height is None:
            described = source_media.media
            height = described.video.height if described.video else None
        clips.append(AleClip(name=m.clip_name or src.stem, tape=m.reel, start=m.start or Timecode(0, rate),
                             frames=m.duration_frames, audio_channels=sum(a.channels or 0 for a in m.audio),
                             source_file=src.name, proxy_file=rel(Path(proxy_path), folder)))
    return clips, height

