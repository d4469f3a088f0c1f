"""`postprod deploy`, `postprod worker`, `postprod reconcile`, `postprod submit`: several storage servers.

Thin wrappers over flows/deploy.py so that an admin types one postprod command per step instead of
remembering Prefect's pool, deployment and limit names (docs/deploy.md).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from cli.app import JsonOpt, ProductionOpt, app, emit_json, err, out, settings, state
from cli.text import escape
from config.errors import PostprodError

STOP_GRACE_SECONDS = 10.0
WORKER_QUERY_SECONDS = 2  # one small query of the pool every 2 s per worker: cheap for the Prefect server


@app.command()
def deploy(as_json: JsonOpt = False) -> None:
    """Create (or update) the process work pool and one deployment per flow on the shared Prefect server.

    Run once from any machine with the settings' [prefect] api_url (or PREFECT_API_URL); again after an
    upgrade. Idempotent.
    """
    from flows.deploy import deploy_flows

    cfg = settings()
    deployed = deploy_flows(cfg)
    data = {"work_pool": cfg.prefect.work_pool, "deployments": [dataclasses.asdict(d) for d in deployed],
            "qc_slots": cfg.prefect.qc_slots}
    if as_json:
        emit_json(data)
        return
    out.print(f"work pool [bold]{escape(cfg.prefect.work_pool)}[/] (process)")
    for d in deployed:
        limit = f", at most {d.concurrency_limit} at once" if d.concurrency_limit else ""
        out.print(f"  deployment [bold]{escape(d.name)}[/] " + escape(f"({d.flow}{limit})"))
    out.print("next, on each storage server: postprod worker")


@app.command()
def worker(
    name: Annotated[str | None, typer.Option("--name", help="Worker name; shown as <host>:<name>. "
                                             "Default: worker.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many flow runs at once "
                                              "in this worker.")] = None,
    reconcile_every: Annotated[float, typer.Option("--reconcile-every", min=0, help="Seconds between checks "
                               "for runs of this server whose process died (0: only at start).")] = 60.0,
) -> None:
    """Start a Prefect process worker for this storage server on the shared pool (runs until stopped).

    First sets this server's transcode limit ([prefect] transcode_slots) and re-submits runs that died
    with a previous worker on this host; then runs `prefect worker start --pool ...`, checking again
    every --reconcile-every seconds.
    """
    from flows.deploy import _client, api_url, ensure_server_limit, hostname, reconcile

    cfg = settings()
    url = api_url(cfg)
    with _client(cfg) as client:
        from prefect.exceptions import ObjectNotFound

        try:
            client.read_work_pool(cfg.prefect.work_pool)
        except ObjectNotFound as exc:
            raise PostprodError(f"no work pool '{cfg.prefect.work_pool}' on {url}: run `postprod deploy` "
                                "first") from exc
        limit_name = ensure_server_limit(cfg, client)
    host = hostname()
    full_name = f"{host}:{name or 'worker'}"
    # Runs of postprod's flows start as `python -m flows.run` (flows/deploy.py RUN_COMMAND): this Python.
    # The pool is asked for new runs every WORKER_QUERY_SECONDS (Prefect's default, 10 s, is the idle time
    # a submitted card waited before it was even seen); PREFECT_WORKER_QUERY_SECONDS overrides it.
    env = {**os.environ, "PREFECT_API_URL": str(url),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           "PREFECT_WORKER_QUERY_SECONDS": os.environ.get("PREFECT_WORKER_QUERY_SECONDS", str(WORKER_QUERY_SECONDS))}
    config_file = state.config or (Path(os.environ["POSTPROD_CONFIG"]) if os.environ.get("POSTPROD_CONFIG") else None)
    if config_file is None and Path("postprod.toml").is_file():
        config_file = Path("postprod.toml")
    if config_file is not None:  # flow runs read this server's settings
        env["POSTPROD_CONFIG"] = str(config_file.absolute())
    # flows/worker.py: Prefect's process worker that asks for the next run as soon as one ends, and starts
    # postprod's runs from a pre-loaded fork server. POSTPROD_WORKER=prefect: Prefect's own worker.
    if os.environ.get("POSTPROD_WORKER") == "prefect":
        cmd = [sys.executable, "-m", "prefect", "worker", "start", "--pool", cfg.prefect.work_pool,
               "--type", "process", "--name", full_name]
    else:
        cmd = [sys.executable, "-m", "flows.worker", "--pool", cfg.prefect.work_pool, "--name", full_name]
    if limit:
        cmd += ["--limit", str(limit)]
    err.print(escape(f"worker {full_name} on pool {cfg.prefect.work_pool} at {url}; "
              f"{cfg.prefect.transcode_slots} transcode slot(s) here ({limit_name})"))
    _report(reconcile(cfg))
    proc = subprocess.Popen(cmd, env=env)

    stopping: list[float] = []

    def stop(signum: int, _frame: object) -> None:
        # Prefect's worker stops gracefully on the first signal; one that hangs is killed after a grace period.
        stopping.append(time.monotonic())
        proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    last = time.monotonic()
    while proc.poll() is None:
        time.sleep(0.5)
        if stopping:
            if time.monotonic() - stopping[0] > STOP_GRACE_SECONDS:
                proc.kill()
            continue
        if reconcile_every and time.monotonic() - last >= reconcile_every:
            last = time.monotonic()
            try:
                _report(reconcile(cfg))
            except PostprodError as exc:  # the server blipped: try again at the next round
                err.print(escape(f"reconcile: {exc}"))
    proc.wait()
    raise typer.Exit(proc.returncode if proc.returncode >= 0 else 0)


def _report(items: list) -> None:
    for r in items:
        again = f"submitted again as {r.resubmitted_as}" if r.resubmitted_as else "attempts spent, not submitted"
        err.print(escape(f"run {r.flow_run_name} ({r.flow_run_id}) on {r.worker}: {r.reason}; {again}"))


@app.command(name="reconcile")
def reconcile_cmd(
    dead_host: Annotated[list[str] | None, typer.Option("--dead-host", help="A server that is gone for good: "
                         "its runs are submitted again (repeatable).")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Also treat runs of workers the Prefect server "
                                          "reports offline as dead.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Submit again, once, the runs whose process or server died (this host's are found by process id)."""
    from flows.deploy import reconcile

    items = reconcile(settings(), dead_hosts=dead_host or [], offline_workers=offline)
    if as_json:
        emit_json([dataclasses.asdict(r) for r in items])
        return
    _report(items)
    out.print(f"{len(items)} dead run(s) found")


@app.command()
def submit(
    paths: Annotated[list[Path], typer.Argument(help="Cards (folders) or files, already completely copied.")],
    production: ProductionOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Ingest cards on the storage servers (a run of the ingest deployment); returns at once.

    What the watcher does for each settled card. With no Prefect server configured, runs the ingest here.
    """
    from flows.deploy import submit_ingest

    missing = [p for p in paths if not p.exists()]
    if missing:
        raise PostprodError("no such file or folder", path=missing[0])
    sub = submit_ingest([str(p) for p in paths], production, settings(),
                        config=str(state.config) if state.config else None)
    data = dataclasses.asdict(sub)
    if as_json:
        emit_json(data)
        return
    if sub.mode == "deployment":
        out.print(escape(f"submitted {sub.deployment} run {sub.flow_run_name} ({sub.flow_run_id})"))
    else:
        out.print(f"ran here (no Prefect server configured): {len(sub.result or [])} card(s)")
