"""What a proxy run is made of: the jobs, the batch they share, and what happened to each source."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from config.locks import Slots
from config.settings import Production, Settings
from ingest.proxies.presets import ProxyPreset
from ingest.proxies.reads import ProxyReads
from media.report import Report

if TYPE_CHECKING:  # the write side through SQLAlchemy: opened beside the first encode (ProxyBatch.prefetch)
    from ingest.catalogue import Catalogue
    from ingest.proxies.store import ProxyStore
    from store import Store

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


class Writes:
    """The proxy's rows as a batch writes them (ingest/proxies/record.py): in plain SQL on the SQLite store at HEAD
    it reads (`sqlite`: its file), else through the catalogue and the proxy store (SQLAlchemy), opened at their
    first use or beside the first encode by `prefetch`, so that a batch's start does not wait for SQLAlchemy."""

    def __init__(self, url: str, store: Store | None = None, sqlite: Path | None = None) -> None:
        self.url, self._given, self.sqlite = url, store, sqlite
        self._lock = threading.Lock()
        self._opened: tuple[Catalogue, ProxyStore] | None = None
        self._prefetching: threading.Thread | None = None

    def opened(self) -> tuple[Catalogue, ProxyStore]:
        with self._lock:
            if self._opened is None:
                from ingest.catalogue import Catalogue
                from ingest.proxies.store import ProxyStore
                from store import Store

                store = self._given or Store(self.url)
                self._opened = (Catalogue(store), ProxyStore(store))
            return self._opened

    def record(self, production: str, path: str, values: dict[str, Any], proxy: dict[str, Any]) -> int:
        """The proxy's catalogue row (`values`: ingest/catalogue_rows.media_values) and its proxies row (`proxy`:
        ProxyStore.save's values but proxy_media_id), in one transaction; the catalogue row's id."""
        if self.sqlite is not None:
            from ingest.proxies.record import record_sqlite

            return record_sqlite(self.sqlite, self.url, production, path, values, proxy)
        catalogue, proxies = self.opened()
        with catalogue.store.write() as conn:  # both rows in one transaction: one commit
            proxy_id = catalogue.record_values(production, path, values, within=conn)
            proxies.save(production, conn, **proxy, proxy_media_id=proxy_id)
        return proxy_id

    def prefetch(self, also: Callable[[], object] | None = None) -> None:
        """Open them in a thread now (once; nothing to open for plain SQL), and run `also` after: the encode that
        starts meanwhile leaves a core's share free, and the proxy's rows are written when it ends. A failure here
        is left for `opened()` to raise again (and `also` is only a head start)."""
        with self._lock:
            if self._opened is not None or self._prefetching is not None:
                return
            if self.sqlite is not None and also is None:
                return
            self._prefetching = threading.Thread(target=self._quietly_opened, args=(also,), daemon=True,
                                                 name="open the store")
        self._prefetching.start()

    def settle(self) -> None:
        """Wait for a prefetch under way (a batch whose encodes all failed fast ends before it): no import left
        running in a thread when the process exits."""
        thread = self._prefetching
        if thread is not None:
            thread.join()

    def _quietly_opened(self, also: Callable[[], object] | None) -> None:
        if self.sqlite is None:
            try:
                self.opened()
            except Exception:  # noqa: BLE001 - the writer that needs it opens it again and reports the error
                pass
        if also is not None:
            try:
                also()
            except Exception:  # noqa: BLE001, S110 - a head start only: the probe loads it again and says why
                pass


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
    reads: ProxyReads  # what a clip's planning and a re-run's skip read (plain SQL, no SQLAlchemy)
    writes: Writes  # the proxy's rows (plain SQL on a SQLite store at HEAD, else SQLAlchemy, opened beside an encode)
    slots: Slots
    jobs: list[ProxyJob] = field(default_factory=list)
    problems: list[ClipResult] = field(default_factory=list)  # found while planning (image sequences...)
    cleaned: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    progress: Callable[[str, int], None] | None = None  # (source, frames encoded since last call)
    encodes: Encodes = field(default_factory=Encodes)

    def prefetch(self, also: Callable[[], object] | None = None) -> None:
        """What the batch needs once its first encode ends, loaded beside that encode (once): SQLAlchemy and the
        store where the rows are not written in plain SQL, then `also` (make.py: the modules that run once an
        encode ends)."""
        self.writes.prefetch(also)

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
