"""Session reports from a CSV file or a spreadsheet's CSV export: each bad row is named with its reason."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
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
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
    """ISO (2026-11-20) or French day-first (20/11/2026); anything else is refused, not guessed.

    A date in the right format whose day does not exist (31/02/2026) is told apart from a wrong format.
    """
    value = value.strip()
    for fmt, shape in (("%Y-%m-%d", r"\d{4}-\d{1,2}-\d{1,2}"), ("%d/%m/%Y", r"\d{1,2}/\d{1,2}/\d{4}")):
        if re.fullmatch(shape, value):
            try:
                day = datetime.strptime(value, fmt).date()
            except ValueError:
                raise ValueError(f"date '{value}' is not a real date (no such day or month)") from None
            if not 1900 <= day.year <= 2999:  # a typo (0026, 9026): lateness would count millennia
                raise ValueError(f"date '{value}' is outside the years 1900 to 2999")
            return day
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
    except (ValueError, OverflowError):  # OverflowError: 'inf', '1e308'
        raise ValueError(f"hours '{value}' is not a number") from None
    if total < 0:
        raise ValueError(f"negative hours ({value})")
    if total == 0:
        raise ValueError("zero hours")
    if total > MAX_MINUTES_A_DAY:
        raise ValueError(f"{value} hours in one day")
    return total


# A session report row is a few hundred bytes: far longer lines are not session reports, and reading
# them whole (a 1 GB line) would cost gigabytes; reading stops at these bounds and names the line.
MAX_LINE_BYTES = 64 * 1024
MAX_ROWS = 100_000
MAX_SKIP_BYTES = 16 * 1024 * 1024  # past this much of one line, the rest of the file is not read at all


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # a French spreadsheet's export


def _lines(fh: io.BufferedReader, too_long: list[tuple[int, str]]) -> Iterator[str]:
    """The file's lines decoded, each read with a bounded buffer; an over-long line is skipped (in
    bounded chunks) and given as an empty line, its number noted in `too_long`."""
    number = 0
    while True:
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            size = len(raw)
            while raw and not raw.endswith(b"\n") and size < MAX_SKIP_BYTES:
                raw = fh.readline(MAX_LINE_BYTES)
                size += len(raw)
            if raw and not raw.endswith(b"\n"):
                total = os.fstat(fh.fileno()).st_size
                too_long.append((number, f"line longer than {MAX_SKIP_BYTES >> 20} MiB: not a session report row; "
                                         f"the rest of the file ({total} bytes in all) is not read"))
                return
            too_long.append((number, f"line longer than {MAX_LINE_BYTES // 1024} KiB ({size} bytes): "
                                     "not a session report row, left out"))
            yield "\n"
            continue
        yield _decode(raw)


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """The header, the rows with their line numbers and the lines that could not be read (number,
    reason); ',' ';' or tab separated, UTF-8 (BOM) or Latin-1. Memory is bounded whatever the file."""
    if path.is_dir():
        raise ReportFileError("is a folder, not a CSV file", path=path)
    if path.exists() and not path.is_file():  # opening a FIFO would wait for a writer forever
        raise ReportFileError("not a regular file (a named pipe or a device)", path=path)
    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError as exc:
        raise ReportFileError("file not found", path=path) from exc
    except OSError as exc:
        raise ReportFileError(f"cannot be read: {exc.strerror}", path=path) from exc
    problems: list[tuple[int, str]] = []
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    limit = csv.field_size_limit()
    with fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ReportFileError("not a regular file", path=path)
        sample = _decode(fh.peek(4096)[:4096]).lstrip("\ufeff")
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        lines = _lines(fh, problems)
        reader = csv.reader(lines, dialect)
        csv.field_size_limit(MAX_LINE_BYTES)
        try:
            while True:
                start = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:  # a field past the limit (an unclosed quote), a NUL byte
                    problems.append((start, f"not readable as CSV ({exc}): left out"))
                    continue
                if not any(c.strip() for c in cells):
                    continue
                if header is None:
                    header = cells
                    continue
                if len(rows) >= MAX_ROWS:
                    raise ReportFileError(f"more than {MAX_ROWS} rows: not a session-report file", path=path)
                rows.append((reader.line_num, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header)}
                             | ({"": ", ".join(cells[len(header):])} if len(cells) > len(header) else {})))
        finally:
            csv.field_size_limit(limit)
    if header is None:
        raise ReportFileError("empty file: expected a header row with "
                              + ", ".join(REQUIRED), path=path)
    return header, rows, problems


def parse_file(path: Path, *, production: str | None, stages_of: dict[str, dict[str, str]]) -> ParsedFile:
    """Check every row; `stages_of` maps each planned production to its stages (key -> label)."""
    header, rows, unreadable = read_rows(path)
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
    parsed.bad.extend(BadRow(line=line, reason=reason, row={}) for line, reason in unreadable)
    for line, row in rows:
        def get(field_name: str, row: dict[str, str] = row) -> str:
            return (row.get(columns[field_name]) or "").strip() if field_name in columns else ""

        try:
            if row.get(""):
                raise ValueError(f"more cells than columns ({row['']})")
            for name, value in row.items():
                if _CONTROL.search(value):
                    raise ValueError(f"control character (a NUL byte?) in {name or 'a cell'}: not a text export")
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
