"""`plan status` reads a SQLite store at HEAD without SQLAlchemy (planning/reading.py over store/reading.py):
every answer equal to PlanningStore's, value for value and type for type, and the command's output the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import postprod

import cli.commands.plan_status as plan_status  # plan status's work (cli/commands/plan.py declares the command)
from config.settings import load_settings
from planning.errors import PlanError
from planning.money.quote import _quote_row
from planning.reading import COLUMNS, DATE, DATETIME, PlanningReader
from planning.stages import Stage, StageState
from planning.store import PlanningStore
from store import tables
from store.reading import SqliteReader, open_for_reading

CSV = """date;technicien;étape;heures;travail;incidents
2026-12-07;Inès;VFX;10;compositing sq 1;
2026-12-07;Malik;VFX;8;compositing sq 2;
2026-12-08;Inès;VFX;8;compositing sq 3;plans 12-14: tracking redone
2026-12-08;Malik;Grading;6;look tests;
"""


def typed(value: object) -> object:
    """A value with its type, dicts in their key order: equal only if the rows are the same rows."""
    if isinstance(value, dict):
        return [(k, typed(v)) for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [typed(v) for v in value]
    return (type(value).__name__, repr(value))


@pytest.fixture()
def planned(workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """Two planned productions, quotes, session reports (one rejected, one with incidents), states set by the
    flows (one production with no plan at all): what plan status reads."""
    def run(*args: str) -> None:
        code, _out, err = postprod(capsys, monkeypatch, *args)
        assert code == 0, err

    run("plan", "create", "-p", "test", "--start", "2026-11-02", "--today", "2026-11-02")
    run("plan", "create", "-p", "other", "--template", "fiction", "--start", "2026-11-16")
    run("plan", "quote", "-p", "test")
    run("plan", "quote", "-p", "test", "--set", "vfx.labour.quantity=10", "--reason", "more shots")
    (workspace / "bons.csv").write_text(CSV, encoding="utf-8")
    run("plan", "import", str(workspace / "bons.csv"), "-p", "test", "--today", "2026-12-08")
    url = load_settings(workspace / "postprod.toml").db_url
    store = PlanningStore(url)
    first = store.reports("test")[0]["id"]
    assert store.review_report("test", first, "rejected", by="coordinator")
    store.set_state("test", Stage.CONFORM, StageState.BLOCKED, note="2 errors", evidence={"report_json": "r.json"})
    store.set_state("loose", Stage.RUSHES_RECEPTION, StageState.IN_PROGRESS, evidence={"ingests": [1]})
    return url


def test_every_read_equals_the_planning_stores(planned: str) -> None:
    reader = open_for_reading(planned)
    assert isinstance(reader, SqliteReader)
    fast, full = PlanningReader(reader), PlanningStore(planned)
    assert typed(fast.productions()) == typed(full.productions())
    assert typed(fast.report_totals()) == typed(full.report_totals())
    for name in ("test", "other", "loose", "nobody"):
        assert typed(fast.production(name)) == typed(full.production(name)), name
        assert typed(fast.stage_rows(name)) == typed(full.stage_rows(name)), name
        assert fast.stage_keys(name) == full.stage_keys(name)
        assert typed(fast.report_totals(name)) == typed(full.report_totals(name)), name
        for kw in ({}, {"include_rejected": True}, {"stage": "vfx"}, {"stage": "grading", "include_rejected": True}):
            assert typed(fast.reports(name, **kw)) == typed(full.reports(name, **kw)), (name, kw)
        for version in (None, 1, 2, 3):
            assert typed(fast.quote_row(name, version)) == typed(_quote_row(full, name, version)), (name, version)
        said = []
        for store in (fast, full):
            try:
                said.append(typed(store.require_plan(name)))
            except PlanError as exc:
                said.append(str(exc))
        assert said[0] == said[1], name
    assert len(full.reports("test", include_rejected=True)) == 4 and len(full.reports("test")) == 3


def test_plan_status_says_the_same_through_either(planned: str, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    commands = [("plan", "status", "--today", "2026-12-08", "--json"), ("plan", "status", "--today", "2026-12-08"),
                ("plan", "status", "-p", "test", "--today", "2026-12-08", "--json"),
                ("plan", "status", "-p", "loose", "--json"), ("plan", "status", "-p", "nobody")]
    assert isinstance(plan_status.planning_reader(), PlanningReader)  # (the store is SQLite, at HEAD)
    fast = [postprod(capsys, monkeypatch, *c) for c in commands]
    monkeypatch.setattr(plan_status, "planning_reader", lambda: PlanningStore(planned))
    full = [postprod(capsys, monkeypatch, *c) for c in commands]
    assert fast == full
    assert fast[0][0] == 0 and '"money"' in fast[0][1] and "has no plan" in fast[-1][2]


def test_the_columns_read_are_the_tables(planned: str) -> None:
    for name, columns in COLUMNS.items():
        table = getattr(tables, name)
        assert list(columns) == [c.name for c in table.columns], name
        for c in table.columns:  # what SQLAlchemy reads from SQLite's text: DateTime first (it is no Date)
            expected = DATETIME if isinstance(c.type, tables.DateTime) else \
                DATE if isinstance(c.type, tables.Date) else None
            assert columns[c.name] is expected, (name, c.name)
