"""`postprod proxy`: proxies for the offline edit, verified against their sources (docs/proxy.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.app import JsonOpt, ProductionOpt, app, emit_json, err, exit_code_for, out, settings
from cli.text import escape, visible
from config.errors import PostprodError

if TYPE_CHECKING:  # the command's modules load when it runs: `postprod --help` stays quick
    from rich.table import Table

    from ingest.proxies.make import ProxyReport


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


@app.command()
def proxy(
    paths: Annotated[list[Path], typer.Argument(help="Cards (folders) or clips.")],
    preset: Annotated[str, typer.Option("--preset", help="A built-in preset (avid-dnxhr-lb, prores-proxy, "
                                        "h264-review) or a preset TOML file.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Proxy root (default: the production's); "
                                                 "proxies go to OUT/PRESET/CARD/...")] = None,
    production: ProductionOpt = "default",
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Parallel encodes (default: the "
                                                "proxy_workers setting, else a quarter of the cores).")] = None,
    lut: Annotated[Path | None, typer.Option("--lut", help="A .cube LUT (default: the production's "
                                             "proxy_lut).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make proxies: sized by the preset, burnt-in source timecode and clip name, same frames, start
    timecode, reel and audio channels as the source (re-probed, else rejected).

    The tree mirrors each card under the proxy root. Re-running skips proxies already made from the same
    source content. Exit code: 0 all proxies made or already there, 1 a clip failed, 2 unusable input.
    """
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
    raise typer.Exit(exit_code_for(report.summary["errors"]))
