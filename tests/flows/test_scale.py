"""Several storage servers: notifications, retries, submit, and end to end on a real Prefect server with
two real workers, one of them killed in the middle of a run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import small_clip

from config.db import DatabaseError
from config.errors import ConfigError, PostprodError
from config.settings import Settings, SmtpSettings, load_settings
from flows.deploy import (
    REGISTRY,
    FlowEntry,
    Submission,
    _client,
    card_signature,
    deploy_flows,
    load_flow,
    reconcile,
    submit,
    submit_ingest,
    worker_host,
)
from flows.launch import pid_alive
from flows.notify import NotifyError, notify
from flows.publish import artifact_key, is_transient
from ingest.catalogue import Catalogue
from planning.stages import Stage, StageState
from planning.store import PlanningStore

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- notifications ------------------------------------------------------------------------------------------
class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 204

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers["Content-Length"])
        type(self).received.append({"path": self.path, "type": self.headers["Content-Type"],
                                    "json": json.loads(self.rfile.read(length))})
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def webhook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "status": 204})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/postprod", handler
    server.shutdown()
    server.server_close()


def test_notify_posts_json_to_the_webhook(webhook, settings: Settings) -> None:
    url, handler = webhook
    settings.notify.webhook_url = url
    sent = notify(settings, "QC failed: EP01", "3 errors (loudness)", "http://reports/qc/ep01.html")
    assert sent == ["webhook"]
    [got] = handler.received
    assert got["path"] == "/hooks/postprod" and got["type"] == "application/json"
    assert got["json"]["subject"] == "QC failed: EP01" and got["json"]["body"] == "3 errors (loudness)"
    assert got["json"]["link"] == "http://reports/qc/ep01.html"
    assert "QC failed: EP01" in got["json"]["text"]


def test_notify_says_which_webhook_failed(webhook, settings: Settings) -> None:
    url, handler = webhook
    handler.status = 500
    settings.notify.webhook_url = url
    with pytest.raises(NotifyError, match="127.0.0.1"):
        notify(settings, "ingest failed", "body")
    settings.notify.webhook_url = f"http://127.0.0.1:{free_port()}/nobody"
    with pytest.raises(NotifyError, match="nobody"):
        notify(settings, "ingest failed", "body")


def test_notify_sends_mail_over_smtp(settings: Settings) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    got: list[Any] = []

    class Collect(Message):
        def handle_message(self, message: Any) -> None:
            got.append(message)

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.smtp = SmtpSettings(host="127.0.0.1", port=port, to=["coord@example.org"],
                                     **{"from": "postprod@stor1.example.org"})
        assert notify(settings, "conform failed: EP02", "2 events without a source", "file:///r.html") == ["email"]
    finally:
        controller.stop()
    [msg] = got
    assert msg["Subject"] == "conform failed: EP02" and msg["To"] == "coord@example.org"
    assert msg["From"] == "postprod@stor1.example.org"
    assert "file:///r.html" in msg.get_payload()


def test_notify_with_nothing_configured_sends_nothing(settings: Settings) -> None:
    assert notify(settings, "x", "y") == []


# -- retries, keys, submit ---------------------------------------------------------------------------------
def test_only_transient_failures_are_retried() -> None:
    assert is_transient(OSError(5, "Input/output error"))  # the share blipped
    assert is_transient(TimeoutError())
    assert is_transient(DatabaseError("cannot reach the database postgresql://pp:***@db/pp: timeout"))
    assert not is_transient(PostprodError("not a QuickTime file", path="/r/A001.mov"))  # bad media
    assert not is_transient(ConfigError("postprod.toml", "spec", "unknown spec"))
    assert not is_transient(DatabaseError("unusable database URL 'x'"))
    assert not is_transient(ValueError("a bug"))


def test_artifact_keys_are_what_prefect_accepts() -> None:
    assert artifact_key("ingest", "Ma Film", "A001_C0/1") == "ingest-ma-film-a001-c0-1"


def test_a_card_is_submitted_once_until_it_changes(workspace: Path, make_media, settings: Settings) -> None:
    card = workspace / "A001"
    card.mkdir()
    shutil.copy(make_media("sig.mov", small_clip()), card / "A001C001.mov")
    first = card_signature([str(card)], settings.ignore)
    assert card_signature([str(card)], settings.ignore) == first
    shutil.copy(card / "A001C001.mov", card / "A001C002.mov")
    assert card_signature([str(card)], settings.ignore) != first


def test_without_a_prefect_server_submit_runs_here(workspace: Path, make_media, settings: Settings,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    card = workspace / "A001"
    card.mkdir()
    shutil.copy(make_media("local.mov", small_clip()), card / "A001C001.mov")
    sub = submit_ingest([str(card)], "test", settings, direct=True)
    assert sub.mode == "local" and sub.flow_run_id is None
    assert sub.result[0]["summary"]["new"] == 1
    assert [Path(r["path"]).name for r in Catalogue(settings.db_url).rows("test")] == ["A001C001.mov"]
    with pytest.raises(PostprodError, match="unknown production 'nope'"):
        submit_ingest([str(card)], "nope", settings)


def postprod(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True,
                          timeout=300, check=False)


def test_server_commands_without_a_server_say_so(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    for args in (["deploy", "--json"], ["worker"]):
        result = postprod(*args)
        assert result.returncode == 2, result.stderr
        assert "no Prefect server configured" in result.stderr and "Traceback" not in result.stderr
        assert result.stdout == ""
    (workspace / "postprod.toml").write_text(f'[prefect]\napi_url = "http://127.0.0.1:{free_port()}/api"\n')
    result = postprod("deploy")
    assert result.returncode == 2 and "cannot reach the Prefect server" in result.stderr, result.stderr


def test_registry_flows_import_under_their_names() -> None:
    for entry in REGISTRY:
        assert load_flow(entry).name == entry.name
    with pytest.raises(PostprodError, match="registered as 'proxy'"):
        load_flow(FlowEntry("proxy", "flows.ingest:ingest_flow"))


def test_dead_process_and_worker_host() -> None:
    assert worker_host("stor1:w2") == "stor1" and worker_host("plain-worker") is None
    assert pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)


# -- end to end ----------------------------------------------------------------------------------------------
def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _kill_tree(pid: int, sig: int = signal.SIGKILL) -> list[int]:
    tree = [pid, *_descendants(pid)]
    for p in tree:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass
    return tree


def _wait(what: str, check: Callable[[], Any], timeout: float = 180.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")


class Cluster:
    """A Prefect server and `postprod worker` processes on loopback, all stopped at the end."""

    def __init__(self, workspace: Path, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.env = {**os.environ, "PREFECT_HOME": str(tmp / "prefect-home"), "PREFECT_API_URL": self.url,
                    "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false",
                    "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "2",
                    "PREFECT_LOGGING_LEVEL": "INFO", "POSTPROD_CONFIG": str(workspace / "postprod.toml"),
                    "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests' / 'flows'}"}
        self.cwd = workspace
        self.procs: dict[str, subprocess.Popen] = {}
        self.seen: set[int] = set()

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen([sys.executable, *args], cwd=self.cwd, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    def start_server(self) -> None:
        self.start("server", ["-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.port)])

        def healthy() -> bool:
            assert self.procs["server"].poll() is None, self.log("server")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        _wait("the Prefect server's /api/health", healthy, 600)  # its migrations: minutes on a loaded machine

    def start_worker(self, name: str) -> None:
        self.start(name, ["-m", "cli.main", "worker", "--name", name, "--limit", "1", "--reconcile-every", "0"])

    def note_pids(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                self.seen.update([proc.pid, *_descendants(proc.pid)])

    def stop(self) -> list[int]:
        """SIGTERM everything, SIGKILL what is left after a grace period; returns pids still alive."""
        self.note_pids()
        for name in [n for n in self.procs if n != "server"] + ["server"]:
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _kill_tree(proc.pid)
                proc.wait(timeout=10)
        for pid in list(self.seen):
            if pid_alive(pid):
                _kill_tree(pid)
        time.sleep(0.5)
        return [p for p in self.seen if pid_alive(p)]


def _card(workspace: Path, make_media, name: str, clips: int = 1) -> Path:
    card = workspace / "cards" / name
    card.mkdir(parents=True)
    for i in range(clips):
        if name == "B001":  # 23.976 in a 25 fps production: an error, the coordinator hears of it
            clip = make_media("e2e-2398.mov", small_clip(seconds=0.5, rate=Fraction(24000, 1001)))
        else:
            clip = make_media(f"e2e-{i}.mov", small_clip(seconds=0.5))
        shutil.copy(clip, card / f"{name}C00{i + 1}.mov")
    return card


@pytest.mark.e2e
def test_two_workers_on_a_prefect_server_and_one_killed_mid_run(workspace: Path, make_media, tmp_path: Path,
                                                                webhook) -> None:
    cluster = Cluster(workspace, tmp_path)
    hook_url, hook = webhook
    config = workspace / "postprod.toml"
    # The production's watched folder, where the DIT's card lands on this server.
    config.write_text(config.read_text().replace("handles = 12\n", 'handles = 12\ningest_folders = ["watched"]\n'))
    (workspace / "watched").mkdir()
    with config.open("a") as f:
        f.write(f'\n[prefect]\napi_url = "{cluster.url}"\nretries = 2\nretry_delay_seconds = 1\n'
                f'[notify]\nwebhook_url = "{hook_url}"\n')
    settings = load_settings(workspace / "postprod.toml")
    cards = {n: _card(workspace, make_media, n, clips=2 if n == "C001" else 1)
             for n in ("A001", "B001", "C001", "D001")}
    gate = tmp_path / "gate"
    gate.mkdir()
    try:
        cluster.start_server()
        cli = postprod("deploy", "--json")
        assert cli.returncode == 0, cli.stderr
        assert [d["name"] for d in json.loads(cli.stdout)["deployments"]] == [
            "ingest/postprod", "proxy/postprod", "conform/postprod", "pad-qc/postprod"]
        deployed = deploy_flows(settings, [FlowEntry("gated-ingest", "scale_e2e_flows:gated_ingest_flow")])
        assert [d.name for d in deployed] == ["gated-ingest/postprod"]
        cluster.start_worker("w1")
        cluster.start_worker("w2")
        with _client(settings) as client:
            _wait("two online workers", lambda: len([
                w for w in client.read_workers_for_work_pool("postprod") if w.status.value == "ONLINE"]) == 2)

            # 1. Two cards through the ingest deployment, as the watcher submits them.
            subs = [submit_ingest([str(cards["A001"])], "test", settings)]
            cli = postprod("submit", str(cards["B001"]), "-p", "test", "--json")
            assert cli.returncode == 0, cli.stderr
            subs.append(Submission(**json.loads(cli.stdout)))
            assert all(s.mode == "deployment" and s.deployment == "ingest/postprod" for s in subs)
            # The same card submitted again, unchanged, is the same run (idempotency key).
            assert submit_ingest([str(cards["A001"])], "test", settings).flow_run_id == subs[0].flow_run_id

            def finished(run_id: str) -> Any:
                run = client.read_flow_run(run_id)
                return run if run.state and run.state.is_final() else None

            runs = [_wait(f"run {s.flow_run_name}", lambda s=s: finished(s.flow_run_id)) for s in subs]
            for run in runs:
                assert run.state.is_completed(), (run.state, cluster.log("w1"), cluster.log("w2"))
                assert run.labels["prefect.worker.name"].split(":")[1] in ("w1", "w2")
                assert run.parameters["production"] == "test"
            # The workers ran them as postprod deployments run: python -m flows.run, not Prefect's engine.
            from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[runs[0].id])))
            assert any("without Prefect's engine" in log.message for log in logs), [log.message for log in logs]
            catalogue = Catalogue(settings.db_url)
            names = sorted(Path(r["path"]).name for r in catalogue.rows("test"))
            assert names == ["A001C001.mov", "B001C001.mov"]
            assert PlanningStore(settings.db_url).state("test", Stage.RUSHES_RECEPTION) is StageState.IN_PROGRESS
            from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

            artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[runs[0].id])))
            by_key = {a.key: a for a in artifacts}
            assert by_key["ingest-test-a001-findings"].type == "table"
            assert "1 new" in str(by_key["ingest-test-a001-summary"].data)
            assert "file://" in str(by_key["ingest-test-a001-report"].data)  # a link artifact renders as markdown
            # The card with an error notified the coordinator, from the worker's process; the clean one did not.
            [notice] = [h["json"] for h in hook.received]
            assert notice["subject"] == "[postprod] ingest failed: test B001", notice
            assert " 0 error(s)" not in notice["body"] and notice["link"].startswith("file://")

            # 2. Two gated runs: each worker takes one (--limit 1), and waits at the gate.
            g1, g2 = (submit("gated-ingest", {"sources": [str(cards[n])], "production": "test",
                                              "gate_dir": str(gate)}, settings) for n in ("C001", "D001"))
            for g in (g1, g2):
                _wait(f"gated run {g.flow_run_name} at its gate",
                      lambda g=g: (gate / f"started-{g.flow_run_id}").exists())
            r1, r2 = client.read_flow_run(g1.flow_run_id), client.read_flow_run(g2.flow_run_id)
            w_first, w_second = (r.labels["prefect.worker.name"].split(":")[1] for r in (r1, r2))
            assert {w_first, w_second} == {"w1", "w2"}
            cluster.note_pids()

            # 3. The server of the first run dies: its worker and the run's processes, all at once.
            killed = _kill_tree(cluster.procs[w_first].pid)
            assert int(r1.infrastructure_pid) in killed
            cluster.procs[w_first].wait(timeout=10)
            _wait("the killed processes to be gone", lambda: not any(pid_alive(p) for p in killed), 20)
            assert client.read_flow_run(g1.flow_run_id).state.is_running()  # nobody told the server yet

            # 4. Reconcile (what `postprod worker` does at start and every minute): crashed, submitted again once.
            [dead] = reconcile(settings)
            assert dead.flow_run_id == g1.flow_run_id and "is gone" in dead.reason and dead.resubmitted_as
            assert reconcile(settings) == []  # twice is still once
            assert client.read_flow_run(g1.flow_run_id).state.is_crashed()

            # 5. The gate opens: the second run finishes, then the re-run of the first on the surviving worker.
            (gate / "open").write_text("")
            done2 = _wait("the second gated run", lambda: finished(g2.flow_run_id))
            again = _wait("the re-run of the killed one", lambda: finished(dead.resubmitted_as), 240)
            assert done2.state.is_completed() and again.state.is_completed(), cluster.log(w_second)
            assert again.labels["prefect.worker.name"].endswith(f":{w_second}")
            assert again.parameters["sources"] == [str(cards["C001"])]
            # The killed run had catalogued its card; the re-run found it all there and did nothing twice.
            rows = [r for r in catalogue.rows("test") if "/C001/" in r["path"]]
            assert sorted(Path(r["path"]).name for r in rows) == ["C001C001.mov", "C001C002.mov"]
            ingests = [i for i in catalogue.ingest_rows("test") if i["source"] == str(cards["C001"])]
            assert [i["new_files"] for i in ingests if i["finished_at"]] == [2, 0]
            # Exactly one completed run for that card.
            from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType

            completed = [r for r in client.read_flow_runs(flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=["COMPLETED"]))))
                if r.deployment_id == again.deployment_id and r.parameters["sources"] == [str(cards["C001"])]]
            assert [r.id for r in completed] == [again.id]
            cli = postprod("reconcile", "--json")
            assert cli.returncode == 0 and json.loads(cli.stdout) == [], cli.stderr

            # 5. A card dropped into the watched folder: the watcher submits it to the server, a worker ingests it.
            dropped = shutil.move(str(_card(workspace, make_media, "E001")), workspace / "watched" / "E001")
            watch = subprocess.run([sys.executable, "-m", "cli.main", "watch", "--once", "-p", "test", "--json"],
                                   capture_output=True, text=True, timeout=300, check=False,
                                   env={**os.environ, "POSTPROD_SETTLE_SECONDS": "0.5"})
            assert watch.returncode == 0, watch.stdout + watch.stderr
            events = [json.loads(line) for line in watch.stdout.splitlines() if line.strip()]
            assert [e["unit"] for e in events if e["event"] == "submitted"] == ["E001"], events

            def ingested_by_a_worker() -> Any:
                runs = [r for r in client.read_flow_runs(flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=["COMPLETED"]))))
                    if r.parameters.get("sources") == [str(dropped)]]
                return runs[0] if runs else None

            run = _wait("the watched card's run", ingested_by_a_worker, 240)
            assert run.labels["prefect.worker.name"].split(":")[1] in ("w1", "w2")
            assert [Path(r["path"]).name for r in catalogue.rows("test") if r["card"] == str(dropped)] == [
                "E001C001.mov"]
    finally:
        left = cluster.stop()
    assert left == [], f"processes left behind: {left}"
