"""QC of one master: probe, one decode, the profile's checks, a verdict (plain functions, no Prefect)."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from config.errors import PostprodError
from media.findings import Severity
from media.model import MediaKind
from media.probe import probe_file
from media.report import Report
from qc import headstart, passthumbs
from qc.analyse import Analysis, Progress, UnusableMaster, analyse
from qc.checks import CheckResult, Context, run_checks
from qc.profile import DeliveryProfile

QC_SCHEMA_VERSION = 1
Verdict = Literal["pass", "fail", "unusable"]
EXIT_CODES: dict[str, int] = {"pass": 0, "fail": 1, "unusable": 2}


class QcReport(Report):
    """The QC of one master against one profile (docs/qc.md documents this shape)."""

    schema_version: int = QC_SCHEMA_VERSION
    tool_version: str
    master: str
    profile: str
    profile_description: str = ""
    verdict: Verdict
    exit_code: int
    error: str | None = None  # why the master is unusable
    summary: dict[str, int] = {}
    start_timecode: str | None = None
    checked_at: str
    elapsed_seconds: float = 0.0
    analysis_seconds: float = 0.0
    media: dict[str, Any] | None = None
    measurements: dict[str, Any] | None = None
    checks: list[CheckResult] = []
    report_json: str | None = None
    report_html: str | None = None

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]


def _measurements(a: Analysis) -> dict[str, Any]:
    return a.model_dump(mode="json", exclude={"command"})


def qc_master(master: Path, profile: DeliveryProfile, ffmpeg: str, *, progress: Progress | None = None,
              expected_duration: str | None = None, tool_version: str = "") -> QcReport:
    """Probe, decode once, check; an unusable master is a report with verdict 'unusable', not an exception."""
    t0 = time.monotonic()
    base = {"tool_version": tool_version, "master": str(master), "profile": profile.name,
            "profile_description": profile.description, "checked_at": datetime.now(UTC).isoformat()}
    if "numpy" not in sys.modules:
        # The meters use numpy element-wise, never BLAS: OpenBLAS needs no pool of threads, whose start-up
        # is a twentieth of a second of CPU in a one-second QC (unless the user chose a number).
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # numpy loads once ffmpeg runs (qc/analyse.py makes the meters then), not beside the probe: the probe is our
    # own readers' Python as often as MediaInfo's C, and an import in a thread beside it only shares the one
    # interpreter with it, putting off ffmpeg's start by as much.
    media = probe_file(master, ffmpeg=ffmpeg, decode_check="none")
    if media.kind is MediaKind.UNREADABLE and media.video is None:
        return QcReport(**base, verdict="unusable", exit_code=2, error=media.error or "not a media file",
                        media=media.model_dump(mode="json"))
    # The pass makes the thumbnails of the first frames (qc/headstart.py on the ffmpeg started early, else
    # qc/passthumbs.py): no thumbnails' ffmpeg for the findings there.
    size = (media.video.width or 0, media.video.height or 0) if media.video else (0, 0)
    headstart.plan_thumbnails(media.path, *size)
    try:
        with passthumbs.planned(ffmpeg, media.path, headstart.thumbs_count(*size)):
            analysis = analyse(media, profile, ffmpeg, progress=progress)
    except UnusableMaster as exc:
        return QcReport(**base, verdict="unusable", exit_code=2, error=exc.reason, media=media.model_dump(mode="json"),
                        elapsed_seconds=time.monotonic() - t0)
    results = run_checks(Context(media=media, analysis=analysis, profile=profile,
                                 expected_duration=expected_duration))
    findings = [f for r in results for f in r.findings]
    summary = {
        "checks": len(results),
        "passed": sum(1 for r in results if r.status == "pass"),
        "failed": sum(1 for r in results if r.status == "fail"),
        "errors": sum(1 for f in findings if f.severity is Severity.ERROR),
        "warnings": sum(1 for f in findings if f.severity is Severity.WARNING),
        "infos": sum(1 for f in findings if f.severity is Severity.INFO),
    }
    verdict: Verdict = "fail" if summary["errors"] else "pass"
    return QcReport(**base, verdict=verdict, exit_code=EXIT_CODES[verdict], summary=summary,
                    start_timecode=media.start_timecode, elapsed_seconds=time.monotonic() - t0,
                    analysis_seconds=analysis.elapsed_seconds, media=media.model_dump(mode="json"),
                    measurements=_measurements(analysis), checks=results)


def require_file(master: Path) -> None:
    if not master.exists():
        raise PostprodError("no such file", path=master)
