"""The envelope every report shares (ingest, proxies, QC, conform): its head, its file names, its writing.

- `Report`: the head of the reports that are models: strict (extra keys refused), `schema_version` first.
  Each report states its own version (`schema_version: int = N`) and adds its fields after it.
- `safe_name`: a part of a report's file name from any user string (card, production, master, profile).
- `write_report`: the HTML page, then the JSON beside it, each written atomically: a reader that finds the
  JSON finds the page too.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from config.atomic import atomic_path, write_synced


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
    """The page and its JSON, each atomically (the page in place first). The two are written and synced to disk
    side by side, before either is renamed into place: one wait on the disk's sync instead of two (1-10 ms each on
    the development machine's ext4), on the way to every command's answer."""
    failed: list[BaseException] = []

    def page(path: Path) -> None:
        try:
            write_synced(path, html_text.encode("utf-8"))
        except BaseException as exc:  # noqa: BLE001 - raised again below, in the caller's thread
            failed.append(exc)

    with atomic_path(json_path) as json_tmp, atomic_path(html_path) as html_tmp:  # left in reverse: the page first
        writer = threading.Thread(target=page, args=(html_tmp,), name="report-page")
        writer.start()
        try:
            write_synced(json_tmp, json_text.encode("utf-8"))
        finally:
            writer.join()
        if failed:
            raise failed[0]
