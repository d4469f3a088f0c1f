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
    """Run the two `n` times in turn; return the median time of each and the median of the paired ratios."""
    pairs = []
    for _ in range(n):
        a = time.perf_counter()
        ours()
        b = time.perf_counter()
        theirs()
        pairs.append((b - a, time.perf_counter() - b))
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    return med([p[0] for p in pairs]), med([p[1] for p in pairs]), med([p[1] / p[0] for p in pairs])


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
