"""The envelope every report shares (ingest, proxies, QC, conform): its head, its file names, its writing.

- `Report`: the head of the reports that are models: strict (extra keys refused), `schema_version` first.
  Each report states its own version (`schema_version: int = N`) and adds its fields after it.
- `safe_name`: a part of a report's file name from any user string (card, production, master, profile).
- `write_report`: the HTML page, then the JSON beside it, each written atomically: a reader that finds the
  JSON finds the page too.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from config.atomic import write_text_atomic


class Report(BaseModel):
    """The head of a report: the version of its JSON shape."""

    # Built at its first use (defer_build, inherited by each report): never made alone, and a command imports the
    # reports of other commands without making them.
    model_config = ConfigDict(extra="forbid", defer_build=True)

    schema_version: int = 1


def safe_name(text: str, fallback: str = "", *, strip: bool = False) -> str:
    """`text` with every run of characters outside [A-Za-z0-9._-] replaced by one "_" (ends trimmed of "_"
    with strip), or `fallback` when nothing is left."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text)
    return (name.strip("_") if strip else name) or fallback


def write_report(json_path: Path, json_text: str, html_path: Path, html_text: str) -> None:
    """The page and its JSON, each atomically (the page first)."""
    write_text_atomic(html_path, html_text)
    write_text_atomic(json_path, json_text)
