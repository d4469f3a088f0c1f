"""Run the `postprod` command in-process, as a user would (main(): errors are messages, not tracebacks)."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest


def postprod(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    from cli.main import main

    monkeypatch.setattr(sys, "argv", ["postprod", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def postprod_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, Any]:
    code, out, err = postprod(capsys, monkeypatch, *args, "--json")
    assert "Traceback" not in err
    return code, json.loads(out)
