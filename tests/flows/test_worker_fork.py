"""`postprod worker` (flows/worker.py) on a real Prefect server: runs forked from its pre-loaded fork server
(flows/forkserver.py), cancelled from the UI, and stopped as systemd stops the service."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from test_scale import Cluster, _descendants, _wait

from config.settings import load_settings
from flows.deploy import FlowEntry, _client, deploy_flows, submit
from flows.launch import pid_alive


def _info(gate: Path, tag: str) -> dict[str, Any]:
    path = gate / f"{tag}.json"
    return _wait(f"run {tag} at its gate", lambda: path.exists() and json.loads(path.read_text()))


@pytest.mark.e2e
def test_worker_forks_runs_cancels_them_and_stops_like_systemd(workspace: Path, tmp_path: Path) -> None:
    cluster = Cluster(workspace, tmp_path)
    with (workspace / "postprod.toml").open("a") as f:
        f.write(f'\n[prefect]\napi_url = "{cluster.url}"\n')
    settings = load_settings(workspace / "postprod.toml")
    gate = tmp_path / "gate"
    gate.mkdir()
    try:
        cluster.start_server()
        deploy_flows(settings, [FlowEntry("held", "worker_e2e_flows:held_flow")])
        cluster.start_worker("w1")
        with _client(settings) as client:
            _wait("an online worker", lambda: [
                w for w in client.read_workers_for_work_pool("postprod") if w.status.value == "ONLINE"])

            def final(run_id: str) -> Any:
                run = client.read_flow_run(run_id)
                return run if run.state and run.state.is_final() else None

            # 1. A run: a child forked by the worker's fork server, in a session of its own, recorded as usual.
            a = submit("held", {"gate_dir": str(gate), "tag": "a"}, settings)
            info = _info(gate, "a")
            assert "flows.forkserver" in info["parent"], info
            assert info["pgid"] == info["pid"]
            launcher = int(client.read_flow_run(a.flow_run_id).infrastructure_pid)
            assert launcher != info["pid"] and pid_alive(launcher)  # the process the worker started waits for it
            (gate / "open").write_text("")
            run = _wait("run a", lambda: final(a.flow_run_id))
            assert run.state.is_completed(), (run.state, cluster.log("w1"))
            _wait("run a's processes to end", lambda: not pid_alive(info["pid"]) and not pid_alive(launcher), 120)
            (gate / "open").unlink()

            # 2. Cancelled from the UI: Cancelled (not crashed, not submitted again), its child stopped.
            from prefect.states import Cancelling

            b = submit("held", {"gate_dir": str(gate), "tag": "b"}, settings)
            info = _info(gate, "b")
            client.set_flow_run_state(b.flow_run_id, Cancelling(), force=True)
            run = _wait("run b cancelled", lambda: final(b.flow_run_id), 120)
            assert run.state.is_cancelled(), (run.state, cluster.log("w1"))
            _wait("run b's processes gone", lambda: not pid_alive(info["pid"]) and not pid_alive(info["child"]), 120)

            # 3. systemd stops the service: SIGTERM to every process of it (its cgroup). The run unwinds, stops
            # its child and is recorded Crashed, so that the next `postprod worker` submits it again.
            c = submit("held", {"gate_dir": str(gate), "tag": "c"}, settings)
            info = _info(gate, "c")
            worker = cluster.procs["w1"]
            cluster.note_pids()
            for pid in [worker.pid, *_descendants(worker.pid)]:
                if pid != info["child"]:  # its own child too, in systemd's stop; not here: the run must stop it
                    os.kill(pid, signal.SIGTERM)
            worker.wait(timeout=60)
            _wait(f"run c's processes gone ({info})", lambda: not pid_alive(info["pid"]) and not pid_alive(info["child"]),
                  180)
            run = _wait("run c ended", lambda: final(c.flow_run_id), 120)
            assert run.state.is_crashed(), (run.state, cluster.log("w1"))
    finally:
        left = cluster.stop()
    assert left == [], f"processes left behind: {left}"
