"""`postprod probe`: describe files and flag what does not fit the production's technical spec."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import JsonOpt, ProductionOpt, app
from cli.commands.probe_run import POOL_FROM, probe_command, probe_paths

__all__ = ["POOL_FROM", "probe", "probe_paths"]


@app.command()
def probe(
    files: Annotated[list[Path], typer.Argument(help="Media files or folders to describe.")],
    spec: Annotated[str | None, typer.Option("--spec", help="Technical spec: a built-in name or a TOML file. "
                                             "Default: the production's.")] = None,
    production: ProductionOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Describe each file (format, frame rate, scan, timecode, reel, audio) and flag what breaks the spec.

    Exit code: 0 when no error-level finding, 1 when there is one.
    """
    raise typer.Exit(probe_command(files, spec, production, as_json))
