"""A flow for tests/flows/test_worker_fork.py: a postprod flow (run by `python -m flows.run`, no Prefect engine)
that says where it runs and holds a child process until a gate file appears.

Deployed under the name "held"; the workers import it as worker_e2e_flows (tests/flows/ is on their PYTHONPATH).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from config.children import popen
from flows.steps import FlowSpec, prefect_flows


def _held(gate_dir: str, tag: str) -> str:
    """Write <tag>.json (this process, its parent's command line, the child's pid), then wait for the gate
    with a `sleep` child (started as postprod starts ffmpeg: config.children.popen)."""
    gate = Path(gate_dir)
    parent = Path(f"/proc/{os.getppid()}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    with popen(["sleep", "300"]) as child:
        (gate / f"{tag}.json").write_text(
            f'{{"pid": {os.getpid()}, "pgid": {os.getpgid(0)}, "parent": "{parent.strip()}", "child": {child.pid}}}')
        while not (gate / "open").exists():
            time.sleep(0.1)
        child.kill()
        child.wait()
    return tag


__getattr__ = prefect_flows(__name__, held_flow=FlowSpec("held", _held))
