"""Ingest one card or file with the settings: the context built, the card ingested, its reports written.

The step that `postprod ingest`, the ingest flow (flows/ingest.py) and the watch folders all run per card.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from config import __version__
from config.settings import Settings
from ingest.catalogue_sql import catalogue_for
from ingest.ingest import CardReport, IngestContext, ingest_source
from ingest.report import write_reports
from media.ffmpeg.caps import Job, ffmpeg_for

if TYPE_CHECKING:
    from store.base import Store
    from store.writing import SqliteWriter

# (card, relpath, bytes hashed since the last call): the command line's progress bar.
IngestProgress = Callable[[str, str, int], None]


def ingest_card(source: str, production: str, settings: Settings, *,
                progress: IngestProgress | None = None, store: Store | SqliteWriter | None = None) -> CardReport:
    """Ingest one card or file and write its reports (into the run's store; the settings' when none: on a
    SQLite store at HEAD, or a new one, its rows are written with sqlite3 alone, ingest/catalogue_sql.py)."""
    prod = settings.production(production)
    card = Path(source).name
    ctx = IngestContext(
        settings=settings,
        production=prod,
        spec=prod.tech_spec(),
        catalogue=catalogue_for(store or settings.db_url),
        ffmpeg=ffmpeg_for(Job.DECODE_CHECK, settings.ffmpeg).path,
        tool_version=__version__,
        progress=(lambda rel, n: progress(card, rel, n)) if progress else None,
    )
    report = ingest_source(Path(source), ctx)
    started = time.perf_counter()
    report = write_reports(report, settings.reports_dir)
    # After the reports are written: the time it took to write them is in the --json, not in them.
    report.stage_seconds = {**report.stage_seconds, "reports": round(time.perf_counter() - started, 4)}
    return report
