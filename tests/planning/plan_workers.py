"""Worker processes for the concurrency test and the benchmark (importable by spawned processes)."""

from __future__ import annotations

from datetime import date, timedelta

from config.db import engine_for
from planning.stages import Stage, StageState
from planning.store import PlanningStore, SessionReport


def hammer(url: str, production: str, worker: int, n: int) -> int:
    """n stage updates and n session reports on the same production, as fast as possible."""
    # A forked child must not use the connections its parent's pool holds: drop them (without closing).
    engine_for(url).dispose(close=False)
    engine_for.cache_clear()
    store = PlanningStore(url)
    for i in range(n):
        state = StageState.IN_PROGRESS if i % 2 else StageState.BLOCKED
        store.set_state(production, Stage.GRADING, state, note=f"worker {worker} update {i}",
                        evidence={"worker": worker, "i": i})
        store.add_reports([SessionReport(production=production, stage="grading", technician=f"tech {worker}",
                                         work_date=date(2026, 1, 1) + timedelta(days=i), minutes=30,
                                         done=f"worker {worker} session {i}")])
    store.engine.dispose()
    return n


def open_and_write(url: str, worker: int) -> str | None:
    """Open a database no process has opened yet (all migrate at once) and record one state."""
    engine_for(url).dispose(close=False)
    engine_for.cache_clear()
    store = PlanningStore(url)
    store.set_state("fresh", Stage.RUSHES_RECEPTION, StageState.IN_PROGRESS, note=f"worker {worker}")
    state = store.state("fresh", Stage.RUSHES_RECEPTION)
    store.engine.dispose()
    return state.value if state else None
