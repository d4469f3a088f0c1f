"""Links to the web page (`postprod serve`) for mails and digests: with a `public_url`, a report is linked
to its production's page on the server, never to a file:// path that opens on nobody else's machine."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import quote


def report_id(path: Path) -> str:
    """The opaque id under which the web page serves a report file of a production."""
    return hashlib.sha256(str(path).encode()).hexdigest()[:20]


def production_url(public_url: str, production: str) -> str:
    return f"{public_url.rstrip('/')}/p/{quote(production, safe='')}"


def report_url(public_url: str, production: str, path: Path) -> str:
    return f"{production_url(public_url, production)}/files/{report_id(path)}"
