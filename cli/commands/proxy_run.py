"""`postprod proxy`'s work, without typer: cli/commands/proxy.py declares the command (its options, its help);
`proxy_command` is what a plain command line could be handed to directly (cli/fast.py's table), as for ingest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cli.base import emit_json, err, exit_code_for, out, settings
from cli.text import escape, visible
from config.errors import PostprodError

if TYPE_CHECKING:  # the command's modules load when it runs: `postprod --help` stays quick
    from rich.table import Table

    from ingest.proxies.make import ProxyReport


def proxy_command(paths: list[Path], preset: str, out_dir: Path | None = None, production: str = "default",
                  workers: int | None = None, lut: Path | None = None, as_json: bool = False) -> int:
    """Make the proxies and say what was made (the JSON report, or a table); returns the exit code."""
    report = run_proxy_cli(paths, preset, production, out_dir=out_dir, workers=workers, lut=lut,
                           show_progress=not as_json)
    if as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        out.print(proxy_table(report))
        s = report.summary
        out.print(f"{s['made']} made, {s['skipped']} already there, {s['errors']} failed"
                  + (f", {len(report.cleaned)} leftover(s) of an interrupted run removed" if report.cleaned else ""))
        for ale in report.ale:
            out.print(f"  ALE: {escape(str(ale))}")
    return exit_code_for(report.summary["errors"])


def run_proxy_cli(paths: list[Path], preset: str, production: str, *, out_dir: Path | None = None,
                  workers: int | None = None, lut: Path | None = None, show_progress: bool = True) -> ProxyReport:
    """Plan and run a batch of proxies in this process (the proxy flow's steps), with a progress bar unless
    `show_progress` is off (`--json`: rich is then not loaded at all)."""
    from flows.proxy import run_proxies

    cfg = settings()
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise PostprodError("no such file or folder", path=missing[0])

    def run(hook: Callable[[str, int], None] | None) -> ProxyReport:
        return run_proxies([str(p) for p in paths], preset, production, cfg, out=str(out_dir) if out_dir else None,
                           workers=workers, lut=str(lut) if lut else None, progress=hook)

    if not show_progress:
        return run(None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed} frames"),
                        TimeElapsedColumn(), console=err, transient=True)
    with progress:
        task_id = progress.add_task(escape(Path(preset).stem), total=None)

        def hook(source: str, n: int) -> None:
            progress.update(task_id, advance=n, description=escape(Path(source).name[-40:]))

        return run(hook)


def _short(path: str | None, root: str) -> str:
    if not path:
        return ""
    p = Path(path)
    return p.relative_to(root).as_posix() if p.is_relative_to(root) else path


def proxy_table(report: ProxyReport) -> Table:
    from rich.table import Table
    from rich.text import Text

    title = f"{report.preset} → {report.root}  ({report.encoder}, {report.workers} at a time)"
    table = Table(title=Text(visible(title)),
                  title_justify="left")
    for col in ("clip", "status", "frames", "start TC", "reel", "proxy / error"):
        table.add_column(col, overflow="fold")
    colours = {"made": "green", "skipped": "dim", "error": "red", "ignored": "dim"}
    for c in report.clips:
        detail = c.error if c.status in ("error", "ignored") else _short(c.proxy, report.root)
        table.add_row(Text(visible(f"{c.card}/{c.relpath}")), Text(c.status, style=colours[c.status]),
                      str(c.frames or ""), Text(visible(c.start_timecode or "")), Text(visible(c.reel or "")),
                      Text(visible(detail or "", lines=True)))
    return table
