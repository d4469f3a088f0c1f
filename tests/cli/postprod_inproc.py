"""Run `postprod ARGS` in this process through cli.main.run (the entry point's own error handling), as a
terminal would: stdout and stderr strict UTF-8 byte streams, a time limit instead of a hang."""

from __future__ import annotations

import io
import signal
import sys
from dataclasses import dataclass


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


class Hung(BaseException):  # not caught by the entry point: a hang is a failure
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise Hung("the command did not end in time")


def postprod(*args: str, timeout: int = 60) -> Result:
    """`postprod ARGS` in-process; raises Hung past `timeout` seconds (SIGALRM: main thread only)."""
    from cli.main import run

    streams = [io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
               for _ in range(2)]
    saved = sys.stdout, sys.stderr
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    sys.stdout, sys.stderr = streams
    try:
        code = run(list(args))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        sys.stdout, sys.stderr = saved
    out, err = (s.buffer.getvalue().decode("utf-8", "backslashreplace") for s in streams)
    return Result(code, out, err)
