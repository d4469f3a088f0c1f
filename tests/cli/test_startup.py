"""What a command loads: commands that run no flow import no Prefect, a probe no SQLAlchemy, a conform check of a
SQLite store at HEAD no SQLAlchemy either, nor `plan status` (nor Alembic), and `--help` none of the libraries
the commands use.

Checked with `python -X importtime`, which lists every module a process imports (on stderr), as a user
would run the command: no timing is asserted, only which modules were loaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import small_clip

EDL = """TITLE: STARTUP
001  A001     V     C        10:00:00:00 10:00:00:10 01:00:00:00 01:00:00:10
* FROM CLIP NAME: A001C001_261123_R1AB
"""


def imported(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run `postprod ARGS` under -X importtime; return the result and the modules it imported: each by its full
    name and by its top-level package ("sqlalchemy.dialects.postgresql" and "sqlalchemy")."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PYTHONPROFILEIMPORTTIME")}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "cli.main", *args], capture_output=True,
                            text=True, cwd=cwd, env=env, timeout=300, check=False)
    modules = {line.rsplit("|", 1)[1].strip()
               for line in result.stderr.splitlines() if line.startswith("import time:") and "|" in line}
    modules.discard("imported package")
    assert modules, result.stderr[-2000:]  # importtime did report
    return result, modules | {m.split(".")[0] for m in modules}


@pytest.fixture()
def clip(workspace: Path, make_media) -> Path:
    card = workspace / "A001"
    card.mkdir()
    path = card / "A001C001_261123_R1AB.mov"
    shutil.copy(make_media("startup.mov", small_clip(timecode="10:00:00:00", reel="A001")), path)
    return path


def test_probe_of_a_folder_loads_no_prefect_and_no_sqlalchemy(workspace: Path, clip: Path) -> None:
    result, names = imported("probe", str(clip.parent), "--production", "test", "--json", cwd=workspace)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "media.probe" in names and "media.qt_facts" in names  # the probe did run (our reader: no MediaInfo)
    assert "pymediainfo" not in names  # a ProRes clip our reader describes whole loads no MediaInfo
    assert "prefect" not in names and "sqlalchemy" not in names
    assert "ingest.mhl" not in names  # the walk skips the card's MHL folder without loading the MHL reader


def test_probe_of_a_file_loads_only_what_it_uses(workspace: Path, clip: Path) -> None:
    result, names = imported("probe", str(clip), cwd=workspace)
    assert result.returncode == 0 and "1 files in" in result.stdout, result.stderr[-2000:]  # the table, then its count
    for heavy in ("prefect", "sqlalchemy", "alembic", "numpy", "jinja2", "opentimelineio", "ingest.mhl",
                  "ingest.catalogue", "flows", "typer._adapters", "pydantic.type_adapter",
                  "ingest.scan", "ingest.results", "media.report",  # (a file needs no folder walk nor card models)
                  "multiprocessing",  # (nor a pool of workers for one file)
                  "defusedxml", "xml.etree",  # (nor the XML parser of BWF's iXML chunk, for a MOV)
                  "typer", "click"):  # (a plain command line: cli/fast.py parses it, tests/cli/test_fast.py)
        assert heavy not in names, f"`postprod probe FILE` imported {heavy}"


def test_tables_are_printed_without_rich(workspace: Path, clip: Path) -> None:
    # cli/plain.py writes them as rich would (tests/cli/test_plain_render.py): rich is not even imported
    result, names = imported("probe", str(clip), cwd=workspace)
    assert result.returncode == 0 and "1 files in" in result.stdout and "┏━" in result.stdout, result.stderr[-2000:]
    assert "rich" not in names
    made, _ = imported("plan", "create", "-p", "test", "--template", "fiction", cwd=workspace)
    assert made.returncode == 0, made.stderr[-2000:]
    status, names = imported("plan", "status", cwd=workspace)
    assert status.returncode == 0 and "Rushes reception" in status.stdout and "money:" in status.stdout
    assert "rich" not in names and "typer" not in names


def test_the_walk_names_the_mhl_folder_as_the_mhl_module_does() -> None:
    from ingest import mhl, scan

    assert scan.MHL_FOLDER == mhl.MHL_FOLDER


def test_conform_qc_plan_and_help_load_no_prefect(workspace: Path, clip: Path) -> None:
    (workspace / "cut.edl").write_text(EDL)
    runs = {
        "conform": imported("conform", str(workspace / "cut.edl"), "--production", "test", "--json", cwd=workspace),
        "qc": imported("qc", str(clip), "--profile", "ebu-r128-hd25", "--json", cwd=workspace),
        "plan status": imported("plan", "status", "--json", cwd=workspace),
        "--help": imported("--help", cwd=workspace),
        "qc --help": imported("qc", "--help", cwd=workspace),
        "plan status --help": imported("plan", "status", "--help", cwd=workspace),
    }
    assert runs["conform"][0].returncode == 1  # the reel is not in the (empty) catalogue: an error finding
    assert '"verdict"' in runs["qc"][0].stdout  # a report, whatever its verdict on this tiny clip
    assert runs["plan status"][0].returncode == 0 and "productions" in runs["plan status"][0].stdout
    assert "probe" in runs["--help"][0].stdout
    for command, (_, names) in runs.items():
        assert "prefect" not in names, f"`postprod {command}` imported Prefect"
    # The database is at HEAD now (conform made it): plan status reads it with sqlite3 alone (planning/reading.py),
    # no SQLAlchemy, no Alembic. QC without --flow records nothing: no database at all.
    status, names = imported("plan", "status", cwd=workspace)
    assert status.returncode == 0, status.stderr[-2000:]
    assert not names & {"sqlalchemy", "alembic", "store.base", "store.tables", "planning.store"}
    # A conform check (that records nothing) reads a SQLite store at HEAD with sqlite3 alone (store/reading.py).
    again, names = imported("conform", str(workspace / "cut.edl"), "--production", "test", "--json", cwd=workspace)
    assert again.returncode == 1 and '"missing_media": 1' in again.stdout, again.stderr[-2000:]
    assert "sqlalchemy" not in names and "store.base" not in names and "store.tables" not in names
    read_only = {"conform (store at HEAD)": names}
    # Nor a probe in a production, which asks its catalogue what it knows of each file.
    known, names = imported("probe", str(clip), "--production", "test", "--json", cwd=workspace)
    assert known.returncode == 0 and '"path"' in known.stdout, known.stderr[-2000:]
    assert "sqlalchemy" not in names and "store.base" not in names and "ingest.catalogue" not in names
    assert "sqlalchemy" not in runs["qc"][1] and "numpy" in runs["qc"][1]
    for command in ("--help", "qc --help", "plan status --help"):
        assert runs[command][0].returncode == 0 and "Usage:" in runs[command][0].stdout, command
        assert not runs[command][1] & {"sqlalchemy", "numpy", "jinja2", "pymediainfo", "config.settings",
                                       "rich"}, command
    # typer coerces each parameter through a pydantic TypeAdapter; cli/coerce.py does the plain ones without it
    for command in ("--help", "qc --help", "plan status --help"):
        assert "pydantic" not in runs[command][1], command
    # JSON goes out without rich (its consoles are made at their first use)
    for command in ("conform", "plan status", "qc"):  # (qc --json: no progress bar, so no rich at all)
        assert "rich.console" not in runs[command][1], command
    for command in ("conform", "qc", "plan status"):
        assert "typer._adapters" not in runs[command][1] and "pydantic.type_adapter" not in runs[command][1], command
    for command in ("conform", "plan status", "qc"):  # plain command lines: parsed and run without typer (cli/fast.py)
        assert "typer" not in runs[command][1], command
    assert not names & {"typer", "click"}  # probe -p test --json, the same
    # pydantic's plugin loader is not imported while PYDANTIC_DISABLE_PLUGINS says none (cli/main.py's stand-in),
    # importlib.metadata and the email package it loads (the first conform made the store: SQLAlchemy does)
    read_only.update({c: r[1] for c, r in runs.items() if c != "conform"}, **{"probe -p": names})
    for command, modules in read_only.items():
        assert not modules & {"importlib.metadata", "email", "zipfile"}, command
    # Settings, a delivery profile or a plan's rates are read without building the technical spec's models
    for command in ("qc", "plan status"):
        assert "config.spec" not in runs[command][1], command


def test_without_a_prefect_server_the_flows_steps_run_in_process(workspace: Path, clip: Path) -> None:
    # No server configured: `postprod ingest` (a Prefect flow by default) and `qc --flow` run the flows' steps
    # in this process: no temporary Prefect server, not even Prefect imported; the plan still moves.
    ingest, names = imported("ingest", str(clip.parent), "--production", "test", "--json", cwd=workspace)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    assert '"new": 1' in ingest.stdout and "prefect" not in names
    assert "ingest.proxies.make" not in names  # the production makes no proxies: their code is not loaded
    assert "rich" not in names  # --json: no progress bar, nothing printed through rich
    assert "typer" not in names  # a plain command line: cli/fast.py
    qc, names = imported("qc", str(clip), "--profile", "ebu-r128-hd25", "-p", "test", "--flow", "--json",
                         cwd=workspace)
    assert '"verdict"' in qc.stdout and "prefect" not in names
    from config.settings import load_settings
    from planning.stages import Stage, StageState
    from planning.store import PlanningStore

    store = PlanningStore(load_settings(workspace / "postprod.toml").db_url)
    assert store.state("test", Stage.RUSHES_RECEPTION) is StageState.IN_PROGRESS  # one card, none expected
    assert store.state("test", Stage.PAD_DELIVERY) is StageState.BLOCKED  # this clip is no PAD master


def test_pydantic_plugins_load_as_pydantic_loads_them_unless_disabled(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # cli/main.py's stand-in for pydantic's plugin loader: no plugin and no importlib.metadata while
    # PYDANTIC_DISABLE_PLUGINS says none; told otherwise afterwards, pydantic's own loader answers
    script = """
