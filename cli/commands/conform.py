"""`postprod conform`: check an edit list against the rushes catalogue before the online (no Prefect wait)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.app import JsonOpt, ProductionOpt, app, emit_json, out, settings
from cli.text import escape

STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


@app.command()
def conform(
    timeline: Annotated[Path, typer.Argument(help="Edit list: .edl (CMX3600), .xml (FCP7/Premiere/Resolve), "
                                             ".fcpxml, .aaf or .otio.")],
    production: ProductionOpt = "default",
    rate: Annotated[str | None, typer.Option("--rate", help="Timeline frame rate (25, 29.97, 24000/1001). "
                                             "Default: the file's, else the production spec's.")] = None,
    handles: Annotated[int | None, typer.Option("--handles", min=0, help="Frames needed beyond each event "
                                                "for the online. Default: the production's (12).")] = None,
    relink: Annotated[Path | None, typer.Option("--relink", help="Write a timeline whose clips point at the "
                                                "camera originals (.otio; also .xml, .fcpxml).")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Folder for the JSON and HTML reports. "
                                                "Default: <data_dir>/reports/conform.")] = None,
    record: Annotated[bool, typer.Option("--record/--no-record", help="Move the production's conform stage "
                                         "(in progress when clean, blocked on errors).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check that every event can be rebuilt from the camera originals: media found, in range, with handles.

    Exit code: 0 when no error-level finding, 1 when there is one, 2 when the input cannot be used.
    """
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
    raise typer.Exit(outcome.exit_code)


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
