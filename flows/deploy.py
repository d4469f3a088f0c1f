"""Several storage servers on Prefect's own server: the flows' deployments, the pool, limits, submit, reconcile.

One deployment per flow serves every production (the production is a parameter). Storage servers run
`postprod worker`, a Prefect process worker on the shared `postprod` pool. See docs/deploy.md.
"""

from __future__ import annotations

import contextlib
import importlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from config.errors import PostprodError
from config.settings import Settings
from flows.launch import pid_alive

Limit = Literal["transcode", "qc"]


@dataclass(frozen=True)
class FlowEntry:
    """A flow served by the storage servers: its Prefect name, where it lives, defaults, its limit."""

    name: str  # the @flow(name=...) — runs are submitted to "<name>/<deployment>"
    flow: str  # "module:attribute", importable on every server (postprod is installed there)
    parameters: dict[str, Any] = field(default_factory=dict)  # defaults for every run
    limit: Limit | None = None  # transcode: per server (see transcode_slot); qc: M runs in total
    description: str = ""


# The registry. Adding a flow is one line here (then `postprod deploy`). A flow with limit="transcode" wraps
# each ffmpeg call in transcode_slot(); the proxy flow needs none: its encodes already take the per-host
# file-lock slots of ingest/proxy (proxy_workers), which also bound the CLI and several flows at once.
REGISTRY: list[FlowEntry] = [
    FlowEntry("ingest", "flows.ingest:ingest_flow",
              description="Verify, probe, check and catalogue cards; move the rushes reception stage."),
    FlowEntry("proxy", "flows.proxy:proxy_flow",
              description="Proxies for the offline edit from cards or clips, with a preset."),
    FlowEntry("conform", "flows.conform:conform_flow",
              description="Check an edit list against the catalogue; move the conform stage."),
    FlowEntry("pad-qc", "flows.qc:qc_flow", limit="qc",
              description="QC of a PAD master against a delivery profile; move the PAD delivery stage."),
]

ACTIVE_STATES = ("RUNNING", "PENDING")
RESUBMIT_TAG = "postprod-resubmitted"
RECONCILED_TAG = "postprod-reconciled"  # on a dead run once it has been dealt with


class NoPrefectServer(PostprodError):
    """A command that needs the shared Prefect server found none configured or reachable."""


# -- where the Prefect server is --------------------------------------------------------------------------
def api_url(settings: Settings) -> str | None:
    """The shared Prefect server's API: settings [prefect] api_url, else $PREFECT_API_URL, else None (local)."""
    return settings.prefect.server_url()


def _require_url(settings: Settings) -> str:
    url = api_url(settings)
    if not url:
        raise NoPrefectServer("no Prefect server configured: set [prefect] api_url in the settings or "
                              "PREFECT_API_URL (e.g. http://prefect-host:4200/api); see docs/deploy.md")
    return url


@contextlib.contextmanager
def prefect_api(settings: Settings) -> Iterator[str]:
    """Point Prefect's client at the shared server for the duration (error when none is configured)."""
    url = _require_url(settings)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield url


@contextlib.contextmanager
def _client(settings: Settings) -> Iterator[Any]:
    """A synchronous Prefect client on the shared server, after a quick health check (no long retries)."""
    import httpx

    url = _require_url(settings)
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        raise NoPrefectServer(f"cannot reach the Prefect server at {url}: {exc}") from exc
    from prefect.client.orchestration import get_client

    with prefect_api(settings), get_client(sync_client=True) as client:
        yield client


def hostname() -> str:
    return socket.gethostname().split(".")[0]


# -- the pool, the limits, the deployments ----------------------------------------------------------------
def transcode_limit_name(host: str | None = None) -> str:
    return f"postprod-transcode-{host or hostname()}"