import os, sys
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
from cli.main import _quiet_environment
_quiet_environment()
from pydantic import BaseModel
class M(BaseModel):
    a: int
assert M(a="1").a == 1
from pydantic.plugin import _loader
assert tuple(_loader.get_plugins()) == () and "importlib.metadata" not in sys.modules
os.environ["PYDANTIC_DISABLE_PLUGINS"] = ""
plugins = _loader.get_plugins()
assert "importlib.metadata" in sys.modules, "pydantic's own loader looked for plugins"
assert sys.modules["pydantic.plugin._loader"] is not _loader and not isinstance(plugins, tuple)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(__file__).parents[2],
                          timeout=120, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
    # set to anything else before the command starts, pydantic's loader is never replaced
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "")
    done, names = imported("plan", "templates", "--json", cwd=tmp_path)
    assert done.returncode == 0 and '"templates"' in done.stdout, done.stderr[-2000:]
    assert {"pydantic.plugin._loader", "importlib.metadata"} <= names


def test_no_garbage_collection_while_a_command_starts(workspace: Path, clip: Path) -> None:
    # cli/main.py raises the collector's threshold: the tens of thousands of objects a start makes (modules,
    # classes, schemas) are not scanned over and over; collections still happen, less often
    script = """
import gc, sys
collections = []
gc.callbacks.append(lambda phase, info: phase == "stop" and collections.append(info["generation"]))
from cli.main import GC_THRESHOLD, main
import atexit
atexit.register(lambda: print("threshold", gc.get_threshold()[0] == GC_THRESHOLD, "collections", len(collections) - before,
                              file=sys.stderr))
sys.argv = ["postprod", *sys.argv[1:]]
before = len(collections)
main()
"""
    done = subprocess.run([sys.executable, "-c", script, "probe", str(clip), "--json"], capture_output=True, text=True,
                          cwd=workspace, timeout=120, check=False)
    assert done.returncode == 0 and '"path"' in done.stdout, done.stderr[-2000:]
    assert "threshold True collections 0" in done.stderr, done.stderr[-2000:]


