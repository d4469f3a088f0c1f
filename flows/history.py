"""A command's run in the Prefect server's history without Prefect's engine: the flow run, a task run per
step, the artifacts, a few log lines, over Prefect's REST API.

With a Prefect server configured, `postprod ingest` (and `qc --flow`, the demo) used to run its flow through
Prefect's engine in the command's process: importing Prefect (~2 s of CPU), the engine's client and its
event and log workers (~1 s more), for steps that take seconds. `RecordedRun` records the same run with a
handful of HTTP requests (stdlib http.client, keep-alive), sent in order by a background thread while the
steps work: the user waits for the steps, not for the server. The UI shows the run as any other: the flow by
its name, the parameters, Running then Completed or Failed with the error, one task run per step with its
state and times (AwaitingRetry/Retrying for transient failures), the report artifacts, and log lines.

Runs submitted to a deployment still run through Prefect's engine on a worker (flows/<capability>.py's
`*_flow`); the steps are the same functions (flows/steps.py).
"""

from __future__ import annotations

import base64
import contextvars
import http.client
import json
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from config.errors import PostprodError
from flows.context import current_run, current_task
from flows.steps import Steps

if TYPE_CHECKING:
    from config.settings import Settings

R = TypeVar("R")
T = TypeVar("T")
log = logging.getLogger("postprod.flows")

def _now() -> str:
    return datetime.now(UTC).isoformat()


def _state(kind: str, name: str, message: str | None = None) -> dict[str, Any]:
    return {"type": kind, "name": name, "message": message}


class ServerError(PostprodError):
    """The Prefect server answered with an error, or could not be reached (exit code 2 at the start)."""


BUSY_RETRIES = (0.5, 1.0, 2.0, 4.0, 8.0)
LOG_SECONDS = 10.0  # log lines of a long run reach its page when a step ends, at most this often
LEASE_SECONDS = 300.0  # a deployment concurrency slot's lease, renewed every minute while the run works (as Prefect's
LEASE_RENEW_SECONDS = 60.0  # engine does)


class PrefectApi:
    """JSON over one keep-alive connection to the Prefect server's API (PREFECT_API_KEY or
    PREFECT_API_AUTH_STRING for a server that asks for them)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url.rstrip("/"))
        self.url = url
        self.path = parts.path
        conn = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self.conn = conn(parts.netloc, timeout=timeout)
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if os.environ.get("PREFECT_API_KEY"):
            self.headers["Authorization"] = f"Bearer {os.environ['PREFECT_API_KEY']}"
        elif os.environ.get("PREFECT_API_AUTH_STRING"):
            token = base64.b64encode(os.environ["PREFECT_API_AUTH_STRING"].encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"

    def get(self, path: str) -> Any:
        return self.post(path, None, method="GET")

    def post(self, path: str, body: Any, method: str = "POST") -> Any:
        """One request. A server that is busy (429, 502, 503: its SQLite database locked under load) is asked
        again after 0.5, 1, 2, 4, 8 s (or its Retry-After), as Prefect's own client does."""
        for wait in (*BUSY_RETRIES, None):
            status, payload, retry_after = self._request(method, path, body)
            if status not in (429, 502, 503) or wait is None:
                break
            time.sleep(min(retry_after, 30) if retry_after is not None else wait)
        if status >= 400:
            raise ServerError(f"the Prefect server refused {method} /{path}: {status} {payload[:300]!r}")
        return json.loads(payload) if payload else None

    def _request(self, method: str, path: str, body: Any) -> tuple[int, bytes, float | None]:
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):  # a keep-alive connection the server closed: once more on a new one
            try:
                self.conn.request(method, f"{self.path}/{path}", body=data, headers=self.headers)
                resp = self.conn.getresponse()
                payload = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                self.conn.close()
                if attempt == 2:
                    raise ServerError(f"cannot reach the Prefect server at {self.conn.host}:{self.conn.port}: "
                                      f"{exc}") from exc
                continue
            try:
                retry_after = float(resp.getheader("Retry-After") or "")
            except ValueError:
                retry_after = None
            return resp.status, payload, retry_after
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


