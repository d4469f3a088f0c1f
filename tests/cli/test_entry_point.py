"""The entry point's one handler: a bug is one line naming the command and the input, the traceback in a log."""

from __future__ import annotations

from pathlib import Path

import pytest
from postprod_inproc import postprod


def test_a_bug_is_one_line_and_a_log(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cli.commands.probe_run as probe_command  # the command's work (cli/commands/probe.py declares it)

    def broken(*_args, **_kw):
        raise KeyError("boom [bold]")

    monkeypatch.setattr(probe_command, "probe_paths", broken)
    monkeypatch.setenv("POSTPROD_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.delenv("POSTPROD_DEBUG", raising=False)
    result = postprod("probe", "clip [final].mov", "-p", "test")
    assert result.code == 70 and result.out == ""
    assert "Traceback" not in result.err and "internal error in `postprod probe`" in result.err
    assert "clip [final].mov" in result.err and "KeyError" in result.err and "boom [bold]" in result.err
    logs = list((tmp_path / "logs").glob("postprod-crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in result.err
    text = logs[0].read_text()
    assert text.startswith("postprod probe 'clip [final].mov' -p test") and "Traceback" in text and "broken" in text

    monkeypatch.setenv("POSTPROD_DEBUG", "1")  # developers get the exception itself
    with pytest.raises(KeyError):
        postprod("probe", "x.mov", "-p", "test")


def test_an_os_error_on_a_path_is_a_message(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cli.commands.probe_run as probe_command  # the command's work (cli/commands/probe.py declares it)

    def denied(*_args, **_kw):
        raise PermissionError(13, "Permission denied", "/srv/rushes/A001")

    monkeypatch.setattr(probe_command, "probe_paths", denied)
    monkeypatch.delenv("POSTPROD_DEBUG", raising=False)
    result = postprod("probe", "x.mov", "-p", "test")
    assert result.code == 2 and "/srv/rushes/A001: Permission denied" in result.err and "Traceback" not in result.err