def test_a_group_command_is_built_alone_and_the_group_whole_otherwise() -> None:
    from cli.app import command
    from cli.main import register

    register(["postprod", "plan"])
    plan = command(["plan", "status", "--json"]).commands["plan"]  # type: ignore[attr-defined]
    assert list(plan.commands) == ["status"]
    assert list(command(["-c", "x.toml", "plan", "quote"]).commands["plan"].commands) == ["quote"]  # type: ignore[attr-defined]
    every = {"templates", "create", "status", "report", "import", "mark", "digest", "quote", "overrun", "invoice", "pay"}
    for args in (["plan"], ["plan", "--help"], ["plan", "statu"], ["plan", "--json", "status"], [], ["--help"]):
        assert set(command(args).commands["plan"].commands) == every, args  # type: ignore[attr-defined]


def test_settings_tables_are_validated_within_settings_and_equal_to_their_own(tmp_path: Path) -> None:
    # config/settings.py: the tables of the settings (watch, notify, prefect, money, smtp, productions) build no
    # validator of their own at a start; a table left out is what its own model makes with nothing given
    (tmp_path / "postprod.toml").write_text('data_dir = "data"\n\n[productions.p]\nspec = "default"\n\n'
                                            '[watch]\npoll_seconds = 2\n')
    script = """
import sys
from pathlib import Path
from config.servers import NotifySettings, PrefectSettings
from config.settings import MoneySettings, Production, SmtpSettings, WatchSettings, load_settings
tables = (NotifySettings, PrefectSettings, MoneySettings, Production, SmtpSettings, WatchSettings)
settings = load_settings(Path(sys.argv[1]))
assert not any(t.__pydantic_complete__ for t in tables), [t for t in tables if t.__pydantic_complete__]
assert settings.watch.poll_seconds == 2 and settings.productions["p"].spec == "default"
for made, alone in ((settings.notify, NotifySettings()), (settings.prefect, PrefectSettings()),
                    (settings.money, MoneySettings())):
    assert made == alone and made.model_fields_set == alone.model_fields_set == set(), (made, alone)
assert settings.watch == WatchSettings(poll_seconds=2)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "postprod.toml")], capture_output=True,
                          text=True, cwd=Path(__file__).parents[2], timeout=120, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_profile_rates_and_spec_tables_are_validated_within_their_file_and_equal_to_their_own() -> None:
    # qc/profile.py, planning/money/rates.py, config/spec.py: only the model of the file (DeliveryProfile, RatesFile,
    # TechSpec) builds a validator, at its first file; a table left out is what its own model makes. The media
    # model and the reports build theirs at their first use (a conform check imports them and makes none).
    script = """
