"""Ingest reports: JSON (the contract, docs/json.md) and a self-contained HTML page."""

from __future__ import annotations

import json
from pathlib import Path

from ingest import report_html as _page
from ingest.results import CardReport
from media.report import safe_name, write_report


def report_json(report: CardReport) -> str:
    return report.model_dump_json(indent=2)


def report_html(report: CardReport) -> str:
    """The page ingest/templates/ingest_report.html.j2 describes, written without Jinja (ingest/report_html.py)."""
    from config import __version__

    return _page.report_html(report, __version__)


def write_reports(report: CardReport, reports_dir: Path) -> CardReport:
    """Write the JSON and HTML reports atomically; returns the report with their paths set."""
    stamp = report.started_at.strftime("%Y%m%d-%H%M%S")
    safe_card = safe_name(report.card, "card")
    base = reports_dir / "ingest" / safe_name(report.production)
    stem = f"{stamp}_{safe_card}_{report.ingest_id}"
    json_path, html_path = base / f"{stem}.json", base / f"{stem}.html"
    report = report.model_copy(update={"report_json": str(json_path), "report_html": str(html_path)})
    write_report(json_path, report_json(report), html_path, report_html(report))
    return report


def load_report(path: Path) -> CardReport:
    return CardReport.model_validate(json.loads(path.read_text(encoding="utf-8")))
