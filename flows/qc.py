"""PAD QC: the master checked against the delivery profile; the production's PAD delivery stage moved.

`run_pad_qc` is the list of steps, run directly by `postprod qc` and as tasks by the Prefect flow `qc_flow`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.settings import Settings
from flows.steps import DIRECT, FlowSpec, Steps, flow_steps, prefect_flows
from qc.analysis import Progress
from qc.master import profile_name, run_qc
from qc.run import QcReport

if TYPE_CHECKING:  # `postprod qc` without --flow records nothing: no database, no SQLAlchemy loaded
    from store import Store


def run_pad_qc(master: str, profile: str | None, production: str | None, settings: Settings, *,
               report_dir: str | None = None, expected_duration: str | None = None, record: bool = True,
               steps: Steps = DIRECT, progress: Progress | None = None, store: Store | None = None) -> QcReport:
    """QC the master against the profile (else the production's delivery_profile); with `record`, move the
    production's PAD delivery stage (pass: done; fail or unusable: blocked)."""
    name = profile_name(production, profile, settings)
    report = steps.run(run_qc, master, name, settings, report_dir, expected_duration, progress=progress)
    if record:
        from planning.transitions import record_delivery  # here: `postprod qc` without --flow moves no stage

        steps.run(record_delivery, production or "default", report, settings, store)
    return report


def _qc_flow(master: str, profile: str | None = None, production: str = "default", config: str | None = None,
             report_dir: str | None = None, expected_duration: str | None = None,
             progress: Progress | None = None) -> dict[str, Any]:
    """QC the PAD master against the delivery profile; move the production's PAD delivery stage.

    `progress` is for a caller in the same process (the command line's progress bar)."""
    from config.settings import load_settings

    settings = load_settings(Path(config) if config else None)
    report = run_pad_qc(master, profile, production, settings, report_dir=report_dir,
                        expected_duration=expected_duration, steps=flow_steps(settings), progress=progress)
    return report.model_dump(mode="json")


__getattr__ = prefect_flows(__name__, qc_flow=FlowSpec("pad-qc", _qc_flow))
