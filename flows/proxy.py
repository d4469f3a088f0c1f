"""The proxy flow: plan, encode each clip (bounded by the host-wide encode slots), write the ALEs.

The bound holds across flows: every encode, in this flow, another flow run or a `postprod proxy` in a
terminal, takes one of `proxy_workers` flock slots in the data directory before ffmpeg starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE

from config.settings import Settings, load_settings
from ingest.proxies.make import ClipResult, ProxyBatch, ProxyJob, ProxyReport, finish_batch, make_proxy, plan_batch


def run_proxies(paths: list[str], preset: str, production: str, settings: Settings, *, out: str | None = None,
                workers: int | None = None, strict: bool = True) -> ProxyReport:
    """The same steps as the flow, without Prefect."""
    from ingest.proxies.make import run_batch

    batch = plan_batch([Path(p) for p in paths], preset, production, settings,
                       out=Path(out) if out else None, workers=workers, strict=strict)
    return run_batch(batch)


@task(name="plan-proxies", cache_policy=NO_CACHE)
def plan_task(paths: list[str], preset: str, production: str, settings: Settings, out: str | None,
              workers: int | None) -> ProxyBatch:
    return plan_batch([Path(p) for p in paths], preset, production, settings,
                      out=Path(out) if out else None, workers=workers)


@task(name="make-proxy", cache_policy=NO_CACHE)
def make_proxy_task(job: ProxyJob, batch: ProxyBatch) -> ClipResult:
    return make_proxy(job, batch)


@task(name="finish-proxies", cache_policy=NO_CACHE)
def finish_task(batch: ProxyBatch, results: list[ClipResult]) -> ProxyReport:
    return finish_batch(batch, results)


@flow(name="proxy")
def proxy_flow(paths: list[str], preset: str, production: str = "default", config: str | None = None,
               out: str | None = None, workers: int | None = None) -> dict[str, Any]:
    """Make verified proxies of cards or clips with one preset; returns the report (docs/proxy.md)."""
    settings = load_settings(Path(config) if config else None)
    batch = plan_task(paths, preset, production, settings, out, workers)
    futures = make_proxy_task.map(batch.jobs, unmapped(batch))
    results = [f.result() for f in futures]
    report = finish_task(batch, results)
    return report.model_dump(mode="json")


def proxies_after_ingest(cards: list[str], production: str, settings: Settings) -> list[ProxyReport]:
    """The production's proxy presets, run on the cards an ingest just received (plain function)."""
    presets = settings.production(production).proxy_presets
    if not presets or not cards:
        return []
    # Sound takes and documents the ingest received are not clips: ignored, not errors.
    return [run_proxies(cards, p, production, settings, strict=False) for p in presets]


@task(name="proxies-after-ingest", cache_policy=NO_CACHE)
def proxies_after_ingest_task(cards: list[str], production: str, settings: Settings) -> list[ProxyReport]:
    return proxies_after_ingest(cards, production, settings)