class RecordedRun(Steps):
    """Runs each step in this process and records it as a task run of one flow run on the Prefect server.

    `with RecordedRun(settings, "ingest", {...}, notify="ingest") as steps:` creates the flow run and sets it
    Running (synchronously: an unreachable server fails the command before any work); every later request
    goes through a background thread, in order; leaving the block sets the final state and waits for the
    requests to be sent. A failure to record after the start is logged, never fails the work."""

    in_flow = True

    def __init__(self, settings: Settings, flow: str, parameters: dict[str, Any], *, notify: str | None = None,
                 tags: list[str] | None = None, flow_run: dict[str, Any] | None = None) -> None:
        """`flow_run`: a run that exists already (a deployment's, started by a worker: flows/run.py), as the
        server describes it; else a new run of the flow named `flow` is created."""
        url = settings.prefect.server_url()
        if not url:
            raise ValueError("RecordedRun needs a Prefect server ([prefect] api_url or PREFECT_API_URL)")
        self.settings, self.flow, self.parameters = settings, flow, parameters
        self.notify, self.tags = notify, tags or []
        self.url = url
        self.api = PrefectApi(url)
        self.flow_run_id: str | None = flow_run["id"] if flow_run else None
        self.flow_run_name: str | None = flow_run["name"] if flow_run else None
        self._queue: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._sender: threading.Thread | None = None
        self._errors: list[str] = []
        self._logs: list[dict[str, Any]] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._tokens: list[contextvars.Token[Any]] = []
        self._lease: str | None = None
        self._logs_sent = time.monotonic()

    # -- the flow run ---------------------------------------------------------------------------------------
    def __enter__(self) -> RecordedRun:
        if self.flow_run_id is None:
            flow = self.api.post("flows/", {"name": self.flow})
            run = self.api.post("flow_runs/", {"flow_id": flow["id"], "parameters": self.parameters,
                                               "tags": self.tags, "state": _state("PENDING", "Pending")})
            self.flow_run_id, self.flow_run_name = run["id"], run["name"]
        self._propose_running()
        self._sender = threading.Thread(target=self._send, name="postprod-run-history", daemon=True)
        self._sender.start()
        self._tokens = [current_run.set(self)]
        self._log("INFO", f"Beginning flow run '{self.flow_run_name}' for flow '{self.flow}' (postprod, without "
                  "Prefect's engine)")
        return self

    def _propose_running(self) -> None:
        for _ in range(120):
            answer = self.api.post(f"flow_runs/{self.flow_run_id}/set_state",
                                   {"state": _state("RUNNING", "Running"), "force": False})
            status = answer.get("status")
            if status == "ACCEPT":
                # A deployment with a concurrency limit (pad-qc): its slot is a lease that the run renews.
                details = (answer.get("state") or {}).get("state_details") or {}
                self._lease = details.get("deployment_concurrency_lease_id")
                return
            if status == "WAIT":
                time.sleep(min(float((answer.get("details") or {}).get("delay_seconds") or 1), 10))
                continue
            reason = (answer.get("details") or {}).get("reason") or answer.get("state", {}).get("name")
            raise ServerError(f"the Prefect server did not let flow run {self.flow_run_name} start: {status} "
                              f"({reason})")
        raise ServerError(f"the Prefect server kept flow run {self.flow_run_name} waiting")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        for token in reversed(self._tokens):
            current_run.reset(token)
        if exc is None:
            state = _state("COMPLETED", "Completed")
        elif isinstance(exc, KeyboardInterrupt):
            state = _state("CANCELLED", "Cancelled", "interrupted")
        elif isinstance(exc, Exception):
            state = _state("FAILED", "Failed", f"{type(exc).__name__}: {exc}")
        else:
            state = _state("CRASHED", "Crashed", f"{type(exc).__name__}: {exc}")
        self._log("INFO" if exc is None else "ERROR", f"Finished in state {state['name']}"
                  + (f": {state['message']}" if state["message"] else ""))
        self._flush_logs()
        # Not forced: the server's rules for a run that ends (a deployment's concurrency slot released) apply.
        self._queue.put((f"flow_runs/{self.flow_run_id}/set_state", {"state": state, "force": False}))
        self._queue.put(None)
        if self._sender is not None:
            self._sender.join(300)
            if self._sender.is_alive():
                self._errors.insert(0, "the server answered too slowly: requests left unsent (the run may "
                                       "stay Running in the UI)")
        self.api.close()
        if self._errors:
            log.warning("the Prefect server did not record all of flow run %s: %s", self.flow_run_name,
                        self._errors[0])
        if exc is not None and isinstance(exc, Exception) and self.notify:
            from flows.publish import notify_failure

            notify_failure(self.settings, f"[postprod] {self.notify} run {self.flow_run_name} failed",
                           f"{self.notify}: {state['message']}", self.ui_link())

    def ui_link(self) -> str | None:
        base = os.environ.get("PREFECT_UI_URL")
        return f"{base.rstrip('/')}/runs/flow-run/{self.flow_run_id}" if base else None

    def _send(self) -> None:
        renewed = time.monotonic()
        while True:
            try:
                item = self._queue.get(timeout=LEASE_RENEW_SECONDS if self._lease else None)
            except queue.Empty:
                item = ()
            if item is None:
                return
            try:
                if self._lease and time.monotonic() - renewed >= LEASE_RENEW_SECONDS:
                    renewed = time.monotonic()
                    self.api.post(f"v2/concurrency_limits/leases/{self._lease}/renew",
                                  {"lease_duration": LEASE_SECONDS})
                if item:
                    self.api.post(*item)
            except ServerError as exc:
                self._errors.append(str(exc))

    def _post(self, path: str, body: Any) -> None:
        self._queue.put((path, body))

    def _log(self, level: str, message: str, task_run_id: str | None = None) -> None:
        with self._lock:
            self._logs.append({"name": "postprod", "level": getattr(logging, level), "message": message,
                               "timestamp": _now(), "flow_run_id": self.flow_run_id, "task_run_id": task_run_id})

    def _flush_logs(self, *, every: float = 0.0) -> None:
        """Send the log lines kept so far (with `every`: only if the last send is that many seconds old)."""
        with self._lock:
            if not self._logs or time.monotonic() - self._logs_sent < every:
                return
            logs, self._logs, self._logs_sent = self._logs, [], time.monotonic()
        self._post("logs/", logs)

    # -- the steps ------------------------------------------------------------------------------------------
    def _task_run(self, fn: Callable[..., Any]) -> tuple[str, str]:
        name = fn.__name__.strip("_").replace("_", "-")
        key = f"{fn.__module__}.{fn.__qualname__}"
        with self._lock:
            n = self._counts[key] = self._counts.get(key, -1) + 1
        task_run_id = str(uuid.uuid4())
        self._post("task_runs/", {"id": task_run_id, "flow_run_id": self.flow_run_id, "task_key": key,
                                  "dynamic_key": str(n), "name": f"{name}-{n}",
                                  "state": _state("RUNNING", "Running")})
        return task_run_id, f"{name}-{n}"

    def _call(self, fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any], retry: bool) -> R:
        from flows.publish import is_transient

        task_run_id, name = self._task_run(fn)
        token = current_task.set(task_run_id)
        started = time.monotonic()
        attempts = 1 + (self.settings.prefect.retries if retry else 0)
        try:
            for attempt in range(1, attempts + 1):
                try:
                    result = fn(*args, **kwargs)
                except Exception as exc:
                    if attempt < attempts and is_transient(exc):
                        message = f"{type(exc).__name__}: {exc}"
                        self._set_task(task_run_id, _state("SCHEDULED", "AwaitingRetry", message))
                        self._log("WARNING", f"Task run {name} failed ({exc}); retry {attempt} of {attempts - 1} "
                                  f"in {self.settings.prefect.retry_delay_seconds:g} s", task_run_id)
                        time.sleep(self.settings.prefect.retry_delay_seconds)
                        self._set_task(task_run_id, _state("RUNNING", "Retrying"))
                        continue
                    self._set_task(task_run_id, _state("FAILED", "Failed", f"{type(exc).__name__}: {exc}"))
                    self._log("ERROR", f"Task run {name} failed: {type(exc).__name__}: {exc}", task_run_id)
                    raise
                self._set_task(task_run_id, _state("COMPLETED", "Completed"))
                self._log("INFO", f"Task run {name} completed in {time.monotonic() - started:.2f} s", task_run_id)
                return result
            raise AssertionError("unreachable")
        finally:
            current_task.reset(token)
            self._flush_logs(every=LOG_SECONDS)

    def _set_task(self, task_run_id: str, state: dict[str, Any]) -> None:
        self._post(f"task_runs/{task_run_id}/set_state", {"state": state, "force": True})

    def run(self, fn: Callable[..., R], *args: Any, retry: bool = False, **kwargs: Any) -> R:
        return self._call(fn, args, kwargs, retry)

    def map(self, fn: Callable[..., R], items: list[T], *shared: Any, workers: int = 1) -> list[R]:
        def one(item: T, *rest: Any) -> R:
            return self._call(fn, (item, *rest), {}, False)

        if workers <= 1 or len(items) <= 1:
            return super().map(one, items, *shared, workers=workers)
        # The pool's threads see this run (and record their artifacts under their own task runs).
        ctx = contextvars.copy_context()
        return super().map(lambda item, *rest: ctx.copy().run(one, item, *rest), items, *shared, workers=workers)

    def publish(self, fn: Callable[..., Any], *args: Any) -> None:
        self._call(fn, args, {}, False)

    # -- artifacts ------------------------------------------------------------------------------------------
    def artifact(self, kind: str, key: str, data: Any, description: str | None = None) -> None:
        """A Prefect artifact of this run (kind: markdown, table, link), under the step that made it."""
        if kind == "table":
            data = json.dumps(data)
        elif kind == "link":
            kind, data = "markdown", f"[{data[1]}]({data[0]})"
        self._post("artifacts/", {"key": key, "type": kind, "data": data, "description": description,
                                  "flow_run_id": self.flow_run_id, "task_run_id": current_task.get()})
