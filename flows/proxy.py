"""Proxies: plan the batch, encode each clip (bounded by the host-wide encode slots), write the ALEs.

The bound holds across flows: every encode, in this flow, another flow run or a `postprod proxy` in a
terminal, takes one of `proxy_workers` flock slots in the data directory before ffmpeg starts.
`run_proxies` is the list of steps, run directly by `postprod proxy` and as tasks by `proxy_flow`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.settings import Settings
from flows.steps import DIRECT, FlowSpec, Steps, flow_steps, prefect_flows
from ingest.proxies.make import ProxyReport, finish_batch, job_threads, make_proxy, plan_batch

if TYPE_CHECKING:  # SQLAlchemy: a batch opens it beside its first encode (ingest/proxies/reads.py)
    from store import Store

# (source, frames encoded since the last call): the command line's progress bar.
ProxyProgress = Callable[[str, int], None]


def run_proxies(paths: list[str], preset: str, production: str, settings: Settings, *, out: str | None = None,
                workers: int | None = None, lut: str | None = None, strict: bool = True, steps: Steps = DIRECT,
                progress: ProxyProgress | None = None, store: Store | None = None) -> ProxyReport:
    """Make verified proxies of cards or clips with one preset. `strict=False`: files that are not clips
    (sound takes, documents) are ignored rather than errors. `store`: the run's (else the settings')."""
    batch = steps.run(plan_batch, [Path(p) for p in paths], preset, production, settings,
                      out=Path(out) if out else None, workers=workers, lut=Path(lut) if lut else None, strict=strict,
                      store=store)
    batch.progress = progress
    # One more job at a time than encodes: each encode waits for one of the batch's turns (and slots).
    results = steps.map(make_proxy, batch.jobs, batch, workers=job_threads(batch))
    return steps.run(finish_batch, batch, results)


def _proxy_flow(paths: list[str], preset: str, production: str = "default", config: str | None = None,
                out: str | None = None, workers: int | None = None) -> dict[str, Any]:
    """Make verified proxies of cards or clips with one preset; returns the report (docs/proxy.md)."""
    from config.settings import load_settings

    settings = load_settings(Path(config) if config else None)
    return run_proxies(paths, preset, production, settings, out=out, workers=workers,
                       steps=flow_steps(settings)).model_dump(mode="json")


__getattr__ = prefect_flows(__name__, proxy_flow=FlowSpec("proxy", _proxy_flow))
