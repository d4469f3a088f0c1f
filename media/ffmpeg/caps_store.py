"""ffmpeg's capabilities kept on disk, so that a command does not ask ffmpeg again on every start.

Reading them takes five ffmpeg runs (about 0.3 s, most of it ffmpeg loading its libraries); `postprod probe`
of one file should answer in less. One small JSON file per ffmpeg executable, in the user's cache folder
(config/dirs.py), keyed by the executable's real path, size and modification time and by FORMAT: a new
ffmpeg (an upgrade, another build copied over it) is read again. A file that cannot be read, is not ours
or does not describe this executable is ignored and written again; a folder that cannot be written only
means asking ffmpeg each time. Only complete answers are stored (caps.py raises on a failed query).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, NamedTuple


def _log():  # noqa: ANN202 - logging is loaded only when the cache has something to say (not at every start)
    import logging

    return logging.getLogger("postprod.ffmpeg")


FORMAT = 1  # bump when Capabilities or the way it is read changes: older files are then ignored


class Key(NamedTuple):
    """What identifies one ffmpeg executable: its real path, size and modification time."""

    realpath: str
    size: int
    mtime_ns: int


def key_of(ffmpeg: str) -> Key:
    """The key of the executable `ffmpeg` names (symbolic links followed). Raises OSError."""
    real = os.path.realpath(ffmpeg)
    st = os.stat(real)
    return Key(real, st.st_size, st.st_mtime_ns)


def cache_file(key: Key) -> Path | None:
    """Where `key`'s capabilities are kept; None where there is no cache folder (no home, say)."""
    from config.dirs import cache_dir

    try:
        folder = cache_dir()
    except (OSError, RuntimeError, KeyError):  # Path.home() with no HOME and no passwd entry
        return None
    digest = hashlib.sha256(key.realpath.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return folder / "ffmpeg" / f"caps-{digest}.json"


def load(key: Key) -> dict[str, Any] | None:
    """The stored capabilities of `key` (the fields caps.Capabilities takes, less `path`), or None."""
    path = cache_file(key)
    if path is None:
        return None
    try:
        data = json.loads(path.read_bytes())
        if data.get("format") != FORMAT or Key(data["ffmpeg"], data["size"], data["mtime_ns"]) != key:
            return None  # another ffmpeg at the same path, or an older postprod's file: read again
        release = data["release"]
        fields = {
            "version": _str(data["version"]),
            "release": None if release is None else (int(release[0]), int(release[1])),
            "filters": _names(data["filters"]),
            "encoders": _names(data["encoders"]),
            "options": _names(data["options"]),
            "ebur128_framelog_quiet": data["ebur128_framelog_quiet"],
        }
        if not isinstance(fields["ebur128_framelog_quiet"], bool) or not fields["filters"]:
            raise ValueError("not a capabilities file")
        return fields
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        _log().debug("ignoring the ffmpeg capabilities cache %s: %s", path, exc)
        return None


def save(key: Key, fields: dict[str, Any]) -> None:
    """Store a complete reading of `key` (atomically); a cache that cannot be written is no error."""
    from config.atomic import write_text_atomic

    path = cache_file(key)
    if path is None:
        return
    data = {"format": FORMAT, "ffmpeg": key.realpath, "size": key.size, "mtime_ns": key.mtime_ns,
            "version": fields["version"], "release": fields["release"],
            "filters": sorted(fields["filters"]), "encoders": sorted(fields["encoders"]),
            "options": sorted(fields["options"]), "ebur128_framelog_quiet": fields["ebur128_framelog_quiet"]}
    try:
        write_text_atomic(path, json.dumps(data, indent=1) + "\n")
    except (OSError, UnicodeError) as exc:
        _log().debug("cannot keep the ffmpeg capabilities in %s: %s", path, exc)


def _str(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("not a capabilities file")
    return value


def _names(value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("not a capabilities file")
    return frozenset(value)
