"""Which report files a production may serve: only those its plan's evidence or its catalogue names.

A report is addressed by an opaque id (a hash of its path), never by a path from the request, so no
request can reach a file the production does not name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planning.links import report_id


@dataclass(frozen=True)
class ReportFile:
    id: str
    path: Path
    kind: str  # ingest | conform | qc | other

    @property
    def name(self) -> str:
        return self.path.name


def _paths(value: Any) -> list[str]:
    if isinstance(value, list):
        return [p for v in value for p in _paths(v)]
    return [value] if isinstance(value, str) and value.startswith("/") else []


def _kind(path: Path) -> str:
    parts = path.parts
    for kind in ("ingest", "conform", "qc"):
        if kind in parts or path.name.startswith(f"{kind}-"):
            return kind
    return "other"


def report_files(evidences: list[dict[str, Any]], ingest_rows: list[dict[str, Any]]) -> dict[str, ReportFile]:
    """The production's report files that exist (HTML preferred beside its JSON), by id."""
    found: dict[str, ReportFile] = {}
    candidates: list[str] = []
    for evidence in evidences:
        if isinstance(evidence, str):
            try:
                evidence = json.loads(evidence)
            except ValueError:
                continue
        if not isinstance(evidence, dict):
            continue
        for key, value in evidence.items():
            if "report" in key.lower() or key.lower() in ("html", "json", "path"):
                candidates += _paths(value)
    for row in ingest_rows:
        candidates += [p for p in (row.get("report_html"), row.get("report_json")) if p]
    for text in candidates:
        path = Path(text)
        html = path.with_suffix(".html")
        if path.suffix == ".json" and html.is_file():
            path = html
        if path.suffix not in (".html", ".json", ".pdf", ".csv") or not path.is_file():
            continue
        found[report_id(path)] = ReportFile(report_id(path), path, _kind(path))
    return found


def money_documents(reports_dir: Path, production: str, productions: list[str]) -> dict[str, ReportFile]:
    """The production's quotes, overrun statements and invoice lines (HTML and PDF) under
    <reports>/money/<folder>/, unless another production's name folds to the same folder."""
    from planning.money.document import folder_name

    name = folder_name(production)
    if [p for p in productions if folder_name(p) == name] != [production]:
        return {}
    folder = reports_dir / "money" / name
    if not folder.is_dir():
        return {}
    return {report_id(p): ReportFile(report_id(p), p, "money") for p in sorted(folder.iterdir())
            if p.suffix in (".html", ".pdf") and p.is_file()}
