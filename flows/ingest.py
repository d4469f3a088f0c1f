"""The ingest: each card verified, probed, checked and catalogued; the rushes reception stage moved; the
production's proxy presets made from the cards received.

`run_ingest` is the list of steps, run directly by `postprod ingest` and the watch folders, and as tasks
by the Prefect flow `ingest_flow` (flows/steps.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.settings import Settings
from flows.steps import DIRECT, FlowSpec, Steps, flow_steps, prefect_flows
from ingest.card import IngestProgress, ingest_card
from ingest.results import CardReport, report_rows
from planning.transitions import record_reception
from store.writing import SqliteWriter, open_for_writing

if TYPE_CHECKING:  # SQLAlchemy: not loaded for a SQLite store at HEAD (store/writing.py)
    from store.base import Store


def run_ingest(sources: list[str], production: str, settings: Settings, *, steps: Steps = DIRECT,
               progress: IngestProgress | None = None, store: Store | SqliteWriter | None = None
               ) -> list[CardReport]:
    """Ingest the cards, move the reception stage, make the production's proxies of what came in. One store
    for the run (`store`, else opened here: a SQLite store at HEAD, or a new one, written with sqlite3 alone,
    store/writing.py), handed to every step."""
    store = store or steps.run(open_store, settings.db_url, retry=True)
    reports = [steps.run(ingest_card, s, production, settings, progress=progress, store=store, retry=True)
               for s in sources]
    for report in reports:
        steps.publish(publish_ingest, report, settings)
    steps.run(record_reception, production, reports, settings, store, retry=True)
    cards = [r.source for r in reports]
    for preset in settings.production(production).proxy_presets if cards else []:
        from flows.proxy import run_proxies  # only where the production makes proxies: a tenth of a second

        # Sound takes and documents the ingest received are not clips: ignored, not errors.
        run_proxies(cards, preset, production, settings, strict=False, steps=steps, store=store)  # type: ignore[arg-type]
    return reports


def open_store(url: str) -> Store | SqliteWriter:
    """The run's store (a step of its own, retried when the database is not there yet): a SQLite store at HEAD,
    or a new one, written with sqlite3 alone (SQLAlchemy not imported: store/writing.py), else the full Store.
    A proxy batch reads and writes a SqliteWriter in plain SQL as it does a store it opens itself."""
    return open_for_writing(url)


def publish_ingest(report: CardReport, settings: Settings) -> str | None:
    """The card's findings, summary and report link as Prefect artifacts; errors notify the coordinator."""
    from flows.publish import publish_summary

    s = report.summary
    summary = (f"{s.get('files', 0)} file(s), {s.get('new', 0)} new, {s.get('unchanged', 0)} unchanged, "
               f"{s.get('verified', 0)} verified against the set's MHL; {s.get('errors', 0)} error(s), "
               f"{s.get('warnings', 0)} warning(s)")
    rows = [r for r in report_rows(report) if r["severity"]]
    return publish_summary("ingest", report.production, report.card, rows, summary, report.report_html, settings,
                           failed=s.get("errors", 0) > 0)


def _ingest_flow(sources: list[str], production: str = "default", config: str | None = None,
                 progress: IngestProgress | None = None) -> list[dict[str, Any]]:
    """Verify, probe, check and catalogue each card; move the production's rushes reception stage.

    `progress` is for a caller in the same process (the command line's progress bar); runs submitted to a
    deployment leave it out."""
    from config.settings import load_settings

    settings = load_settings(Path(config) if config else None)
    reports = run_ingest(sources, production, settings, steps=flow_steps(settings), progress=progress)
    return [r.model_dump(mode="json") for r in reports]


__getattr__ = prefect_flows(__name__, ingest_flow=FlowSpec("ingest", _ingest_flow, notify="ingest"))
