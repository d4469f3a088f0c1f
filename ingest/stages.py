"""The time an ingest spends in each stage, for its --json (`stage_seconds`) and for finding what is slow."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# In the order an ingest runs them. hash, probe and decode_check add up the time of every worker thread
# (they run side by side, so together they can exceed the card's wall time); decode_check is within probe.
# files is the wall time of every file's work side by side (its catalogue lookup, hashing and probe).
STAGES = ("walk", "files", "hash", "probe", "decode_check", "catalogue", "mhl", "reports")


class Stages:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - started)

    def seconds(self) -> dict[str, float]:
        with self._lock:
            return {s: round(self._seconds.get(s, 0.0), 4) for s in STAGES if s != "reports"}
