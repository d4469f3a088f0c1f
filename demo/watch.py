"""Demo step: a card copied slowly into the watched ingest folder is ingested once, after its copy ends."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from cli.text import escape
from config.settings import load_settings
from demo.context import HD, DemoContext
from media.synth import ClipSpec, make_clip

SETTLE = 0.5


def watch_step(ctx: DemoContext) -> None:
    """Watch folder: a card copied slowly into the ingest folder is ingested once its copy has ended"""
    from cli.commands.watch import format_event
    from flows.deploy import api_url
    from flows.watch import direct_trigger, server_trigger
    from ingest.watch import Watcher, folders_to_watch

    settings = load_settings(ctx.config, settle_seconds=SETTLE)
    card = ctx.workspace / "ingest" / "DAY02_A002"
    build = ctx.workspace / ".build" / "A002C001_261124_R1AB.mov"
    if not build.exists():
        make_clip(build, ClipSpec(**HD, timecode="09:00:00:00", reel="A002", audio_channels=2), settings.ffmpeg_exe())
    # With a Prefect server, the card goes to its workers; without one, the ingest's steps run here.
    trigger = server_trigger(settings) if api_url(settings) and not ctx.direct else direct_trigger(settings)
    events: list[dict] = []

    def emit(event: dict) -> None:
        events.append(event)
        if event["event"] not in ("watching", "reconciled", "stopped"):
            ctx.say("   " + escape(format_event(event), lines=True))

    watcher = Watcher(settings, folders_to_watch(settings, "demo"), trigger, emit)
    if card.exists():
        ctx.say(f"   {card.name} is already there: one reconciliation pass (nothing is ingested twice)")
        summary = watcher.run(once=True)
        ctx.say(f"   {summary.ingests} ingest(s)")
        return
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    while not any(e["event"] == "reconciled" for e in events):
        time.sleep(0.05)
    ctx.say(f"   copying {card.name} slowly into the watched folder (settle_seconds = {SETTLE})…")
    data = build.read_bytes()
    target: Path = card / "Clips" / build.name
    target.parent.mkdir(parents=True)
    with open(target, "wb") as fh:
        step = max(1, len(data) // 12)
        for i in range(0, len(data), step):
            fh.write(data[i:i + step])
            fh.flush()
            time.sleep(0.15)
    ctx.say("   copy closed")
    deadline = time.monotonic() + 300
    while not any(e["event"] in ("ingested", "ingest_failed") for e in events) and time.monotonic() < deadline:
        time.sleep(0.1)
    watcher.request_stop()
    thread.join(60)
