"""`python -m flows.run`: how a worker runs a postprod deployment's flow run, lighter than Prefect's engine.

Prefect's process worker starts one process per flow run, by default `python -m prefect.engine`: it imports
Prefect (~2 s of CPU), loads the flow and runs it through the engine, which on a loaded 2-core machine put
10 s between the worker taking a run and the run starting. `postprod deploy` gives postprod's deployments
this command instead (the job variable `command`; `postprod worker` puts its own Python first on PATH). It
reads the run the worker names (PREFECT__FLOW_RUN_ID) over the REST API, runs the flow function's steps as
flows/history.py records them (Running, a task run per step, the artifacts, Completed or Failed, the failure
notice) and exits. A flow it does not know (any other Prefect flow) is handed to Prefect's engine in the
same process (same pid: the worker and `postprod reconcile` follow it).

Under `postprod worker` (flows/worker.py) this process is only the launcher: the run itself is a child of the
worker's pre-loaded fork server (flows/launch.py, flows/forkserver.py), which saves the interpreter's start
and its imports. A SIGTERM unwinds the run (its ffmpeg and other children stopped): Cancelled if the server
says it is being cancelled, else Crashed (a service stop), which `postprod reconcile` submits again.
"""

from __future__ import annotations

import contextlib
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


class Stopped(SystemExit):
    """A stop (SIGTERM) of a run that nobody cancelled: a worker's service stopping. The run unwinds (its
    children are stopped) and is recorded Crashed, so that `postprod reconcile` submits it again."""


def _on_stop(run_id: str, url: str) -> Any:
    import signal

    def stop(signum: int, _frame: object) -> None:
        # Once: a second signal must not break the unwinding (the final state being sent). SIGKILL still works.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # Prefect cancels a run by setting it Cancelling and then signalling its process: Cancelled, not crashed.
        from flows.history import PrefectApi, ServerError

        api = PrefectApi(url, timeout=5)
        try:
            state = (api.get(f"flow_runs/{run_id}").get("state") or {}).get("type")
        except ServerError:
            state = None
        finally:
            api.close()
        with contextlib.suppress(OSError):  # the worker that read our output may be gone
            print(f"flow run {run_id}: {signal.Signals(signum).name}, "
                  f"{'cancelled' if state == 'CANCELLING' else 'stopping'}", file=sys.stderr, flush=True)
        if state == "CANCELLING":
            raise KeyboardInterrupt
        raise Stopped(128 + signum)

    return stop


def main() -> int:
    """The worker's command: the run in a child of this worker's fork server (flows/forkserver.py) when it
    has one, else here."""
    server = os.environ.get("POSTPROD_FORKSERVER")  # flows.launch.ENV
    if server:
        from flows.launch import launch

        code = launch(server)
        if code is not None:
            return code
    return run_flow()


def run_flow() -> int:
    run_id = os.environ.get("PREFECT__FLOW_RUN_ID")
    url = os.environ.get("PREFECT_API_URL")
    if not run_id or not url:
        print("flows.run: started without PREFECT__FLOW_RUN_ID and PREFECT_API_URL (a worker sets them)",
              file=sys.stderr)
        return 2
    import signal

    from flows.history import PrefectApi, RecordedRun, _state

    signal.signal(signal.SIGTERM, _on_stop(run_id, url))
    api = PrefectApi(url)
    run = api.get(f"flow_runs/{run_id}")
    # `postprod deploy` puts the entrypoint in the run's environment; else (deployed before) the deployment says.
    entrypoint = os.environ.get("PREFECT__FLOW_ENTRYPOINT")
    if not entrypoint and run.get("deployment_id"):
        entrypoint = api.get(f"deployments/{run['deployment_id']}").get("entrypoint")
    spec = _spec(entrypoint or "")
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
    except KeyboardInterrupt:  # cancelled, and recorded so (exit 0 as above: the state says it)
        print(f"flow run {run['name']} cancelled", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