from decimal import Decimal
from config import spec as S
from media import model, report
from planning.money import rates as R
from qc import profile as P
unused = (model.MediaFile, model.VideoStream, model.AudioStream, report.Report, S.TechSpec, S.VideoSpec, S.AudioSpec,
          S.TimecodeSpec)
assert not any(m.__pydantic_complete__ for m in unused), [m for m in unused if m.__pydantic_complete__]
spec = S.load_spec("default")
assert S.TechSpec.__pydantic_complete__ and not S.TimecodeSpec.__pydantic_complete__
bare = S.TechSpec.model_validate({"schema_version": 1, "name": "x", "video": {"width": 2, "height": 2, "frame_rate": 25},
                                  "audio": {"sample_rate": 48000, "bit_depth": 24}})
assert bare.timecode == S.TimecodeSpec() and bare.timecode.model_fields_set == set() and spec.timecode.required
tables = (P.FormatSpec, P.TimecodeSpec, P.LoudnessSpec, P.SilenceSpec, P.BlackSpec, P.FreezeSpec, P.LevelsSpec,
          R.Rate, R.Facility, R.StageCost, R.Technician, R.Tier, R.Overtime)
assert not any(t.__pydantic_complete__ for t in (*tables, P.DeliveryProfile, R.RatesFile))
assert P.load_profile("ebu-r128-hd25").name == "ebu-r128-hd25" and R.load_rates("house") is not None
assert not any(t.__pydantic_complete__ for t in tables), [t for t in tables if t.__pydantic_complete__]
bare = P.DeliveryProfile.model_validate({"schema_version": 1, "name": "x"})
for made, model in ((bare.format, P.FormatSpec), (bare.timecode, P.TimecodeSpec), (bare.loudness, P.LoudnessSpec),
                    (bare.silence, P.SilenceSpec), (bare.black, P.BlackSpec), (bare.freeze, P.FreezeSpec),
                    (bare.levels, P.LevelsSpec)):
    assert made == model() and made.model_fields_set == set(), made
rates = R.RatesFile.model_validate({"schema_version": 1, "name": "x", "currency": "EUR"})
assert rates.overtime == R.Overtime() and rates.overtime.model_fields_set == set()
assert rates.overtime.tiers == [R.Tier(from_hour=Decimal(0), premium_percent=Decimal(25)),
                                R.Tier(from_hour=Decimal(2), premium_percent=Decimal(50))]
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(__file__).parents[2],
                          timeout=120, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
