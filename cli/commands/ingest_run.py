"""`postprod ingest`'s work, without typer: cli/commands/ingest.py declares the command (its options, its help),
cli/fast.py calls `ingest_command` directly for a plain command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from cli.base import emit_json, err, exit_code_for, out, settings, state
from cli.text import escape
from config.errors import PostprodError

if TYPE_CHECKING:  # the command's modules load when it runs: `postprod --help` stays quick
    from ingest.card import IngestProgress
    from ingest.results import CardReport


def ingest_command(paths: list[Path], production: str = "default", direct: bool = False, as_json: bool = False) -> int:
    """Ingest the cards; returns the exit code (1 on an error-level finding)."""
    from ingest import readahead

    readahead.start(paths)  # the cards into the page cache while the ingest's modules load: a warm-up only
    try:
        reports = run_ingest_cli(paths, production, direct=direct, show_progress=not as_json)
    finally:
        readahead.stop()
    if as_json:
        emit_json([r.model_dump(mode="json") for r in reports])
    else:
        from cli.render import ingest_table

        for r in reports:
            out.print(ingest_table(r))
            out.print(f"  report: {escape(str(r.report_html))}")
            if r.mhl_path:
                out.print(f"  MHL:    {escape(str(r.mhl_path))}")
    return exit_code_for(sum(r.summary["errors"] for r in reports))


def _total_bytes(paths: list[Path], ignore: list[str]) -> int:
    from ingest.scan import scan

    total = 0
    for p in paths:
        for f in scan(p, ignore).files:
            try:
                total += f.stat().st_size
            except OSError:
                pass
    return total


def run_ingest_cli(paths: list[Path], production: str, *, direct: bool, show_progress: bool) -> list[CardReport]:
    """Run the ingest with a progress bar over the bytes to hash: through the Prefect flow when a Prefect
    server is configured (and not `direct`), else the same steps in this process (flows/steps.py)."""
    from flows.ingest import run_ingest
    from flows.steps import use_prefect

    cfg = settings()
    cfg.production(production).tech_spec()  # unknown names and bad spec files fail here, before any work
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise PostprodError("no such file or folder", path=missing[0])
    sources = [str(p.absolute()) for p in paths]
    with _progress_bar(paths, cfg.ignore, show_progress) as hook:
        if not use_prefect(cfg, direct=direct):
            return run_ingest(sources, production, cfg, progress=hook)
        from flows.history import RecordedRun

        params = {"sources": sources, "production": production, "config": str(state.config) if state.config else None}
        with RecordedRun(cfg, "ingest", params, notify="ingest") as steps:
            return run_ingest(sources, production, cfg, steps=steps, progress=hook)


@contextmanager
def _progress_bar(paths: list[Path], ignore: list[str], show: bool) -> Iterator[IngestProgress | None]:
    """A progress bar over the bytes to hash, on stderr; none (and rich not loaded) when not shown (--json)."""
    if not show:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        TimeRemainingColumn(), console=err, transient=True)
    with progress:
        task_id = progress.add_task("hashing", total=_total_bytes(paths, ignore) or None)

        def hook(card: str, rel: str, n: int) -> None:
            progress.update(task_id, advance=n, description=escape(f"{card}/{rel}"[-48:]))

        yield hook
