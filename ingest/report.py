"""Ingest reports: JSON (the contract, docs/json.md) and a self-contained HTML page."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, select_autoescape
from jinja2.bccache import Bucket

from config.dirs import cache_dir
from ingest.results import CardReport
from media.report import safe_name, write_report
from media.timecode import format_fps


class _CompiledTemplates(FileSystemBytecodeCache):
    """The report template compiled once, kept in the user's cache folder (config/dirs.py): compiling it cost
    more than rendering it, at every ingest. Jinja keys each entry by the template's source (a changed template
    is compiled again) and writes it atomically; a cache folder that cannot be used only costs the compile."""

    def __init__(self) -> None:
        super().__init__(str(cache_dir() / "templates"))

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            pass

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


_env = Environment(loader=PackageLoader("ingest", "templates"), autoescape=select_autoescape(["html", "j2"]),
                   bytecode_cache=_CompiledTemplates())


def _fps(rate: Fraction | None) -> str:
    if rate is None:
        return ""
    return format_fps(rate) + " fps"


def report_json(report: CardReport) -> str:
    return report.model_dump_json(indent=2)


def report_html(report: CardReport) -> str:
    from config import __version__

    return _env.get_template("ingest_report.html.j2").render(r=report, fps=_fps, version=__version__)


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
