"""The planning store: stage states per production, each change kept with its evidence.

Minimal for now: the flows move stages here; the planning issue adds dates, hours and reports.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.exc import OperationalError

from config.db import engine_for, unreachable
from planning.stages import Stage, StageState

metadata = MetaData()

stages = Table(
    "stages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False),
    Column("stage", String(40), nullable=False),
    Column("state", String(20), nullable=False),
    Column("note", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("production", "stage", name="uq_stage"),
)

stage_events = Table(
    "stage_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False, index=True),
    Column("stage", String(40), nullable=False),
    Column("state", String(20), nullable=False),
    Column("note", Text),
    Column("evidence", Text),  # JSON: which run, which report
    Column("at", DateTime(timezone=True), nullable=False),
)


class PlanningStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = engine_for(url)
        try:
            metadata.create_all(self.engine)
        except OperationalError as exc:
            raise unreachable(url, exc) from exc

    def set_state(self, production: str, stage: Stage, state: StageState, *, note: str | None = None,
                  evidence: dict[str, Any] | None = None) -> None:
        """Move a stage to a state and keep the evidence; one transaction, safe with concurrent writers."""
        at = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(stage_events.insert().values(
                production=production, stage=stage.value, state=state.value, note=note,
                evidence=json.dumps(evidence or {}, default=str), at=at))
            changed = conn.execute(update(stages).where(
                stages.c.production == production, stages.c.stage == stage.value
            ).values(state=state.value, note=note, updated_at=at)).rowcount
            if not changed:
                conn.execute(stages.insert().values(production=production, stage=stage.value, state=state.value,
                                                    note=note, updated_at=at))

    def state(self, production: str, stage: Stage) -> StageState | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(stages.c.state).where(
                stages.c.production == production, stages.c.stage == stage.value)).first()
        return StageState(row.state) if row else None

    def events(self, production: str, stage: Stage | None = None) -> list[dict[str, Any]]:
        query = select(stage_events).where(stage_events.c.production == production).order_by(stage_events.c.id)
        if stage is not None:
            query = query.where(stage_events.c.stage == stage.value)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
