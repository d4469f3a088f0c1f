"""What every demo step shares: the context it is given, and the picture size of the demo's cameras."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HD = {"width": 1920, "height": 1080}


@dataclass
class DemoContext:
    """What each demo step gets: the workspace, its settings file, and the ingest reports."""

    workspace: Path
    config: Path
    reports: list  # list[CardReport]
    direct: bool
    say: Callable[[str], None]


DemoStep = Callable[[DemoContext], None]
