"""The PAD QC flow: QC the master against the delivery profile, then move the production's PAD stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from config.settings import Settings, load_settings
from flows import __version__
from planning.stages import Stage, StageState
from planning.store import PlanningStore
from qc.analyse import Progress
from qc.profile import load_profile
from qc.report import write_reports
from qc.run import QcReport, qc_master

# Set by the command line to drive its progress bar: (seconds analysed, total seconds).
progress_hook: Progress | None = None


def profile_name(production: str | None, profile: str | None, settings: Settings) -> str:
    """The profile asked for, else the production's delivery_profile, else an error listing the built-ins."""
    if profile:
        return profile
    prod = settings.production(production) if production else None
    if prod is not None and prod.delivery_profile:
        return prod.delivery_profile
    from config.errors import UnknownNameError
    from qc.profile import builtin_profiles

    raise UnknownNameError("delivery profile", "(none given)", list(builtin_profiles()))


def run_qc(master: str, profile: str, settings: Settings, report_dir: str | None = None,
           expected_duration: str | None = None) -> QcReport:
    """QC one master and write its reports (a plain function; the flow runs it as a task)."""
    prof = load_profile(profile)
    ffmpeg = settings.ffmpeg_exe()
    report = qc_master(Path(master), prof, ffmpeg, progress=progress_hook, expected_duration=expected_duration,
                       tool_version=__version__)
    folder = Path(report_dir) if report_dir else settings.reports_dir / "qc"
    return write_reports(report, folder, ffmpeg, prof.loudness.integrated, prof.loudness.tolerance)


def record_delivery(production: str, report: QcReport, settings: Settings) -> StageState:
    """PAD delivery stage: done when the master passes, blocked when it fails or cannot be used."""
    state = StageState.DONE if report.verdict == "pass" else StageState.BLOCKED
    s = report.summary
    note = (f"QC {report.verdict} against {report.profile}: {Path(report.master).name}"
            + (f", {s.get('errors', 0)} error(s), {s.get('warnings', 0)} warning(s)" if s else "")
            + (f" ({report.error})" if report.error else ""))
    PlanningStore(settings.db_url).set_state(
        production, Stage.PAD_DELIVERY, state, note=note,
        evidence={"master": report.master, "profile": report.profile, "verdict": report.verdict,
                  "report_json": report.report_json, "report_html": report.report_html})
    return state


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
