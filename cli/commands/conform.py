"""`postprod conform`: check an edit list against the rushes catalogue before the online (no Prefect wait)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import JsonOpt, ProductionOpt, app
from cli.commands.conform_run import conform_command


@app.command()
def conform(
    timeline: Annotated[Path, typer.Argument(help="Edit list: .edl (CMX3600), .xml (FCP7/Premiere/Resolve), "
                                             ".fcpxml, .aaf or .otio.")],
    production: ProductionOpt = "default",
    rate: Annotated[str | None, typer.Option("--rate", help="Timeline frame rate (25, 29.97, 24000/1001). "
                                             "Default: the file's, else the production spec's.")] = None,
    handles: Annotated[int | None, typer.Option("--handles", min=0, help="Frames needed beyond each event "
                                                "for the online. Default: the production's (12).")] = None,
    relink: Annotated[Path | None, typer.Option("--relink", help="Write a timeline whose clips point at the "
                                                "camera originals (.otio; also .xml, .fcpxml).")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Folder for the JSON and HTML reports. "
                                                "Default: <data_dir>/reports/conform.")] = None,
    record: Annotated[bool, typer.Option("--record/--no-record", help="Move the production's conform stage "
                                         "(in progress when clean, blocked on errors).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check that every event can be rebuilt from the camera originals: media found, in range, with handles.

    Exit code: 0 when no error-level finding, 1 when there is one, 2 when the input cannot be used.
    """
    raise typer.Exit(conform_command(timeline, production, rate, handles, relink, report, record, as_json))
