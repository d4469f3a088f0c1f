"""A stage's move in plain SQL on a SQLite store at HEAD (store/writing.py's SqliteWriter): what an ingest's
`record_reception` writes when the ingest opened its store with sqlite3 alone (planning/transitions.py).

PlanningStore.set_stage_state's statements (planning/store.py), in the same order and transaction, with the same
values bound as SQLAlchemy's SQLite dialect binds them: the production's row bumped first (its `revision`: the
write lock taken by the first statement, so concurrent writers of a production are serialised as there), the
event, then the stage inserted or updated. tests/ingest/test_ingest_sqlite_writes.py holds the rows equal.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from planning.stages import STARTED, StageState
from planning.stages import label as stage_label
from store.writing import SqliteWriter, insert, sqlite_value


def set_stage_state(writer: SqliteWriter, production: str, stage: str, state: StageState, *,
                    note: str | None = None, evidence: dict[str, Any] | None = None, on: date | None = None) -> None:
    """PlanningStore.set_stage_state on a SqliteWriter: one transaction."""
    at = datetime.now(UTC)
    today = on or at.date()
    evidence_json = json.dumps(evidence or {}, default=str)
    with writer.write() as conn:
        conn.execute("INSERT INTO productions (name, created_at, revision) VALUES (?, ?, ?) "
                     "ON CONFLICT (name) DO UPDATE SET revision = (productions.revision + ?)",
                     (production, sqlite_value(datetime.now(UTC)), 1, 1))
        insert(conn, "stage_events", {"production": production, "stage": stage, "state": state.value, "note": note,
                                      "evidence": evidence_json, "at": at})
        row = conn.execute("SELECT actual_start, actual_end FROM stages WHERE production = ? AND stage = ?",
                           (production, stage)).fetchone()
        values: dict[str, Any] = {"state": state.value, "note": note, "updated_at": at, "evidence": evidence_json}
        if state in STARTED and (row is None or row[0] is None):
            values["actual_start"] = today
        if state == StageState.DONE:
            values["actual_end"] = row[1] if row is not None and row[1] else today  # (its stored text, kept)
        elif row is not None and row[1] is not None:
            values["actual_end"] = None  # reopened
        if row is None:
            insert(conn, "stages", {"production": production, "stage": stage, "label": stage_label(stage),
                                    "revision": 1, **values})
        else:
            conn.execute(f"UPDATE stages SET revision = (stages.revision + ?), {', '.join(f'{k} = ?' for k in values)} "
                         "WHERE production = ? AND stage = ?",
                         [1, *(sqlite_value(v) for v in values.values()), production, stage])
