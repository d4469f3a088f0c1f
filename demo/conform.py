"""The demo's conform step: an EDL cut from the demo's camera clips, with trouble planted, checked."""

from __future__ import annotations

from cli.text import escape
from config.atomic import write_text_atomic
from config.settings import load_settings

# Clips (25 fps, 2 s = 50 frames): A001C001 from 10:00:00:00, A001C002 from 10:02:13:05, B001C001 from
# 14:30:00:00. Event 002 starts 5 frames into its clip (short handles); event 004's reel C001 was never shot.
DEMO_EDL = """TITLE: DEMO LOCKED CUT V1
FCM: NON-DROP FRAME

001  A001     V     C        10:00:00:13 10:00:01:10 01:00:00:00 01:00:00:22
* FROM CLIP NAME: A001C001_261123_R1AB
002  A001     V     C        10:02:13:10 10:02:14:00 01:00:00:22 01:00:01:12
* FROM CLIP NAME: A001C002_261123_R1AB
003  B001     V     C        14:30:00:15 14:30:01:05 01:00:01:12 01:00:02:02
* FROM CLIP NAME: B001C001_261123_K7QX
004  C001     V     C        09:12:00:00 09:12:01:00 01:00:02:02 01:00:03:02
* FROM CLIP NAME: C001C007_261123_ZZ01
005  A001     V     C        10:00:00:20 10:00:00:21 01:00:03:02 01:00:03:14
M2   A001       000.0                10:00:00:20
* FROM CLIP NAME: A001C001_261123_R1AB
"""


def conform_step(ctx) -> None:
    """Conform check: an EDL cut from the camera clips (one missing reel, one short handle) against the catalogue."""
    from flows.conform import run_conform
    from flows.steps import use_prefect

    edl = ctx.workspace / "edit" / "demo_locked_cut.edl"
    if not edl.exists() or edl.read_text() != DEMO_EDL:
        write_text_atomic(edl, DEMO_EDL)
    settings = load_settings(ctx.config)
    relink = ctx.workspace / "edit" / "demo_locked_cut.relinked.otio"
    if not use_prefect(settings, direct=ctx.direct):  # no Prefect server: the flow's steps in this process
        outcome, state = run_conform(edl, "demo", settings, relink=relink)
        data = outcome.data
    else:
        from flows.history import RecordedRun

        params = {"timeline": str(edl), "production": "demo", "relink": str(relink), "config": str(ctx.config)}
        with RecordedRun(settings, "conform", params) as steps:
            outcome, state = run_conform(edl, "demo", settings, relink=relink, steps=steps)
        data = outcome.data
    s = data["summary"]
    rules = ", ".join(f"{k} {v}" for k, v in s["by_rule"].items() if v)
    ctx.say(escape(f"   {edl.name}: {s['events']} events, {s['matched']} matched, {s['errors']} errors, "
            f"{s['warnings']} warnings ({rules}); conform stage: {state}"))
    ctx.say(escape(f"   relinked: {relink}\n   report: {data.get('report_html')}", lines=True))
