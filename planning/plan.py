"""What the `postprod plan` commands do, as plain functions: plan, report, import, mark, reconcile."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from planning import schedule
from planning.reports import BadRow, parse_file
from planning.stages import StageState
from planning.store import PlanError, PlanningStore, SessionReport
from planning.templates import load_template


def create(store: PlanningStore, production: str, template: str, start: date, *,
           delivery_profile: str | None = None, responsible: dict[str, str] | None = None) -> None:
    tpl = load_template(template)
    unknown = sorted(set(responsible or {}) - {s.key for s in tpl.stages})
    if unknown:
        raise PlanError(f"--responsible names unknown stage(s) {', '.join(unknown)}; stages of template "
                        f"'{tpl.name}': {', '.join(s.key for s in tpl.stages)}")
    store.create_plan(production, tpl, start, delivery_profile=delivery_profile, responsible=responsible)


def stage_key(store: PlanningStore, production: str, stage: str) -> str:
    rows = store.stage_rows(production)
    from planning.reports import _stage_key

    try:
        return _stage_key(stage, {r["stage"]: r["label"] or r["stage"] for r in rows})
    except ValueError as exc:
        raise PlanError(str(exc)) from None


def add_report(store: PlanningStore, report: SessionReport, today: date) -> list[str]:
    """Store one report typed at the command line; returns the stages that became late."""
    store.require_plan(report.production)
    store.add_reports([report])
    return reconcile(store, report.production, today)


@dataclass
class ImportResult:
    path: str
    added: int = 0
    already: int = 0
    bad: list[BadRow] = field(default_factory=list)
    imported: bool = True
    late: dict[str, list[str]] = field(default_factory=dict)
    productions: set[str] = field(default_factory=set)  # those the good rows are about

    def to_json(self) -> dict[str, Any]:
        return {"file": self.path, "imported": self.imported, "added": self.added, "already_there": self.already,
                "bad_rows": [b.to_json() for b in self.bad], "became_late": self.late}


def import_csv(store: PlanningStore, path: Path, *, production: str | None, all_or_nothing: bool,
               today: date) -> ImportResult:
    """Check every row; keep the good ones (or none, with all_or_nothing, when one is bad)."""
    stages_of = {p["name"]: {r["stage"]: r["label"] or r["stage"] for r in store.stage_rows(p["name"])}
                 for p in store.productions() if p["template"]}
    if production is not None:
        store.require_plan(production)
    parsed = parse_file(path, production=production, stages_of=stages_of)
    result = ImportResult(path=str(path), bad=parsed.bad)
    if parsed.bad and all_or_nothing:
        result.imported = False
        return result
    result.added, result.already = store.add_reports(parsed.good)
    result.productions = {r.production for r in parsed.good}
    for prod in sorted({r.production for r in parsed.good}):
        became = reconcile(store, prod, today)
        if became:
            result.late[prod] = became
    return result


def mark(store: PlanningStore, production: str, stage: str, state: StageState, reason: str) -> str:
    """Set a stage's state by hand; the reason and who did it are kept as evidence."""
    store.require_plan(production)
    key = stage_key(store, production, stage)
    if not reason.strip():
        raise PlanError("a reason is needed to mark a stage by hand (--reason)")
    store.set_stage_state(production, key, state, note=reason,
                          evidence={"by": "hand", "user": _user(), "reason": reason})
    return key


def reconcile(store: PlanningStore, production: str, today: date) -> list[str]:
    """Record what the reports show: a stage with reports is in progress; a late one is marked late, with
    the reasons and the reports that show it as evidence. Returns the stages that became late."""
    status = schedule.status(store, production, today)
    became: list[str] = []
    for st in status.stages:
        if st.recorded_state in (StageState.DONE, StageState.BLOCKED):
            continue
        reports = [r for r in store.reports(production, st.stage)] if st.reports else []
        evidence = {"session_reports": [r["source"] or f"report #{r['id']}" for r in reports][-20:],
                    "spent_hours": st.spent_hours, "planned_hours": st.planned_hours}
        first = min(reports[0]["work_date"], today) if reports else today  # the stage started with its first report
        if st.state == StageState.LATE and st.recorded_state != StageState.LATE:
            store.set_stage_state(production, st.stage, StageState.LATE, note="; ".join(st.reasons),
                                  evidence={**evidence, "reasons": st.reasons}, on=first)
            became.append(st.stage)
        elif st.reports and st.recorded_state == StageState.PLANNED:
            store.set_stage_state(production, st.stage, StageState.IN_PROGRESS,
                                  note=f"{st.reports} session report(s)", evidence=evidence, on=first)
    return became


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
