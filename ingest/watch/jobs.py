"""The ingests the watcher starts: a pool of workers, retries with back-off, and what each reports back.

The watcher only decides *when*; the ingest itself (hash, probe, catalogue) is a pluggable trigger, which
already skips files catalogued with the same path, size and mtime and reports files changed after their
ingest.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from config.errors import PostprodError
from ingest.watch import events as ev
from ingest.watch.events import LogEvent
from ingest.watch.readiness import Unit

RETRY_FIRST_SECONDS = 5.0
RETRY_MAX_SECONDS = 600.0


@dataclass(frozen=True)
class IngestJob:
    """One card or loose file to ingest."""

    production: str
    folder: str
    unit: str  # the card's folder name, or the loose file's name
    source: str  # absolute path given to the ingest
    files: int  # files the watcher saw settle in it


@dataclass
class JobResult:
    """What an ingest trigger reports back (the reports themselves are on disk)."""

    new: int = 0
    unchanged: int = 0
    files: int = 0
    errors: int = 0
    warnings: int = 0
    reports: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "relpath: rule: message" of error findings
    failure: str | None = None  # the ingest could not run at all
    permanent: bool = False  # retrying cannot help until the files change (e.g. a name that is not UTF-8)
    submitted_run: str | None = None  # handed to a shared Prefect server: the flow run that will ingest it


Trigger = Callable[[IngestJob], JobResult]


@dataclass
class RunSummary:
    ingests: int = 0
    new: int = 0
    errors: int = 0
    failures: int = 0
    left: list[str] = field(default_factory=list)  # --once: units still arriving
    abandoned: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # --once: ingest folders that could not be looked at


def retry_seconds(failures: int) -> float:
    """Back-off after the n-th failed ingest in a row of a unit."""
    return min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** (failures - 1))


def run_trigger(trigger: Trigger, job: IngestJob) -> JobResult:
    """The trigger's result; an ingest that could not run at all is a failure, never an exception."""
    try:
        return trigger(job)
    except PostprodError as exc:
        return JobResult(failure=str(exc))
    except UnicodeError as exc:
        return JobResult(failure=f"a file name is not valid UTF-8 ({exc.object[exc.start:exc.end]!r} in "
                         f"{exc.object!r}): the catalogue cannot hold it; rename the file", permanent=True)
    except SQLAlchemyError as exc:
        return JobResult(failure=f"catalogue unreachable or busy: {exc.__class__.__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001  (a supervisor: one failed ingest must not stop the watcher)
        return JobResult(failure=f"{exc.__class__.__name__}: {exc}")


class JobPool:
    """At most `size` ingests at once; each finished one is logged, and a failed one is held for a retry."""

    def __init__(self, trigger: Trigger, size: int, log: Callable[[LogEvent], None]) -> None:
        self.trigger = trigger
        self.size = size
        self.log = log
        self.executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="ingest")
        self.running: dict[Future[JobResult], Unit] = {}
        self.summary = RunSummary()
        self.attempted: dict[str, tuple[int, int, int]] = {}  # path -> signature handed to an ingest

    def full(self) -> bool:
        return len(self.running) >= self.size

    def submit(self, unit: Unit, now: float) -> None:
        files = {p: fs for p, fs in unit.files.items() if not fs.partial}
        for path, fs in files.items():
            self.attempted[path] = fs.signature
        unit.submitted = files
        unit.files = {}
        unit.in_flight = True
        unit.waiting_logged_at = 0.0
        job = IngestJob(production=unit.folder.production, folder=unit.folder.path, unit=unit.name,
                        source=unit.source, files=len(files))
        self.log(ev.Ready(job.production, unit.name, len(files), round(now - unit.first_seen, 3)))
        self.log(ev.IngestStarted(job.production, unit.name, job.source, unit.is_card))
        self.running[self.executor.submit(run_trigger, self.trigger, job)] = unit

    def collect(self, now: float) -> list[Unit]:
        """The units whose ingest ended since the last call (logged, and held for a retry if it failed)."""
        done = []
        for fut in [f for f in self.running if f.done()]:
            unit = self.running.pop(fut)
            unit.in_flight = False
            unit.finished_at = now
            unit.first_seen = now
            self.summary.ingests += 1
            self._account(unit, fut.result(), now)
            done.append(unit)
        return done

    def _account(self, unit: Unit, result: JobResult, now: float) -> None:
        production = unit.folder.production
        if result.failure and result.permanent:
            self.summary.failures += 1
            self.log(ev.IngestFailed(production, unit.name, unit.source, result.failure, None))
        elif result.failure:
            # Not ingested: try again later (a busy database, a share that went away for a moment).
            self.summary.failures += 1
            unit.failures += 1
            retry = retry_seconds(unit.failures)
            for path, fs in unit.submitted.items():
                self.attempted.pop(path, None)
                if path not in unit.files:
                    fs.dirty = True
                    unit.files[path] = fs
            unit.hold_until, unit.held_for = now + retry, f"retrying in {retry:g} s after a failed ingest"
            self.log(ev.IngestFailed(production, unit.name, unit.source, result.failure, retry))
        elif result.submitted_run:
            unit.failures = 0
            self.log(ev.Submitted(production, unit.name, unit.source, result.submitted_run))
        else:
            unit.failures = 0
            self.summary.new += result.new
            self.summary.errors += result.errors
            self.log(ev.Ingested(production, unit.name, unit.source, result.files, result.new, result.unchanged,
                                 result.errors, result.warnings, result.problems[:20], result.reports))

    def shutdown(self, *, wait: bool) -> None:
        self.executor.shutdown(wait=wait, cancel_futures=True)
