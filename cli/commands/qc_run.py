"""`postprod qc`'s work, without typer: cli/commands/qc.py declares the command (its options, its help), cli/fast.py
calls `qc_command` directly for a plain command line."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from cli.base import emit_json, err, out, settings, state
from cli.text import escape
from config.errors import PostprodError

if TYPE_CHECKING:  # the command's modules load when it runs: `postprod --help` stays quick
    from qc.run import QcReport


def qc_command(master: Path, profile: str | None = None, report: Path | None = None, duration: str | None = None,
               production: str | None = None, flow: bool = False, as_json: bool = False) -> int:
    """Check a master against a delivery profile; returns the exit code (0 pass, 1 fail, 2 unusable)."""
    result = run_qc_cli(master, profile, production, report_dir=report, expected_duration=duration, flow=flow,
                        show_progress=not as_json)
    if as_json:
        emit_json(result.model_dump(mode="json"))
    else:
        print_report(result)
    if result.verdict == "unusable" and not as_json:
        err.print(f"[bold red]error:[/] {escape(result.master)}: {escape(result.error or 'unusable', lines=True)}")
    return result.exit_code


def run_qc_cli(master: Path, profile: str | None, production: str | None, *, report_dir: Path | None,
               expected_duration: str | None, flow: bool, show_progress: bool) -> QcReport:
    """Run the QC with a progress bar over the seconds decoded. `flow`: the PAD QC flow's steps, which move
    the PAD delivery stage, through Prefect when a server is configured, else in this process."""
    from qc import headstart

    # The pass's ffmpeg starts now, while the modules below load (qc/headstart.py): the analysis takes it if it
    # waits for the very command the analysis builds, else it is killed unused.
    headstart.start(master.absolute(), os.environ.get("POSTPROD_FFMPEG") or None)
    try:
        return _run_qc_cli(master, profile, production, report_dir=report_dir, expected_duration=expected_duration,
                           flow=flow, show_progress=show_progress)
    finally:
        headstart.discard()


def _run_qc_cli(master: Path, profile: str | None, production: str | None, *, report_dir: Path | None,
                expected_duration: str | None, flow: bool, show_progress: bool) -> QcReport:
    from flows.qc import run_pad_qc
    from flows.steps import use_prefect
    from qc.master import profile_name
    from qc.profile import load_profile

    cfg = settings()
    name = profile_name(production, profile, cfg)
    load_profile(name)  # an unknown profile fails here, before any decode
    if expected_duration is not None:
        check_duration(expected_duration)
    if not master.exists():
        raise PostprodError("no such file", path=master)
    if master.is_dir():
        raise PostprodError("is a folder, not a master file", path=master)
    with _progress_bar(show_progress) as hook:
        folder = str(report_dir) if report_dir else None
        if not (flow and use_prefect(cfg)):
            return run_pad_qc(str(master.absolute()), name, production, cfg, report_dir=folder,
                              expected_duration=expected_duration, record=flow, progress=hook)
        from flows.history import RecordedRun

        params = {"master": str(master.absolute()), "profile": name, "production": production or "default",
                  "config": str(state.config) if state.config else None, "report_dir": folder,
                  "expected_duration": expected_duration}
        with RecordedRun(cfg, "pad-qc", params) as steps:
            return run_pad_qc(str(master.absolute()), name, production or "default", cfg, report_dir=folder,
                              expected_duration=expected_duration, record=True, progress=hook, steps=steps)


@contextmanager
def _progress_bar(show: bool) -> Iterator[Callable[[float, float], None] | None]:
    """A progress bar over the seconds decoded, on stderr, and the hook that moves it; none with `--json`
    (then rich's progress module is not even loaded)."""
    if not show:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("[bold]analysing"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                        TimeRemainingColumn(), console=err, transient=True)
    with progress:
        task_id = progress.add_task("qc", total=None)

        def hook(done: float, total: float) -> None:
            progress.update(task_id, completed=done, total=total or None)

        yield hook


def check_duration(value: str) -> None:
    """--duration must be a timecode (the rate is the master's, unknown yet: frames are checked later)."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2}):(\d{2})[:;.](\d{2,3})", value.strip())
    if not match:
        raise PostprodError(f"--duration '{value}' is not a duration HH:MM:SS:FF")
    if int(match.group(2)) > 59 or int(match.group(3)) > 59:
        raise PostprodError(f"--duration '{value}' is not a duration: minutes and seconds go from 00 to 59")


def print_report(report: QcReport) -> None:
    colour = {"pass": "green", "fail": "red", "unusable": "magenta"}[report.verdict]
    out.print(f"[bold {colour}]{report.verdict.upper()}[/]  {escape(report.master)}  "
              f"(profile {escape(report.profile)}, start {escape(report.start_timecode or 'none')})")
    if report.error:
        out.print(f"  [red]unusable:[/] {escape(report.error, lines=True)}")
    for c in report.checks:
        mark = "[green]ok[/]  " if c.status == "pass" else f"[red]{c.severity.value[:4]}[/]"
        out.print(f"  {mark} {escape(c.check_id):28} {escape(c.measured or '')}")
        for f in c.findings:
            where = f"{f.start_tc}–{f.end_tc}  " if f.start_tc else ""
            out.print(f"         [dim]{escape(where)}[/]{escape(f.message, lines=True)}")
    if report.report_html:
        out.print(f"report: {escape(report.report_html)}")
