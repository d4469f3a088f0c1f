"""A flow for the end-to-end scale test: the real ingest, then a wait on a gate file the test controls.

Deployed by tests/flows/test_scale.py under the name "gated-ingest"; the workers import it as scale_e2e_flows
(tests/flows/ is on their PYTHONPATH).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from flows.ingest import ingest_flow


@flow(name="gated-ingest")
def gated_ingest_flow(sources: list[str], production: str, gate_dir: str) -> list[dict[str, Any]]:
    """Ingest, say so in gate_dir/started-<run id>, then wait until gate_dir/open exists."""
    reports = ingest_flow(sources, production)
    gate = Path(gate_dir)
    (gate / f"started-{flow_run.id}").write_text(str(flow_run.id))
    while not (gate / "open").exists():
        time.sleep(0.2)
    return reports
