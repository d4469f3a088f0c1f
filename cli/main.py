"""Entry point of the `postprod` command: user errors become a message and an exit code, never a traceback.

`run()` is the one place where every exception of a command ends: a PostprodError is the user's input
(its message, exit 2), an OSError on a named path is the user's file system (the path and the cause,
exit 2), anything else is a bug: one line naming the command and its input, the traceback written to a
log file whose path is printed, and exit code 70 (EX_SOFTWARE) so that tests and scripts still see it.
POSTPROD_DEBUG=1 lets such an exception through with its traceback, for developers.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from pathlib import Path

from cli.text import escape
from config.errors import PostprodError

INTERNAL_ERROR = 70  # sysexits.h EX_SOFTWARE: a bug in postprod, not a fault of the input


def _quiet_environment() -> None:
    # No internet on storage servers: no analytics, ever. Prefect logs only what matters on a terminal.
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    # A loaded storage server can take longer than Prefect's default 20 s to start its local server.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # postprod uses no pydantic plugin: looking for them reads every installed package's entry points at the
    # first model built (20-30 ms of each start). An empty PYDANTIC_DISABLE_PLUGINS= lets them load again.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _no_plugin_lookup()


PLUGINS_OFF = ("__all__", "1", "true")  # the values of PYDANTIC_DISABLE_PLUGINS that pydantic reads as "none"


def _no_plugin_lookup() -> None:
    """pydantic's plugin loader imports importlib.metadata (and with it email, zipfile, csv: 20-30 ms of a start)
    at its first model, before it reads PYDANTIC_DISABLE_PLUGINS and returns no plugin. While the variable says
    "none", a stand-in loader answers as pydantic's would, without that import; set otherwise, it hands over to
    pydantic's own (tests/cli/test_startup.py holds both ways)."""
    import types

    name = "pydantic.plugin._loader"
    if name in sys.modules or os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in PLUGINS_OFF:
        return
    loader = types.ModuleType(name, "postprod's stand-in: no plugins while PYDANTIC_DISABLE_PLUGINS says none")

    def get_plugins() -> tuple[()] | object:
        if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in PLUGINS_OFF:
            return ()
        import importlib

        if sys.modules.get(name) is loader:
            del sys.modules[name]
        return importlib.import_module(name).get_plugins()

    loader.get_plugins = get_plugins  # type: ignore[attr-defined]
    sys.modules[name] = loader


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


def ingest_paths(args: list[str]) -> list[str] | None:
    """The cards of `postprod [-c FILE] ingest [-p NAME] [--direct] [--json] PATH...`, read before typer loads;
    None for anything else, or any option not named here (`--help`, `-ptest`...): the command decides then."""
    i = 0
    while i < len(args) and (args[i] in ("-c", "--config") or args[i].startswith("--config=")):
        i += 1 if "=" in args[i] else 2
    if args[i:i + 1] != ["ingest"]:
        return None
    rest, paths, j = args[i + 1:], [], 0
    while j < len(rest):
        word = rest[j]
        if word == "--":
            paths.extend(rest[j + 1:])
            break
        if word in ("-p", "--production"):
            j += 2
            continue
        if word in ("--direct", "--json") or word.startswith("--production="):
            j += 1
            continue
        if word.startswith("-"):
            return None
        paths.append(word)
        j += 1
    return paths or None


def _read_ahead(args: list[str]) -> bool:
    """`postprod ingest CARD...`: the cards read into the page cache from now on, while the command's modules
    load (ingest/readahead.py: a warm-up only; the command itself starts it when this cannot tell)."""
    paths = ingest_paths(args)
    if paths:
        from ingest import readahead

        readahead.start(paths)
    return bool(paths)


def _tolerant_streams() -> None:
    # File names that are not UTF-8 (copied from old volumes) reach the output as surrogates: show them
    # escaped instead of failing on the terminal's encoding.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def log_dir() -> Path:
    """Where crash logs go: $POSTPROD_LOG_DIR, else $XDG_STATE_HOME/postprod, else ~/.local/state/postprod."""
    if os.environ.get("POSTPROD_LOG_DIR"):
        return Path(os.environ["POSTPROD_LOG_DIR"])
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "postprod"


