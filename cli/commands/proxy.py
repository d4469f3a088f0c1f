"""`postprod proxy`: proxies for the offline edit, verified against their sources (docs/proxy.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import JsonOpt, ProductionOpt, app
from cli.commands.proxy_run import proxy_command, proxy_table, run_proxy_cli

__all__ = ["proxy", "proxy_table", "run_proxy_cli"]


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
    raise typer.Exit(proxy_command(paths, preset, out_dir, production, workers, lut, as_json))
