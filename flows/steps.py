"""One helper runs a capability's steps: as plain calls in this process, or as Prefect tasks in a flow run.

Each module of flows/ writes its capability once, as a list of steps (`run_ingest`, `run_proxies`,
`run_pad_qc`, `run_conform`), each step a plain function of the domain packages called through `steps`:

    reports = [steps.run(ingest_card, s, production, settings, retry=True) for s in sources]

`DIRECT` calls the function; `Tasks(settings)`, used by the Prefect flow around the same list, runs it as
a task (retries for transient failures where `retry=True`). Prefect is imported only by `Tasks` and by
`prefect_flows`, which builds each module's Prefect flow the first time someone asks for it: a command
that runs the steps directly never pays Prefect's 2.6 s import.

Where the steps run is decided by `use_prefect`: with a Prefect server configured, a command runs them in
its own process as `flows.history.RecordedRun`, which records the run in the server's history over its REST
API (no Prefect import, no engine); without one, in this process with no history. A command never starts
Prefect's temporary local server (15–30 s a run) for a history nobody would see. Deployment runs on the
workers go through Prefect's engine (`Tasks`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from config.settings import Settings

R = TypeVar("R")
T = TypeVar("T")


class Steps:
    """Runs each step as a plain call, in this process (no Prefect, no run history)."""

    in_flow = False

    def run(self, fn: Callable[..., R], *args: Any, retry: bool = False, **kwargs: Any) -> R:
        """One step. `retry`: a transient failure (a share or database that blipped) is retried in a flow."""
        return fn(*args, **kwargs)

    def map(self, fn: Callable[..., R], items: list[T], *shared: Any, workers: int = 1) -> list[R]:
        """`fn(item, *shared)` for each item, `workers` at a time; results in the items' order."""
        if workers <= 1 or len(items) <= 1:
            return [fn(item, *shared) for item in items]
        from concurrent.futures import ThreadPoolExecutor  # here: a command whose steps run one by one never loads it

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda item: fn(item, *shared), items))

    def publish(self, fn: Callable[..., Any], *args: Any) -> None:
        """A step that only a flow run has: artifacts for the Prefect UI, notices. Nothing here."""


DIRECT = Steps()


class Tasks(Steps):
    """Runs each step as a Prefect task of the current flow run (task name: the function's, dashed)."""

    in_flow = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._tasks: dict[tuple[Callable[..., Any], bool], Any] = {}

    def _task(self, fn: Callable[..., Any], retry: bool = False) -> Any:
        key = (fn, retry)
        if key not in self._tasks:
            from prefect import task
            from prefect.cache_policies import NO_CACHE

            made = task(fn, name=fn.__name__.strip("_").replace("_", "-"), cache_policy=NO_CACHE)
            if retry:
                from flows.publish import with_retries

                made = with_retries(made, self.settings)
            self._tasks[key] = made
        return self._tasks[key]

    def run(self, fn: Callable[..., R], *args: Any, retry: bool = False, **kwargs: Any) -> R:
        return self._task(fn, retry)(*args, **kwargs)

    def map(self, fn: Callable[..., R], items: list[T], *shared: Any, workers: int = 1) -> list[R]:
        # Prefect's task runner bounds the concurrency; the encodes' own slot locks bound them per host.
        from prefect import unmapped

        futures = self._task(fn).map(items, *[unmapped(s) for s in shared])
        return [f.result() for f in futures]

    def publish(self, fn: Callable[..., Any], *args: Any) -> None:
        self._task(fn)(*args)


def use_prefect(settings: Settings, *, direct: bool = False) -> bool:
    """Whether a command's run is recorded on a Prefect server (flows.history.RecordedRun): only with one
    configured ([prefect] api_url or PREFECT_API_URL) and without --direct. The steps run here either way."""
    if direct:
        return False
    return settings.prefect.server_url() is not None


@dataclass(frozen=True)
class FlowSpec:
    """A Prefect flow to build on first use: its name, the function that runs it, what a failure notifies."""

    name: str
    fn: Callable[..., Any]
    notify: str | None = None  # the kind named in failure notices (flows.publish.flow_failure_hook)


# Every flow made by prefect_flows, by its deployment entrypoint ("flows.ingest.ingest_flow"): what a worker's
# run of a deployment runs without Prefect's engine (flows/run.py).
SPECS: dict[str, FlowSpec] = {}


def flow_steps(settings: Settings) -> Steps:
    """How a flow function runs its steps: recorded by the run this process records (flows/history.py: a
    command's run, or a deployment's run started by flows/run.py), else as tasks of Prefect's flow run."""
    from flows.context import current_run

    return current_run.get() or Tasks(settings)


def prefect_flows(module: str, **specs: FlowSpec) -> Callable[[str], Any]:
    """A module `__getattr__` that builds each named Prefect flow on first access and keeps it.

    `flows.ingest.ingest_flow` is then a real Prefect Flow for deployments (entrypoint
    `flows.ingest.ingest_flow`), workers and tests, while importing flows.ingest imports no Prefect.
    """
    SPECS.update({f"{module}.{name}": spec for name, spec in specs.items()})

    def __getattr__(name: str) -> Any:
        spec = specs.get(name)
        if spec is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        from prefect import flow

        # Prefect names the deployment's entrypoint after the function: it must be the module attribute.
        spec.fn.__name__ = spec.fn.__qualname__ = name
        hooks: dict[str, Any] = {}
        if spec.notify:
            from flows.publish import flow_failure_hook

            hook = flow_failure_hook(spec.notify)
            hooks = {"on_failure": [hook], "on_crashed": [hook]}
        built = flow(name=spec.name, **hooks)(spec.fn)
        setattr(sys.modules[module], name, built)
        return built

    return __getattr__
