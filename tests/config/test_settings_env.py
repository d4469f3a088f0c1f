"""Settings from the environment: POSTPROD_<FIELD> over the file, `__` into a table (merged with the file's),
JSON for lists; other POSTPROD_ variables (CONFIG, DEBUG...) are not settings. Without any, pydantic-settings
is not even imported (start-up)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import load_settings

FILE = """data_dir = "data"
ffmpeg = "/usr/bin/ffmpeg"
[smtp]
host = "mail.example.org"
from = "post@example.org"
to = ["coord@example.org"]
[productions.film]
handles = 12
"""


@pytest.fixture()
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.upper().startswith("POSTPROD_"):
            monkeypatch.delenv(key)
    path = tmp_path / "postprod.toml"
    path.write_text(FILE)
    return path


def test_the_environment_wins_over_the_file_and_merges_into_its_tables(settings_file: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTPROD_FFMPEG", "/opt/ffmpeg/bin/ffmpeg")
    monkeypatch.setenv("postprod_decode_check", "full")  # names in any case
    monkeypatch.setenv("POSTPROD_SMTP__PASSWORD", "s3cret")
    monkeypatch.setenv("POSTPROD_PRODUCTIONS__FILM__HANDLES", "24")
    monkeypatch.setenv("POSTPROD_IGNORE", '["*.tmp", ".DS_Store"]')
    monkeypatch.setenv("POSTPROD_DEBUG", "1")  # not a setting: no "extra field" error
    s = load_settings(settings_file)
    assert s.ffmpeg == "/opt/ffmpeg/bin/ffmpeg" and s.decode_check == "full"
    assert s.smtp is not None and s.smtp.password == "s3cret" and s.smtp.host == "mail.example.org"
    assert s.productions["film"].handles == 24 and s.productions["film"].name == "film"
    assert s.ignore == ["*.tmp", ".DS_Store"]


def test_a_bad_value_in_the_environment_names_the_field(settings_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from config.errors import ConfigError

    monkeypatch.setenv("POSTPROD_SETTLE_SECONDS", "soon")
    with pytest.raises(ConfigError, match="settle_seconds"):
        load_settings(settings_file)


def test_without_settings_in_the_environment_pydantic_settings_is_not_imported(settings_file: Path) -> None:
    code = ("import sys; from config.settings import load_settings; s = load_settings(); "
            "print(s.ffmpeg, 'pydantic_settings' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("POSTPROD_")}
    run = lambda **more: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,  # noqa: E731
                                        env={**env, "POSTPROD_CONFIG": str(settings_file), **more},
                                        cwd=Path(__file__).parents[2], timeout=120, check=True).stdout.split()
    assert run() == ["/usr/bin/ffmpeg", "False"]
    assert run(POSTPROD_FFMPEG="/opt/ff") == ["/opt/ff", "True"]
