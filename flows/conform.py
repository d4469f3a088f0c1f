"""The conform check as a Prefect flow: the same plain steps (flows/conform_check.py), with run history,
so an assistant can start it from the Prefect UI; its result moves the production's conform stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from config.settings import Settings, load_settings
from flows.conform_check import ConformOutcome, check_conform, record_conform
from planning.stages import StageState


@task(name="conform-check")
def check_conform_task(timeline: str, production: str, settings: Settings, rate: str | None, handles: int | None,
                       relink: str | None) -> ConformOutcome:
    return check_conform(Path(timeline), production, settings, rate=rate, handles=handles,
                         relink=Path(relink) if relink else None)


@task(name="record-conform")
def record_conform_task(production: str, outcome: ConformOutcome, settings: Settings) -> StageState:
    return record_conform(production, outcome, settings)


@flow(name="conform")
def conform_flow(timeline: str, production: str = "default", rate: str | None = None, handles: int | None = None,
                 relink: str | None = None, config: str | None = None) -> dict[str, Any]:
    """Check an edit list against the rushes catalogue, write the reports, move the conform stage."""
    settings = load_settings(Path(config) if config else None)
    outcome = check_conform_task(timeline, production, settings, rate, handles, relink)
    state = record_conform_task(production, outcome, settings)
    return {**outcome.data, "stage_state": str(state)}
