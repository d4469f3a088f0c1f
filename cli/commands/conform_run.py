"""`postprod conform`'s work, without typer: cli/commands/conform.py declares the command (its options, its help),
cli/fast.py calls `conform_command` directly for a plain command line."""

from __future__ import annotations

import sys
from pathlib import Path

from cli.base import emit_json, out, settings
from cli.text import escape

STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def conform_command(timeline: Path, production: str = "default", rate: str | None = None, handles: int | None = None,
                    relink: Path | None = None, report: Path | None = None, record: bool = False,
                    as_json: bool = False) -> int:
    """Check that every event can be rebuilt from the camera originals; returns the exit code."""
    from flows.conform import run_conform

    outcome, _ = run_conform(timeline, production, settings(), rate=rate, handles=handles, relink=relink,
                             report_dir=report, record=record)
    data = outcome.data
    if as_json and outcome.json_text is not None:  # the report file's own text: one dump, the same bytes
        sys.stdout.write(outcome.json_text)
        sys.stdout.flush()
    elif as_json:
        emit_json(data)
    else:
        _print(data)
    return outcome.exit_code


def _print_accounting(tl: dict) -> None:
    """The count a user can check against the file, and the lines not taken."""
    a = tl.get("accounting")
    if not a:
        return
    unit = a["unit"]
    padding = f"; padding ignored: {a['padding']}" if a["padding"] else ""
    others = sum(n["count"] for n in a["not_taken"] if not n["event_line"])
    out.print(f"{a['read']} {unit}s read: {a['event_lines']} event {unit}s, {a['events_in_report']} in the report, "
              f"{a['event_lines_not_taken']} not taken" + (f"; {others} other lines not taken" if others else "")
              + padding)
    for n in a["not_taken"][:20]:
        where = (f"{unit} {n['line']}" + (f"-{n['last_line']}" if n["last_line"] != n["line"] else "")
                 if n["line"] is not None else escape(n["item"] or ""))
        out.print(f"  not taken: {where}: {escape(n['reason'])}")
    if len(a["not_taken"]) > 20:
        out.print(f"  … {len(a['not_taken']) - 20} more in the report")


def _print(data: dict) -> None:
    from rich.table import Table

    tl, s = data["timeline"], data["summary"]
    out.print(f"[bold]{escape(tl['path'])}[/] ({tl['format']}, {tl['events']} events, rate {tl['rate']} "
              f"from {tl['rate_source']}{', DF' if tl['drop_frame'] else ''})")
    _print_accounting(tl)
    table = Table(show_lines=False)
    for col in ("event", "line", "track", "reel / clip", "record in", "finding"):
        table.add_column(col)
    shown = 0
    for f in data["findings"]:
        if shown < 200:
            table.add_row("", str(f["line"] or ""), "", "", "",
                          f"[{STYLE[f['severity']]}]{f['rule']}[/] {escape(f['message'])}")
        shown += 1
    for e in sorted(data["events"], key=lambda e: e["record_in_frames"]):
        for f in e["findings"]:
            if shown < 200:
                table.add_row(str(e["event"] or ""), str(e["line"] or ""), escape(str(e["track"] or "")),
                              escape(e["reel"] or e["clip_name"] or ""), e["record_in"],
                              f"[{STYLE[f['severity']]}]{f['rule']}[/] {escape(f['message'])}")
            shown += 1
    if table.row_count:
        out.print(table)
    if shown > 200:
        out.print(f"… {shown - 200} more in the report")
    rules = ", ".join(f"{k} {v}" for k, v in s["by_rule"].items() if v)
    out.print(f"{s['events']} events, {s['matched']} matched; [bold red]{s['errors']} errors[/], "
              f"[yellow]{s['warnings']} warnings[/], {s['info']} info" + (f" ({rules})" if rules else ""))
    if data.get("relinked"):
        out.print(f"relinked: {escape(str(data['relinked']))}")
    if data.get("report_html"):
        out.print(f"report: {escape(str(data['report_html']))}")
