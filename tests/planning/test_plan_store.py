"""The planning store on SQLite and on PostgreSQL: migrations, the flows' set_state, plans, reports, writers."""

from __future__ import annotations

import multiprocessing
from datetime import date

import db_fixtures
import pytest
from plan_workers import hammer, open_and_write
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    inspect,
    select,
)

from config.db import DatabaseError
from planning import plan, schedule
from planning.stages import Stage, StageState
from planning.store import (
    PlanError,
    PlanningStore,
    SessionReport,
    productions,
    session_reports,
    stage_events,
    stages,
)
from planning.templates import load_template

db_url = db_fixtures.db_url  # fixtures: SQLite and PostgreSQL
pg_server = db_fixtures.pg_server


def test_fresh_database_is_migrated_to_head(db_url: str) -> None:
    store = PlanningStore(db_url)
    names = set(inspect(store.engine).get_table_names())
    assert {"stages", "stage_events", "productions", "session_reports", "digests",
            "planning_alembic_version"} <= names
    cols = {c["name"] for c in inspect(store.engine).get_columns("stages")}
    assert {"planned_start", "planned_end", "planned_minutes", "depends_on", "responsible", "revision"} <= cols


def test_database_made_by_the_first_store_is_upgraded_in_place(db_url: str) -> None:
    # The tables exactly as the first PlanningStore made them with create_all, with a row in each.
    md = MetaData()
    old_stages = Table("stages", md, Column("id", Integer, primary_key=True), Column("production", String(200)),
                       Column("stage", String(40)), Column("state", String(20)), Column("note", Text),
                       Column("updated_at", DateTime(timezone=True)))
    old_events = Table("stage_events", md, Column("id", Integer, primary_key=True),
                       Column("production", String(200)), Column("stage", String(40)), Column("state", String(20)),
                       Column("note", Text), Column("evidence", Text), Column("at", DateTime(timezone=True)))
    engine = create_engine(db_url)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(old_stages.insert().values(production="old", stage="rushes_reception", state="done",
                                                note="4 of 4", updated_at=func.now()))
        conn.execute(old_events.insert().values(production="old", stage="rushes_reception", state="done",
                                                note="4 of 4", evidence="{}", at=func.now()))
    engine.dispose()
    store = PlanningStore(db_url)
    assert store.state("old", Stage.RUSHES_RECEPTION) == StageState.DONE
    assert len(store.events("old")) == 1
    plan.create(store, "old", "fiction", date(2026, 1, 5))
    rows = {r["stage"]: r for r in store.stage_rows("old")}
    assert rows["rushes_reception"]["state"] == "done" and rows["rushes_reception"]["planned_end"] is not None


def test_set_state_keeps_its_meaning_and_evidence(db_url: str) -> None:
    store = PlanningStore(db_url)
    evidence = {"run": "conform-42", "report": "/srv/reports/conform/edit_v3.html"}
    store.set_state("film", Stage.CONFORM, StageState.BLOCKED, note="3 events unmatched", evidence=evidence)
    assert store.state("film", Stage.CONFORM) == StageState.BLOCKED
    [event] = store.events("film", Stage.CONFORM)
    assert event["state"] == "blocked" and event["note"] == "3 events unmatched"
    assert '"conform-42"' in event["evidence"]
    # Planning the production afterwards keeps what the flow recorded.
    plan.create(store, "film", "fiction", date(2026, 1, 5))
    assert store.state("film", Stage.CONFORM) == StageState.BLOCKED
    assert len(store.stage_rows("film")) == 12
    store.set_state("film", Stage.CONFORM, StageState.DONE, note="clean", evidence={"run": "conform-43"})
    row = next(r for r in store.stage_rows("film") if r["stage"] == "conform")
    assert row["actual_end"] == date.today() and row["evidence"] == {"run": "conform-43"}
    with pytest.raises(PlanError, match="already has a plan"):
        plan.create(store, "film", "fiction", date(2026, 1, 5))


def test_template_drops_and_adds_stages(db_url: str) -> None:
    store = PlanningStore(db_url)
    plan.create(store, "doc", "documentary", date(2026, 3, 2), responsible={"archives": "INA desk"})
    rows = {r["stage"]: r for r in store.stage_rows("doc")}
    assert "foley" not in rows and "vfx" not in rows and "voice_sync" not in rows
    assert rows["archives"]["label"] == "Archive clearance" and rows["archives"]["responsible"] == "INA desk"
    # grading depended on vfx, which is dropped: it now waits for what vfx waited for.
    assert set(rows["grading"]["depends_on"]) == {"conform", "offline_edit"}
    assert rows["pad_delivery"]["planned_start"] > rows["archives"]["planned_end"]


