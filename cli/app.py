"""The `postprod` Typer application and what its commands share: settings, output, exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from config.settings import Settings

app = typer.Typer(
    name="postprod",
    help=(
        "Rushes ingest, conform check and PAD QC for film and TV post-production.\n\n"
        "Start with `postprod demo`: it builds a small production with cards and runs the pipeline on it."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)

# Piped into a file or a mail, tables keep a readable width instead of 80 columns.
out = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)


class State:
    config: Path | None = None


state = State()


@app.callback()
def _global(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Settings file (TOML). Default: "
                      "$POSTPROD_CONFIG, ./postprod.toml, ~/.config/postprod/postprod.toml.")] = None,
) -> None:
    state.config = config


def settings() -> Settings:
    from config.settings import load_settings

    return load_settings(state.config)


def emit_json(data: Any) -> None:
    """JSON on stdout, nothing else there: other tools read it (docs/json.md)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def exit_code_for(errors: int) -> int:
    return 1 if errors else 0


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (see docs/json.md) instead of tables.")]
ProductionOpt = Annotated[str, typer.Option("--production", "-p", help="Production name from settings.")]
