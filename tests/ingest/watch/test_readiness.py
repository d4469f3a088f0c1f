"""The card-readiness rules, as pure functions over observed file states: no threads, no sleeps, no disk."""

from __future__ import annotations

from ingest.watch.mounts import Folder
from ingest.watch.readiness import FileState, Rules, Unit, blocked, classify, globs, manifest_missing

RULES = Rules(settle=5.0, open_file_timeout=3600.0, incomplete_card_seconds=3600.0,
              ignore=globs([".DS_Store", "._*"]), partial=globs(["*.part"]), done_markers=("DONE",),
              data_path="/in/.postprod")
FOLDER = Folder("test", "/in")


def card(files: dict[str, FileState], *, last_activity: float = 0.0) -> Unit:
    return Unit(folder=FOLDER, name="A001", is_card=True, first_seen=0.0, last_activity=last_activity, files=files)


def settled(at: float = 0.0, **kw: object) -> FileState:
    return FileState(size=100, mtime_ns=1, ctime_ns=1, changed_at=at, **kw)  # type: ignore[arg-type]


def test_classify_names_the_unit_and_what_the_path_is():
    assert classify(RULES, "/in", "/in/A001/Clips/C001.mov", False) == ("A001", "file")
    assert classify(RULES, "/in", "/in/A001/C002.mov.part", False) == ("A001", "partial")
    assert classify(RULES, "/in", "/in/A001/ascmhl/0001.mhl", False) == ("A001", "mhl")
    assert classify(RULES, "/in", "/in/A001/.DS_Store", False) is None
    assert classify(RULES, "/in", "/in/.postprod/db.sqlite", False) is None
    assert classify(RULES, "/in", "/in/loose.mov", False) == ("loose.mov", "file")


def test_a_card_is_complete_when_every_file_settled_and_nothing_came_for_the_settle_time():
    unit = card({"/in/A001/a.mov": settled(0.0), "/in/A001/b.mov": settled(3.0)}, last_activity=3.0)
    assert "1 file(s) changed less than 5 s ago" in blocked(RULES, unit, 6.0).reason
    assert blocked(RULES, unit, 8.5).reason is None


def test_a_file_its_writer_has_not_closed_holds_the_card_until_the_open_file_timeout():
    unit = card({"/in/A001/a.mov": settled(0.0, writing=True, written_at=0.0)})
    assert blocked(RULES, unit, 60.0).reason == "1 file(s) still open by their writer"
    late = blocked(RULES, unit, 4000.0)
    assert late.reason is None and late.stale_writers == ("/in/A001/a.mov",)


def test_a_part_file_holds_its_card_and_a_card_of_part_files_only_is_not_complete():
    unit = card({"/in/A001/a.mov": settled(), "/in/A001/b.mov.part": settled(partial=True)})
    assert "1 copy-in-progress file(s)" in blocked(RULES, unit, 100.0).reason
    only = card({"/in/A001/b.mov.part": settled(partial=True)})
    assert "only copy-in-progress files so far" in blocked(RULES, only, 5000.0).reason


def test_a_done_marker_ends_the_wait_for_more_files():
    unit = card({"/in/A001/a.mov": settled(0.0), "/in/A001/DONE": settled(0.0)}, last_activity=9.0)
    assert blocked(RULES, unit, 10.0).reason is None
    without = card({"/in/A001/a.mov": settled(0.0)}, last_activity=9.0)
    assert blocked(RULES, without, 10.0).reason == "card changed less than 5 s ago"


def test_manifest_missing_lists_what_the_card_mhl_lists_and_is_not_here_at_its_size():
    listed = {"Clips/a.mov": 100, "Clips/b.mov": 200, "._junk": 4}
    assert manifest_missing(RULES, listed, {"Clips/a.mov": 100, "Clips/b.mov": 150, "._junk": None}) == ["Clips/b.mov"]
    assert manifest_missing(RULES, listed, {"Clips/a.mov": 100, "Clips/b.mov": 200}) == []
