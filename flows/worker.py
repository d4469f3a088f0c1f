"""`python -m flows.worker`: the process `postprod worker` runs, Prefect's process worker with no idle seconds.

Prefect's process worker (`prefect worker start --type process`) asks the pool for runs every
PREFECT_WORKER_QUERY_SECONDS and starts a new interpreter per run. This is the same worker class (the same
pool, names, heartbeats, cancellation, process per run and its pid), with three changes:

- **A submitted run wakes the worker.** It follows the server's event stream (as it does for cancellations)
  and asks the pool for runs as soon as one of the pool's runs is Scheduled; the regular query stays.
- **No wait for the next poll when a run ends.** A run that ends frees a slot: the worker asks the pool for
  the next run at once, instead of at its next query (up to the query interval later).
- **A pre-loaded fork server** (flows/forkserver.py) starts the runs of postprod's flows: the process the
  worker starts (`python -m flows.run`) hands the run to a child forked from a process that has already
  imported postprod, instead of importing it again (about 1 s of CPU a run). POSTPROD_WORKER_FORK=0 turns
  it off.

`POSTPROD_WORKER=prefect` makes `postprod worker` start Prefect's own worker instead (as before).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from prefect.workers.process import ProcessWorker

from flows.launch import ENV

READY_SECONDS = 120.0  # how long the worker waits for its fork server before taking runs without it


class PostprodWorker(ProcessWorker):
    """Prefect's process worker that asks for the next run as soon as one ends."""

    @classmethod
    def __dispatch_key__(cls) -> str:  # not registered as "process": Prefect's own stays the process worker
        return "postprod-process"

    _watch_scope: Any = None

    async def _setup_cancellation_observer(self) -> None:
        await super()._setup_cancellation_observer()
        if self._watch_scope is None and self._work_pool is not None and self._runs_task_group is not None:
            import anyio

            self._watch_scope = anyio.CancelScope()
            self._runs_task_group.start_soon(self._watch_submissions)

    async def _watch_submissions(self) -> None:
        """Poll the pool as soon as the server says a run of it is scheduled (its event stream), instead of
        at the next query. The regular query stays: an event lost is a run seen a little later."""
        import anyio
        from prefect.events.clients import get_events_subscriber
        from prefect.events.filters import EventAnyResourceFilter, EventFilter, EventNameFilter

        with self._watch_scope:
            while True:
                try:
                    flt = EventFilter(event=EventNameFilter(name=["prefect.flow-run.Scheduled"]),
                                      any_resource=EventAnyResourceFilter(
                                          id=[f"prefect.work-pool.{self._work_pool.id}"]))
                    async with get_events_subscriber(filter=flt) as events:
                        async for _event in events:
                            self._runs_task_group.start_soon(self._poll_now)
                except Exception as exc:  # noqa: BLE001 (the server restarted...: the regular query goes on)
                    self._logger.debug("watching for submitted runs: %s", exc)
                await anyio.sleep(5)

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._watch_scope is not None:
            self._watch_scope.cancel()
        await super().__aexit__(*exc_info)

    # -- a run that ends frees a slot: ask for the next one now -------------------------------------------
    _taken: set[Any] | None = None  # runs this worker has taken and not yet let go (their slot still held)
    _poll_lock: Any = None
    _poll_queued = False

    async def get_and_submit_flow_runs(self) -> list[Any]:
        """One poll at a time (the regular query, and those after a run or a submission): a poll never acts
        on a list older than another's."""
        import anyio

        if self._poll_lock is None:
            self._poll_lock = anyio.Lock()
        async with self._poll_lock:
            self._poll_queued = False  # from here on, this poll sees every run submitted so far
            return await super().get_and_submit_flow_runs()

    async def _submit_scheduled_flow_runs(self, flow_run_response: list[Any]) -> list[Any]:
        taken = self._taken or set()
        return await super()._submit_scheduled_flow_runs([r for r in flow_run_response if r.flow_run.id not in taken])

    async def _submit_run(self, flow_run: Any) -> None:
        if self._taken is None:
            self._taken = set()
        self._taken.add(flow_run.id)
        await super()._submit_run(flow_run)

    def _release_limit_slot(self, flow_run_id: Any) -> None:
        super()._release_limit_slot(flow_run_id)
        if self._taken is not None:
            self._taken.discard(flow_run_id)

    async def _submit_run_and_capture_errors(self, flow_run: Any, task_status: Any = None) -> Any:
        try:
            return await super()._submit_run_and_capture_errors(flow_run, task_status)
        finally:  # the run ended (or could not start): its slot is free
            if self._runs_task_group is not None:
                self._runs_task_group.start_soon(self._poll_now)

    async def _poll_now(self) -> None:
        if self._poll_queued:  # a poll waiting for its turn will see this run too
            return
        self._poll_queued = True
        try:
            await self.get_and_submit_flow_runs()
        except Exception as exc:  # noqa: BLE001 (the regular query tries again)
            self._logger.debug("poll: %s", exc)


def start_forkserver(folder: Path) -> tuple[subprocess.Popen, str]:
    """The fork server (flows/forkserver.py) in `folder`; it stops taking runs when this process ends."""
    path = str(folder / "forkserver.sock")
    rd, wr = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "flows.forkserver", path, str(rd)], pass_fds=[rd])
    os.close(rd)
    os.set_inheritable(wr, False)
    start_forkserver.keep = wr  # type: ignore[attr-defined] (held open for the life of this process)
    # Take runs once it listens (its imports: a second, more under load); a run before would not be forked.
    deadline = time.monotonic() + READY_SECONDS
    while not os.path.exists(path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc, path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.worker")
    parser.add_argument("--pool", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    import anyio
    from prefect.settings import PREFECT_WORKER_HEARTBEAT_SECONDS, PREFECT_WORKER_PREFETCH_SECONDS
    from prefect.utilities.processutils import setup_signal_handlers_worker

    folder = Path(tempfile.mkdtemp(prefix="postprod-worker-"))
    if os.environ.get("POSTPROD_WORKER_FORK", "1") != "0":
        _server, os.environ[ENV] = start_forkserver(folder)
    setup_signal_handlers_worker(os.getpid(), "the postprod worker", print)
    worker = PostprodWorker(name=args.name, work_pool_name=args.pool, limit=args.limit,
                            prefetch_seconds=PREFECT_WORKER_PREFETCH_SECONDS.value(),
                            heartbeat_interval_seconds=int(PREFECT_WORKER_HEARTBEAT_SECONDS.value()))
    try:
        anyio.run(worker.start)
    except KeyboardInterrupt:
        pass
    finally:  # the fork server finishes the runs under way on its own; no new one can reach it
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
