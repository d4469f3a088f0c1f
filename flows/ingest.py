"""The ingest flow: each card is verified, probed, checked and catalogued; the plan hears of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, task

from config import __version__
from config.settings import Settings, load_settings
from ingest.catalogue import Catalogue
from ingest.ingest import CardReport, IngestContext, ingest_source, report_rows
from ingest.report import write_reports
from media.ffmpeg.caps import Job, ffmpeg_for
from planning.stages import Stage, StageState
from planning.store import PlanningStore

# Set by the command line to drive its progress bar: (card, relpath, bytes hashed).
ProgressHook = Callable[[str, str, int], None]
progress_hook: ProgressHook | None = None


def ingest_card(source: str, production: str, settings: Settings) -> CardReport:
    """Ingest one card or file and write its reports (a plain function; the flow runs it as a task)."""
    prod = settings.production(production)
    card = Path(source).name
    hook = progress_hook
    ctx = IngestContext(
        settings=settings,
        production=prod,
        spec=prod.tech_spec(),
        catalogue=Catalogue(settings.db_url),
        ffmpeg=ffmpeg_for(Job.DECODE_CHECK, settings.ffmpeg).path,
        tool_version=__version__,
        progress=(lambda rel, n: hook(card, rel, n)) if hook else None,
    )
    report = ingest_source(Path(source), ctx)
    return write_reports(report, settings.reports_dir)


def record_reception(production: str, reports: list[CardReport], settings: Settings) -> StageState:
    """Move the production's rushes reception stage: in progress, or done once the expected cards are in."""
    prod = settings.production(production)
    catalogue = Catalogue(settings.db_url)
    sources = {row["source"] for row in catalogue.ingest_rows(production)}
    done = prod.expected_cards is not None and len(sources) >= prod.expected_cards
    state = StageState.DONE if done else StageState.IN_PROGRESS
    expected = f" of {prod.expected_cards}" if prod.expected_cards else ""
    PlanningStore(settings.db_url).set_state(
        production, Stage.RUSHES_RECEPTION, state,
        note=f"{len(sources)}{expected} card(s) or folder(s) received",
        evidence={"ingests": [r.ingest_id for r in reports], "reports": [r.report_json for r in reports]},
    )
    return state


def run_ingest(sources: list[str], production: str, settings: Settings) -> list[CardReport]:
    """The same steps as the flow, without Prefect (no run history, no start-up cost)."""
    from flows.proxy import proxies_after_ingest

    reports = [ingest_card(s, production, settings) for s in sources]
    record_reception(production, reports, settings)
    proxies_after_ingest([r.source for r in reports], production, settings)  # the production's proxy_presets
    return reports


@task(name="ingest-card")
def ingest_card_task(source: str, production: str, settings: Settings) -> CardReport:
    return ingest_card(source, production, settings)


@task(name="record-reception")
def record_reception_task(production: str, reports: list[CardReport], settings: Settings) -> StageState:
    return record_reception(production, reports, settings)


@task(name="publish-ingest")
def publish_ingest_task(report: CardReport, settings: Settings) -> str | None:
    """The card's findings, summary and report link as Prefect artifacts; errors notify the coordinator."""
    from flows.publish import publish_summary

    s = report.summary
    summary = (f"{s.get('files', 0)} file(s), {s.get('new', 0)} new, {s.get('unchanged', 0)} unchanged, "
               f"{s.get('verified', 0)} verified against the set's MHL; {s.get('errors', 0)} error(s), "
               f"{s.get('warnings', 0)} warning(s)")
    rows = [r for r in report_rows(report) if r["severity"]]
    return publish_summary("ingest", report.production, report.card, rows, summary, report.report_html, settings,
                           failed=s.get("errors", 0) > 0)


def _notify_failure(flow, flow_run, state):  # type: ignore[no-untyped-def]
    from flows.publish import flow_failure_hook

    flow_failure_hook("ingest")(flow, flow_run, state)


@flow(name="ingest", on_failure=[_notify_failure], on_crashed=[_notify_failure])
def ingest_flow(sources: list[str], production: str = "default", config: str | None = None) -> list[dict[str, Any]]:
    """Verify, probe, check and catalogue each card; move the production's rushes reception stage."""
    from flows.publish import with_retries

    settings = load_settings(Path(config) if config else None)
    from flows.proxy import proxies_after_ingest_task

    reports = [with_retries(ingest_card_task, settings)(s, production, settings) for s in sources]
    for r in reports:
        publish_ingest_task(r, settings)
    with_retries(record_reception_task, settings)(production, reports, settings)
    proxies_after_ingest_task([r.source for r in reports], production, settings)  # the production's proxy_presets
    return [r.model_dump(mode="json") for r in reports]
