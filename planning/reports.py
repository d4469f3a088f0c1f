"""Session reports from a CSV file or a spreadsheet's CSV export: each bad row is named with its reason."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from config.errors import PostprodError
from planning.store import SessionReport

# Column names as people write them (English and French), folded to lower case without accents.
ALIASES: dict[str, list[str]] = {
    "production": ["production", "prod", "film", "projet", "project"],
    "date": ["date", "day", "jour", "work_date"],
    "technician": ["technician", "technicien", "technicienne", "tech", "name", "nom", "who"],
    "stage": ["stage", "etape", "poste", "step", "task"],
    "hours": ["hours", "heures", "h", "duration", "duree", "time"],
    "done": ["done", "what_was_done", "work", "travail", "travail_effectue", "description", "fait", "notes"],
    "incidents": ["incidents", "incident", "problems", "problemes", "issues"],
}
REQUIRED = ["date", "technician", "stage", "hours", "done"]
MAX_MINUTES_A_DAY = 24 * 60


class ReportFileError(PostprodError):
    """A report file that cannot be read at all (missing columns, not text)."""


@dataclass
class BadRow:
    line: int
    reason: str
    row: dict[str, str]

    def to_json(self) -> dict[str, object]:
        return {"line": self.line, "reason": self.reason, "row": self.row}


@dataclass
class ParsedFile:
    path: str
    good: list[SessionReport] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def _fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().strip().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def parse_date(value: str) -> date:
    """ISO (2026-11-20) or French day-first (20/11/2026); anything else is refused, not guessed."""
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date '{value}' is not YYYY-MM-DD or DD/MM/YYYY")


def parse_hours(value: str) -> int:
    """Hours as minutes: '7.5', '7,5' (decimal comma), '7:30' or '7h30'."""
    text = value.strip().lower().replace(" ", "")
    m = re.fullmatch(r"(-?\d+)[h:](\d{1,2})?", text)
    try:
        if m:
            hours, minutes = int(m.group(1)), int(m.group(2) or 0)
            if minutes >= 60:
                raise ValueError
            total = abs(hours) * 60 + minutes
            total = -total if text.startswith("-") else total
        else:
            total = round(float(text.replace(",", ".")) * 60)
    except ValueError:
        raise ValueError(f"hours '{value}' is not a number") from None
    if total < 0:
        raise ValueError(f"negative hours ({value})")
    if total == 0:
        raise ValueError("zero hours")
    if total > MAX_MINUTES_A_DAY:
        raise ValueError(f"{value} hours in one day")
    return total


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the rows with their line numbers; ',' ';' or tab separated, UTF-8 (BOM) or Latin-1."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ReportFileError("file not found", path=path) from exc
    except IsADirectoryError as exc:
        raise ReportFileError("is a folder, not a CSV file", path=path) from exc
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = raw.decode("cp1252", errors="replace")
    sample = content[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content, newline=""), dialect)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = cells
            continue
        rows.append((line, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header)}
                     | ({"": ", ".join(cells[len(header):])} if len(cells) > len(header) else {})))
    if header is None:
        raise ReportFileError("empty file: expected a header row with "
                              + ", ".join(REQUIRED), path=path)
    return header, rows


def parse_file(path: Path, *, production: str | None, stages_of: dict[str, dict[str, str]]) -> ParsedFile:
    """Check every row; `stages_of` maps each planned production to its stages (key -> label)."""
    header, rows = read_rows(path)
    columns: dict[str, str] = {}
    for name in header:
        folded = _fold(name)
        for field_name, aliases in ALIASES.items():
            if folded in aliases and field_name not in columns:
                columns[field_name] = name
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise ReportFileError(
            f"missing column(s): {', '.join(missing)}; found: {', '.join(header)}; expected: "
            f"{', '.join(REQUIRED)} (and optionally incidents, production)", path=path)
    if "production" not in columns and production is None:
        raise ReportFileError("no production column: name the production with --production", path=path)
    parsed = ParsedFile(path=str(path))
    for line, row in rows:
        def get(field_name: str, row: dict[str, str] = row) -> str:
            return (row.get(columns[field_name]) or "").strip() if field_name in columns else ""

        try:
            if row.get(""):
                raise ValueError(f"more cells than columns ({row['']})")
            prod = get("production") or production
            if not prod:
                raise ValueError("no production")
            if prod not in stages_of:
                raise ValueError(f"production '{prod}' has no plan; planned: {', '.join(sorted(stages_of)) or 'none'}")
            for name in REQUIRED:
                if not get(name):
                    raise ValueError(f"empty {name}")
            day = parse_date(get("date"))
            minutes = parse_hours(get("hours"))
            stage = _stage_key(get("stage"), stages_of[prod])
            parsed.good.append(SessionReport(
                production=prod, stage=stage, technician=get("technician"), work_date=day, minutes=minutes,
                done=get("done"), incidents=get("incidents") or None, source=f"{path.name}:{line}"))
        except ValueError as exc:
            parsed.bad.append(BadRow(line=line, reason=str(exc), row={k: v for k, v in row.items() if k}))
    return parsed


def _stage_key(value: str, stages: dict[str, str]) -> str:
    """A stage by key ('sound_edit') or label ('Sound edit'), case and accents ignored."""
    from planning.stages import FRENCH

    folded = _fold(value)
    for key, name in stages.items():
        if folded == key or folded == _fold(name):
            return key
    french = FRENCH.get(folded.replace("_", " "))
    if french is not None and french in stages:
        return str(french)
    keys = list(stages)
    raise ValueError(f"unknown stage '{value}'; stages of this production: {', '.join(keys)}")
