"""`postprod ingest`: verified ingest of cards and folders, as a Prefect flow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import JsonOpt, ProductionOpt, app
from cli.commands.ingest_run import ingest_command, run_ingest_cli

__all__ = ["ingest", "run_ingest_cli"]


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Cards (folders) or files, already completely copied.")],
    production: ProductionOpt = "default",
    direct: Annotated[bool, typer.Option("--direct", help="Run the steps without Prefect (no run history, "
                                         "no server start-up).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Hash every file (verifying the card's MHL from set), probe, check the spec, catalogue, report.

    Writes an ASC MHL generation into the card's ascmhl/ folder (or the data directory when the card is
    read-only) and JSON and HTML reports. Re-running does nothing for files already ingested.
    Exit code: 0 when no error-level finding, 1 when there is one, 2 when a path cannot be used.
    """
    raise typer.Exit(ingest_command(paths, production, direct, as_json))
