"""QC of a PAD master as the commands run it: the profile by name, the settings' ffmpeg, the reports written.

The step that `postprod qc` and the PAD QC flow (flows/qc.py) run; what its verdict does to the PAD
delivery stage is planning/transitions.py's rule.
"""

from __future__ import annotations

from pathlib import Path

from config import __version__
from config.settings import Settings
from media.ffmpeg.caps import Job, ffmpeg_for
from qc import scratch
from qc.analysis import Progress
from qc.profile import load_profile
from qc.report import write_reports
from qc.run import QcReport, qc_master


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
           expected_duration: str | None = None, *, progress: Progress | None = None) -> QcReport:
    """QC one master and write its reports. `progress`: (seconds analysed, total seconds)."""
    prof = load_profile(profile)
    ffmpeg = ffmpeg_for(Job.QC_ANALYSIS, settings.ffmpeg).path
    try:
        report = qc_master(Path(master), prof, ffmpeg, progress=progress, expected_duration=expected_duration,
                           tool_version=__version__)
        folder = Path(report_dir) if report_dir else settings.reports_dir / "qc"
        return write_reports(report, folder, ffmpeg, prof.loudness.integrated, prof.loudness.tolerance)
    finally:
        scratch.wait()  # the temporary folders, removed meanwhile: none is left once the step returns
