"""Conform reports: a JSON document (docs/conform.md) and a self-contained HTML page, written atomically."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

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


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Conform check: {{ d.timeline.name or d.timeline.path }}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;
vertical-align:top}th{background:#f3f3f3;cursor:pointer}.error{color:#b00020;font-weight:600}
.warning{color:#a65e00}.info{color:#555}code,.tc{font-family:ui-monospace,monospace}tr.bad{background:#fff3f3}
</style></head><body>
<h1>Conform check</h1>
<p><b>{{ d.timeline.path }}</b> ({{ d.timeline.format }}{% if d.timeline.name %}, “{{ d.timeline.name }}”{% endif %}),
rate {{ d.timeline.rate }} ({{ d.timeline.rate_source }}){% if d.timeline.drop_frame %}, drop-frame{% endif %};
production {{ d.production }}, handles {{ d.handles }} frames; checked {{ d.checked_at }}.</p>
<h2>Summary</h2>
<table><tr><th>events</th><th>matched</th><th>errors</th><th>warnings</th><th>info</th></tr>
<tr><td>{{ s.events }}</td><td>{{ s.matched }}</td><td class="error">{{ s.errors }}</td>
<td class="warning">{{ s.warnings }}</td><td class="info">{{ s.info }}</td></tr></table>
<table><tr><th>rule</th><th>count</th></tr>{% for rule, n in s.by_rule.items() if n %}
<tr><td>{{ rule }}</td><td>{{ n }}</td></tr>{% endfor %}</table>
<h2>Accounting</h2>{% set a = d.timeline.accounting %}
<p>{{ a.read }} {{ a.unit }}s read{% if a.unit == "line" %} ({{ a.blank }} blank){% endif %}: {{ a.event_lines }}
event {{ a.unit }}s, {{ a.events_in_report }} in the report below, {{ a.event_lines_not_taken }} not taken;
rate: {{ d.timeline.rate_reason or d.timeline.rate_source }}.{% if a.padding %} End-of-file padding ignored:
{{ a.padding }}.{% endif %}</p>
{% if a.not_taken %}<table><tr><th>{{ a.unit }}</th><th>to</th><th>count</th><th>reason</th></tr>
{% for n in a.not_taken %}<tr><td>{{ n.line or n.item or "" }}</td><td>{{ n.last_line or "" }}</td>
<td>{{ n.count }}</td><td>{{ n.reason }}</td></tr>{% endfor %}</table>{% endif %}
{% if d.relinked %}<p>Relinked timeline: <code>{{ d.relinked }}</code></p>{% endif %}
{% if d.findings %}<h2>Timeline findings</h2><table><tr><th>line</th><th>rule</th><th>message</th></tr>
{% for f in d.findings %}<tr><td>{{ f.line or "" }}</td><td class="{{ f.severity }}">{{ f.rule }}</td>
<td>{{ f.message }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Events</h2><p>Click a column title to sort (record timecode by default).</p>
<table id="events"><thead><tr><th data-k="n">event</th><th data-k="n">line</th><th>track</th><th>reel</th>
<th>clip</th><th class="tc">source in</th><th class="tc">source out</th><th class="tc" data-k="rec">record in</th>
<th class="tc">record out</th><th>media</th><th>findings</th></tr></thead><tbody>
{% for e in d.events %}<tr{% if e.findings %} class="bad"{% endif %} data-rec="{{ e.record_in_frames }}">
<td>{{ e.event }}</td><td>{{ e.line or "" }}</td><td>{{ e.track }}</td><td>{{ e.reel or "" }}</td>
<td>{{ e.clip_name or e.source_file or "" }}</td>
<td class="tc">{{ e.source_in }}</td><td class="tc">{{ e.source_out }}</td>
<td class="tc">{{ e.record_in }}</td><td class="tc">{{ e.record_out }}</td><td>{{ e.media or "" }}</td>
<td>{% for f in e.findings %}<div class="{{ f.severity }}">{{ f.rule }}: {{ f.message }}</div>{% endfor %}</td>
</tr>{% endfor %}</tbody></table>
<script>
(function(){var t=document.getElementById("events"),b=t.tBodies[0],dir={};
function key(r,i,k){if(k==="rec")return +r.dataset.rec;var v=r.cells[i].textContent.trim();
return k==="n"?(+v||0):v.toLowerCase();}
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){th.addEventListener("click",function(){
var k=th.dataset.k,rows=Array.prototype.slice.call(b.rows),d=dir[i]=-(dir[i]||-1);
rows.sort(function(x,y){var a=key(x,i,k),c=key(y,i,k);return a<c?-d:a>c?d:0;});
rows.forEach(function(r){b.appendChild(r);});});});
})();
</script></body></html>
"""


def render_html(data: dict[str, Any]) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    ordered = dict(data)
    ordered["events"] = sorted(data["events"], key=lambda e: (e["record_in_frames"], e["line"] or 0))
    return env.from_string(_HTML).render(d=ordered, s=data["summary"])


def report_json(data: dict[str, Any]) -> str:
    """The JSON document as written to the report file and to stdout (`--json`): the same text, made once."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


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
