"""`python -m flows.run`: how a worker runs a postprod deployment's flow run, lighter than Prefect's engine.

Prefect's process worker starts one process per flow run, by default `python -m prefect.engine`: it imports
Prefect (~2 s of CPU), loads the flow and runs it through the engine, which on a loaded 2-core machine put
10 s between the worker taking a run and the run starting. `postprod deploy` gives postprod's deployments
this command instead (the job variable `command`; `postprod worker` puts its own Python first on PATH). It
reads the run the worker names (PREFECT__FLOW_RUN_ID) over the REST API, runs the flow function's steps as
flows/history.py records them (Running, a task run per step, the artifacts, Completed or Failed, the failure
notice) and exits. A flow it does not know (any other Prefect flow) is handed to Prefect's engine in the
same process (same pid: the worker and `postprod reconcile` follow it).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from config.errors import PostprodError


def _engine() -> None:
    """Prefect's own engine, in this process (it reads the same environment)."""
    os.execv(sys.executable, [sys.executable, "-m", "prefect.engine"])


def _spec(entrypoint: str) -> Any:
    """The FlowSpec of a postprod flow named by its deployment's entrypoint (module path), else None."""
    from flows.steps import SPECS

    module = entrypoint.rpartition(".")[0]
    if not module or ":" in entrypoint:
        return None
    try:
        importlib.import_module(module)
    except ImportError:
        return None
    return SPECS.get(entrypoint)


def main() -> int:
    run_id = os.environ.get("PREFECT__FLOW_RUN_ID")
    url = os.environ.get("PREFECT_API_URL")
    if not run_id or not url:
        print("flows.run: started without PREFECT__FLOW_RUN_ID and PREFECT_API_URL (a worker sets them)",
              file=sys.stderr)
        return 2
    from flows.history import PrefectApi, RecordedRun, _state

    api = PrefectApi(url)
    run = api.get(f"flow_runs/{run_id}")
    deployment = api.get(f"deployments/{run['deployment_id']}") if run.get("deployment_id") else {}
    spec = _spec(deployment.get("entrypoint") or os.environ.get("PREFECT__FLOW_ENTRYPOINT") or "")
    if spec is None:
        api.close()
        _engine()
    params: dict[str, Any] = run.get("parameters") or {}
    try:
        from config.settings import load_settings

        settings = load_settings(Path(params["config"]) if params.get("config") else None)
    except PostprodError as exc:  # this server's settings cannot be used: the run fails, saying why
        api.post(f"flow_runs/{run_id}/set_state", {"state": _state("FAILED", "Failed", str(exc)), "force": True})
        print(f"flow run {run['name']}: {exc}", file=sys.stderr)
        return 1
    api.close()
    try:
        with RecordedRun(settings, spec.name, params, notify=spec.notify, flow_run=run):
            spec.fn(**params)
    except Exception as exc:  # noqa: BLE001 (recorded as the run's Failed state; one line here)
        # Exit 0: the run's state says it failed, and why; a non-zero exit would have the worker call it crashed.
        print(f"flow run {run['name']} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
