"""Terminal rendering of media and reports (tables: the probe's as a cli/plain.py view, printed without rich
where it fits; the ingest's with rich); JSON goes through the models instead.

Every string from a file, a name or a message goes in as `Text` (or through `escape`): rich reads
`[bold]take.mov` as markup, and `A001[/b]take.mov` as a closing tag it cannot match.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from cli.plain import Col, Grid, Txt, rich_renderables, txt
from cli.text import visible
from media.findings import Finding, Severity
from media.model import MediaFile
from media.timecode import format_fps

if TYPE_CHECKING:  # a probe's table does not load the card's models, nor rich where cli/plain.py prints it
    from rich.table import Table
    from rich.text import Text

    from ingest.results import CardReport

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


def fps(rate: Fraction | None) -> str:
    if rate is None:
        return "-"
    return format_fps(rate)


def findings_txt(findings: list[Finding]) -> Txt:
    parts: list[str | tuple[str, str]] = []
    for i, f in enumerate(findings):
        if i:
            parts.append("\n")
        parts.append((f"{f.severity.value}: ", STYLE[f.severity]))
        parts.append(visible(f"{f.rule} · {f.message}", lines=True))
    return txt(*parts)


def findings_text(findings: list[Finding]) -> Text:
    return rich_renderables([findings_txt(findings)])[0]


def media_summary(m: MediaFile) -> tuple[str, str, str, str, str]:
    if m.error and m.video is None and not m.audio:
        return ("-", "-", "-", "-", "-")
    v = m.video
    picture = f"{v.codec} {v.width}x{v.height} {fps(v.frame_rate)}{'' if not v.scan else ' ' + v.scan[0]}" if v else "-"
    if v and v.variable_frame_rate:
        picture += " VFR"
    sound = ", ".join(f"{a.channels}ch {a.sample_rate / 1000 if a.sample_rate else '?':g}k/{a.bit_depth or '?'}"
                      for a in m.audio) or "-"
    return (m.container or "-", picture, sound, m.start_timecode or "-", m.reel or "-")


def cells(*values: str) -> list[Text]:
    """Table cells shown as written (no markup)."""
    from rich.text import Text

    return [Text(visible(v)) for v in values]


def probe_view(items: list[MediaFile]) -> Grid:
    """The probe's table (cli/plain.py prints it, or rich)."""
    table = Grid([Col(col, overflow="fold") for col in ("File", "Container", "Picture", "Sound", "Start TC", "Reel",
                                                          "Findings")], box="heavy_head", header_style="bold")
    for m in items:
        findings = list(m.findings)
        table.rows.append([*(txt(visible(v)) for v in (m.path, *media_summary(m))),
                           findings_txt(findings) if findings else txt("ok", style="green")])
    return table


def ingest_table(report: CardReport) -> Table:
    from rich.table import Table
    from rich.text import Text

    s = report.summary
    table = Table(title=Text(visible(f"{report.card}: {s['files']} files, {s['new']} new, {s['unchanged']} unchanged, "
                  f"{s['verified']} verified, {s['errors']} errors, {s['warnings']} warnings")),
                  title_justify="left", header_style="bold")
    for col in ("File", "Status", "Picture", "Start TC", "Reel", "Findings"):
        table.add_column(col, overflow="fold")
    for f in report.files:
        m = f.media
        picture = media_summary(m)[1] if m else "-"
        found = f.all_findings
        table.add_row(*cells(f.relpath, f.status, picture, (m.start_timecode if m else None) or "-",
                             (m.reel if m else None) or "-"),
                      findings_text(found) if found else Text("ok", style="green"))
    return table
