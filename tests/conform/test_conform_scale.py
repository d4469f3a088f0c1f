"""Conform at scale: the catalogue rows an edit list names are selected in SQL (media_keys), not loaded whole,
and every event comes out exactly as matching against the whole catalogue in memory (the reference,
conform/check.py's load_index) says: on SQLite and PostgreSQL, with the names that make matching hard."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import db_fixtures
import pytest

from conform.candidates import Deferred, whole
from conform.check import load_index, select_index
from conform.index import CatalogueIndex, SelectedIndex
from conform.match import conform
from conform.report import report_data
from conform.timeline import read_timeline
from ingest.catalogue import Catalogue
from media.model import MediaFile, MediaKind
from media.timecode import Timecode
from store import Store
from store.keys import fill_media_keys
from store.tables import media

db_url = db_fixtures.db_url  # fixtures: SQLite and PostgreSQL
pg_server = db_fixtures.pg_server

PRODUCTION = "scale"
RATE = Fraction(25)
BULK_REELS, PER_REEL, CLIP = 40, 50, 750  # 2,000 clips of 30 s, a few named by the list
LONG = "L" * 230 + "_take"  # longer than a stored key (200 characters)


def _start(clip_no: int) -> int:
    return 10 * 3600 * 25 + clip_no * (CLIP + 250)


def _bulk(catalogue: Catalogue) -> None:
    """2,000 originals written straight into the table (as a bulk import would), then their keys filled."""
    now = datetime.now(UTC)
    rows = []
    for i in range(BULK_REELS * PER_REEL):
        reel_no, clip_no = divmod(i, PER_REEL)
        reel = f"A{reel_no + 1:03d}"
        name = f"{reel}C{clip_no + 1:03d}_261123_BNCH"
        rows.append({"production": PRODUCTION, "path": f"/rushes/DAY01_{reel}/Clips/{name}.mov",
                     "card": f"/rushes/DAY01_{reel}", "relpath": f"Clips/{name}.mov", "role": "original",
                     "kind": "media", "size": 1, "mtime_ns": 0, "clip_name": name, "reel": reel,
                     "start_frames": _start(clip_no), "duration_frames": CLIP, "rate": "25/1", "drop_frame": False,
                     "status": "ok", "media_json": "{}", "first_seen": now, "updated_at": now, "hash": f"{i:032x}"})
    # A proxy with a start frame but no rate (written by other means): untimed to matching, never left out.
    rows.append({**rows[0], "path": "/proxies/PRX2/P002.mp4", "card": "/proxies/PRX2", "relpath": "P002.mp4",
                 "role": "proxy", "clip_name": None, "reel": "PRX2", "rate": None, "hash": None})
    with catalogue.store.write() as conn:
        conn.execute(media.insert(), rows)
        fill_media_keys(conn)


def _record(catalogue: Catalogue, path: str, *, reel: str | None, start: str | None, frames: int | None = 750,
            rate: Fraction | None = RATE, drop: bool = False, clip_name: str | None = None, hash_value: str | None = None,
            role: str = "original", kind: MediaKind = MediaKind.MEDIA) -> int:
    item = MediaFile(path=path, size=10, mtime_ns=1, kind=kind, clip_name=clip_name, reel=reel, timecode_rate=rate,
                     start_timecode=start, drop_frame=drop, duration_frames=frames)
    card = path.rsplit("/", 1)[0]
    return catalogue.record(PRODUCTION, item, card=card, relpath=path.rsplit("/", 1)[1], hash_algorithm="xxh128",
                            hash_value=hash_value, ingest_id=None, role=role)


def _special(catalogue: Catalogue) -> None:
    """The rows that make matching hard, through the catalogue's own record()."""
    _record(catalogue, "/cards/Café/clip_é.mov", reel="café", start="11:00:00:00")  # Python upper-cases É
    _record(catalogue, "/cards/DUP/first.mov", reel="DUP1", start="12:00:00:00", hash_value="same")
    _record(catalogue, "/cards/DUP/second.mov", reel="DUP1", start="12:10:00:00", hash_value="same")
    _record(catalogue, "/cards/UNT/untimed.wav", reel="UNT1", start=None, frames=None, rate=None)
    _record(catalogue, "/cards/R24/film.mov", reel="R24", start="13:00:00:00", rate=Fraction(24))
    _record(catalogue, "/cards/NTSC/ntsc.mov", reel="NTSC1", start="14:00:00;00", rate=Fraction(30000, 1001),
            drop=True)
    _record(catalogue, "/proxies/PRX1/P001.mp4", reel="PRX1", start="15:00:00:00", role="proxy")
    _record(catalogue, f"/cards/LONG/{LONG}.mov", reel="LNG1", start="16:00:00:00", clip_name=LONG)
    _record(catalogue, "/cards/GONE/gone.mov", reel="GONE", start="17:00:00:00")
    catalogue.mark(PRODUCTION, "/cards/GONE/gone.mov", "missing")
    _record(catalogue, "/cards/SIDE/notes.mov", reel="SIDE", start="18:00:00:00", kind=MediaKind.SIDECAR)
    _record(catalogue, "/cards/MOVED/moved.mov", reel="OLD1", start="19:00:00:00")
    _record(catalogue, "/cards/MOVED/moved.mov", reel="NEW1", start="19:00:00:00")  # re-ingested: new reel
    _record(catalogue, "/cards/TC/tc_only.mov", reel=None, start="20:00:00:00")
    _record(catalogue, "/cards/MIX/mix_untimed.wav", reel="MIX1", start=None, frames=None, rate=None)
    _record(catalogue, "/cards/MIX/mix_timed.mov", reel="MIX1", start="22:00:00:00")
    _record(catalogue, "/cards/B003/B003C007_230514_R2EC.mov", reel=None, start="21:00:00:00")


