"""`postprod demo`: build a small realistic production and run the whole pipeline on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import JsonOpt, app, emit_json, err, out, state
from cli.text import escape


@app.command()
def demo(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Folder to build the demo in.")] = Path(
        "postprod-demo"),
    direct: Annotated[bool, typer.Option("--direct", help="Run the steps without Prefect.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build two camera cards and a sound card (with trouble planted) and run the ingest flow on them.

    Running it again reuses the media and shows that nothing is ingested twice. With --json the story
    goes to standard error and a summary (docs/json.md) to standard output.
    """
    from cli.commands.ingest import run_ingest_cli
    from cli.render import ingest_table
    from config.settings import load_settings
    from config.tools import ffmpeg_version, find_ffmpeg
    from demo.run import build_workspace

    say = err.print if as_json else out.print
    ws = workspace.absolute()
    ffmpeg = find_ffmpeg(load_settings(state.config).ffmpeg if state.config else None)
    say("[bold]postprod demo[/] " + escape(f"in {ws}\nffmpeg: {ffmpeg_version(ffmpeg)} ({ffmpeg})", lines=True))
    say("1. Building the production: camera cards A001 and B001, sound card D01, a phone folder…")
    config, cards = build_workspace(ws, ffmpeg)
    state.config = config
    from flows.steps import use_prefect

    how = "direct" if direct else "Prefect flow" if use_prefect(load_settings(config)) else \
        "the flow's steps in this process: no Prefect server configured"
    say(f"2. Ingesting {len(cards)} cards ({how})…")
    reports = run_ingest_cli(cards, "demo", direct=direct, show_progress=not as_json)
    for r in reports:
        say(ingest_table(r))
    errors = sum(r.summary["errors"] for r in reports)
    warnings = sum(r.summary["warnings"] for r in reports)
    new = sum(r.summary["new"] for r in reports)
    say(f"\n[bold]Summary[/]: {sum(r.summary['files'] for r in reports)} files, {new} newly ingested, "
              f"{errors} errors and {warnings} warnings found (the demo plants them on purpose).")
    say("Reports:")
    for r in reports:
        say(f"  {escape(str(r.report_html))}")
    from demo.run import DEMO_STEPS, DemoContext

    ctx = DemoContext(workspace=ws, config=config, reports=reports, direct=direct, say=say)
    for number, step in enumerate(DEMO_STEPS, start=3):
        say(f"\n{number}. {(step.__doc__ or step.__name__).strip().splitlines()[0]}")
        step(ctx)
    cfg = load_settings(config)
    say(escape(f"Catalogue: {cfg.db_url}\nSettings:  {config}", lines=True))
    if as_json:
        emit_json({"workspace": str(ws), "settings": str(config), "catalogue": cfg.db_url,
                   "summary": {"files": sum(r.summary["files"] for r in reports), "new": new, "errors": errors,
                               "warnings": warnings},
                   "ingest_reports": [r.report_html for r in reports]})
