"""What a proxy run is made of: the jobs, the batch they share, and what happened to each source."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from config.locks import Slots
from config.settings import Production, Settings
from ingest.catalogue import Catalogue
from ingest.proxies.presets import ProxyPreset
from ingest.proxies.store import ProxyStore
from media.report import Report

REPORT_SCHEMA_VERSION = 1
TEMP_MARK = ".proxy-part-"

ClipStatus = Literal["made", "skipped", "error", "ignored"]


class ClipResult(BaseModel):
    """What happened to one source."""

    model_config = ConfigDict(extra="forbid")

    source: str
    card: str
    relpath: str
    status: ClipStatus
    proxy: str | None = None
    error: str | None = None
    encoder: str | None = None
    source_hash: str | None = None
    frames: int | None = None
    rate: str | None = None
    start_timecode: str | None = None
    reel: str | None = None
    audio_channels: int | None = None
    width: int | None = None
    height: int | None = None
    seconds: float | None = None  # encode + verify wall time


class ProxyReport(Report):
    """One proxy batch: what was made, skipped or failed, and the ALEs written."""

    schema_version: int = REPORT_SCHEMA_VERSION
    production: str
    preset: str
    fingerprint: str
    root: str
    workers: int
    encoder: str
    started_at: datetime
    finished_at: datetime | None = None
    cleaned: list[str] = []  # leftovers of killed runs, removed before starting
    clips: list[ClipResult] = []
    ale: list[str] = []
    summary: dict[str, int] = {}


class ProxyJob(BaseModel):
    """One source to make a proxy of, and where the proxy goes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    card_root: str
    card: str  # the folder name of the card in the proxy tree (disambiguated when two cards share a name)
    relpath: str
    target: str
    explicit: bool  # named on the command line (a non-media file is then an error, not ignored)


class Encodes:
    """Which jobs of a batch are encoding now, and which have had their fate settled (encoding or encoded,
    skipped, refused): the encodes that will run at once from now on are those encoding and those unsettled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settled: set[str] = set()
        self._running: set[str] = set()
        self._turns: threading.Semaphore | None = None

    @contextmanager
    def turn(self, workers: int) -> Iterator[None]:
        """One of this batch's `workers` turns to encode. A batch runs more jobs than it encodes at once, so
        that the next clip is probed (and hashed) during an encode and the last one checked and recorded during
        the next: the turn hands over at once, where the host-wide slot files are polled."""
        with self._lock:
            if self._turns is None:
                self._turns = threading.Semaphore(max(1, workers))
            turns = self._turns
        with turns:
            yield

    def started(self, job: ProxyJob) -> None:
        with self._lock:
            self._settled.add(job.target)
            self._running.add(job.target)

    def settled(self, job: ProxyJob) -> None:
        """The job's encode ended, or it needed none."""
        with self._lock:
            self._settled.add(job.target)
            self._running.discard(job.target)

    def at_once(self, jobs: list[ProxyJob]) -> int:
        with self._lock:
            return len(self._running) + len({j.target for j in jobs} - self._settled)


@dataclass
class ProxyBatch:
    """Everything the encodes of one run share."""

    settings: Settings
    production: Production
    preset: ProxyPreset
    root: Path  # <proxy root>/<preset>
    ffmpeg: str
    encoder: str
    encoder_args: list[str]
    workers: int
    threads: int
    lut: Path | None
    catalogue: Catalogue
    store: ProxyStore
    slots: Slots
    jobs: list[ProxyJob] = field(default_factory=list)
    problems: list[ClipResult] = field(default_factory=list)  # found while planning (image sequences...)
    cleaned: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    progress: Callable[[str, int], None] | None = None  # (source, frames encoded since last call)
    encodes: Encodes = field(default_factory=Encodes)

    def at_once(self) -> int:
        """How many of this batch's encodes run side by side from now on (threads are shared among them)."""
        return max(1, min(self.workers, self.encodes.at_once(self.jobs)))


def fail(job: ProxyJob, message: str, **kw: object) -> ClipResult:
    return ClipResult(source=job.source, card=job.card, relpath=job.relpath, status="error", error=message, **kw)


def rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return path.name