def write_crash_log(args: list[str], exc: BaseException) -> Path | None:
    """Write the command line and the traceback to a new log file; returns its path (None if nowhere)."""
    import shlex
    import tempfile
    import traceback
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    text = (f"postprod {shlex.join(args)}\n{datetime.now(UTC).isoformat()}  python {sys.version.split()[0]}\n\n"
            + "".join(traceback.format_exception(exc)))
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        path = folder / f"postprod-crash-{stamp}-{os.getpid()}.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="backslashreplace")
            return path
        except OSError:
            continue
    return None


def _command_name(args: list[str]) -> str:
    words = [a for a in args if not a.startswith("-")]
    if words and words[0] == "plan" and len(words) > 1:
        return f"plan {words[1]}"
    return words[0] if words else ""


def _report_bug(args: list[str], exc: BaseException) -> int:
    import shlex

    from cli.base import err

    log = write_crash_log(args, exc)
    name = f"postprod {_command_name(args)}".strip()
    where = f"the traceback is in {log}" if log else "no log could be written"
    err.print(f"[bold red]internal error[/] in `{escape(name)}` "
              f"(input: {escape(shlex.join(args))}): {escape(type(exc).__name__)}: {escape(str(exc))} — "
              f"a bug in postprod, not your input's fault; {escape(where)}: please send it with the command line.",
              soft_wrap=True)
    return INTERNAL_ERROR


def _report_os_error(exc: OSError) -> int:
    from cli.base import err

    path = exc.filename if exc.filename2 is None else f"{exc.filename} → {exc.filename2}"
    err.print("[bold red]error:[/] " + escape(f"{path}: {exc.strerror or exc}"), soft_wrap=True)
    return 2


class Stopped(SystemExit):
    """A service stop (SIGTERM): unwinds like an exit, so that children are stopped, temporary files removed
    and nothing half-written is left (the default would end the process on the spot, its ffmpeg running on)."""


def _stop(signum: int, frame: object) -> None:
    raise Stopped(128 + signum)


def run(args: list[str]) -> int:
    """Run `postprod ARGS`; returns the exit code. Prints messages, never a traceback (see the module doc)."""
    reading_ahead = _read_ahead(args)
    _quiet_environment()
    _tolerant_streams()
    from cli import fast

    plain = fast.parse(args)  # a plain command line of a command people wait on: run without typer (cli/fast.py)
    if plain is None:
        register(["postprod", *args])
    from cli.base import err

    # `watch` and `worker` put their own graceful stop in its place. Only the main thread may set a handler.
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop) if main_thread else None
    try:
        if plain is not None:
            return fast.run(plain)
        from cli.app import command

        command(args).main(args=args, prog_name="postprod", standalone_mode=True)
    except Stopped as exc:
        err.print(f"stopped by {signal.Signals(exc.code - 128).name}: what was under way has no result")
        return exc.code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except PostprodError as exc:
        err.print("[bold red]error:[/] " + escape(str(exc), lines=True), soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as exc:
        if os.environ.get("POSTPROD_DEBUG"):
            raise
        if isinstance(exc, OSError) and exc.filename is not None:
            return _report_os_error(exc)
        return _report_bug(args, exc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if reading_ahead:
            from ingest import readahead

            readahead.stop()
    return 0


# The cyclic garbage collector runs each time 700 more container objects live than were freed (Python's default):
# 80 to 100 collections while a command's modules load (classes, functions, pydantic's schemas), 30-40 ms of each
# start, and nothing they find is garbage. A command allocates about 60,000-70,000 such objects as it starts: at
# this threshold none of that start-up is scanned, and a long run (watch, serve, a worker) is still collected,
# every 100,000 net allocations (a few ms each; at most that many objects' cycles wait to be freed).
GC_THRESHOLD = 100_000


def main() -> None:
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    code = run(sys.argv[1:])
    # The interpreter's exit runs full garbage collections over every object the imports made (SQLAlchemy,
    # pydantic, typer, rich: about 0.3 s of CPU, measured with and without), and none of it is garbage: it is
    # freed by reference counting as the modules are torn down. Frozen objects are skipped by those passes. The
    # command is over (its files closed, its children stopped, its output written); atexit handlers still run.
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    main()
