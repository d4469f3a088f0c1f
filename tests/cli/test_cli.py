"""The command line as a user and another tool see it: JSON that validates, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import small_clip

from cli.schemas import SCHEMA_DIR, SCHEMAS, render, schema_of

POSTPROD = [sys.executable, "-m", "cli.main"]


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*POSTPROD, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=300, check=False)


def test_committed_schemas_match_the_code() -> None:
    for command, (name, _) in SCHEMAS.items():
        assert (SCHEMA_DIR / name).read_text() == render(command), f"run python -m cli.schemas ({name})"


def test_probe_json(workspace: Path, make_media) -> None:
    clip = workspace / "A001C001_261123_R1AB.mov"
    shutil.copy(make_media("cli.mov", small_clip(timecode="10:00:00:00", reel="A001")), clip)
    phone = workspace / "IMG_0001.MP4"
    shutil.copy(make_media("cli_phone.mp4", small_clip(codec="h264", timecode=None, audio_channels=0)), phone)
    result = run("probe", str(clip), str(phone), "--production", "test", "--json")
    assert result.returncode == 1, result.stderr  # the phone clip has no timecode: an error
    data = json.loads(result.stdout)
    jsonschema.validate(data, schema_of("probe"))
    first, second = data
    assert first["start_timecode"] == "10:00:00:00" and first["reel"] == "A001"
    assert first["video"]["frame_rate"] == "25/1" and first["findings"] == []
    assert [f["rule"] for f in second["findings"]] == ["timecode_missing"]


def test_probe_table_and_clean_exit(workspace: Path, make_media) -> None:
    clip = workspace / "ok.mov"
    shutil.copy(make_media("cli.mov", small_clip(timecode="10:00:00:00", reel="A001")), clip)
    result = run("probe", str(clip), "--production", "test")
    assert result.returncode == 0 and "10:00:00:00" in result.stdout


def test_ingest_json(workspace: Path, make_media) -> None:
    card = workspace / "A001"
    card.mkdir()
    shutil.copy(make_media("cli.mov", small_clip(timecode="10:00:00:00", reel="A001")), card / "A001C001.mov")
    result = run("ingest", str(card), "--production", "test", "--direct", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema.validate(data, schema_of("ingest"))
    assert data[0]["summary"]["new"] == 1 and data[0]["files"][0]["hashes"]["xxh128"]
    stages = data[0]["stage_seconds"]  # where the time went, stage by stage
    assert list(stages) == ["walk", "files", "hash", "probe", "decode_check", "catalogue", "mhl", "reports"]
    assert all(v >= 0 for v in stages.values()) and stages["decode_check"] <= stages["probe"]
    assert stages["files"] > 0  # the wall time of the files' work, side by side
    # A MOV whose sample tables prove it whole: MediaInfo ran, no ffmpeg decode was needed.
    assert stages["probe"] > 0 and stages["decode_check"] == 0
    assert data[0]["files"][0]["media"]["integrity"] == "sample tables"
    written = json.loads(Path(data[0]["report_json"]).read_text())
    assert "reports" not in written["stage_seconds"] and written["stage_seconds"]["probe"] == stages["probe"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["probe", "x.mov", "--spec", "nope"], "unknown technical spec 'nope'; available: default"),
        (["ingest", "/nonexistent/card", "--direct"], "no such file or folder"),
        (["ingest", ".", "--production", "nope", "--direct"], "unknown production 'nope'; available: default, test"),
    ],
)
def test_user_errors_are_messages_not_tracebacks(workspace: Path, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr and result.stdout == ""


def test_bad_settings_file_names_the_field(tmp_path: Path) -> None:
    cfg = tmp_path / "postprod.toml"
    cfg.write_text('hash_algorithm = "crc32"\n')
    result = run("--config", str(cfg), "probe", "x.mov")
    assert result.returncode == 2 and "hash_algorithm" in result.stderr and "Traceback" not in result.stderr


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("probe", "ingest", "demo"):
        assert command in result.stdout


def test_every_command_is_found_by_the_lazy_loader():
    # `postprod X` imports only the module COMMANDS names for X: the map must name every command there is.
    from cli.main import COMMANDS, register

    register(["postprod"])  # no command named: every module
    from cli.app import app

    names = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups}
    assert names == set(COMMANDS)
