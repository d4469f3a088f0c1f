"""Settings for several storage servers: the shared Prefect server and limits, and failure notices."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field


class NotifySettings(BaseModel):
    """Who hears of a failed ingest, conform or QC: a webhook (JSON POST) and/or e-mail over SMTP."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built with Settings (config/settings.py)

    webhook_url: str | None = None  # receives {"subject", "body", "link", "source", "text"} as JSON
    email: bool = True  # also by e-mail, through [smtp], when it is configured
    email_to: list[str] = []  # recipients of notices; default: [smtp] to
    timeout_seconds: float = Field(default=10.0, gt=0)


class PrefectSettings(BaseModel):
    """Several storage servers on one Prefect server: where it is, the pool, the limits (docs/deploy.md)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built with Settings (config/settings.py)

    api_url: str | None = None  # else $PREFECT_API_URL; none: everything runs in-process, as on one machine
    work_pool: str = "postprod"
    deployment: str = "postprod"  # deployment name of every flow: "<flow>/postprod"
    transcode_slots: int = Field(default=2, ge=1)  # per storage server
    qc_slots: int = Field(default=2, ge=1)  # in total, across the servers
    retries: int = Field(default=3, ge=0)  # for transient failures (a share or the database that blips)
    retry_delay_seconds: float = Field(default=10.0, ge=0)
    reports_url: str | None = None  # URL where reports_dir is served, for links in the Prefect UI

    def server_url(self) -> str | None:
        """The shared Prefect server's API: api_url, else $PREFECT_API_URL, else None (everything runs here)."""
        return self.api_url or os.environ.get("PREFECT_API_URL") or None
