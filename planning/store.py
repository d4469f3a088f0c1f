"""The planning store: productions, their planned stages, session reports and every state change with its evidence.

SQLAlchemy Core over SQLite (default) or PostgreSQL, on the one store (store/): the tables are described in
store/tables.py and made and upgraded by the store's Alembic migrations; the catalogue shares the database.
Every write to a production first bumps that production's row (`revision`), inside the same transaction:
on PostgreSQL that row lock, on SQLite the database write lock, serialises concurrent writers of one
production, so no update is lost and reads made after it in the transaction are current.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table, func, or_, select, update

from planning.errors import PlanError
from planning.reading import PlanQueries, stage_row
from planning.reading import aware as _aware
from planning.stages import STARTED, Stage, StageState
from planning.stages import label as stage_label
from store import Store
from store.tables import digests, productions, session_reports, stage_events, stages

__all__ = ["PlanError", "PlanningStore", "SessionReport", "digests", "productions", "session_reports",
           "stage_events", "stages"]

# A session report counts (hours, money) unless the coordinator rejected it.
COUNTED = or_(session_reports.c.review.is_(None), session_reports.c.review != "rejected")



@dataclass(frozen=True)
class SessionReport:
    """A technician's session report (bon de séance): one day's work on one stage."""

    production: str
    stage: str
    technician: str
    work_date: date
    minutes: int
    done: str
    incidents: str | None = None
    source: str | None = None  # "cli" or "FILE:LINE"

    @property
    def hours(self) -> float:
        return self.minutes / 60

    def fingerprint(self) -> str:
        """The same report imported twice is one report (re-running an import adds nothing)."""
        key = "\x1f".join([self.stage, self.technician.strip().lower(), self.work_date.isoformat(),
                           str(self.minutes), " ".join(self.done.split()), " ".join((self.incidents or "").split())])
        return hashlib.sha256(key.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class PlanningStore(PlanQueries):
    def __init__(self, store: Store | str) -> None:
        self.store = Store.of(store)
        self.url = self.store.url
        self.engine = self.store.engine

    # --- transactions -----------------------------------------------------------------------------------

    @contextmanager
    def _write(self, production: str) -> Iterator[Connection]:
        """A transaction that holds the production's lock from its first statement."""
        with self.store.write() as conn:
            self._lock(conn, production)
            yield conn

    def _read(self) -> Any:
        return self.store.read()

    def _insert(self, table: Table) -> Any:
        return self.store.insert(table)

    def _lock(self, conn: Connection, production: str) -> None:
        stmt = self._insert(productions).values(name=production, created_at=_now(), revision=1)
        stmt = stmt.on_conflict_do_update(index_elements=["name"],
                                          set_={"revision": productions.c.revision + 1})
        conn.execute(stmt)

    # --- stage states (the flows call this) -------------------------------------------------------------

    def set_state(self, production: str, stage: Stage, state: StageState, *, note: str | None = None,
                  evidence: dict[str, Any] | None = None) -> None:
        """Move a stage to a state and keep the evidence; one transaction, safe with concurrent writers."""
        self.set_stage_state(production, Stage(stage).value, StageState(state), note=note, evidence=evidence)

    def set_stage_state(self, production: str, stage: str, state: StageState, *, note: str | None = None,
                        evidence: dict[str, Any] | None = None, on: date | None = None) -> None:
        """set_state for any stage key (templates may add stages of their own)."""
        at = _now()
        today = on or at.date()
        evidence_json = json.dumps(evidence or {}, default=str)
        with self._write(production) as conn:
            conn.execute(stage_events.insert().values(
                production=production, stage=stage, state=state.value, note=note, evidence=evidence_json, at=at))
            row = conn.execute(select(stages.c.actual_start, stages.c.actual_end).where(
                stages.c.production == production, stages.c.stage == stage)).first()
            values: dict[str, Any] = {"state": state.value, "note": note, "updated_at": at,
                                      "evidence": evidence_json}
            if state in STARTED and (row is None or row.actual_start is None):
                values["actual_start"] = today
            if state == StageState.DONE:
                values["actual_end"] = (row.actual_end if row is not None and row.actual_end else today)
            elif row is not None and row.actual_end is not None:
                values["actual_end"] = None  # reopened
            if row is None:
                conn.execute(stages.insert().values(production=production, stage=stage, label=stage_label(stage),
                                                    revision=1, **values))
            else:
                conn.execute(update(stages).where(stages.c.production == production, stages.c.stage == stage)
                             .values(revision=stages.c.revision + 1, **values))

    def state(self, production: str, stage: Stage | str) -> StageState | None:
        key = stage.value if isinstance(stage, Stage) else stage
        with self._read() as conn:
            row = conn.execute(select(stages.c.state).where(
                stages.c.production == production, stages.c.stage == key)).first()
        return StageState(row.state) if row else None

    def events(self, production: str, stage: Stage | str | None = None,
               since: datetime | None = None) -> list[dict[str, Any]]:
        query = select(stage_events).where(stage_events.c.production == production).order_by(stage_events.c.id)
        if stage is not None:
            query = query.where(stage_events.c.stage == (stage.value if isinstance(stage, Stage) else stage))
        if since is not None:
            query = query.where(stage_events.c.at > since)
        with self._read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        for r in rows:
            r["at"] = _aware(r["at"])
        return rows

    # --- plans ------------------------------------------------------------------------------------------

    def create_plan(self, production: str, template: Any, start: date, *, delivery_profile: str | None = None,
                    responsible: dict[str, str] | None = None) -> None:
        """Plan a production from a template (planning.templates.Template). States already recorded by the
        flows are kept; a production that already has a plan is refused."""
        planned = template.plan(start, responsible)
        with self._write(production) as conn:
            existing = conn.execute(select(productions.c.template).where(productions.c.name == production)).first()
            if existing is not None and existing.template:
                raise PlanError(f"production '{production}' already has a plan (template '{existing.template}')")
            conn.execute(update(productions).where(productions.c.name == production).values(
                template=template.name, delivery_profile=delivery_profile, hours_per_day=template.hours_per_day,
                planned_start=start))
            known = {r.stage for r in conn.execute(select(stages.c.stage).where(stages.c.production == production))}
            at = _now()
            for ps in planned:
                plan_values = {"label": ps.label, "position": ps.position, "planned_start": ps.start,
                               "planned_end": ps.end, "planned_minutes": ps.minutes, "responsible": ps.responsible,
                               "depends_on": json.dumps(ps.depends_on)}
                if ps.key in known:
                    conn.execute(update(stages).where(stages.c.production == production, stages.c.stage == ps.key)
                                 .values(revision=stages.c.revision + 1, **plan_values))
                else:
                    conn.execute(stages.insert().values(production=production, stage=ps.key,
                                                        state=StageState.PLANNED.value, updated_at=at, revision=1,
                                                        **plan_values))

    def production(self, name: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(select(productions).where(productions.c.name == name)).first()
        return dict(row._mapping) if row else None

    def productions(self) -> list[dict[str, Any]]:
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(select(productions).order_by(productions.c.name))]

    def stage_rows(self, production: str) -> list[dict[str, Any]]:
        """The production's stages in plan order (stages the flows moved without a plan come last)."""
        with self._read() as conn:
            return [stage_row(dict(r._mapping)) for r in conn.execute(
                select(stages).where(stages.c.production == production)
                .order_by(stages.c.position.is_(None), stages.c.position, stages.c.id))]

    # --- session reports --------------------------------------------------------------------------------

    def add_reports(self, reports: list[SessionReport]) -> tuple[int, int]:
        """Store session reports (all in one transaction per production). Returns (added, already there)."""
        added = duplicates = 0
        by_production: dict[str, list[SessionReport]] = {}
        for r in reports:
            by_production.setdefault(r.production, []).append(r)
        for production, items in by_production.items():
            with self._write(production) as conn:
                seen = {row.fingerprint for row in conn.execute(select(session_reports.c.fingerprint).where(
                    session_reports.c.production == production))}
                at = _now()
                for r in items:
                    fp = r.fingerprint()
                    if fp in seen:
                        duplicates += 1
                        continue
                    seen.add(fp)
                    conn.execute(session_reports.insert().values(
                        production=production, stage=r.stage, technician=r.technician, work_date=r.work_date,
                        minutes=r.minutes, done=r.done, incidents=r.incidents, source=r.source, fingerprint=fp,
                        created_at=at))
                    added += 1
        return added, duplicates

    def reports(self, production: str, stage: str | None = None, *,
                include_rejected: bool = False) -> list[dict[str, Any]]:
        """The production's session reports, oldest first; those the coordinator rejected only when asked
        (they are kept, but count for nothing: no hours, no money)."""
        query = select(session_reports).where(session_reports.c.production == production)
        if not include_rejected:
            query = query.where(COUNTED)
        if stage is not None:
            query = query.where(session_reports.c.stage == stage)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                query.order_by(session_reports.c.work_date, session_reports.c.id))]

    def review_report(self, production: str, report_id: int, review: str, *, by: str, minutes: int | None = None,
                      done: str | None = None) -> bool:
        """The coordinator's verdict on a report: accepted, corrected (new hours, the technician's kept) or
        rejected (kept, but no longer counted). False when the production has no such report."""
        with self._write(production) as conn:
            row = conn.execute(select(session_reports).where(session_reports.c.id == report_id,
                                                             session_reports.c.production == production)).first()
            if row is None:
                return False
            values: dict[str, Any] = {"review": review, "reviewed_by": by, "reviewed_at": _now()}
            if review == "corrected" and minutes is not None:
                values["minutes"] = minutes
                values["original_minutes"] = row.original_minutes if row.original_minutes is not None else row.minutes
                if done:
                    values["done"] = done
            conn.execute(update(session_reports).where(session_reports.c.id == report_id).values(**values))
        return True

    def incidents(self, last: int = 3) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """The latest reported incidents per (production, stage), oldest first."""
        query = (select(session_reports.c.production, session_reports.c.stage, session_reports.c.work_date,
                        session_reports.c.technician, session_reports.c.incidents)
                 .where(session_reports.c.incidents.is_not(None))
                 .order_by(session_reports.c.work_date, session_reports.c.id))
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        with self._read() as conn:
            for r in conn.execute(query):
                found.setdefault((r.production, r.stage), []).append(dict(r._mapping))
        return {key: rows[-last:] for key, rows in found.items()}

    def report_totals(self, production: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        """Per (production, stage): minutes spent, number of reports, first and last date, incidents."""
        query = select(
            session_reports.c.production, session_reports.c.stage,
            func.sum(session_reports.c.minutes).label("minutes"), func.count().label("reports"),
            func.min(session_reports.c.work_date).label("first"), func.max(session_reports.c.work_date).label("last"),
            func.count(session_reports.c.incidents).label("incidents"),
        ).where(COUNTED).group_by(session_reports.c.production, session_reports.c.stage)
        if production is not None:
            query = query.where(session_reports.c.production == production)
        with self._read() as conn:
            return {(r.production, r.stage): {"minutes": int(r.minutes or 0), "reports": r.reports,
                                              "first": r.first, "last": r.last, "incidents": r.incidents}
                    for r in conn.execute(query)}

    # --- digests ----------------------------------------------------------------------------------------

    def last_digest_at(self) -> datetime | None:
        with self._read() as conn:
            return _aware(conn.execute(select(func.max(digests.c.at))).scalar())

    def record_digest(self, at: datetime, path: str | None, sent_to: list[str] | None = None) -> None:
        with self.store.write() as conn:
            conn.execute(digests.insert().values(at=at, path=path, sent_to=", ".join(sent_to) if sent_to else None))

    def finished_since(self, since: datetime | None) -> list[dict[str, Any]]:
        """Stages moved to done after a time (all productions), oldest first."""
        query = select(stage_events).where(stage_events.c.state == StageState.DONE.value)
        if since is not None:
            query = query.where(stage_events.c.at > since)
        with self._read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query.order_by(stage_events.c.at, stage_events.c.id))]
            finished = []
            for r in rows:  # a stage done again (a flow re-run) did not finish again
                before = conn.execute(select(stage_events.c.state).where(
                    stage_events.c.production == r["production"], stage_events.c.stage == r["stage"],
                    stage_events.c.id < r["id"]).order_by(stage_events.c.id.desc()).limit(1)).scalar()
                if before != StageState.DONE.value:
                    finished.append(r)
        for r in finished:
            r["at"] = _aware(r["at"])
            r["evidence"] = json.loads(r["evidence"]) if r["evidence"] else {}
        return finished