EVENTS = [  # reel, source in, length, clip name comment
    ("A001", "10:00:10:00", 50, None), ("A002", "10:00:50:00", 50, "A002C002_261123_BNCH"),
    ("A003", "09:00:00:00", 50, None),  # before every clip of the reel
    ("A040", "10:00:00:05", 900, None),  # runs past its clip's end
    ("CAFÉ", "11:00:01:00", 25, None), ("DUP1", "12:10:01:00", 25, None), ("DUP1", "12:00:01:00", 25, None),
    ("UNT1", "01:00:00:00", 25, None), ("R24", "13:00:01:00", 25, None), ("NTSC1", "14:00:02:00", 25, None),
    ("PRX1", "15:00:01:00", 25, None), ("LNG1", "16:00:01:00", 25, LONG), ("AX", "16:00:02:00", 25, LONG),
    ("GONE", "17:00:01:00", 25, None), ("SIDE", "18:00:01:00", 25, None), ("OLD1", "19:00:01:00", 25, None),
    ("NEW1", "19:00:01:00", 25, None), ("AX", "20:00:01:00", 25, None), ("BL", "00:00:00:00", 25, None),
    ("AX", "10:01:00:00", 25, None), ("AX", "23:00:00:00", 25, None), ("Z999", "10:00:00:00", 25, None),
    ("B003", "21:00:01:00", 25, None), ("AX", "21:00:02:00", 25, "B003C007"),
    ("DAY01_A005", "10:00:20:00", 25, None), ("A007", "10:30:00:00", 25, "A007C001_261123_BNCH"),
    ("MIX1", "22:30:00:00", 25, None), ("MIX1", "22:00:01:00", 25, None), ("PRX2", "05:00:00:00", 25, None), ("A006C004_261123_BNCH.MOV", "10:00:01:00", 25, None),
]


def _edl(path: Path) -> Path:
    lines = ["TITLE: SCALE", "FCM: NON-DROP FRAME", ""]
    record = 3600 * 25
    for n, (reel, src, length, name) in enumerate(EVENTS, start=1):
        first = Timecode.parse(src, RATE).frames
        tc = [Timecode(f, RATE) for f in (first, first + length, record, record + length)]
        lines.append(f"{n:03d}  {reel:<8} V     C        {tc[0]} {tc[1]} {tc[2]} {tc[3]}")
        if name:
            lines.append(f"* FROM CLIP NAME: {name}")
        record += length
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _check(catalogue: Catalogue, edl: Path, index) -> dict:
    timeline = read_timeline(edl, rate=None, default_rate=RATE, catalogue=index.rates_of)
    if isinstance(index, SelectedIndex):
        index.prepare(timeline.events)
    data = report_data(conform(timeline, index, 12), production=PRODUCTION)
    data.pop("checked_at")
    return data


@pytest.fixture()
def catalogue(db_url: str) -> Catalogue:
    cat = Catalogue(Store(db_url))
    _bulk(cat)
    _special(cat)
    return cat


