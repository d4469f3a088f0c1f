"""The launcher: what `python -m flows.run` does on a worker with a fork server (flows/forkserver.py).

It hands this process's standard streams, environment, folder and arguments to the fork server, which forks
a child to run the flow (`flows.run.run_flow`), then waits for that child and ends as it ended. Signals it
gets (SIGTERM, SIGINT, SIGHUP) are passed on to the child's process group. Stdlib only: a few hundredths of
a second of CPU.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
import time

ENV = "POSTPROD_FORKSERVER"  # the fork server's socket, in a run's environment


def launch(path: str) -> int | None:
    """Run this process's flow run in a child of the fork server at `path`; its exit status. None when the
    server cannot take it (gone, refused): the caller runs the flow itself."""
    child: list[int] = []
    caught: list[int] = []

    def forward(signum: int, _frame: object) -> None:  # to the run's process group, once it exists
        caught.append(signum)
        for pid in child:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
        body = json.dumps({"env": dict(os.environ), "cwd": os.getcwd(), "argv": sys.argv}).encode()
        socket.send_fds(conn, [struct.pack("!I", len(body))], [0, 1, 2])
        conn.sendall(body)
        reader = conn.makefile("rb")
        first = reader.readline().split()
    except OSError:
        first = []
    if not first or first[0] != b"P":
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        if caught:  # stopped before anything ran: end as asked
            os.kill(os.getpid(), caught[0])
        return None
    child.append(int(first[1]))
    for sig in caught:
        forward(sig, None)
    line = b""
    with contextlib.suppress(OSError):
        line = reader.readline()
    if not line.startswith(b"X "):  # the server died before its child: wait for the child to end
        while pid_alive(child[0]):
            time.sleep(0.2)
        return 1
    status = int(line.split()[1])
    if os.WIFSIGNALED(status):  # end as the child did: killed by the same signal
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        return 128 + sig
    return os.waitstatus_to_exitcode(status)


def pid_alive(pid: int) -> bool:
    """The process runs (a zombie, killed but not yet reaped, does not). Here, in the launcher's few stdlib
    imports, so that the launcher and the worker's reconcile (flows/deploy.py) share it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