def ensure_pool(settings: Settings, client: Any) -> str:
    """Create the process work pool if it does not exist; returns its name."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    name = settings.prefect.work_pool
    try:
        pool = client.read_work_pool(name)
    except ObjectNotFound:
        client.create_work_pool(WorkPoolCreate(name=name, type="process",
                                               base_job_template=ProcessWorker.get_default_base_job_template(),
                                               description="postprod storage servers"))
        return name
    if pool.type != "process":
        raise PostprodError(f"work pool '{name}' exists with type '{pool.type}', expected 'process'")
    return name


def ensure_server_limit(settings: Settings, client: Any, host: str | None = None) -> str:
    """The per-server transcode limit (a global concurrency limit named after the host)."""
    from prefect.exceptions import ObjectAlreadyExists

    name = transcode_limit_name(host)
    # Prefect's upsert is a read then a create: two workers starting together on one server race on the
    # create, and the loser finds the limit made by the other; the second try updates it.
    for attempt in range(3):
        try:
            client.upsert_global_concurrency_limit_by_name(name, settings.prefect.transcode_slots)
            break
        except ObjectAlreadyExists:
            if attempt == 2:
                raise
    return name


@dataclass
class Deployed:
    name: str  # "<flow>/<deployment>"
    id: str
    flow: str
    concurrency_limit: int | None


def load_flow(entry: FlowEntry) -> Any:
    module_name, _, attr = entry.flow.partition(":")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise PostprodError(f"cannot import flow {entry.flow!r} for deployment '{entry.name}': {exc}") from exc
    if getattr(obj, "name", None) != entry.name:
        raise PostprodError(f"{entry.flow} is the flow {getattr(obj, 'name', None)!r}, registered as '{entry.name}'")
    return obj


# How a worker starts a run of a postprod flow: flows/run.py, not `python -m prefect.engine` (seconds less a run;
# docs/deploy.md). "python" is the worker's own: `postprod worker` puts its interpreter's folder first on PATH.
RUN_COMMAND = "python -m flows.run"


def deploy_flows(settings: Settings, entries: list[FlowEntry] | None = None) -> list[Deployed]:
    """Create or update the pool and one deployment per registered flow (idempotent). postprod's flows
    (flows.steps.SPECS) run on the workers through flows/run.py; any other flow through Prefect's engine."""
    from prefect.deployments.runner import EntrypointType

    from flows.steps import SPECS

    entries = REGISTRY if entries is None else entries
    deployed: list[Deployed] = []
    with _client(settings) as client:
        pool = ensure_pool(settings, client)
        for entry in entries:
            flow = load_flow(entry)
            limit = settings.prefect.qc_slots if entry.limit == "qc" else None
            light = entry.flow.replace(":", ".") in SPECS
            deployment = flow.to_deployment(
                name=settings.prefect.deployment, work_pool_name=pool,
                entrypoint_type=EntrypointType.MODULE_PATH, parameters=entry.parameters or None,
                concurrency_limit=limit, description=entry.description or None,
                tags=["postprod", *([entry.limit] if entry.limit else [])],
                # The entrypoint in the run's environment: flows.run need not read the deployment (one request less).
                job_variables={"command": RUN_COMMAND,
                               "env": {"PREFECT__FLOW_ENTRYPOINT": entry.flow.replace(":", ".")}} if light else None,
            )
            dep_id = deployment.apply(work_pool_name=pool)
            deployed.append(Deployed(f"{entry.name}/{settings.prefect.deployment}", str(dep_id), entry.flow, limit))
    return deployed


@contextlib.contextmanager
def transcode_slot(settings: Settings) -> Iterator[None]:
    """Hold one of this server's transcode slots around an ffmpeg encode (no-op when running locally).

    The limit `postprod-transcode-<host>` is created by `postprod worker` with [prefect] transcode_slots.
    """
    if not api_url(settings):
        yield
        return
    from prefect.concurrency.sync import concurrency

    with prefect_api(settings), concurrency(transcode_limit_name(), occupy=1, strict=False):
        yield


# -- submitting work ---------------------------------------------------------------------------------------
@dataclass
class Submission:
    mode: Literal["deployment", "local"]
    flow_run_id: str | None = None
    flow_run_name: str | None = None
    deployment: str | None = None
    result: Any = None  # the local run's result (reports), None for a submitted run


def submit(flow_name: str, parameters: dict[str, Any], settings: Settings, *,
           idempotency_key: str | None = None, tags: list[str] | None = None) -> Submission:
    """Create a run of a flow's deployment on the shared server and return at once (fire and forget).

    Two requests over Prefect's REST API (what prefect.deployments.run_deployment sends), without importing
    Prefect: a `postprod submit` answers in a fraction of a second instead of seconds."""
    from urllib.parse import quote

    from flows.history import PrefectApi, ServerError

    deployment = f"{flow_name}/{settings.prefect.deployment}"
    api = PrefectApi(_require_url(settings), timeout=30)
    try:
        try:
            dep = api.get(f"deployments/name/{quote(flow_name, safe='')}/{quote(settings.prefect.deployment, safe='')}")
        except ServerError as exc:
            if " 404 " in str(exc):
                raise NoPrefectServer(f"no deployment {deployment} on {api.url}: run `postprod deploy` first") from exc
            raise
        run = api.post(f"deployments/{dep['id']}/create_flow_run",
                       {"parameters": parameters, "idempotency_key": idempotency_key, "tags": tags or [],
                        "state": {"type": "SCHEDULED", "name": "Scheduled"}})
    finally:
        api.close()
    return Submission(mode="deployment", flow_run_id=str(run["id"]), flow_run_name=run["name"], deployment=deployment)


