"""What a result does to a stage: the rules of planning/transitions.py, pure, and applied to a real plan."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from config.settings import Settings
from conform.check import ConformOutcome
from ingest.results import CardReport
from planning.stages import Stage, StageState
from planning.store import PlanningStore
from planning.transitions import (
    ConformEvidence,
    IngestEvidence,
    QcEvidence,
    after_conform,
    after_ingest,
    after_qc,
    record_delivery,
)
from qc.run import QcReport


def card(n: int) -> CardReport:
    return CardReport(production="test", source=f"/cards/A00{n}", card=f"A00{n}", ingest_id=n,
                      started_at=datetime.now(UTC), report_json=f"/reports/A00{n}.json")


def qc_report(verdict: str, **kw) -> QcReport:
    return QcReport(tool_version="t", master="/out/PAD_v1.mxf", profile="fr-pad-hd", verdict=verdict,
                    exit_code={"pass": 0, "fail": 1, "unusable": 2}[verdict], checked_at="2026-11-30T00:00:00Z",
                    report_json="/r/qc.json", report_html="/r/qc.html", **kw)


def conform_outcome(errors: int) -> ConformOutcome:
    summary = {"events": 5, "errors": errors, "warnings": 1}
    return ConformOutcome({"timeline": {"path": "/edit/cut v1.edl"}, "summary": summary},
                          Path("/r/c.json"), Path("/r/c.html"))


def test_reception_is_done_once_the_expected_cards_are_in() -> None:
    first = after_ingest([card(1)], received=1, expected=2)
    assert (first.stage, first.state, first.note) == (Stage.RUSHES_RECEPTION, StageState.IN_PROGRESS,
                                                      "1 of 2 card(s) or folder(s) received")
    assert first.evidence == IngestEvidence([1], ["/reports/A001.json"])
    assert after_ingest([card(2)], received=2, expected=2).state is StageState.DONE
    unknown = after_ingest([card(3)], received=9, expected=None)  # no expected count: never done by itself
    assert unknown.state is StageState.IN_PROGRESS and unknown.note == "9 card(s) or folder(s) received"


def test_a_conform_error_blocks_and_a_clean_check_is_ready_for_the_online() -> None:
    blocked = after_conform(conform_outcome(errors=2))
    assert (blocked.stage, blocked.state) == (Stage.CONFORM, StageState.BLOCKED)
    assert blocked.note == "conform check of cut v1.edl: 5 events, 2 errors, 1 warnings"
    assert blocked.evidence == ConformEvidence("/edit/cut v1.edl", "/r/c.json", "/r/c.html",
                                               {"events": 5, "errors": 2, "warnings": 1})
    clean = after_conform(conform_outcome(errors=0))
    assert clean.state is StageState.IN_PROGRESS and clean.note.endswith("; ready for the online")


def test_a_qc_fail_or_an_unusable_master_blocks_pad_delivery_and_a_pass_is_done() -> None:
    failed = after_qc(qc_report("fail", summary={"errors": 3, "warnings": 0}))
    assert (failed.stage, failed.state) == (Stage.PAD_DELIVERY, StageState.BLOCKED)
    assert failed.note == "QC fail against fr-pad-hd: PAD_v1.mxf, 3 error(s), 0 warning(s)"
    assert failed.evidence == QcEvidence("/out/PAD_v1.mxf", "fr-pad-hd", "fail", "/r/qc.json", "/r/qc.html")
    unusable = after_qc(qc_report("unusable", error="no picture"))
    assert unusable.state is StageState.BLOCKED and unusable.note.endswith("(no picture)")
    assert after_qc(qc_report("pass", summary={"errors": 0, "warnings": 1})).state is StageState.DONE


def test_a_transition_is_recorded_with_its_evidence(settings: Settings) -> None:
    assert record_delivery("test", qc_report("fail", summary={"errors": 1}), settings) is StageState.BLOCKED
    store = PlanningStore(settings.db_url)
    assert store.state("test", Stage.PAD_DELIVERY) is StageState.BLOCKED
    event = store.events("test", Stage.PAD_DELIVERY)[-1]
    assert '"verdict": "fail"' in event["evidence"] and "/r/qc.html" in event["evidence"]
