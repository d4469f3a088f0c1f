"""What a result does to a production's stage: an ingest, a conform check, a PAD QC.

Each rule is a pure function from the result to a `Transition`: the stage, its new state, the note shown in
the plan, and a typed evidence record (which run, which report) kept with the state change. The `record_*`
steps apply a rule to the plan; the flows, the CLI and the demo call them, never the store directly.

    rushes reception   each ingest: in progress; done once the production's expected_cards are in
    conform            a clean check: in progress (ready for the online); any error: blocked
    PAD delivery       the master passes: done; it fails or cannot be used: blocked
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planning.stages import Stage, StageState

if TYPE_CHECKING:  # results are read, not built, here: planning loads no ingest, conform or QC code
    from config.settings import Settings
    from conform.check import ConformOutcome
    from ingest.results import CardReport
    from qc.run import QcReport
    from store import Store
    from store.writing import SqliteWriter


@dataclass(frozen=True)
class IngestEvidence:
    ingests: list[int | None]  # the catalogue's ingest ids
    reports: list[str | None]  # the ingest reports (JSON)


@dataclass(frozen=True)
class ConformEvidence:
    timeline: str
    report_json: str
    report_html: str
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QcEvidence:
    master: str
    profile: str
    verdict: str
    report_json: str | None
    report_html: str | None


Evidence = IngestEvidence | ConformEvidence | QcEvidence


@dataclass(frozen=True)
class Transition:
    """A stage's new state, the note shown with it, and the evidence kept with the change."""

    stage: Stage
    state: StageState
    note: str
    evidence: Evidence

    def evidence_json(self) -> dict[str, Any]:
        return asdict(self.evidence)


# -- the rules --------------------------------------------------------------------------------------------
def after_ingest(reports: list[CardReport], received: int, expected: int | None) -> Transition:
    """Rushes reception: `received` cards or folders catalogued so far, of `expected` (None: unknown)."""
    done = expected is not None and received >= expected
    return Transition(Stage.RUSHES_RECEPTION, StageState.DONE if done else StageState.IN_PROGRESS,
                      f"{received}{f' of {expected}' if expected else ''} card(s) or folder(s) received",
                      IngestEvidence([r.ingest_id for r in reports], [r.report_json for r in reports]))


def after_conform(outcome: ConformOutcome) -> Transition:
    """Conform: blocked on any error-level finding, else in progress (ready for the online)."""
    s = outcome.data["summary"]
    timeline = outcome.data["timeline"]["path"]
    note = (f"conform check of {Path(timeline).name}: {s['events']} events, {s['errors']} errors, "
            f"{s['warnings']} warnings" + ("" if s["errors"] else "; ready for the online"))
    return Transition(Stage.CONFORM, StageState.BLOCKED if s["errors"] else StageState.IN_PROGRESS, note,
                      ConformEvidence(timeline, str(outcome.report_json), str(outcome.report_html), s))


def after_qc(report: QcReport) -> Transition:
    """PAD delivery: done when the master passes, blocked when it fails or cannot be used."""
    s = report.summary
    note = (f"QC {report.verdict} against {report.profile}: {Path(report.master).name}"
            + (f", {s.get('errors', 0)} error(s), {s.get('warnings', 0)} warning(s)" if s else "")
            + (f" ({report.error})" if report.error else ""))
    return Transition(Stage.PAD_DELIVERY, StageState.DONE if report.verdict == "pass" else StageState.BLOCKED,
                      note, QcEvidence(report.master, report.profile, report.verdict, report.report_json,
                                       report.report_html))


# -- the steps: a rule applied to the plan ---------------------------------------------------------------
def apply(settings: Settings, production: str, transition: Transition,
          store: Store | SqliteWriter | None = None) -> StageState:
    """The transition recorded in the run's store (the settings' when none is given; a SqliteWriter's in plain
    SQL, planning/writing.py)."""
    from store.writing import SqliteWriter

    if isinstance(store, SqliteWriter):
        from planning.writing import set_stage_state

        set_stage_state(store, production, transition.stage.value, transition.state, note=transition.note,
                        evidence=transition.evidence_json())
        return transition.state
    from planning.store import PlanningStore

    PlanningStore(store or settings.db_url).set_state(production, transition.stage, transition.state,
                                             note=transition.note, evidence=transition.evidence_json())
    return transition.state


def record_reception(production: str, reports: list[CardReport], settings: Settings,
                     store: Store | SqliteWriter | None = None) -> StageState:
    """Move the rushes reception stage after an ingest, counting the cards the catalogue has received."""
    from ingest.catalogue_sql import catalogue_for

    catalogue = catalogue_for(store or settings.db_url)  # a SQLite store at HEAD: sqlite3 alone, as the ingest
    received = len(catalogue.sources(production))
    expected = settings.production(production).expected_cards
    return apply(settings, production, after_ingest(reports, received, expected), catalogue.store)


def record_conform(production: str, outcome: ConformOutcome, settings: Settings,
                   store: Store | None = None) -> StageState:
    """Move the conform stage after a check, with its report as evidence."""
    return apply(settings, production, after_conform(outcome), store)


def record_delivery(production: str, report: QcReport, settings: Settings,
                    store: Store | None = None) -> StageState:
    """Move the PAD delivery stage after a QC, with its report as evidence."""
    return apply(settings, production, after_qc(report), store)
