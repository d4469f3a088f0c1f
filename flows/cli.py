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


def main() -> None:
    _quiet_environment()
    from flows import (  # noqa: F401  (they register their commands)
        cmd_conform,
        cmd_demo,
        cmd_deploy,
        cmd_ingest,
        cmd_plan,
        cmd_probe,
        cmd_proxy,
        cmd_qc,
        cmd_watch,
    )
    from flows.app import app, err

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
