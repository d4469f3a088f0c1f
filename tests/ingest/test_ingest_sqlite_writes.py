"""An ingest on a SQLite store at HEAD (or a new one) writes with sqlite3 alone (store/writing.py,
ingest/catalogue_sql.py, planning/writing.py): the very rows SQLAlchemy's Catalogue and PlanningStore write,
table for table and row for row, over the same real cards ingested again and again (a failed verification that
stays an error until the bytes change, a file changed after its ingest, a touched one, re-runs that do nothing
twice, a second card that completes the reception stage); and such an ingest never imports SQLAlchemy."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import SMALL_SPEC, small_clip

from config.settings import load_settings
from flows.ingest import run_ingest
from store import Store
from store.writing import SqliteWriter, open_for_writing

ROOT = Path(__file__).resolve().parents[2]
_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
_STAMP = re.compile(r"\d{8}-\d{6}")  # a report's file name


def _settings(workspace: Path, side: str):
    (workspace / "small.toml").write_text(SMALL_SPEC)
    toml = workspace / f"{side}.toml"
    toml.write_text(f'data_dir = "{workspace / side}"\n\n[productions.test]\nspec = "small.toml"\nexpected_cards = 2\n')
    return load_settings(toml)


def _cards(workspace: Path, make_media) -> tuple[Path, Path]:
    a, b = workspace / "cards" / "A001", workspace / "cards" / "B001"
    (a / "Clips").mkdir(parents=True)
    b.mkdir(parents=True)
    for i in (1, 2):
        shutil.copy2(make_media(f"A001C00{i}.mov", small_clip(seconds=0.4 + 0.2 * i, timecode=f"10:0{i}:00:00",
                                                              reel="A001")), a / "Clips" / f"A001C00{i}_R1AB.mov")
    (a / "A001.xml").write_text("<card>A001</card>\n")
    shutil.copy2(make_media("B001C001.mov", small_clip(seconds=0.4, timecode="12:00:00:00", reel="B001")),
                 b / "B001C001.mov")
    made = subprocess.run([str(Path(sys.executable).with_name("ascmhl")), "create", "-h", "xxh64", str(a)],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    return a, b


def _flip(path: Path) -> None:
    """A byte in the middle changed, the size and mtime kept (a corrupt copy, as a failed offload leaves it)."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _dump(db: Path, data_dir: Path) -> dict[str, list[tuple]]:
    """Every table's rows, by rowid; times (which differ between two runs) as their format only, the data
    directory (each side's own) as <data>, a report's time stamp as <stamp>."""
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]

        def plain(value):
            if not isinstance(value, str):
                return value
            if _DATE.match(value):
                return "<date>"
            value = _DATETIME.sub("<datetime>", value.replace(str(data_dir), "<data>"))
            return _STAMP.sub("<stamp>", value)

        return {t: [tuple(plain(v) for v in row) for row in conn.execute(f"SELECT * FROM {t} ORDER BY rowid")]
                for t in tables}
    finally:
        conn.close()


def _outcome(reports) -> list[tuple]:
    return [(r.card, r.ingest_id, r.summary, [(f.relpath, f.status, f.mhl_action, sorted(x.rule for x in f.all_findings))
                                              for f in r.files]) for r in reports]


