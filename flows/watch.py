"""What the watcher does with a complete card: ingest it in this process (the ingest flow's steps), or,
with a Prefect server configured, submit it to the server's ingest deployment.

A trigger is any callable IngestJob -> JobResult.
"""

from __future__ import annotations

from config.settings import Settings
from ingest.results import CardReport
from ingest.watch import IngestJob, JobResult, Trigger
from media.findings import Severity


def result_of(reports: list[CardReport]) -> JobResult:
    result = JobResult()
    for r in reports:
        result.files += r.summary.get("files", 0)
        result.new += r.summary.get("new", 0)
        result.unchanged += r.summary.get("unchanged", 0)
        result.errors += r.summary.get("errors", 0)
        result.warnings += r.summary.get("warnings", 0)
        if r.report_json:
            result.reports.append(r.report_json)
        for f in r.files:
            for x in f.all_findings:
                if x.severity == Severity.ERROR:
                    result.problems.append(f"{f.relpath}: {x.rule}: {x.message}")
    return result


def direct_trigger(settings: Settings) -> Trigger:
    """The ingest flow's steps as plain functions, in this process (no Prefect start-up, no run history)."""
    from flows.ingest import run_ingest
    from store import Store

    store = Store(settings.db_url)  # one for the watcher's life, its schema brought to HEAD now

    def trigger(job: IngestJob) -> JobResult:
        # The same steps as the ingest flow: reception stage, and the production's proxies.
        return result_of(run_ingest([job.source], job.production, settings, store=store))

    return trigger


def server_trigger(settings: Settings) -> Trigger:
    """Submit each complete card to the shared Prefect server's ingest deployment (docs/deploy.md).

    Used when a Prefect API URL is set: the run happens on whichever storage server's worker takes it.
    The run is keyed on the card's files, sizes and mtimes, so a card submitted twice is one run; the
    reconcile pass re-submits what the catalogue still lacks once that run is over.
    """
    from flows.deploy import submit_ingest

    def trigger(job: IngestJob) -> JobResult:
        submission = submit_ingest([job.source], job.production, settings)
        return JobResult(submitted_run=f"{submission.flow_run_name} ({submission.flow_run_id})")

    return trigger
