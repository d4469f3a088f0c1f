"""The demo production: two camera cards, a sound card and the usual trouble, built with ffmpeg."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from config import __version__
from config.atomic import write_bytes_atomic, write_text_atomic
from demo.conform import conform_step
from demo.context import HD, DemoContext, DemoStep
from demo.money import money_step
from demo.plan import demo_plan
from demo.proxy import proxy_step
from demo.qc import qc_step
from demo.watch import watch_step
from demo.web import web_step
from ingest import mhl
from ingest.hashing import hash_file
from media.synth import ClipSpec, TakeSpec, make_bwf_take, make_clip, truncated_copy


def demo_settings_text(ws: Path) -> str:
    return """# postprod settings for the demo workspace (paths are relative to this file)
data_dir = "data"

[productions.demo]
spec = "default"
ingest_folders = ["ingest"]
output_root = "out"
expected_cards = 4
"""


def build_workspace(ws: Path, ffmpeg: str) -> tuple[Path, list[Path]]:
    """Make the workspace (idempotent: existing media is kept). Returns the settings file and the cards."""
    ws.mkdir(parents=True, exist_ok=True)
    config = ws / "postprod.toml"
    if not config.exists():
        write_text_atomic(config, demo_settings_text(ws))
    ingest = ws / "ingest"
    card_a = ingest / "DAY01_A001"
    card_b = ingest / "DAY01_B001"
    sound = ingest / "DAY01_SOUND_D01"
    phone = ingest / "PHONE_MARIE"

    def clip(path: Path, spec: ClipSpec) -> None:
        if not path.exists():
            make_clip(path, spec, ffmpeg)

    # Camera A: ARRI-style ProRes MOV with reel in the tmcd track, one clip shot at 23.976 by mistake.
    a_clips = [
        ("A001C001_261123_R1AB.mov", ClipSpec(**HD, timecode="10:00:00:00", reel="A001", audio_channels=2)),
        ("A001C002_261123_R1AB.mov", ClipSpec(**HD, timecode="10:02:13:05", reel="A001", audio_channels=2)),
        ("A001C003_261123_R1AB.mov", ClipSpec(**HD, rate=Fraction(24000, 1001), timecode="10:05:40:12",
                                              reel="A001", audio_channels=2)),
    ]
    for name, spec in a_clips:
        clip(card_a / "Clips" / name, spec)
    # The offload on set wrote an MHL (xxh64, as most offload tools do): the ingest verifies against it.
    if not (card_a / mhl.MHL_FOLDER).exists():
        entries = []
        for name, _ in a_clips:
            f = card_a / "Clips" / name
            st = f.stat()
            entries.append(mhl.Entry(path=f"Clips/{name}", size=st.st_size, mtime=st.st_mtime,
                                     hashes=hash_file(f, ["xxh64"]), actions={"xxh64": "original"}))
        mhl.write_generation(card_a / mhl.MHL_FOLDER, card_a.name, entries, [".DS_Store", "ascmhl", "ascmhl/"],
                             tool_version=f"demo offload {__version__}", now=datetime(2026, 11, 23, 19, 5, tzinfo=UTC))

    # Camera B: DNxHR LB in MXF OP1a; its second clip is a copy cut short. Finder litter beside it.
    b1 = card_b / "B001C001_261123_K7QX.mxf"
    clip(b1, ClipSpec(**HD, codec="dnxhr_lb", timecode="14:30:00:00", reel="B001", audio_channels=2))
    full = ws / ".build" / "B001C002_full.mxf"
    b2 = card_b / "B001C002_261123_K7QX.mxf"
    if not b2.exists():
        make_clip(full, ClipSpec(**HD, codec="dnxhr_lb", timecode="14:41:10:00", reel="B001", audio_channels=2),
                  ffmpeg)
        truncated_copy(full, b2, 0.55)
        full.unlink()
    for litter in (card_b / ".DS_Store", card_b / "._B001C001_261123_K7QX.mxf"):
        if not litter.exists():
            write_bytes_atomic(litter, b"\x00\x05\x16\x07Mac OS X finder litter")

    # Sound card: polyphonic BWF with iXML at 25 fps, and a take recorded at 44.1 kHz / 16-bit.
    t1 = sound / "261123_T001.WAV"
    if not t1.exists():
        make_bwf_take(t1, TakeSpec(seconds=3, channels=4, start_timecode="10:00:00:00", scene="12", take="1"), ffmpeg)
    t2 = sound / "261123_T002.WAV"
    if not t2.exists():
        make_bwf_take(t2, TakeSpec(seconds=3, channels=2, sample_rate=44100, bit_depth=16,
                                   start_timecode="10:02:13:00", scene="12", take="2"), ffmpeg)

    # A phone clip (variable frame rate, AAC 44.1 kHz, no timecode) and a stray document.
    clip(phone / "IMG_0042.MP4", ClipSpec(width=1080, height=1920, rate=Fraction(30), codec="h264", timecode=None,
                                          vfr=True, audio_channels=1, sample_rate=44100, audio_codec="aac"))
    stray = phone / "Rapport caméra – jour 1.doc"
    if not stray.exists():
        write_bytes_atomic(stray, "Rapport caméra, jour 1 : RAS.\n".encode() * 40)
    return config, [card_a, card_b, sound, phone]


# The steps run in order after the ingest (each capability's in demo/<capability>.py). Order matters: the watch
# folder and the proxies right after the ingest, then the conform check and the PAD QC (which move their stages),
# the plan's digest (with the quote and its overrun alert), the money, and the web page's users last.
DEMO_STEPS: list[DemoStep] = [watch_step, proxy_step, conform_step, qc_step, demo_plan, money_step, web_step]

__all__ = ["DEMO_STEPS", "HD", "DemoContext", "DemoStep", "build_workspace", "demo_settings_text"]
