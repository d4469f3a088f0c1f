"""Where the external tools are: ffmpeg from settings, else on PATH, else the static build from PyPI."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from config.errors import ToolError


@lru_cache(maxsize=8)
def find_ffmpeg(configured: str | None = None) -> str:
    """Return the ffmpeg executable to use.

    A path in settings wins, then an ffmpeg on PATH, then the static build that the
    imageio-ffmpeg wheel carries (installed with postprod, so ffmpeg is always there).
    The setting `bundled` names that static build even when another ffmpeg is on PATH.
    """
    if configured == "bundled":
        return bundled_ffmpeg()
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            found = shutil.which(configured)
            if not found:
                raise ToolError(f"ffmpeg set in settings not found: {configured}")
            return found
        return str(path)
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    return bundled_ffmpeg()


@lru_cache(maxsize=1)
def bundled_ffmpeg() -> str:
    """The static ffmpeg of the imageio-ffmpeg wheel, a dependency of postprod."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - the dependency is declared
        raise ToolError("no ffmpeg on PATH and the imageio-ffmpeg package is missing") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


@lru_cache(maxsize=8)
def ffmpeg_version(ffmpeg: str) -> str:
    out = subprocess.run([ffmpeg, "-hide_banner", "-version"], capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr).splitlines()[:1]
    return first[0].split(" Copyright")[0] if first else "unknown"

