"""Child processes (ffmpeg and friends), each in a session of its own, stopped by postprod itself.

The terminal's Ctrl-C goes to the foreground process group, and a service manager may signal the whole
group: a child that shares it dies with postprod's signal, and its exit would read as a verdict on the
file ("does not decode: exit -15"). In a session of its own it only hears postprod, which lets it
finish (a graceful stop) or stops it (`stop_all`) when postprod gives up. A child stopped by a signal
from anyone else is an `Interrupted` run, never a result.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence

from config.errors import PostprodError

# Signals that stop a process from outside (a user, a service manager, the OOM killer): not a crash.
STOPPING = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL, signal.SIGQUIT}

_live: set[subprocess.Popen] = set()
_CAUGHT = re.compile(r"Exiting normally, received signal (\d+)\.")
_lock = threading.Lock()


class Interrupted(PostprodError):
    """A child was stopped before it ended: what it was checking has no verdict."""

    exit_code = 130


def run(cmd: Sequence[str], *, timeout: float | None = None, text: bool = True) -> subprocess.CompletedProcess:
    """Run a child in its own session and return what it wrote (stdout, stderr); `subprocess.TimeoutExpired`
    after `timeout` seconds (the child is killed), `Interrupted` if it was stopped by a signal."""
    with popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=text,
               errors="replace" if text else None) as proc:
        try:
            out, errs = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal(proc, signal.SIGKILL)
            proc.communicate()
            raise
    check_stopped(cmd, proc.returncode)
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, errs)


@contextlib.contextmanager
def popen(cmd: Sequence[str], **kwargs: object) -> Iterator[subprocess.Popen]:
    """A long child (a QC decode, an encode) in a session of its own, stopped with postprod (`stop_all`, and
    SIGKILL at exit). Whoever reads its pipes calls `check_stopped` with its exit code."""
    held = _HeldStops()
    try:
        proc = subprocess.Popen(list(cmd), start_new_session=True, **kwargs)  # type: ignore[call-overload]
    except BaseException:
        held.release()
        raise
    with _lock:
        _live.add(proc)
    try:
        held.release()  # a stop that came while the child was starting is raised here: the child is stopped
        yield proc
    except BaseException:  # KeyboardInterrupt, a stop, a reader's failure: do not leave the child behind
        if proc.poll() is None:
            _signal(proc, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        with _lock:
            _live.discard(proc)


class _HeldStops:
    """SIGTERM and SIGINT held while a child is started and registered (main thread only: the only one a
    signal handler raises in). A stop raised inside `subprocess.Popen` after its fork, or before the child
    joined `_live`, would leave that child to nobody: it would run on after postprod, which never knew its pid.
    `release` puts the handlers back and delivers what came meanwhile."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.caught: list[int] = []
        self.previous: dict[int, object] = {}
        if threading.current_thread() is threading.main_thread():
            with self._blocked():  # the handlers swapped as one (the child is not started under this mask)
                for sig in self.SIGNALS:
                    self.previous[sig] = signal.signal(sig, self._hold)

    def _hold(self, signum: int, frame: object) -> None:
        self.caught.append(signum)

    @contextlib.contextmanager
    def _blocked(self) -> Iterator[None]:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, self.SIGNALS)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def release(self) -> None:
        if self.previous:
            with self._blocked():
                for sig, handler in self.previous.items():
                    signal.signal(sig, handler)  # type: ignore[arg-type]
            self.previous = {}
        for signum in dict.fromkeys(self.caught):
            handler = signal.getsignal(signum)
            if callable(handler):
                handler(signum, None)  # postprod's stop (raises), Python's KeyboardInterrupt, watch's own
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)  # what it would have done: end the process (atexit stops the child)


def check_stopped(cmd: Sequence[str], returncode: int, stderr: str = "") -> None:
    """`Interrupted` if the child was stopped by a signal, not ended: killed by one (negative exit code: the
    OOM killer, an operator's kill) or, for ffmpeg, having caught one ("Exiting normally, received signal 15.":
    it closes its output and exits 255 as if the input had ended)."""
    name = os.path.basename(cmd[0])
    if returncode < 0 and signal.Signals(-returncode) in STOPPING:
        raise Interrupted(f"{name} was stopped by {signal.Signals(-returncode).name} before it ended")
    if returncode == 255 and (m := _CAUGHT.search(stderr)):
        raise Interrupted(f"{name} was stopped by signal {m.group(1)} before it ended")


def _signal(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def stop_all(sig: int = signal.SIGTERM) -> int:
    """Stop every child still running (postprod is giving up on them); how many there were."""
    with _lock:
        live = list(_live)
    for proc in live:
        if proc.poll() is None:
            _signal(proc, sig)
    return len(live)


atexit.register(stop_all, signal.SIGKILL)
