"""`postprod qc`: the final master against the broadcaster's delivery profile, in one decode."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import JsonOpt, app
from cli.commands.qc_run import check_duration, print_report, qc_command, run_qc_cli

__all__ = ["check_duration", "print_report", "qc", "run_qc_cli"]


@app.command()
def qc(
    master: Annotated[Path, typer.Argument(help="The PAD master file.")],
    profile: Annotated[str | None, typer.Option("--profile", help="Delivery profile: built-in name (fr-pad-hd, "
                                                "arte-hd, dpp-as11-hd, ebu-r128-hd25, netflix-hd) or a TOML file. "
                                                "Default: the production's delivery_profile.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Folder for the JSON and HTML reports. "
                                                "Default: <data_dir>/reports/qc.")] = None,
    duration: Annotated[str | None, typer.Option("--duration", help="Expected programme duration, "
                                                 "HH:MM:SS:FF.")] = None,
    production: Annotated[str | None, typer.Option("--production", "-p", help="Production whose PAD delivery "
                                                   "stage the result moves (with --flow).")] = None,
    flow: Annotated[bool, typer.Option("--flow", help="Run as the Prefect flow and move the production's PAD "
                                       "delivery stage (pass: done, fail: blocked).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check a master against a delivery profile: format, loudness, peaks, silence, black, freeze, levels, gamut.

    One ffmpeg decode measures everything; every defect gets a timecode from the file's own start timecode.
    Exit code: 0 pass, 1 fail, 2 unusable input (not a video, audio only, undecodable, unknown profile).
    """
    raise typer.Exit(qc_command(master, profile, report, duration, production, flow, as_json))
