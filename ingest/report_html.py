"""The ingest's HTML page, written in Python: the page ingest/templates/ingest_report.html.j2 renders, character
for character, without importing Jinja (about a tenth of a warm ingest's own start-up, at every ingest).

The template stays the page's description; tests/ingest/test_report_html.py renders both over real cards (every
status, findings with HTML in them, sound takes, sidecars, a missing file, the MHL on the card or not) and holds
them equal: change the two together. Every value is escaped as Jinja's autoescape does (markupsafe: & < > " ').
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ingest.results import CardReport
from media.timecode import format_fps

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})

_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ingest {card} · {production}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
h1 {{ font-size: 1.4em; margin-bottom: .2em; }}
.verdict {{ font-size: 1.2em; padding: .5em 1em; border-radius: 4px; display: inline-block; }}
.ok {{ background: #d9f2d9; }} .warn {{ background: #fff1c2; }} .bad {{ background: #f8d0d0; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 1em; }}
th, td {{ text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }}
th {{ background: #f4f4f4; }}
td.error {{ color: #a00; font-weight: 600; }} td.warning {{ color: #a60; }} td.info {{ color: #555; }}
code {{ font-size: 12px; }}
.meta td:first-child {{ color: #666; width: 12em; }}
</style>
</head>
<body>
<h1>Ingest report: {card}</h1>
<p>Production <b>{production}</b> · source <code>{source}</code> · {started}</p>

"""


def e(value: Any) -> str:
    """A value as Jinja shows it with autoescape on: str(), escaped as markupsafe escapes."""
    return str(value).translate(_ESCAPES)


def _fps(rate: Fraction | None) -> str:
    return "" if rate is None else format_fps(rate) + " fps"


def report_html(report: CardReport, version: str) -> str:
    r, s = report, report.summary
    out = [_HEAD.format(card=e(r.card), production=e(r.production), source=e(r.source),
                        started=e(r.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")))]
    n = {k: e(s[k]) if k in s else "" for k in ("errors", "warnings", "files_with_errors", "files", "new",
                                                  "unchanged", "verified", "infos")}
    verdict = "bad" if s.get("errors") else ("warn" if s.get("warnings") else "ok")
    out.append(f'<p class="verdict {verdict}">\n')
    if s.get("errors"):
        out.append(f"{n['files_with_errors']} file(s) with errors")
    elif s.get("warnings"):
        out.append(f"Ingested with {n['warnings']} warning(s)")
    else:
        out.append("All files ingested and verified")
    out.append("\n</p>\n<table class=\"meta\">\n")
    out.append(f"<tr><td>Files</td><td>{n['files']} ({n['new']} new, {n['unchanged']} already ingested, "
               f"{n['verified']} verified against the card's MHL)</td></tr>\n")
    out.append(f"<tr><td>Findings</td><td>{n['errors']} error(s), {n['warnings']} warning(s), {n['infos']} info"
               "</td></tr>\n")
    where = ("on the card" if r.mhl_location == "card"
             else "in the data directory: the card is read-only or a loose file")
    mhl = f"<code>{e(r.mhl_path)}</code> ({where})" if r.mhl_path else "none (nothing new)"
    out.append(f"<tr><td>MHL written</td><td>{mhl}</td></tr>\n")
    if r.verified_against:
        plural = "s" if len(r.verified_against) > 1 else ""
        against = f"generation{plural} {', '.join(e(g) for g in r.verified_against)} of the card's MHL"
    else:
        against = "no MHL on the card"
    out.append(f"<tr><td>Verified against</td><td>{against}</td></tr>\n</table>\n\n<h2>Files</h2>\n<table>\n"
               "<tr><th>File</th><th>Status</th><th>Format</th><th>Start TC</th><th>Reel</th><th>Findings</th></tr>\n")
    for f in r.files:
        out.append(_row(f))
    out.append(f"\n</table>\n<p><small>postprod {e(version)} · report schema {e(r.schema_version)}</small></p>\n"
               "</body>\n</html>")
    return "".join(out)


def _row(f: Any) -> str:
    m = f.media
    fmt = ""
    if m and m.video:
        v = m.video
        fmt = f"{e(v.codec)} {e(v.width)}×{e(v.height)} {e(_fps(v.frame_rate))} {e(v.scan or '')}"
    sound = ""
    if m and m.audio:
        each = [f"{e(a.channels)}ch {e(a.sample_rate)} Hz {e(a.bit_depth or '')}{'-bit' if a.bit_depth else ''}"
                for a in m.audio]
        sound = f"<br>{len(m.audio)} audio: {', '.join(each)}"
    findings = []
    for x in f.all_findings:
        extra = f" <small>(expected {e(x.expected)}, measured {e(x.measured)})</small>" if x.expected or x.measured \
            else ""
        findings.append(f'<div class="{e(x.severity.value)}">{e(x.severity.value)} · {e(x.rule)}: {e(x.message)}'
                        f"{extra}</div>")
    tick = " ✓" if f.mhl_action == "verified" else ""
    return (f"\n\n<tr>\n<td><code>{e(f.relpath)}</code></td>\n<td>{e(f.status)}{tick}</td>\n<td>{fmt}\n{sound}</td>\n"
            f"<td>{e(m.start_timecode) if m and m.start_timecode else ''}</td>\n"
            f"<td>{e(m.reel) if m and m.reel else ''}</td>\n<td>{''.join(findings)}</td>\n</tr>\n")
