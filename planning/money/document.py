"""One shape for every money document (quote, costs, overrun statement, invoice lines, pay export), written
as a self-contained HTML page, a PDF (fpdf2, the packaged DejaVu font: any name prints) and CSV."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from markupsafe import Markup, escape

from config.atomic import write_bytes_atomic, write_text_atomic

HTML_DIR = Path(__file__).resolve().parent / "html"


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    totals: list[list[str]] = field(default_factory=list)  # rows shown after a rule, in bold
    numeric: set[int] = field(default_factory=set)  # right-aligned columns
    notes: list[str] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    meta: list[tuple[str, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    def html(self) -> str:
        return _template().render(doc=self)

    def csv(self, section: int = 0) -> str:
        """The section's table (its rows, then its totals), comma-separated, UTF-8: for a spreadsheet."""
        s = self.sections[section]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(s.columns)
        writer.writerows(s.rows)
        writer.writerows(s.totals)
        return buf.getvalue()

    def pdf(self) -> bytes:
        return _pdf(self)

    def write(self, stem: Path, *, csv_section: int | None = 0) -> dict[str, str]:
        """STEM.html, STEM.pdf (and STEM.csv), written atomically; returns {format: path}."""
        paths = {"html": stem.with_suffix(".html"), "pdf": stem.with_suffix(".pdf")}
        write_text_atomic(paths["html"], self.html())
        write_bytes_atomic(paths["pdf"], self.pdf())
        if csv_section is not None and self.sections:
            paths["csv"] = stem.with_suffix(".csv")
            write_text_atomic(paths["csv"], self.csv(csv_section))
        return {k: str(v) for k, v in paths.items()}


def linkify(cell: str) -> Markup:
    """A cell's text, escaped, with its file:// and http(s):// addresses (comma-separated) as links."""
    parts = []
    for item in cell.split(", "):
        if item.startswith(("file://", "http://", "https://")):
            parts.append(Markup('<a href="{0}">{1}</a>').format(item, item.rsplit("/", 1)[-1] or item))
        else:
            parts.append(escape(item))
    return Markup(", ").join(parts)


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(loader=FileSystemLoader(HTML_DIR), autoescape=select_autoescape(["html", "j2"]))
    env.filters["linkify"] = linkify
    return env.get_template("document.html.j2")


def _font() -> Path:
    return Path(str(resources.files("config") / "fonts" / "DejaVuSansMono.ttf"))


def _pdf(doc: Document) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_margins(12, 12, 12)
    pdf.add_font("mono", "", str(_font()))
    pdf.set_title(f"{doc.title}: {doc.subtitle}")
    pdf.set_creator("postprod")
    pdf.add_page()
    width = pdf.w - 24
    pdf.set_font("mono", size=14)
    pdf.multi_cell(width, 7, doc.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("mono", size=10)
    pdf.multi_cell(width, 5, doc.subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("mono", size=8)
    for label, value in doc.meta:
        pdf.multi_cell(width, 4, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    for alert in doc.alerts:
        pdf.set_text_color(170, 0, 0)
        pdf.multi_cell(width, 4, f"! {alert}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    for s in doc.sections:
        pdf.ln(3)
        pdf.set_font("mono", size=10)
        pdf.multi_cell(width, 6, s.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("mono", size=7)
        widths = _widths(s)
        align = tuple("RIGHT" if i in s.numeric else "LEFT" for i in range(len(s.columns)))
        with pdf.table(col_widths=widths, text_align=align, line_height=4, first_row_as_headings=True,
                       headings_style=FontFace(fill_color=(225, 225, 225))) as table:
            for cells in [s.columns, *s.rows]:
                row = table.row()
                for c in cells:
                    row.cell(c)
            for cells in s.totals:
                row = table.row()
                for c in cells:
                    row.cell(c, style=FontFace(fill_color=(240, 240, 240)))
        for note in s.notes:
            pdf.multi_cell(width, 4, note, new_x="LMARGIN", new_y="NEXT")
    if doc.notes:
        pdf.ln(3)
        pdf.set_font("mono", size=7)
        for note in doc.notes:
            pdf.multi_cell(width, 4, note, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _widths(s: Section) -> tuple[int, ...]:
    """Column widths from their longest text (bounded), so labels get the room and numbers stay whole."""
    sizes = []
    for i, col in enumerate(s.columns):
        longest = max([len(col), *(len(r[i]) for r in [*s.rows, *s.totals] if i < len(r))])
        sizes.append(max(4, min(longest, 48)))
    return tuple(sizes)


def table_json(s: Section) -> dict[str, Any]:
    return {"title": s.title, "columns": s.columns, "rows": s.rows, "totals": s.totals}


def folder_name(production: str) -> str:
    """The production's folder under <reports>/money/ (its quotes, overrun statements, invoices)."""
    return re.sub(r"[^\w.-]+", "_", production).strip("._") or "production"
