"""Session reports (bons de séance) on the web: the form, validated by the CSV import's own rules; who sees
which reports; the coordinator's review (accept, correct, reject)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from planning import plan
from planning.reports import MAX_MINUTES_A_DAY, parse_date, parse_hours
from planning.store import PlanError, PlanningStore, SessionReport
from web.users import Role, User

REVIEW_STATES = ("accepted", "corrected", "rejected")
MAX_TEXT = 4000


def visible_reports(store: PlanningStore, production: str, user: User) -> list[dict[str, Any]]:
    """A technician sees their own reports; the coordinator and the producer see all of the production's."""
    rows = store.reports(production, include_rejected=True)
    if user.role is Role.TECHNICIAN:
        me = user.name.strip().casefold()
        rows = [r for r in rows if r["technician"].strip().casefold() == me]
    return list(reversed(rows))


def from_form(store: PlanningStore, production: str, user: User, form: dict[str, str],
              _: Callable[[str], str]) -> tuple[SessionReport | None, list[str]]:
    """The report a form describes, or what is wrong with each field (the same rules as a CSV row)."""
    errors: list[str] = []
    technician = form.get("technician", "").strip() if user.role is Role.COORDINATOR else user.name
    if not technician:
        errors.append(_("The technician is missing."))
    try:
        work_date = parse_date(form.get("date", ""))
    except ValueError as exc:
        work_date = None
        errors.append(_("Date: {reason}").format(reason=str(exc)))
    try:
        minutes = parse_hours(form.get("hours", ""))
        if not 0 < minutes <= MAX_MINUTES_A_DAY:
            raise ValueError(f"{minutes / 60:g} h is not between 0 and 24")
    except ValueError as exc:
        minutes = None
        errors.append(_("Hours: {reason}").format(reason=str(exc)))
    try:
        stage = plan.stage_key(store, production, form.get("stage", ""))
    except PlanError as exc:
        stage = None
        errors.append(_("Stage: {reason}").format(reason=str(exc)))
    done = " ".join(form.get("done", "").split())
    incidents = " ".join(form.get("incidents", "").split()) or None
    if not done:
        errors.append(_("Say what was done."))
    if len(done) > MAX_TEXT or len(incidents or "") > MAX_TEXT:
        errors.append(_("A text field is longer than {n} characters.").format(n=MAX_TEXT))
    if errors:
        return None, errors
    assert work_date and minutes and stage
    return SessionReport(production=production, stage=stage, technician=technician, work_date=work_date,
                         minutes=minutes, done=done, incidents=incidents, source=f"web:{user.name}"), []


def submit(store: PlanningStore, report: SessionReport, today: date) -> list[str]:
    """Store it and move the plan (the stages that became late), as `postprod plan report` does."""
    return plan.add_report(store, report, today)


def review(store: PlanningStore, production: str, report_id: int, user: User, form: dict[str, str],
           _: Callable[[str], str], today: date) -> str | None:
    """Accept, correct (hours, what was done) or reject a report; returns what is wrong, if anything."""
    state = form.get("action", "")
    if state not in REVIEW_STATES:
        return _("Unknown review action.")
    minutes = done = None
    if state == "corrected":
        try:
            minutes = parse_hours(form.get("hours", ""))
            if not 0 < minutes <= MAX_MINUTES_A_DAY:
                raise ValueError(f"{minutes / 60:g} h is not between 0 and 24")
        except ValueError as exc:
            return _("Hours: {reason}").format(reason=str(exc))
        done = " ".join(form.get("done", "").split()) or None
    if not store.review_report(production, report_id, state, by=user.name, minutes=minutes, done=done):
        return _("No such report.")
    plan.reconcile(store, production, today)
    return None
