"""The PAD QC flow: QC the master against the delivery profile, then move the production's PAD stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from config.settings import Settings, load_settings
from flows.qc_steps import profile_name, record_delivery, run_qc
from planning.stages import StageState
from qc.run import QcReport


@task(name="qc-master")
def qc_master_task(master: str, profile: str, settings: Settings, report_dir: str | None,
                   expected_duration: str | None) -> QcReport:
    return run_qc(master, profile, settings, report_dir, expected_duration)


@task(name="record-delivery")
def record_delivery_task(production: str, report: QcReport, settings: Settings) -> StageState:
    return record_delivery(production, report, settings)


@flow(name="pad-qc")
def qc_flow(master: str, profile: str | None = None, production: str = "default", config: str | None = None,
            report_dir: str | None = None, expected_duration: str | None = None) -> dict[str, Any]:
    """QC the PAD master against the delivery profile; move the production's PAD delivery stage."""
    settings = load_settings(Path(config) if config else None)
    name = profile_name(production, profile, settings)
    report = qc_master_task(master, name, settings, report_dir, expected_duration)
    record_delivery_task(production, report, settings)
    return report.model_dump(mode="json")
