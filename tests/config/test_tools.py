"""Which ffmpeg runs: the one in settings, else the one on PATH, else the static build installed with us."""

from pathlib import Path

import pytest

from config.errors import ToolError
from config.tools import find_ffmpeg


@pytest.fixture(autouse=True)
def _fresh_cache():
    find_ffmpeg.cache_clear()
    yield
    find_ffmpeg.cache_clear()


def test_bundled_build_when_nothing_else(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg on PATH
    exe = find_ffmpeg()
    assert "imageio_ffmpeg" in exe and Path(exe).is_file()


def test_path_wins_over_bundled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundled = find_ffmpeg()
    find_ffmpeg.cache_clear()
    (tmp_path / "ffmpeg").symlink_to(bundled)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_ffmpeg() == str(tmp_path / "ffmpeg")


def test_settings_win(tmp_path: Path) -> None:
    bundled = find_ffmpeg()
    mine = tmp_path / "my-ffmpeg"
    mine.symlink_to(bundled)
    assert find_ffmpeg(str(mine)) == str(mine)
    with pytest.raises(ToolError, match="not found"):
        find_ffmpeg(str(tmp_path / "missing"))
