"""Where postprod keeps what it can always rebuild: the user's cache folder."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$POSTPROD_CACHE_DIR, else $XDG_CACHE_HOME/postprod, else ~/.cache/postprod (not created here)."""
    if os.environ.get("POSTPROD_CACHE_DIR"):
        return Path(os.environ["POSTPROD_CACHE_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "postprod"
