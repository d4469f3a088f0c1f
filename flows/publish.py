"""What every flow shares on the servers: retries for transient failures only, artifacts, failure notices."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from config.db import DatabaseError
from config.errors import PostprodError
from config.settings import Settings


def is_transient(exc: BaseException | None) -> bool:
    """A failure worth retrying: a share or the database that blipped. Bad media and bad settings are not."""
    if isinstance(exc, DatabaseError):
        return exc.reason.startswith("cannot reach")
    if isinstance(exc, PostprodError):
        return False
    return isinstance(exc, OSError | TimeoutError | OperationalError)


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retry_condition_fn: retry only transient failures."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception:  # noqa: BLE001 (the result cannot be read: do not retry blindly)
        return False
    return is_transient(exc if isinstance(exc, BaseException) else None)


def with_retries(task: Any, settings: Settings) -> Any:
    """The task with the settings' retries for transient failures."""
    return task.with_options(retries=settings.prefect.retries,
                             retry_delay_seconds=settings.prefect.retry_delay_seconds,
                             retry_condition_fn=retry_transient)


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys: lowercase letters, digits and dashes."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower())).strip("-")[:200] or "postprod"


def report_link(path: str | Path | None, settings: Settings) -> str | None:
    """The report as a link: under [prefect] reports_url when the reports are served, else a file:// URI."""
    if not path:
        return None
    p = Path(path)
    base = settings.prefect.reports_url
    if base:
        try:
            return base.rstrip("/") + "/" + p.relative_to(settings.reports_dir).as_posix()
        except ValueError:
            pass
    return p.absolute().as_uri()


def publish_summary(kind: str, production: str, subject: str, rows: list[dict[str, Any]], summary: str,
                    report: str | Path | None, settings: Settings, *, failed: bool) -> str | None:
    """In a flow run: a table of findings, a markdown summary and a link to the report as Prefect artifacts;
    when `failed`, the coordinator is notified. Returns the report link."""
    link = report_link(report, settings)
    key = artifact_key(kind, production, subject)
    artifact = _artifact_maker()
    artifact("markdown", f"{key}-summary", f"### {kind}: {subject}\n\n{summary}\n"
             + (f"\n[report]({link})\n" if link else ""), f"{kind} summary, {production}")
    artifact("table", f"{key}-findings", rows or [{"finding": "none"}], f"{kind} findings, {production}: {subject}")
    if link:
        artifact("link", f"{key}-report", (link, f"{kind} report: {subject}"), None)
    if failed:
        notify_failure(settings, f"[postprod] {kind} failed: {production} {subject}", summary, link)
    return link


def _artifact_maker() -> Callable[[str, str, Any, str | None], None]:
    """Where artifacts go: the run a command records (flows/history.py), else Prefect's run context."""
    from flows.context import current_run

    run = current_run.get()
    if run is not None:
        return run.artifact
    from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

    def artifact(kind: str, key: str, data: Any, description: str | None) -> None:
        if kind == "markdown":
            create_markdown_artifact(data, key=key, description=description)
        elif kind == "table":
            create_table_artifact(data, key=key, description=description)
        else:
            create_link_artifact(data[0], link_text=data[1], key=key)

    return artifact


def notify_failure(settings: Settings, subject: str, body: str, link: str | None) -> None:
    """Notify, logging (not raising) when no channel takes it: a notice must not fail the work it reports."""
    from flows.notify import NotifyError, notify

    try:
        notify(settings, subject, body, link)
    except NotifyError as exc:
        from flows.context import current_run

        if current_run.get() is not None or not _in_prefect_engine():
            logging.getLogger("postprod").warning(str(exc))
            return
        from prefect.logging import get_logger

        get_logger("postprod").warning(str(exc))


def _in_prefect_engine() -> bool:
    """Whether Prefect is running this code (its logger then sends the line to the run's logs)."""
    return "prefect.context" in sys.modules


def flow_failure_hook(kind: str):
    """A Prefect on_failure/on_crashed hook that notifies the coordinator of a flow that did not finish."""

    def hook(flow: Any, flow_run: Any, state: Any) -> None:
        from config.settings import load_settings

        params = flow_run.parameters or {}
        try:
            settings = load_settings(Path(params["config"]) if params.get("config") else None)
        except PostprodError:
            return
        ui = _ui_url(flow_run.id)
        notify_failure(settings, f"[postprod] {kind} run {flow_run.name} {state.name.lower()}",
                       f"{kind} for production {params.get('production', '?')}: {state.message or state.name}",
                       ui)

    return hook


def _ui_url(flow_run_id: Any) -> str | None:
    from prefect.settings import PREFECT_UI_URL

    base = PREFECT_UI_URL.value()
    return f"{base.rstrip('/')}/runs/flow-run/{flow_run_id}" if base else None
