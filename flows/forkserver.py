"""A pre-loaded process that forks one child per flow run, so that a run on a worker does not pay for a new
interpreter and its imports (about 1 s of CPU a run).

`postprod worker` starts it (`python -m flows.forkserver SOCKET`) before Prefect's worker, and tells the runs
where it listens (POSTPROD_FORKSERVER). The worker still starts `python -m flows.run` for each run, as
before; that process (flows/launch.py, stdlib only, a few milliseconds) hands its standard streams, environment
and working folder to the fork server over the socket, which forks a child that runs the flow with them
(`flows.run.run_flow`), and waits. What the worker, Prefect and `postprod reconcile` see is unchanged: the
process they started (its pid, its exit status, its output) lives exactly as long as the run.

- **No fork after threads.** The server is single-threaded (a `selectors` loop; SIGCHLD through a wakeup
  fd) and imports no Prefect; before each fork it checks that it has one thread, else it refuses and the
  launcher runs the flow itself, as without a fork server.
- **Stops.** The child starts a session of its own (its process group, killable as one); the server tells
  the launcher the child's pid only once it has, so no signal forwarded at once is lost. A SIGTERM or
  SIGINT to the launcher (Prefect's cancellation, a user's kill) is passed to the child's group; a launcher
  that dies (SIGKILL) has its child stopped (SIGTERM: it unwinds, stopping its own children; SIGKILL 20 s
  later if it has not ended). systemd's stop signals every process of the service's cgroup:
  the server then takes no more runs and ends when its children have (as when the worker's pipe closes).
- **Same start as a new process.** The server has only imported modules (it never runs a flow): each child
  starts from that state, reads its settings, and exits with `os._exit` after stopping its own children.
  After an upgrade, restart the workers (the server keeps the code it imported).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from typing import Any

MAX_FDS = 3
ORPHAN_GRACE_SECONDS = 20.0  # a run whose launcher died: from SIGTERM to SIGKILL
# What a child would import anyway, loaded once. Only modules that start no thread when imported.
PRELOAD = ("config.settings", "config.children", "flows.history", "flows.steps", "flows.run", "flows.publish",
           "flows.ingest", "flows.proxy", "flows.conform", "flows.qc")


# -- the server ---------------------------------------------------------------------------------------------
class _Run:
    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.pid: int | None = None
        self.buf = b""
        self.fds: list[int] = []
        self.kill_at: float | None = None  # its launcher is gone: SIGKILL then, if it has not ended


def serve(path: str, control_fd: int | None = None) -> None:
    """Listen at `path` and fork a child per launcher until `control_fd` (the worker's pipe) closes and
    every child has ended."""
    for name in PRELOAD:
        __import__(name)
    rd, wr = os.pipe()
    os.set_blocking(wr, False)
    signal.set_wakeup_fd(wr)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker's Ctrl-C: let the runs finish
    # SIGTERM (systemd stops the service): no more runs, relay these to their end. Read from the wakeup fd's
    # bytes (each signal's number), not from a flag set by the handler, which may run after the loop's check.
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: None)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(rd, selectors.EVENT_READ, "signal")
    if control_fd is not None:
        sel.register(control_fd, selectors.EVENT_READ, "control")
    runs: dict[int, _Run] = {}  # by connection fd
    open_ = True
    while open_ or runs:
        if stopping and open_:
            open_ = _close_listener(sel, listener, path, control_fd)
            continue
        due = [r.kill_at for r in runs.values() if r.kill_at is not None]
        for key, _ in sel.select(max(0.0, min(due) - time.monotonic()) if due else None):
            what = key.data
            if what == "accept":
                conn, _addr = listener.accept()
                sel.register(conn, selectors.EVENT_READ, _Run(conn))
            elif what == "signal":
                if signal.SIGTERM in os.read(rd, 512):
                    stopping.append(signal.SIGTERM)
                _reap(runs, sel)
            elif what == "control":
                if not os.read(control_fd, 512):  # the worker is gone: take no more runs, finish these
                    open_ = _close_listener(sel, listener, path, control_fd)
            else:
                _readable(what, runs, sel, listener, rd, wr)
        for run in runs.values():
            if run.kill_at is not None and time.monotonic() >= run.kill_at:
                run.kill_at = None
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(run.pid, signal.SIGKILL)


def _close_listener(sel: selectors.BaseSelector, listener: socket.socket, path: str, control_fd: int | None) -> bool:
    for obj in (listener, control_fd):
        with contextlib.suppress(KeyError, ValueError):
            if obj is not None:
                sel.unregister(obj)
    listener.close()
    with contextlib.suppress(OSError):
        os.unlink(path)
    return False


def _readable(run: _Run, runs: dict[int, _Run], sel: selectors.BaseSelector, listener: socket.socket,
              rd: int, wr: int) -> None:
    if run.pid is not None:  # the launcher went away (killed) before its run ended: stop the run; it unwinds
        with contextlib.suppress(OSError):  # (its own children stopped, its state recorded), else SIGKILL
            if run.conn.recv(512):
                return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(run.pid, signal.SIGTERM)
        run.kill_at = time.monotonic() + ORPHAN_GRACE_SECONDS
        sel.unregister(run.conn)
        return
    try:
        data, fds, _flags, _addr = socket.recv_fds(run.conn, 1 << 16, MAX_FDS)
    except OSError:
        data, fds = b"", []
    run.fds += fds
    run.buf += data
    if not data:
        _close(run, sel)
        return
    if len(run.buf) < 4 or len(run.buf) < 4 + struct.unpack("!I", run.buf[:4])[0]:
        return
    request = json.loads(run.buf[4:])
    if len(run.fds) != 3 or threading.active_count() != 1:
        with contextlib.suppress(OSError):
            run.conn.sendall(b"E refused\n")
        _close(run, sel)
        return
    # The launcher is told the child's pid only once the child leads its own process group: a signal it
    # forwards at once (os.killpg) then reaches the run, where before setsid() it would find no such group.
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        _child(run, request, sel, listener, rd, wr, ready_w)
    os.close(ready_w)
    os.read(ready_r, 1)  # end of file: the child has closed its end after setsid(), or has ended
    os.close(ready_r)
    for fd in run.fds:
        os.close(fd)
    run.fds, run.pid = [], pid
    runs[pid] = run
    with contextlib.suppress(OSError):  # a launcher already gone: its child is killed when its EOF is read
        run.conn.sendall(f"P {pid}\n".encode())


def _close(run: _Run, sel: selectors.BaseSelector) -> None:
    for fd in run.fds:
        os.close(fd)
    sel.unregister(run.conn)
    run.conn.close()


def _reap(runs: dict[int, _Run], sel: selectors.BaseSelector) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        run = runs.pop(pid, None)
        if run is None:
            continue
        with contextlib.suppress(OSError):
            run.conn.sendall(f"X {status}\n".encode())
        with contextlib.suppress(KeyError, ValueError):
            sel.unregister(run.conn)
        run.conn.close()


def _child(run: _Run, request: dict[str, Any], sel: selectors.BaseSelector, listener: socket.socket,
           rd: int, wr: int, ready: int) -> None:
    """In the forked child: become the run's own process (session, streams, environment), run, exit. Closing
    `ready` tells the server that the child leads its own process group."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM):  # as in a new interpreter
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        os.close(ready)
        for key in list(sel.get_map().values()):
            if isinstance(key.fileobj, socket.socket):
                key.fileobj.close()
            elif isinstance(key.fileobj, int) and key.fileobj != rd:
                os.close(key.fileobj)
        sel.close()
        listener.close()
        os.close(rd)
        os.close(wr)
        for target, fd in enumerate(run.fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = request["argv"]
        from flows.run import run_flow

        code = run_flow()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # noqa: BLE001 (the child never returns into the server's loop)
        with contextlib.suppress(Exception):
            print(f"flows.run (forked): {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        with contextlib.suppress(Exception):
            from config.children import stop_all

            stop_all(signal.SIGKILL)
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: python -m flows.forkserver SOCKET [CONTROL_FD]", file=sys.stderr)
        return 2
    try:
        serve(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