def test_rows_selected_in_sql_match_as_the_whole_catalogue_does(catalogue: Catalogue, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    edl = _edl(tmp_path / "scale.edl")
    reference = _check(catalogue, edl, load_index(catalogue, PRODUCTION))
    monkeypatch.setattr(Catalogue, "index_rows", lambda *a: pytest.fail("the whole catalogue was loaded"))
    index = select_index(catalogue, PRODUCTION)
    assert isinstance(index, SelectedIndex)
    try:
        selected = _check(catalogue, edl, index)
    finally:
        index.close()
    assert selected == reference
    events = selected["events"]
    assert len(events) == len(EVENTS) and selected["summary"]["matched"] >= 12  # the list is not all misses
    by_reel = {}
    for e in events:
        by_reel.setdefault(e["reel"], e)
    assert Path(by_reel["CAFÉ"]["media"]).name == "clip_é.mov"
    assert by_reel["NEW1"]["media"] and not by_reel["OLD1"]["media"]  # keys follow a re-ingest
    assert not by_reel["GONE"]["media"] and not by_reel["SIDE"]["media"]
    assert by_reel["LNG1"]["media"].endswith(f"{LONG}.mov")
    assert [f["rule"] for f in by_reel["PRX1"]["findings"]] == ["proxy_only"]
    assert [f["rule"] for f in by_reel["PRX2"]["findings"]] == ["proxy_only"]


def test_rows_without_keys_are_never_missed(catalogue: Catalogue, tmp_path: Path) -> None:
    """A row written by other means than record() (no keys): the whole catalogue is read, as before."""
    with catalogue.store.write() as conn:
        now = datetime.now(UTC)
        conn.execute(media.insert(), [{"production": PRODUCTION, "path": "/cards/RAW/raw.mov", "card": "/cards/RAW",
                                       "relpath": "raw.mov", "role": "original", "kind": "media", "size": 1,
                                       "mtime_ns": 0, "reel": "RAW1", "start_frames": 0, "duration_frames": 10**7,
                                       "rate": "25/1", "drop_frame": False, "status": "ok", "media_json": "{}",
                                       "first_seen": now, "updated_at": now}])
    edl = tmp_path / "raw.edl"
    edl.write_text("TITLE: RAW\nFCM: NON-DROP FRAME\n\n001  RAW1     V     C        01:00:00:00 01:00:01:00 "
                   "01:00:00:00 01:00:01:00\n")
    index = select_index(catalogue, PRODUCTION)
    assert isinstance(index, CatalogueIndex)
    data = _check(catalogue, edl, index)
    assert data["events"][0]["media"] == "/cards/RAW/raw.mov"


def test_json_on_stdout_is_the_report_file_byte_for_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One JSON document, made once: `--json` prints the report file's own text (it names both files)."""
    from typer.testing import CliRunner

    import cli.commands.conform  # noqa: F401  (registers the command)
    from cli.app import app
    from config.settings import load_settings

    (tmp_path / "postprod.toml").write_text(f'data_dir = "data"\n\n[productions.{PRODUCTION}]\nspec = "default"\n')
    monkeypatch.setenv("POSTPROD_CONFIG", str(tmp_path / "postprod.toml"))
    catalogue = Catalogue(Store(load_settings(tmp_path / "postprod.toml").db_url))
    _special(catalogue)
    edl = _edl(tmp_path / "scale.edl")
    result = CliRunner().invoke(app, ["conform", str(edl), "-p", PRODUCTION, "--json", "--report",
                                      str(tmp_path / "reports")])
    assert result.exit_code == 1, result.output
    (written,) = (tmp_path / "reports").glob("*.json")
    assert result.stdout == written.read_text(encoding="utf-8")
    assert sum(line.startswith('    {"event": ') for line in result.stdout.splitlines()) == len(EVENTS)  # one a line
    data = json.loads(result.stdout)
    assert data["report_json"] == str(written) and Path(data["report_html"]).is_file()


def test_a_reel_named_after_a_covering_clip_is_selected_when_read(catalogue: Catalogue, tmp_path: Path) -> None:
    """prepare selects an event's reel rows only when none of its file and clip names covers it; a reel list
    left out is a Deferred list that selects its rows at its first read: every list of every event then holds
    what selecting all its names at once (an index not prepared) gives."""
    timeline = read_timeline(_edl(tmp_path / "scale.edl"), rate=None, default_rate=RATE)
    prepared, reference = select_index(catalogue, PRODUCTION), select_index(catalogue, PRODUCTION)
    assert isinstance(prepared, SelectedIndex) and isinstance(reference, SelectedIndex)
    try:
        prepared.prepare(timeline.events)
        left_out = 0
        for event in timeline.events:
            for ask in ("names", "proxy_names"):
                ours = getattr(prepared, ask)(event)
                left_out += sum(isinstance(c, Deferred) and not c.loaded for _, c in ours)
                theirs = getattr(reference, ask)(event)
                assert [(how, list(c), whole(c)) for how, c in ours] == \
                    [(how, list(c), whole(c)) for how, c in theirs], (ask, event.reel, event.clip_name)
        assert left_out >= 1  # A002: its clip name covers it, its reel was not selected (A007C001 ends before)
    finally:
        prepared.close()
        reference.close()


def test_a_deferred_list_is_loaded_by_any_list_method() -> None:
    loads: list[int] = []

    def make() -> Deferred:
        return Deferred(lambda: loads.append(1) or [3, 1, 2], lambda: [3, 1, 2, 4])

    assert len(make()) == 3 and bool(make()) and list(make()) == [3, 1, 2] and [*make()] == [3, 1, 2]
    assert make()[0] == 3 and make()[1:] == [1, 2] and 2 in make() and sorted(make()) == [1, 2, 3]
    assert make() == [3, 1, 2] and make() + [5] == [3, 1, 2, 5] and make().index(2) == 2 and make().count(1) == 1
    assert list(reversed(make())) == [2, 1, 3] and repr(make()) == "[3, 1, 2]" and make().copy() == [3, 1, 2]
    grown = make()
    grown.append(9)
    assert grown == [3, 1, 2, 9] and whole(grown) == [3, 1, 2, 4]
    once = make()
    assert len(once) == 3 and len(once) == 3 and list(once) == [3, 1, 2]
    assert once.loaded and not make().loaded
    assert len(loads) == 17  # one load per list, at its first read
