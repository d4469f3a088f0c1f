"""Demo step: review proxies of the demo's camera cards, with a user preset file written beside the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.atomic import write_text_atomic
from ingest.proxies.presets import builtin_presets

if TYPE_CHECKING:
    from demo.context import DemoContext

CAMERA_CARDS = ["DAY01_A001", "DAY01_B001"]


def proxy_step(ctx: DemoContext) -> None:
    """Making review proxies of the camera cards (H.264, 270 lines, burnt-in timecode)…"""
    from cli.commands.proxy import proxy_table
    from config.settings import load_settings
    from flows.proxy import run_proxies
    from flows.steps import use_prefect

    # A user preset is a TOML file like the built-ins: here h264-review at 270 lines, to keep the demo quick.
    preset = ctx.workspace / "presets" / "review-270.toml"
    if not preset.exists():
        text = builtin_presets()["h264-review"].read_text()
        write_text_atomic(preset, text.replace('name = "h264-review"', 'name = "review-270"')
                          .replace("height = 540", "height = 270"))
    cards = [str(ctx.workspace / "ingest" / c) for c in CAMERA_CARDS]
    settings = load_settings(ctx.config)
    if not use_prefect(settings, direct=ctx.direct):  # no Prefect server: the flow's steps in this process
        report = run_proxies(cards, str(preset), "demo", settings)
    else:
        from flows.history import RecordedRun

        params = {"paths": cards, "preset": str(preset), "production": "demo", "config": str(ctx.config)}
        with RecordedRun(settings, "proxy", params) as steps:
            report = run_proxies(cards, str(preset), "demo", settings, steps=steps)
    ctx.say(proxy_table(report))
    s = report.summary
    ctx.say(f"{s['made']} proxies made, {s['skipped']} already there (a re-run makes none), {s['errors']} "
            "refused: the copy cut short cannot give a proxy with all its frames.")
