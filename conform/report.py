"""Conform reports: a JSON document (docs/conform.md) and a self-contained HTML page, written atomically."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from conform.match import ConformResult
from conform.model import RULES
from media.report import write_report

SCHEMA_VERSION = 1


def report_data(result: ConformResult, *, production: str, relinked: str | None = None) -> dict[str, Any]:
    """The JSON shape of a conform check (stable; documented in docs/conform.md)."""
    all_findings = result.all_findings()
    by_rule = Counter(f.rule for f in all_findings)
    events = []
    for r in result.results:
        row = r.event.as_dict()
        row["media"] = r.media.path if r.media else None
        row["matched_by"] = r.matched_by
        row["findings"] = [f.conform_dict() for f in r.findings]
        events.append(row)
    counts = result.counts()
    acc = result.timeline.accounting
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "conform",
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "production": production,
        "handles": result.handles,
        "timeline": result.timeline.header(),
        "summary": {
            "events": result.timeline.event_count(),
            "event_lines": len(result.results),
            "matched": sum(1 for r in result.results if r.media is not None),
            "errors": counts["error"],
            "warnings": counts["warning"],
            "info": counts["info"],
            "by_rule": {rule: by_rule.get(rule, 0) for rule in RULES},
            "lines_read": acc.read,
            "event_lines_in_list": acc.event_lines,
            "event_lines_not_taken": sum(n.count for n in acc.not_taken if n.event_line),
            "lines_not_taken": sum(n.count for n in acc.not_taken),
        },
        "findings": [f.conform_dict() for f in result.findings],
        "events": events,
        "relinked": relinked,
    }


_STYLE = """<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;
vertical-align:top}th{background:#f3f3f3;cursor:pointer}.error{color:#b00020;font-weight:600}
.warning{color:#a65e00}.info{color:#555}code,.tc{font-family:ui-monospace,monospace}tr.bad{background:#fff3f3}
</style>"""

_SCRIPT = """<script>
(function(){var t=document.getElementById("events"),b=t.tBodies[0],dir={};
function key(r,i,k){if(k==="rec")return +r.dataset.rec;var v=r.cells[i].textContent.trim();
return k==="n"?(+v||0):v.toLowerCase();}
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){th.addEventListener("click",function(){
var k=th.dataset.k,rows=Array.prototype.slice.call(b.rows),d=dir[i]=-(dir[i]||-1);
rows.sort(function(x,y){var a=key(x,i,k),c=key(y,i,k);return a<c?-d:a>c?d:0;});
rows.forEach(function(r){b.appendChild(r);});});});
})();
</script>"""


_SPECIAL = re.compile("[&<>\"']").search  # what html.escape(quote=True) changes


def _x(value: Any) -> str:
    """A value as HTML text: every user string escaped (quotes too: some land in attributes)."""
    if type(value) is int:  # numbers, most cells of the page: nothing to escape
        return str(value)
    text = str(value)
    return escape(text, quote=True) if _SPECIAL(text) else text  # most cells (timecodes, paths) have none


def _or(*values: Any) -> str:
    """The first true value, escaped, else nothing (a template's `a or b or ""`)."""
    return next((_x(v) for v in values if v), "")


def _head(d: dict[str, Any]) -> list[str]:
    tl, s = d["timeline"], d["summary"]
    a = tl["accounting"]
    name = f", “{_x(tl['name'])}”" if tl["name"] else ""
    df = ", drop-frame" if tl["drop_frame"] else ""
    parts = [
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Conform check: '
        f"{_or(tl['name'], tl['path'])}</title>\n{_STYLE}</head><body>\n<h1>Conform check</h1>\n"
        f"<p><b>{_x(tl['path'])}</b> ({_x(tl['format'])}{name}),\n"
        f"rate {_x(tl['rate'])} ({_x(tl['rate_source'])}){df};\n"
        f"production {_x(d['production'])}, handles {_x(d['handles'])} frames; checked {_x(d['checked_at'])}.</p>\n"
        "<h2>Summary</h2>\n<table><tr><th>events</th><th>matched</th><th>errors</th><th>warnings</th><th>info</th>"
        f"</tr>\n<tr><td>{s['events']}</td><td>{s['matched']}</td><td class=\"error\">{s['errors']}</td>\n"
        f"<td class=\"warning\">{s['warnings']}</td><td class=\"info\">{s['info']}</td></tr></table>\n"
        "<table><tr><th>rule</th><th>count</th></tr>"]
    parts += [f"\n<tr><td>{_x(rule)}</td><td>{n}</td></tr>" for rule, n in s["by_rule"].items() if n]
    unit = _x(a["unit"])
    blank = f" ({a['blank']} blank)" if a["unit"] == "line" else ""
    padding = f" End-of-file padding ignored:\n{_x(a['padding'])}." if a["padding"] else ""
    parts.append(f"</table>\n<h2>Accounting</h2>\n<p>{a['read']} {unit}s read{blank}: {a['event_lines']}\n"
                 f"event {unit}s, {a['events_in_report']} in the report below, {a['event_lines_not_taken']} not "
                 f"taken;\nrate: {_or(tl['rate_reason'], tl['rate_source'])}.{padding}</p>\n")
    if a["not_taken"]:
        parts.append(f"<table><tr><th>{unit}</th><th>to</th><th>count</th><th>reason</th></tr>\n")
        parts += [f"<tr><td>{_or(n['line'], n['item'])}</td><td>{_or(n['last_line'])}</td>\n<td>{n['count']}</td>"
                  f"<td>{_x(n['reason'])}</td></tr>" for n in a["not_taken"]]
        parts.append("</table>")
    if d.get("relinked"):
        parts.append(f"\n<p>Relinked timeline: <code>{_x(d['relinked'])}</code></p>")
    if d["findings"]:
        parts.append("\n<h2>Timeline findings</h2><table><tr><th>line</th><th>rule</th><th>message</th></tr>\n")
        parts += [f"<tr><td>{_or(f['line'])}</td><td class=\"{_x(f['severity'])}\">{_x(f['rule'])}</td>\n"
                  f"<td>{_x(f['message'])}</td></tr>" for f in d["findings"]]
        parts.append("</table>")
    return parts


def _event_row(e: dict[str, Any]) -> str:
    findings = "".join(f"<div class=\"{_x(f['severity'])}\">{_x(f['rule'])}: {_x(f['message'])}</div>"
                       for f in e["findings"])
    bad = ' class="bad"' if e["findings"] else ""
    return (f"<tr{bad} data-rec=\"{e['record_in_frames']}\">\n"
            f"<td>{_x(e['event'])}</td><td>{_or(e['line'])}</td><td>{_x(e['track'])}</td><td>{_or(e['reel'])}</td>\n"
            f"<td>{_or(e['clip_name'], e['source_file'])}</td>\n"
            f"<td class=\"tc\">{_x(e['source_in'])}</td><td class=\"tc\">{_x(e['source_out'])}</td>\n"
            f"<td class=\"tc\">{_x(e['record_in'])}</td><td class=\"tc\">{_x(e['record_out'])}</td>"
            f"<td>{_or(e['media'])}</td>\n<td>{findings}</td>\n</tr>")


def render_html(data: dict[str, Any]) -> str:
    """The self-contained page: summary, accounting, timeline findings, every event (sortable by column, by
    record timecode first). Plain string building with every user string escaped: thousands of events take a
    fraction of what a template engine takes (and no template engine to import)."""
    events = sorted(data["events"], key=lambda e: (e["record_in_frames"], e["line"] or 0))
    parts = _head(data)
    parts.append("\n<h2>Events</h2><p>Click a column title to sort (record timecode by default).</p>\n"
                 '<table id="events"><thead><tr><th data-k="n">event</th><th data-k="n">line</th><th>track</th>'
                 '<th>reel</th>\n<th>clip</th><th class="tc">source in</th><th class="tc">source out</th>'
                 '<th class="tc" data-k="rec">record in</th>\n<th class="tc">record out</th><th>media</th>'
                 "<th>findings</th></tr></thead><tbody>\n")
    parts += [_event_row(e) for e in events]
    parts.append(f"</tbody></table>\n{_SCRIPT}</body></html>")
    return "".join(parts)


_COMPACT = json.JSONEncoder(ensure_ascii=False, default=str)  # no indent: the C encoder, several times faster


def _compact_encoder() -> Callable[[Any], str]:
    """_COMPACT.encode for one event, the C encoder made once instead of once per event (what
    JSONEncoder.iterencode does at each call: a tenth of the JSON's time for thousands of events)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator in this interpreter
        return _COMPACT.encode
    c = _COMPACT
    encode = make({}, c.default, json.encoder.encode_basestring, c.indent, c.key_separator, c.item_separator,
                  c.sort_keys, c.skipkeys, c.allow_nan)
    return lambda value: "".join(encode(value, 0))


def report_json(data: dict[str, Any]) -> str:
    """The JSON document as written to the report file and to stdout (`--json`): the same text, made once.
    Indented by two spaces, except each event: one line per event (thousands of events stay readable, and
    the fast encoder writes them)."""
    parts = []
    for key, value in data.items():
        if key == "events" and value:
            compact = _compact_encoder()
            text = "[\n    " + ",\n    ".join([compact(e) for e in value]) + "\n  ]"
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False, default=str).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key, ensure_ascii=False)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n" if parts else "{}\n"


def write_reports(data: dict[str, Any], folder: Path) -> tuple[Path, Path, str]:
    """conform-<name>-<time>.json and .html in folder. The JSON names both files (`report_json`,
    `report_html`, set in `data` too); returns their paths and the JSON text written."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(data["timeline"]["path"]).stem.replace(" ", "_")[:60] or "timeline"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    json_path = folder / f"conform-{stem}-{stamp}.json"
    html_path = json_path.with_suffix(".html")
    data["report_json"], data["report_html"] = str(json_path), str(html_path)
    text = report_json(data)
    write_report(json_path, text, html_path, render_html(data))
    return json_path, html_path, text
