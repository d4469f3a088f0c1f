"""Shared helpers for the benchmarks: timing, machine description, results in bench/RESULTS.md."""

from __future__ import annotations

import atexit
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

# `BENCH_BUSY=N python bench/X_bench.py`: N processes spinning on a core for the whole run, so that "under
# load" is a load anyone can make again (issue 17: each ratio must hold under load within 20 %).
_busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
         for _ in range(int(os.environ.get("BENCH_BUSY", "0") or 0))]


@atexit.register
def _stop_busy() -> None:
    for proc in _busy:
        proc.kill()


def best_of(n: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def load() -> str:
    """The 1-minute load average, to note beside a figure: ratios hold under load, absolute speeds do not."""
    busy = f", {len(_busy)} busy loops started by the bench (BENCH_BUSY)" if _busy else ""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores{busy}"


def alternated(n: int, ours: Callable[[], object], theirs: Callable[[], object]) -> tuple[float, float, float]:
    """Run the two `n` times in turn; return the median time of each and the median of the paired ratios. The
    order changes from pair to pair (ours first, then theirs first: ABBA), so that neither gains from going
    second (a warmer cache, a core the first one freed)."""
    pairs = []
    for i in range(n):
        first, second = (ours, theirs) if i % 2 == 0 else (theirs, ours)
        a = time.perf_counter()
        first()
        b = time.perf_counter()
        second()
        times = (b - a, time.perf_counter() - b)
        pairs.append(times if i % 2 == 0 else times[::-1])
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    return med([p[0] for p in pairs]), med([p[1] for p in pairs]), med([p[1] / p[0] for p in pairs])


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used so far (Linux /proc), e.g. a server beside a run."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PrefectServer:
    """A real Prefect server on loopback for a benchmark (`with PrefectServer(home) as server:`): its own
    PREFECT_HOME (SQLite), no telemetry, no UI; `server.url`, `server.env` (for the processes that talk to it),
    `server.pid`. Stopped at the end."""

    def __init__(self, home: Path, **env: str) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.home = home
        self.env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": self.url, "DO_NOT_TRACK": "1",
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false", **env}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> PrefectServer:
        import sys
        import urllib.request

        self.home.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                      "--port", str(self.port)], env=self.env, stdout=open(self.home / "server.log", "w"),  # noqa: SIM115
                                     stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(600):
            if self.proc.poll() is not None:
                raise RuntimeError((self.home / "server.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("the Prefect server did not answer in 5 minutes")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __exit__(self, *exc: object) -> None:
        import signal

        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