def card_signature(sources: list[str], ignore: list[str]) -> str:
    """What the sources hold now (files, bytes, newest mtime): the same card submitted twice is one run."""
    import hashlib

    from ingest.scan import scan

    h = hashlib.sha1()
    for source in sorted(sources):
        h.update(source.encode())
        for f in scan(Path(source), ignore).files:
            with contextlib.suppress(OSError):
                st = f.stat()
                h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def submit_ingest(sources: list[str], production: str, settings: Settings | None = None, *,
                  config: str | None = None, direct: bool = False) -> Submission:
    """Ingest cards: on the storage servers when a Prefect server is configured, else here, in this process
    (the ingest flow's steps: no temporary Prefect server; `direct` is the same without a server).

    Submitted runs carry no settings path: each worker reads its own server's settings (POSTPROD_CONFIG).
    """
    from config.settings import load_settings

    settings = settings or load_settings(Path(config) if config else None)
    settings.production(production)  # unknown names fail here, before any work
    sources = [str(Path(s).absolute()) for s in sources]
    if api_url(settings):
        key = f"ingest:{production}:{card_signature(sources, settings.ignore)}"
        return submit("ingest", {"sources": sources, "production": production}, settings, idempotency_key=key,
                      tags=[f"production:{production}"])
    from flows.ingest import run_ingest

    reports = run_ingest(sources, production, settings)
    return Submission(mode="local", result=[r.model_dump(mode="json") for r in reports])


# -- runs whose server died ---------------------------------------------------------------------------------
@dataclass
class Reconciled:
    flow_run_id: str
    flow_run_name: str
    worker: str | None
    reason: str
    resubmitted_as: str | None  # the new run, or None when the attempts are spent
    attempt: int


def worker_host(worker_name: str | None) -> str | None:
    """`postprod worker` names workers "<host>:<name>"; other names carry no host."""
    if worker_name and ":" in worker_name:
        return worker_name.split(":", 1)[0]
    return None


def _attempt(tags: list[str]) -> int:
    for t in tags:
        if t.startswith("postprod-attempt:"):
            with contextlib.suppress(ValueError):
                return int(t.split(":", 1)[1])
    return 1


def reconcile(settings: Settings, *, host: str | None = None, dead_hosts: list[str] | None = None,
              offline_workers: bool = False, since_hours: float = 24.0) -> list[Reconciled]:
    """Find runs whose worker or server died, mark them crashed, and submit them again (once each).

    A run is dead when it ran on this host (`host`, default this machine) and its process is gone; or ran on
    one of `dead_hosts`; or (`offline_workers`) its worker is offline on the server. Runs already crashed
    (Prefect marks those whose process died under a live worker) are submitted again too. Resubmissions use
    the idempotency key `postprod-resubmit:<run id>`, so two servers reconciling at once make one new run;
    a run is submitted at most [prefect] retries times. The flows are idempotent: a re-run does no work twice.
    """
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
        WorkPoolFilter,
        WorkPoolFilterName,
    )
    from prefect.client.schemas.objects import StateType, WorkerStatus
    from prefect.states import Crashed

    here = host or hostname()
    dead = set(dead_hosts or [])
    out: list[Reconciled] = []
    with _client(settings) as client:
        pool = settings.prefect.work_pool
        workers = {w.name: w for w in client.read_workers_for_work_pool(pool)}
        since = datetime.now(UTC) - timedelta(hours=since_hours)
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(
                    any_=[StateType.RUNNING, StateType.PENDING, StateType.CRASHED])),
                start_time=FlowRunFilterStartTime(after_=since)),
            work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])),
        )
        for run in runs:
            worker = (run.labels or {}).get("prefect.worker.name")
            run_host = worker_host(str(worker) if worker else None)
            reason = None
            if run.state_type == StateType.CRASHED:
                reason = "crashed"
            elif run_host is not None and run_host in dead:
                reason = f"its server {run_host} is declared dead"
            elif run_host == here and run.infrastructure_pid and run.state_type == StateType.RUNNING:
                try:
                    pid = int(str(run.infrastructure_pid).rsplit(":", 1)[-1])
                except ValueError:
                    pid = None
                if pid is not None and not pid_alive(pid):
                    reason = f"its process {pid} on {here} is gone"
            elif offline_workers and worker and (
                    worker not in workers or workers[worker].status == WorkerStatus.OFFLINE):
                reason = f"its worker {worker} is offline"
            if reason is None or run.deployment_id is None or RECONCILED_TAG in run.tags:
                continue
            if run.state_type != StateType.CRASHED:
                client.set_flow_run_state(run.id, Crashed(message=f"postprod reconcile: {reason}"), force=True)
            attempt = _attempt(run.tags)
            new_id = None
            if attempt <= settings.prefect.retries:
                tags = [t for t in run.tags if not t.startswith("postprod-attempt:")]
                new = client.create_flow_run_from_deployment(
                    run.deployment_id, parameters=run.parameters, idempotency_key=f"postprod-resubmit:{run.id}",
                    tags=sorted({*tags, RESUBMIT_TAG, f"postprod-attempt:{attempt + 1}"}))
                new_id = str(new.id)
            client.update_flow_run(run.id, tags=sorted({*run.tags, RECONCILED_TAG}))
            out.append(Reconciled(str(run.id), run.name, str(worker) if worker else None, reason, new_id, attempt))
    return out
