"""A stop that lands while a child is being started still stops that child (it is never left to run on)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from config import children
from flows.launch import pid_alive


class Stop(BaseException):
    pass


def _raise_stop(signum: int, frame: object) -> None:
    raise Stop(signum)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_during_the_start_of_a_child_stops_the_child(monkeypatch, sig):
    # The signal arrives right after the fork, before subprocess.Popen has returned (as systemd's stop did on
    # a loaded machine, once the child had announced itself): postprod's handler raises there.
    started: list[subprocess.Popen] = []
    real = subprocess.Popen

    def popen_then_signalled(*args, **kwargs):
        proc = real(*args, **kwargs)
        started.append(proc)
        os.kill(os.getpid(), sig)
        time.sleep(0.2)  # the handler runs here, inside Popen's frame, when nothing holds the signal
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen_then_signalled)
    previous = signal.signal(sig, _raise_stop)
    try:
        with pytest.raises(Stop), children.popen(["sleep", "30"]) as proc:
            pytest.fail(f"the stop was not raised before the child was handed over (pid {proc.pid})")
    finally:
        signal.signal(sig, previous)
    (proc,) = started
    assert proc.returncode is not None and not pid_alive(proc.pid)  # stopped and waited for
    assert not children._live
    assert signal.getsignal(sig) is previous  # postprod's own handler back in place


def test_no_stop_leaves_the_handlers_as_they_were():
    previous = signal.getsignal(signal.SIGTERM)
    with children.popen(["true"]) as proc:
        assert signal.getsignal(signal.SIGTERM) is previous
        proc.wait()
    assert signal.getsignal(signal.SIGTERM) is previous
