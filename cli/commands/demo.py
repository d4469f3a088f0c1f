"""`postprod demo`: build a small realistic production and run the whole pipeline on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cli.app import app, out, state


@app.command()
def demo(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Folder to build the demo in.")] = Path(
        "postprod-demo"),
    direct: Annotated[bool, typer.Option("--direct", help="Run the steps without Prefect.")] = False,
) -> None:
    """Build two camera cards and a sound card (with trouble planted) and run the ingest flow on them.

    Running it again reuses the media and shows that nothing is ingested twice.
    """
    from cli.commands.ingest import run_ingest_cli
    from cli.render import ingest_table
    from config.settings import load_settings
    from config.tools import ffmpeg_version, find_ffmpeg
    from demo.run import build_workspace

    ws = workspace.absolute()
    ffmpeg = find_ffmpeg(load_settings(state.config).ffmpeg if state.config else None)
    out.print("[bold]postprod demo[/] " + escape(f"in {ws}\nffmpeg: {ffmpeg_version(ffmpeg)} ({ffmpeg})"))
    out.print("1. Building the production: camera cards A001 and B001, sound card D01, a phone folder…")
    config, cards = build_workspace(ws, ffmpeg)
    state.config = config
    from flows.steps import use_prefect

    how = "direct" if direct else "Prefect flow" if use_prefect(load_settings(config)) else \
        "the flow's steps in this process: no Prefect server configured"
    out.print(f"2. Ingesting {len(cards)} cards ({how})…")
    reports = run_ingest_cli(cards, "demo", direct=direct, show_progress=True)
    for r in reports:
        out.print(ingest_table(r))
    errors = sum(r.summary["errors"] for r in reports)
    warnings = sum(r.summary["warnings"] for r in reports)
    new = sum(r.summary["new"] for r in reports)
    out.print(f"\n[bold]Summary[/]: {sum(r.summary['files'] for r in reports)} files, {new} newly ingested, "
              f"{errors} errors and {warnings} warnings found (the demo plants them on purpose).")
    out.print("Reports:")
    for r in reports:
        out.print(f"  {escape(str(r.report_html))}")
    from demo.run import DEMO_STEPS, DemoContext

    ctx = DemoContext(workspace=ws, config=config, reports=reports, direct=direct, say=out.print)
    for number, step in enumerate(DEMO_STEPS, start=3):
        out.print(f"\n{number}. {(step.__doc__ or step.__name__).strip().splitlines()[0]}")
        step(ctx)
    cfg = load_settings(config)
    out.print(escape(f"Catalogue: {cfg.db_url}\nSettings:  {config}"))
