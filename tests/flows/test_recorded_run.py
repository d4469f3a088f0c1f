"""A command with a Prefect server configured: its run in the server's history (flows/history.py), on a real
Prefect server, without importing Prefect in the command. One server for the module (it takes a while to start)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import small_clip
from test_scale import Cluster, free_port, webhook  # noqa: F401 (the webhook fixture)

from config.settings import load_settings
from flows.deploy import _client


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("prefect")
    cluster = Cluster(tmp, tmp)
    try:
        cluster.start_server()
        yield cluster
    finally:
        cluster.stop()


def _postprod(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "cli.main", *args], capture_output=True,
                          text=True, timeout=300, check=False, env=env)


def _imports_prefect(stderr: str) -> bool:
    return any(line.split("|")[-1].strip() == "prefect" for line in stderr.splitlines() if "import time:" in line)


def test_ingest_with_a_server_is_recorded_without_prefect(workspace: Path, make_media, server: Cluster,
                                                          webhook) -> None:  # noqa: F811
    card = workspace / "A001"
    card.mkdir()
    shutil.copy(make_media("rec.mov", small_clip(reel="A001")), card / "A001C001.mov")
    hook_url, hook = webhook
    with (workspace / "postprod.toml").open("a") as f:
        f.write(f'\n[prefect]\napi_url = "{server.url}"\n[notify]\nwebhook_url = "{hook_url}"\n')
    settings = load_settings(workspace / "postprod.toml")
    env = {**os.environ, "PREFECT_API_URL": "", "PREFECT_HOME": str(server.cwd / "prefect-home")}

    done = _postprod(env, "ingest", str(card), "-p", "test", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert not _imports_prefect(done.stderr)
    [report] = json.loads(done.stdout)
    assert report["summary"]["new"] == 1

    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
    )

    with _client(settings) as client:
        [run] = client.read_flow_runs()
        assert client.read_flow(run.flow_id).name == "ingest"
        assert run.state.is_completed() and run.parameters["sources"] == [str(card)]
        assert run.parameters["production"] == "test"
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
        assert sorted(t.name for t in tasks) == ["ingest-card-0", "open-store-0", "publish-ingest-0",
                                                 "record-reception-0"]
        assert all(t.state.is_completed() and t.start_time and t.end_time for t in tasks)
        artifacts = {a.key: a for a in client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))}
        assert artifacts["ingest-test-a001-findings"].type == "table"
        assert "1 new" in str(artifacts["ingest-test-a001-summary"].data)
        assert str(artifacts["ingest-test-a001-report"].data).startswith("[ingest report: A001](file://")
        publish = next(t for t in tasks if t.name == "publish-ingest-0")
        assert {a.task_run_id for a in artifacts.values()} == {publish.id}
        logs = client.read_logs()
        assert any("Finished in state Completed" in log.message and log.flow_run_id == run.id for log in logs)
    assert hook.received == []  # a clean card notifies nobody

    # The catalogue cannot be reached: a transient failure, retried, then the run fails, the coordinator hears.
    dead_db = f"postgresql+psycopg://postprod@127.0.0.1:{free_port()}/postprod"
    config = (workspace / "postprod.toml").read_text()
    config = config.replace("[prefect]\n", "[prefect]\nretries = 1\nretry_delay_seconds = 0.1\n")
    (workspace / "postprod.toml").write_text(f'database_url = "{dead_db}"\n' + config)
    failed = _postprod(env, "ingest", str(card), "-p", "test", "--json")
    assert failed.returncode == 2 and "Traceback" not in failed.stderr, failed.stderr[-3000:]
    with _client(settings) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(state={"type": {"any_": ["FAILED"]}}))
        [bad] = runs
        assert "cannot reach" in bad.state.message
        [store_task] = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[bad.id])),
                                             task_run_filter=TaskRunFilter())
        assert store_task.name == "open-store-0" and store_task.state.is_failed() and store_task.run_count == 2
    [notice] = [h["json"] for h in hook.received]
    assert notice["subject"] == f"[postprod] ingest run {bad.name} failed", notice


def test_qc_flow_with_a_server_moves_the_stage_and_is_recorded(workspace: Path, server: Cluster, ffmpeg: str,
                                                               tmp_path: Path) -> None:
    from dataclasses import replace

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "qc"))  # as pytest does for tests/qc
    from test_qc import TEST_PROFILE

    from planning.stages import Stage, StageState
    from planning.store import PlanningStore
    from qc.synth import Defect, MasterSpec, make_master

    profile = workspace / "test-small.toml"
    profile.write_text(TEST_PROFILE)
    bad = make_master(tmp_path / "bad.mxf", replace(MasterSpec(), defects=(Defect("black", 10, 6),)), ffmpeg)
    with (workspace / "postprod.toml").open("a") as f:
        f.write(f'\n[prefect]\napi_url = "{server.url}"\n')
    settings = load_settings(workspace / "postprod.toml")
    env = {**os.environ, "PREFECT_API_URL": ""}
    done = _postprod(env, "qc", str(bad), "--profile", str(profile), "-p", "test", "--flow", "--json")
    assert done.returncode == 1, done.stderr[-3000:]  # the planted black: findings
    assert not _imports_prefect(done.stderr)
    assert json.loads(done.stdout)["verdict"] == "fail"
    assert PlanningStore(settings.db_url).state("test", Stage.PAD_DELIVERY) is StageState.BLOCKED

    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterId

    with _client(settings) as client:
        [run] = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["pad-qc"])))
        assert run.state.is_completed() and run.parameters["master"] == str(bad)
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
        assert {t.name for t in tasks} >= {"run-qc-0", "record-delivery-0"}
        assert all(t.state.is_completed() for t in tasks)
