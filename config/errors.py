"""One error base for postprod: every user-facing failure names the file and the cause."""

from __future__ import annotations

from pathlib import Path


class PostprodError(Exception):
    """A user error or an unusable input: shown as a message, never as a traceback."""

    exit_code = 2

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)
        self.reason = message


class ConfigError(PostprodError):
    """A settings, spec or profile file that cannot be used."""

    def __init__(self, path: Path | str | None, field: str | None, reason: str) -> None:
        self.field = field
        where = f"field '{field}': " if field else ""
        super().__init__(f"{where}{reason}", path=path)


class ToolError(PostprodError):
    """An external tool (ffmpeg, MediaInfo) missing or failing outside of a given file's fault."""


class UnknownNameError(PostprodError):
    """A name that is not among the available ones (production, spec, preset, profile)."""

    def __init__(self, kind: str, name: str, available: list[str]) -> None:
        listing = ", ".join(sorted(available)) or "none"
        super().__init__(f"unknown {kind} '{name}'; available: {listing}")
        self.available = available
