"""Shared fixtures: real media made with the real ffmpeg, settings in a temporary data directory."""

from __future__ import annotations

import hashlib
import os
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "150")
# Crash logs of the CLI's last-resort handler (cli/main.py) go to a temporary folder, not the user's home.
os.environ.setdefault("POSTPROD_LOG_DIR", os.path.join(tempfile.gettempdir(), f"postprod-test-logs-{os.getpid()}"))
# ffmpeg's capabilities are kept in a cache folder of the test run, not the user's (media/ffmpeg/caps_store.py).
os.environ.setdefault("POSTPROD_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"postprod-test-cache-{os.getpid()}"))

from config.settings import Settings, load_settings
from config.tools import find_ffmpeg
from media.synth import ClipSpec, TakeSpec, make_bwf_take, make_clip

SMALL_SPEC = """schema_version = 1
name = "small"
description = "the default spec at a test-sized raster"
[video]
width = 320
height = 180
frame_rate = "25/1"
scan = "progressive"
codecs = ["ProRes", "VC-3", "AVC"]
[audio]
sample_rate = 48000
bit_depth = 24
codecs = ["PCM"]
[timecode]
required = true
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--ffmpeg", default=None,
                     help="the ffmpeg every test runs (fixtures, settings, the command line): 'bundled' (the "
                          "default, the build installed with postprod), 'path' (the one on PATH) or a path; "
                          "POSTPROD_FFMPEG gives the same choice")


def pytest_configure(config: pytest.Config) -> None:
    # One ffmpeg for the whole run, whatever else the machine has on PATH: settings read POSTPROD_FFMPEG,
    # so the command lines the tests run, and their subprocesses, use it too.
    choice = config.getoption("--ffmpeg") or os.environ.get("POSTPROD_FFMPEG") or "bundled"
    os.environ["POSTPROD_FFMPEG"] = find_ffmpeg(None if choice == "path" else choice)


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return os.environ["POSTPROD_FFMPEG"]


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def make_media(media_dir: Path, ffmpeg: str):
    """Make (once per session) a clip or take by name; returns its path. Tests copy before changing it."""
    cache: dict[str, Path] = {}

    def make(name: str, spec: ClipSpec | TakeSpec) -> Path:
        key = f"{name}|{spec!r}"
        if key not in cache:
            # One folder per spec: two tests may use the same file name for different media.
            path = media_dir / hashlib.sha1(repr(spec).encode()).hexdigest()[:12] / name
            if isinstance(spec, TakeSpec):
                make_bwf_take(path, spec, ffmpeg)
            else:
                make_clip(path, spec, ffmpeg)
            cache[key] = path
        return cache[key]

    return make


@pytest.fixture()
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings file with a 'test' production on the small spec, and a data directory, in tmp_path."""
    (tmp_path / "small.toml").write_text(SMALL_SPEC)
    (tmp_path / "postprod.toml").write_text(
        'data_dir = "data"\n\n[productions.test]\nspec = "small.toml"\nhandles = 12\n'
    )
    monkeypatch.setenv("POSTPROD_CONFIG", str(tmp_path / "postprod.toml"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture()
def settings(workspace: Path) -> Settings:
    return load_settings(workspace / "postprod.toml")


def small_clip(**kw) -> ClipSpec:
    base = {"width": 320, "height": 180, "rate": Fraction(25), "seconds": 1.0}
    base.update(kw)
    return ClipSpec(**base)
