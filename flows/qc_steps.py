"""PAD QC steps as plain functions (no Prefect import: the command line starts fast); flows/qc.py wraps them."""

from __future__ import annotations

from pathlib import Path

from config import __version__
from config.settings import Settings
from media.ffmpeg.caps import Job, ffmpeg_for
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
    from config.errors import PostprodError
    from qc.profile import builtin_profiles

    raise PostprodError(f"no delivery profile: give --profile, or set delivery_profile for production "
                        f"'{production or 'default'}'; built-in: {', '.join(sorted(builtin_profiles()))}")


def run_qc(master: str, profile: str, settings: Settings, report_dir: str | None = None,
           expected_duration: str | None = None) -> QcReport:
    """QC one master and write its reports (a plain function; the flow runs it as a task)."""
    prof = load_profile(profile)
    ffmpeg = ffmpeg_for(Job.QC_ANALYSIS, settings.ffmpeg).path
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
