"""Database fixtures: every store test runs on SQLite and on a real PostgreSQL server.

Test modules in any folder import them (`import db_fixtures; db_url = db_fixtures.db_url`), the way they
import helpers from conftest (tests/ is on the path).

PostgreSQL: $POSTPROD_TEST_PG_URL (CI starts one with .ci/start-postgres); unset, the session starts its own
with that script, and only when that cannot be done is the PostgreSQL variant skipped (never on CI, where
POSTPROD_TEST_PG_REQUIRED=1 turns the skip into a failure).
"""

from __future__ import annotations

import atexit
import os
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from config.db import engine_for

ROOT = Path(__file__).resolve().parents[1]


_server: dict[str, str] = {}


def _stop_server() -> None:
    subprocess.run(shlex.split(_server["POSTPROD_TEST_PG_CTL"]), capture_output=True, check=False)
    shutil.rmtree(_server["POSTPROD_TEST_PG_DATA"], ignore_errors=True)


def _start_server() -> str:
    """One server for the whole test process, however many modules ask (stopped when the process ends)."""
    if "POSTPROD_TEST_PG_URL" in _server:
        return _server["POSTPROD_TEST_PG_URL"]
    if "error" in _server:
        raise RuntimeError(_server["error"])
    proc = subprocess.run([str(ROOT / ".ci" / "start-postgres")], capture_output=True, text=True, timeout=600,
                          check=False)
    if proc.returncode != 0:
        _server["error"] = ("POSTPROD_TEST_PG_URL is unset and .ci/start-postgres could not start a server: "
                            + (proc.stderr.strip().splitlines() or ["?"])[-1])
        raise RuntimeError(_server["error"])
    for line in proc.stdout.splitlines():
        key, _, value = line.partition("=")
        _server[key] = shlex.split(value)[0] if value else ""
    atexit.register(_stop_server)
    return _server["POSTPROD_TEST_PG_URL"]


@pytest.fixture(scope="session")
def pg_server() -> str:
    url = os.environ.get("POSTPROD_TEST_PG_URL")
    if url:
        return url
    try:
        return _start_server()
    except RuntimeError as exc:
        if os.environ.get("POSTPROD_TEST_PG_REQUIRED"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty planning database: a SQLite file, or a schema of its own on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'plan.db'}"
        return
    with pg_schema(request.getfixturevalue("pg_server")) as url:
        yield url


@contextmanager
def pg_schema(server: str) -> Iterator[str]:
    """A URL to a new, empty schema of its own on the PostgreSQL server (dropped at the end)."""
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(server)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in server else "?"
    url = f"{server}{sep}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