def test_sqlite_writes_equal_sqlalchemy_writes_row_for_row(workspace: Path, make_media) -> None:
    a, b = _cards(workspace, make_media)
    full, plain = _settings(workspace, "full"), _settings(workspace, "plain")
    # Each side's own MHL history of each card (A001: the set's, then ours; B001: ours), swapped in for its runs.
    mhl = {(side, card): workspace / f"mhl_{side}_{card.name}" for side in ("full", "plain") for card in (a, b)}
    for (_, card), folder in mhl.items():
        if (card / "ascmhl").exists():
            shutil.copytree(card / "ascmhl", folder)
    clip1, clip2, sidecar = a / "Clips" / "A001C001_R1AB.mov", a / "Clips" / "A001C002_R1AB.mov", a / "A001.xml"
    good = clip2.read_bytes()
    _flip(clip2)

    def both(sources: list[Path]) -> list:
        outcomes = []
        for side, settings in (("full", full), ("plain", plain)):
            for card in (a, b):
                shutil.rmtree(card / "ascmhl", ignore_errors=True)
                if mhl[side, card].exists():
                    shutil.copytree(mhl[side, card], card / "ascmhl")
            store = Store(settings.db_url) if side == "full" else None
            reports = run_ingest([str(s) for s in sources], "test", settings, store=store)
            for card in (a, b):
                shutil.rmtree(mhl[side, card], ignore_errors=True)
                if (card / "ascmhl").exists():
                    shutil.copytree(card / "ascmhl", mhl[side, card])
            outcomes.append(_outcome(reports))
        assert outcomes[0] == outcomes[1]
        assert _dump(workspace / "full" / "postprod.db", workspace / "full") == \
            _dump(workspace / "plain" / "postprod.db", workspace / "plain")
        # The plain side's store was opened with sqlite3 (made by it at the first run).
        assert isinstance(open_for_writing(plain.db_url), SqliteWriter)
        return outcomes[0]

    first = both([a])  # a new store: made by each side; clip 2 fails its verification
    assert {f[0]: (f[1], f[3]) for f in first[0][3]}["Clips/A001C002_R1AB.mov"] == ("new", ["hash_mismatch"])
    again = both([a])  # nothing done twice; the error shown again
    assert {f[1] for f in again[0][3]} == {"unchanged"} and again[0][2]["errors"] == 1
    clip1.write_bytes(clip1.read_bytes()[::-1])  # changed after its ingest: an error, the original kept
    sidecar.touch()  # the same bytes, a new mtime: its row refreshed
    third = both([a, b])  # the second card: the reception stage done (expected_cards = 2)
    assert {f[0]: f[1] for f in third[0][3]} == {"A001.xml": "updated", "Clips/A001C001_R1AB.mov": "changed",
                                                 "Clips/A001C002_R1AB.mov": "unchanged"}
    clip2.write_bytes(good)  # copied again, whole: judged afresh, and found good
    fourth = both([a, b])
    assert {f[0]: f[1] for f in fourth[0][3]}["Clips/A001C002_R1AB.mov"] == "updated"
    both([a, b])
    rows = _dump(workspace / "plain" / "postprod.db", workspace / "plain")
    assert [r[3] for r in rows["stage_events"]] == ["in_progress", "in_progress", "done", "done", "done"]
    statuses = {r[2].rsplit("/", 1)[-1]: r[19] for r in rows["media"]}
    assert statuses == {"A001.xml": "ok", "A001C001_R1AB.mov": "changed", "A001C002_R1AB.mov": "ok",
                        "B001C001.mov": "ok"}


def test_an_ingest_on_a_sqlite_store_never_imports_sqlalchemy_nor_jinja(workspace: Path, make_media, settings) -> None:
    card = workspace / "A001"
    card.mkdir()
    shutil.copy2(make_media("A001C001.mov", small_clip(seconds=0.4, timecode="10:00:00:00", reel="A001")),
                 card / "A001C001.mov")
    code = ("import sys, runpy; sys.argv = ['postprod', 'ingest', '--direct', '--json', '-p', 'test', sys.argv[1]]\n"
            "try:\n    runpy.run_module('cli.main', run_name='__main__')\nexcept SystemExit as e:\n"
            "    assert e.code in (0, None), e.code\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'prefect', 'jinja2')))")
    for run in ("a new store", "a store at HEAD"):
        done = subprocess.run([sys.executable, "-c", code, str(card)], capture_output=True, text=True, cwd=workspace,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0, (run, done.stderr[-3000:])
        assert done.stdout.strip().splitlines()[-1] == "[]", run
        report = json.loads("\n".join(done.stdout.strip().splitlines()[:-1]))[0]
        assert report["summary"]["new" if run == "a new store" else "unchanged"] == 1
