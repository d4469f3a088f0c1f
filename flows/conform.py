"""The conform check: an edit list read and matched against the catalogue, reported, optionally relinked;
the production's conform stage moved.

`run_conform` is the list of steps, run directly by `postprod conform` and as tasks by `conform_flow`, which
an assistant can start from the Prefect UI.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.settings import Settings
from conform.check import ConformOutcome, check_conform
from flows.steps import DIRECT, FlowSpec, Steps, flow_steps, prefect_flows
from planning.stages import StageState
from planning.transitions import record_conform
from store.reading import open_for_reading

if TYPE_CHECKING:
    from store import Store
    from store.reading import SqliteReader


def run_conform(timeline: Path, production: str, settings: Settings, *, rate: str | Fraction | None = None,
                handles: int | None = None, relink: Path | None = None, report_dir: Path | None = None,
                record: bool = True, steps: Steps = DIRECT,
                store: Store | SqliteReader | None = None) -> tuple[ConformOutcome, StageState | None]:
    """Check the edit list and write the reports; with `record`, move the conform stage (clean: in progress,
    errors: blocked). Returns the outcome and the stage's new state (None when not recorded).

    A check that records nothing only reads the store: a SQLite store at HEAD is then read without SQLAlchemy
    (store/reading.py); anything else, and a check that records, opens the full store."""
    if store is None and record:
        from store import open_store

        store = steps.run(open_store, settings.db_url, retry=True)
    elif store is None:
        store = steps.run(open_for_reading, settings.db_url, retry=True)
    outcome = steps.run(check_conform, timeline, production, settings, rate=rate, handles=handles, relink=relink,
                        report_dir=report_dir, store=store)
    state = (steps.run(record_conform, settings.production(production).name, outcome, settings, store)
             if record else None)
    return outcome, state


def _conform_flow(timeline: str, production: str = "default", rate: str | None = None, handles: int | None = None,
                  relink: str | None = None, config: str | None = None) -> dict[str, Any]:
    """Check an edit list against the rushes catalogue, write the reports, move the conform stage."""
    from config.settings import load_settings

    settings = load_settings(Path(config) if config else None)
    outcome, state = run_conform(Path(timeline), production, settings, rate=rate, handles=handles,
                                 relink=Path(relink) if relink else None, steps=flow_steps(settings))
    return {**outcome.data, "stage_state": str(state)}


__getattr__ = prefect_flows(__name__, conform_flow=FlowSpec("conform", _conform_flow))
