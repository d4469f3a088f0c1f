"""Entry point of the `postprod` command: user errors become a message and an exit code, never a traceback."""

from __future__ import annotations

import os
import sys

from rich.markup import escape

from config.errors import PostprodError


def _quiet_environment() -> None:
    # No internet on storage servers: no analytics, ever. Prefect logs only what matters on a terminal.
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    # A loaded storage server can take longer than Prefect's default 20 s to start its local server.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


# Which module registers each command. A command loads only its own module (and so only its own
# dependencies: SQLAlchemy, Prefect, OpenTimelineIO...), so that `postprod qc` or `postprod probe`
# starts in a fraction of a second; help, completion and anything not listed load them all.
COMMANDS = {
    "conform": "conform", "demo": "demo", "deploy": "deploy", "worker": "deploy",
    "reconcile": "deploy", "submit": "deploy", "ingest": "ingest", "plan": "plan",
    "probe": "probe", "proxy": "proxy", "qc": "qc", "watch": "watch", "serve": "serve", "user": "serve",
}


def register(argv: list[str]) -> None:
    """Import the command modules `argv` needs (they register their commands on import)."""
    import importlib

    words = [a for a in argv[1:] if not a.startswith("-")]
    first = words[0] if words else None
    wanted = [COMMANDS[first]] if first in COMMANDS else sorted(set(COMMANDS.values()))
    for module in wanted:
        importlib.import_module(f"cli.commands.{module}")


def main() -> None:
    _quiet_environment()
    register(sys.argv)
    from cli.app import app, err

    try:
        app()
    except PostprodError as exc:
        err.print("[bold red]error:[/] " + escape(str(exc)))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
