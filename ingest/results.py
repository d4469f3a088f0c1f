"""What an ingest reports: one result per file, the card's report, its summary and table rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from media.findings import Finding, Severity
from media.model import MediaFile
from media.report import Report

REPORT_SCHEMA_VERSION = 1


class FileResult(BaseModel):
    """One file of an ingest: what happened to it, its hashes, its description and findings."""

    model_config = ConfigDict(extra="forbid")

    path: str
    relpath: str
    status: str  # new | unchanged | updated | changed | missing | unreadable | skipped | interrupted
    hashes: dict[str, str] = {}
    mhl_action: str | None = None  # original | verified | failed
    mhl_actions: dict[str, str] = {}  # per hash format
    media: MediaFile | None = None
    findings: list[Finding] = []

    @property
    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(self.media.findings if self.media else [])]


class CardReport(Report):
    """The result of ingesting one card (or loose folder or file)."""

    schema_version: int = REPORT_SCHEMA_VERSION
    production: str
    source: str
    card: str
    ingest_id: int | None = None
    started_at: datetime
    finished_at: datetime | None = None
    mhl_path: str | None = None
    mhl_location: str | None = None  # card | data_dir
    verified_against: list[str] = []
    summary: dict[str, int] = {}
    stage_seconds: dict[str, float] = {}  # ingest/stages.py: walk, files, hash, probe, decode_check, …
    files: list[FileResult] = []
    report_json: str | None = None
    report_html: str | None = None

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.files for x in f.all_findings if x.severity == severity)


def summarise(results: list[FileResult]) -> dict[str, int]:
    severities = [x.severity for r in results for x in r.all_findings]
    statuses = [r.status for r in results]
    return {
        "files": len(results),
        "new": statuses.count("new") + statuses.count("updated"),
        "unchanged": statuses.count("unchanged"),
        "verified": sum(1 for r in results if r.mhl_action == "verified"),
        "errors": severities.count(Severity.ERROR),
        "warnings": severities.count(Severity.WARNING),
        "infos": severities.count(Severity.INFO),
        "files_with_errors": sum(1 for r in results if any(x.severity == Severity.ERROR for x in r.all_findings)),
    }


def report_rows(report: CardReport) -> list[dict[str, Any]]:
    """Flat rows for tables: one per finding (or one per file without findings)."""
    rows = []
    for f in report.files:
        items = f.all_findings or [None]
        for x in items:
            rows.append({"relpath": f.relpath, "status": f.status,
                         "severity": x.severity.value if x else "", "rule": x.rule if x else "",
                         "message": x.message if x else ""})
    return rows
