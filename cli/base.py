"""What the commands share without typer: the settings file given, the settings, the consoles, JSON output and
exit codes. Apart from cli/app.py (the typer application, which re-exports these) so that a command run through
cli/fast.py's plain parse loads no typer."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from config.settings import Settings


class _LazyConsole:
    """A rich Console made at its first use: `--help` and `--json` print nothing through rich and do not load it
    (a sixth of a light command's start-up)."""

    def __init__(self, *, piped_width: int | None = None, **options: Any) -> None:
        self._piped_width = piped_width
        self._options = options
        self._console: Console | None = None

    def _made(self) -> Console:
        if self._console is None:
            from rich.console import Console

            piped = self._piped_width and not sys.stdout.isatty() and not os.environ.get("COLUMNS")
            self._console = Console(**self._options, width=self._piped_width if piped else None)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self._made(), name)

    def __setattr__(self, name: str, value: Any) -> None:  # `out.width = 2000` sets the console's
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._made(), name, value)

    def __enter__(self) -> Console:  # rich's Live and Progress hold the console with `with console:`
        return self._made().__enter__()

    def __exit__(self, *exc: object) -> None:
        self._made().__exit__(*exc)

    def __delattr__(self, name: str) -> None:  # undoing such a change (pytest's monkeypatch): a console as made
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            self._console = None


# Piped into a file or a mail, tables keep a readable width instead of 80 columns. No emoji codes: a file named
# "A001:fire:.mov" prints as it is named (and rich's table of 4,000 emoji is not loaded at each start).
out: Console = _LazyConsole(highlight=False, soft_wrap=False, emoji=False, piped_width=160)  # type: ignore[assignment]
err: Console = _LazyConsole(stderr=True, highlight=False, emoji=False)  # type: ignore[assignment]


class State:
    config: Path | None = None


state = State()


def settings() -> Settings:
    from config.settings import load_settings

    return load_settings(state.config)


def emit_json(data: Any) -> None:
    """JSON on stdout, nothing else there: other tools read it (docs/json.md)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def exit_code_for(errors: int) -> int:
    return 1 if errors else 0
