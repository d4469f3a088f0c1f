"""Typed events: what the file system tells the watcher (`FsEvent`) and what the watcher logs (`LogEvent`).

Log events are dataclasses inside the watcher; at its edge each becomes the JSON object of the event log
(docs/watch.md: `time`, `event`, then the event's keys in the order declared here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar

Emit = Callable[[dict[str, Any]], None]


class FsKind(Enum):
    CREATED = "created"
    MODIFIED = "modified"  # written to
    OPENED = "opened"  # opened (by anybody: a writer or a reader)
    CLOSED = "closed"  # closed after writing
    CLOSED_NO_WRITE = "closed_no_write"
    MOVED = "moved"
    DELETED = "deleted"
    ATTRIB = "attrib"


@dataclass(frozen=True)
class FsEvent:
    """One change seen by a source: src is empty for a move in from outside, dest for a move out."""

    kind: FsKind
    src: str
    dest: str = ""
    is_dir: bool = False
    synthetic: bool = False  # made up by watchdog for what a new folder held before its watch was set


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class LogEvent:
    """One line of the watcher's log; `event` names it in the JSON."""

    event: ClassVar[str] = ""
    omit_if_none: ClassVar[tuple[str, ...]] = ()

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time": now_iso(), "event": self.event}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in self.omit_if_none:
                continue
            out[f.name] = value
        return out


@dataclass(frozen=True)
class Watching(LogEvent):
    event: ClassVar[str] = "watching"
    production: str
    folder: str
    mode: str
    poll_seconds: float | None
    why: str | None


@dataclass(frozen=True)
class Reconciled(LogEvent):
    event: ClassVar[str] = "reconciled"
    production: str
    folder: str
    files: int
    to_ingest: int
    seconds: float


@dataclass(frozen=True)
class Arrived(LogEvent):
    event: ClassVar[str] = "arrived"
    production: str
    folder: str
    unit: str
    card: bool
    path: str


@dataclass(frozen=True)
class Settling(LogEvent):
    event: ClassVar[str] = "settling"
    production: str
    unit: str
    reason: str
    files: int
    settle_seconds: float


@dataclass(frozen=True)
class Waiting(LogEvent):
    event: ClassVar[str] = "waiting"
    production: str
    unit: str
    reason: str
    files: int


@dataclass(frozen=True)
class Ready(LogEvent):
    event: ClassVar[str] = "ready"
    production: str
    unit: str
    files: int
    waited_seconds: float


@dataclass(frozen=True)
class IngestStarted(LogEvent):
    event: ClassVar[str] = "ingest_started"
    production: str
    unit: str
    source: str
    card: bool


@dataclass(frozen=True)
class Ingested(LogEvent):
    event: ClassVar[str] = "ingested"
    production: str
    unit: str
    source: str
    files: int
    new: int
    unchanged: int
    errors: int
    warnings: int
    problems: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Submitted(LogEvent):
    event: ClassVar[str] = "submitted"
    production: str
    unit: str
    source: str
    run: str


@dataclass(frozen=True)
class IngestFailed(LogEvent):
    event: ClassVar[str] = "ingest_failed"
    production: str
    unit: str
    source: str
    message: str
    retry_seconds: float | None


@dataclass(frozen=True)
class Vanished(LogEvent):
    event: ClassVar[str] = "vanished"
    production: str
    unit: str
    path: str
    message: str


@dataclass(frozen=True)
class Left(LogEvent):
    event: ClassVar[str] = "left"
    production: str
    unit: str
    reason: str
    message: str


@dataclass(frozen=True)
class Problem(LogEvent):
    event: ClassVar[str] = "problem"
    production: str | None
    path: str | None
    message: str


@dataclass(frozen=True)
class FolderUnavailable(LogEvent):
    event: ClassVar[str] = "folder_unavailable"
    production: str
    folder: str
    message: str


@dataclass(frozen=True)
class FolderBack(LogEvent):
    event: ClassVar[str] = "folder_back"
    omit_if_none: ClassVar[tuple[str, ...]] = ("message",)
    production: str
    folder: str
    message: str | None = None


@dataclass(frozen=True)
class Stopping(LogEvent):
    event: ClassVar[str] = "stopping"
    running: list[str]
    message: str


@dataclass(frozen=True)
class Abandoned(LogEvent):
    event: ClassVar[str] = "abandoned"
    units: list[str]
    message: str


@dataclass(frozen=True)
class Stopped(LogEvent):
    event: ClassVar[str] = "stopped"
    ingests: int
    new: int
    errors: int
    failures: int