def test_overrun_makes_a_stage_late_and_shifts_its_dependants(db_url: str) -> None:
    store = PlanningStore(db_url)
    plan.create(store, "film", "fiction", date(2026, 1, 5))
    before = {s.stage: s for s in schedule.status(store, "film", date(2026, 2, 20)).stages}
    grading = before["grading"]
    # What comes before grading finished on time.
    for st in before.values():
        if st.planned_end < grading.planned_start:
            store.set_stage_state("film", st.stage, StageState.DONE, note="on time", on=st.planned_end)
    # 56 h logged on a 40 h grading: 16 h over = 2 days at 8 h a day, within its planned dates.
    day = grading.planned_start
    store.add_reports([SessionReport(production="film", stage="grading", technician="Léa", work_date=day,
                                     minutes=8 * 60, done=f"grade reel {i}", incidents="LUT mismatch" if i == 3 else None)
                       for i in range(7)])
    became = plan.reconcile(store, "film", grading.planned_start)
    assert became == ["grading"]
    st = {s.stage: s for s in schedule.status(store, "film", grading.planned_start).stages}
    assert st["grading"].state == StageState.LATE and st["grading"].hours_over == 16
    assert st["grading"].forecast_end == grading.planned_end.fromordinal(grading.planned_end.toordinal() + 2)
    assert st["titles"].shifted_by_days == 2 and st["titles"].state == StageState.PLANNED
    assert st["titles"].forecast_start.toordinal() == before["titles"].planned_start.toordinal() + 2
    assert st["pad_delivery"].late_by_days == 2
    assert any("waits for Titles" in r for r in st["pad_delivery"].reasons)
    # Unrelated branches keep their dates.
    assert st["sound_edit"].shifted_by_days == 0 and st["sound_edit"].forecast_end == before["sound_edit"].planned_end
    assert store.state("film", "grading") == StageState.LATE
    [late_event] = [e for e in store.events("film", "grading") if e["state"] == "late"]
    assert "over its hours by 16 h" in late_event["note"]


def test_concurrent_writers_lose_no_update(db_url: str) -> None:
    store = PlanningStore(db_url)
    plan.create(store, "busy", "fiction", date(2026, 1, 5))
    workers, n = 4, 15
    ctx = multiprocessing.get_context("fork")  # separate processes, each with its own connections
    with ctx.Pool(workers) as pool:
        done = pool.starmap(hammer, [(db_url, "busy", w, n) for w in range(workers)])
    assert done == [n] * workers
    with store.engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(stage_events).where(
            stage_events.c.production == "busy", stage_events.c.stage == "grading")).scalar()
        revision = conn.execute(select(stages.c.revision).where(
            stages.c.production == "busy", stages.c.stage == "grading")).scalar()
        reports, minutes = conn.execute(select(func.count(), func.sum(session_reports.c.minutes)).where(
            session_reports.c.production == "busy")).one()
        prod_revision = conn.execute(select(productions.c.revision).where(productions.c.name == "busy")).scalar()
    assert events == workers * n
    assert revision == 1 + workers * n  # created by the plan, then one bump per update
    assert reports == workers * n and minutes == 30 * workers * n
    assert prod_revision == 1 + 2 * workers * n


def test_processes_opening_a_new_database_together_migrate_it_once(db_url: str) -> None:
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        states = pool.starmap(open_and_write, [(db_url, w) for w in range(4)])
    assert states == ["in_progress"] * 4
    store = PlanningStore(db_url)
    assert len(store.events("fresh")) == 4
    with store.engine.connect() as conn:
        versions = conn.execute(select(func.count()).select_from(Table(
            "planning_alembic_version", MetaData(), Column("version_num", String)))).scalar()
    assert versions == 1


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(DatabaseError, match=r"cannot reach the database postgresql\+psycopg://nobody:\*\*\*@127.0.0.1:1"):
        PlanningStore("postgresql+psycopg://nobody:secret@127.0.0.1:1/none?connect_timeout=3")


def test_template_plan_dates_follow_dependencies() -> None:
    planned = {p.key: p for p in load_template("fiction").plan(date(2026, 1, 5))}
    assert planned["rushes_reception"].start == date(2026, 1, 5)
    for p in planned.values():
        for dep in p.depends_on:
            lag = {"offline_edit": -5, "music": -10}.get(p.key, 0)
            assert p.start.toordinal() >= planned[dep].end.toordinal() + 1 + lag
