"""Helpers of the money tests: the CLI on SQLite and PostgreSQL, reconciliation checks, PDF text."""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from cli_helpers import postprod, postprod_json


def make_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_url: str):
    monkeypatch.setenv("POSTPROD_DATABASE_URL", db_url)

    def run(*args: str) -> tuple[int, str, str]:
        code, out, err = postprod(capsys, monkeypatch, *args)
        return code, out, " ".join(err.split())

    def run_json(*args: str):
        return postprod_json(capsys, monkeypatch, *args)

    run.json = run_json  # type: ignore[attr-defined]
    return run


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def check_line(line: dict) -> Decimal:
    """A line as printed reconciles: amount = quantity x unit price, rounded half up to the cent."""
    amount = Decimal(line["amount"])
    assert amount == cents(Decimal(line["quantity"]) * Decimal(line["unit_price"])), line
    assert amount == cents(amount) and "." in line["amount"] and len(line["amount"].split(".")[1]) == 2
    return amount


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(str(path)).pages)


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
