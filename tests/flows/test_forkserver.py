"""The fork server of `postprod worker` (flows/forkserver.py), with real processes and signals: a run handed
over by `python -m flows.run`, its exit status and streams, a SIGTERM passed on, a killed launcher."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAUNCH = "import sys; from flows.launch import launch; code = launch(sys.argv[1]); sys.exit(99 if code is None else code)"


def _wait(what: str, check, timeout: float = 60.0):  # noqa: ANN001, ANN202
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, str, int]]:
    path = str(tmp_path / "fs.sock")
    rd, wr = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "flows.forkserver", path, str(rd)], pass_fds=[rd], cwd=REPO)
    os.close(rd)
    _wait("the fork server's socket", lambda: os.path.exists(path) or proc.poll() is not None, 120)
    assert proc.poll() is None
    try:
        yield proc, path, wr
    finally:
        with __import__("contextlib").suppress(OSError):
            os.close(wr)
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _launch(path: str, env: dict[str, str], **kw: object) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT", "POSTPROD_FORKSERVER"))} | env
    return subprocess.Popen([sys.executable, "-c", LAUNCH, path], cwd=REPO, env=env, stderr=subprocess.PIPE,
                            text=True, **kw)


@pytest.fixture()
def silent_server() -> Iterator[str]:
    """An API address that accepts connections and never answers (a run then waits on its first request)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield f"http://127.0.0.1:{s.getsockname()[1]}/api"
    s.close()


def test_a_run_is_forked_with_the_launchers_streams_and_status(server) -> None:
    proc, path, _ = server
    launcher = _launch(path, {})
    _, err = launcher.communicate(timeout=60)
    # Forked (launch did not give up: 99) and run: flows.run's own message, on the launcher's stderr, exit 2.
    assert launcher.returncode == 2, err
    assert "started without PREFECT__FLOW_RUN_ID" in err
    proc.send_signal(signal.SIGTERM)  # systemd's stop, no run under way: it ends
    assert proc.wait(timeout=30) == 0
    assert not os.path.exists(path)


def test_sigterm_to_the_launcher_stops_the_run(server, silent_server: str) -> None:
    proc, path, _ = server
    launcher = _launch(path, {"PREFECT__FLOW_RUN_ID": "00000000-0000-0000-0000-000000000000",
                              "PREFECT_API_URL": silent_server})
    [child] = _wait("the forked run", lambda: _children(proc.pid))
    _wait("the run's own process group", lambda: os.getpgid(child) == child)  # seen here maybe before setsid()
    time.sleep(0.5)  # the run is waiting on the server
    launcher.send_signal(signal.SIGTERM)
    _, err = launcher.communicate(timeout=60)
    # The run unwound: nobody cancelled it, so it stopped as a service stop does (128 + SIGTERM).
    assert launcher.returncode == 128 + signal.SIGTERM, err
    _wait("the run's end", lambda: not _children(proc.pid))


def test_a_killed_launcher_takes_its_run_down_and_the_server_ends_with_the_worker(server, silent_server: str) -> None:
    proc, path, control = server
    launcher = _launch(path, {"PREFECT__FLOW_RUN_ID": "00000000-0000-0000-0000-000000000000",
                              "PREFECT_API_URL": silent_server})
    [child] = _wait("the forked run", lambda: _children(proc.pid))
    launcher.kill()
    launcher.wait()
    _wait("the orphaned run killed", lambda: not _children(proc.pid))
    os.close(control)  # the worker is gone: no more runs, and none under way
    assert proc.wait(timeout=30) == 0
    assert not os.path.exists(path)


def test_the_pid_a_launcher_is_told_already_leads_its_own_process_group(server, silent_server: str) -> None:
    """A launcher forwards a signal (os.killpg) as soon as it has the pid: were the child named before its
    setsid(), there would be no such group yet and a service stop would be lost. Here, as a launcher would,
    many times over, each pid checked the moment it is read."""
    proc, path, _ = server
    env = {"PREFECT__FLOW_RUN_ID": "00000000-0000-0000-0000-000000000000", "PREFECT_API_URL": silent_server}
    body = json.dumps({"env": env, "cwd": str(REPO), "argv": ["flows.run"]}).encode()
    with open(os.devnull, "rb") as null_in, open(os.devnull, "wb") as null_out:
        for _ in range(20):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.connect(path)
                socket.send_fds(conn, [struct.pack("!I", len(body))], [null_in.fileno(), null_out.fileno(),
                                                                        null_out.fileno()])
                conn.sendall(body)
                first = conn.makefile("rb").readline().split()
                assert first[0] == b"P", first
                pid = int(first[1])
                assert os.getpgid(pid) == pid
            # the connection closed: the server stops this orphaned run
            _wait("the orphaned run stopped", lambda pid=pid: pid not in _children(proc.pid))
