"""`postprod watch`: ingest each card once its copy into an ingest folder has ended."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cli.app import JsonOpt, app, settings
from cli.text import visible

_UNIT_EVENTS = {"arrived", "settling", "waiting", "ready", "ingest_started", "ingested", "ingest_failed",
                "vanished", "left"}


def format_event(e: dict[str, Any]) -> str:
    """One line of the foreground log for an event (the --json shape is in docs/watch.md)."""
    t = datetime.fromisoformat(e["time"]).astimezone().strftime("%H:%M:%S")
    kind = e["event"]
    unit = e.get("unit", "")
    if kind == "watching":
        how = f"polling every {e['poll_seconds']:g} s ({e['why']})" if e["mode"] == "poll" else "inotify"
        text = f"{e['folder']} [{e['production']}]: {how}"
    elif kind == "reconciled":
        text = f"{e['folder']}: {e['files']} file(s) on disk, {e['to_ingest']} not in the catalogue " \
               f"as they are ({e['seconds']:.2f} s)"
    elif kind == "arrived":
        text = f"{unit}{'/' if e.get('card') else ''} [{e['production']}]"
    elif kind in ("settling", "waiting", "left"):
        text = f"{unit}: {e['reason']}" + (f" — {e['message']}" if e.get("message") else "")
    elif kind == "ready":
        text = f"{unit}: {e['files']} file(s) complete"
    elif kind == "ingest_started":
        text = f"{unit}"
    elif kind == "submitted":
        text = f"{unit}: submitted to the Prefect server, flow run {e['run']}"
    elif kind == "ingested":
        text = (f"{unit}: {e['files']} file(s), {e['new']} new, {e['unchanged']} already catalogued, "
                f"{e['errors']} error(s), {e['warnings']} warning(s)")
        if e.get("reports"):  # a person opens the HTML report written next to the JSON one
            html = os.path.splitext(e["reports"][0])[0] + ".html"
            text += f"\n{'':20}report: {html if os.path.exists(html) else e['reports'][0]}"
        for p in e.get("problems", [])[:10]:
            text += f"\n{'':20}! {p}"
    elif kind in ("ingest_failed", "vanished", "problem", "folder_unavailable"):
        where = unit or e.get("path") or e.get("folder") or ""
        text = f"{where}: {e.get('message', '')}"
    elif kind == "folder_back":
        text = f"{e['folder']}" + (f" ({e['message']})" if e.get("message") else "")
    elif kind == "stopping":
        text = f"{', '.join(e['running'])}: {e['message']}"
    elif kind == "abandoned":
        text = f"{', '.join(e['units'])}: {e['message']}"
    elif kind == "signal":
        text = f"{e['signal']}: {e['message']}"
    elif kind == "stopped":
        text = f"{e['ingests']} ingest(s), {e['new']} new file(s), {e['errors']} error(s), {e['failures']} failed"
    else:
        text = json.dumps({k: v for k, v in e.items() if k not in ("time", "event")}, ensure_ascii=False)
    label = {"ingest_started": "ingesting"}.get(kind, kind.replace("_", " "))
    return f"{t}  {label:<17} {text}"


@app.command()
def watch(
    production: Annotated[str | None, typer.Option("--production", "-p", help="Watch this production's "
                          "ingest folders only (default: every production that has some).")] = None,
    poll: Annotated[float | None, typer.Option("--poll", min=0.05, help="Poll every folder every SECONDS "
                    "(NFS/SMB shares send no inotify events); default: inotify, polling for the folders in "
                    "a production's poll_folders and for network mounts.")] = None,
    once: Annotated[bool, typer.Option("--once", help="One reconciliation pass: ingest what is complete "
                    "and not catalogued, leave what is still arriving, and exit (for cron).")] = False,
    flow: Annotated[bool | None, typer.Option("--flow/--direct", help="With a Prefect server configured, "
                    "submit each card to its workers (the default) or ingest it here (--direct). Without "
                    "one, cards are ingested in this process.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Watch the ingest folders and ingest each card or loose file once its copy has ended.

    A file is complete when its writer closed it and its size and mtime have not changed for
    settle_seconds; a card when all its files are and nothing new came for as long. On start (and every
    watch.reconcile_seconds) whatever the catalogue does not hold is ingested. Stop with Ctrl-C or
    SIGTERM: the ingests under way finish (a second signal abandons them).
    Exit code: 0, or 1 when an ingest found an error-level finding or failed, or an ingest folder could not
    be looked at (with --once).
    """
    from flows.deploy import api_url
    from flows.watch import direct_trigger, server_trigger
    from ingest.watch import Watcher, folders_to_watch

    cfg = settings()
    folders = folders_to_watch(cfg, production, poll)
    if api_url(cfg) and flow is not False:  # several storage servers: runs go to the shared server's workers
        trigger = server_trigger(cfg)
    else:  # no Prefect server (or --direct): the ingest flow's steps in this process, no temporary server
        trigger = direct_trigger(cfg)

    def emit(event: dict[str, Any]) -> None:
        if as_json:
            line = json.dumps(event, ensure_ascii=False, default=str)
        else:
            line = "\n".join(visible(part) for part in format_event(event).split("\n"))  # ESC shown, not obeyed
        # File names that are not UTF-8 (copied from old volumes) come as surrogates: show them escaped.
        sys.stdout.write(line.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")
        sys.stdout.flush()

    watcher = Watcher(cfg, folders, trigger, emit)

    def on_signal(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        emit({"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": "signal",
              "signal": name, "message": "abandoning the ingests under way" if watcher.stop_requested.is_set()
              else "stopping: no new ingest starts"})
        watcher.request_stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        summary = watcher.run(once=once)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if summary.abandoned:
        from config.children import stop_all

        stop_all()  # the children of the abandoned ingests: their files stay uncatalogued
        sys.stdout.flush()
        os._exit(130)  # the abandoned ingest threads cannot be joined; SQLite rolls their work back
    # --once (cron): an ingest folder that could not be looked at is a finding too; the others were done.
    raise typer.Exit(1 if (summary.errors or summary.failures or summary.unavailable) and once else 0)
