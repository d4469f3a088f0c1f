"""Verified ingest of cards: MHL from set, the reference ASC MHL tool, re-runs, bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import small_clip

from flows.ingest import run_ingest
from ingest.card import ingest_card
from ingest.catalogue import Catalogue
from ingest.hashing import hash_file
from media.synth import TakeSpec, truncated_copy
from planning.stages import Stage, StageState
from planning.store import PlanningStore


@pytest.fixture()
def card(workspace: Path, make_media) -> Path:
    """A camera card as the DIT hands it over: clips, a sidecar, Finder litter."""
    root = workspace / "cards" / "A001"
    (root / "Clips").mkdir(parents=True)
    for i in (1, 2):
        shutil.copy(make_media(f"A001C00{i}.mov", small_clip(timecode=f"10:0{i}:00:00", reel="A001")),
                    root / "Clips" / f"A001C00{i}_261123_R1AB.mov")
    (root / "A001_clipinfo.xml").write_text("<clips/>")
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "Clips" / "._A001C001_261123_R1AB.mov").write_bytes(b"\0\5\26\7")
    return root


def tree_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hash_file(p, ["xxh128"])["xxh128"]
            for p in sorted(root.rglob("*")) if p.is_file() and "ascmhl" not in p.parts}


def ascmhl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ascmhl", *args], capture_output=True, text=True, check=False)


def statuses(report) -> dict[str, str]:
    return {f.relpath: f.status for f in report.files}


def rules(report) -> dict[str, list[str]]:
    return {f.relpath: [x.rule for x in f.all_findings] for f in report.files if f.all_findings}


def test_ingest_card_writes_mhl_that_the_asc_tool_verifies(card: Path, settings) -> None:
    before = tree_hashes(card)
    report = ingest_card(str(card), "test", settings)
    assert statuses(report) == {"A001_clipinfo.xml": "new", "Clips/A001C001_261123_R1AB.mov": "new",
                                "Clips/A001C002_261123_R1AB.mov": "new"}
    assert report.summary["errors"] == 0
    assert report.mhl_location == "card" and Path(report.mhl_path).parent == card / "ascmhl"
    # The ASC's own tool reads our history, checks the chain and re-verifies every file against it.
    check = ascmhl("create", "-h", "xxh128", "-i", "._*", str(card))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ERROR" not in check.stdout.upper()
    assert tree_hashes(card) == before, "the sources must not change"
    assert Path(report.report_json).is_file() and Path(report.report_html).is_file()


def test_mhl_from_set_with_a_corrupted_file_is_caught(card: Path, settings) -> None:
    made = ascmhl("create", "-h", "xxh64", "-i", "._*", str(card))  # the offload on set
    assert made.returncode == 0, made.stdout + made.stderr
    victim = card / "Clips" / "A001C002_261123_R1AB.mov"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit during the copy from set
    victim.write_bytes(bytes(data))
    (card / "A001_clipinfo.xml").unlink()  # and a file lost on the way
    report = ingest_card(str(card), "test", settings)
    found = rules(report)
    assert found["Clips/A001C002_261123_R1AB.mov"] == ["hash_mismatch"]
    assert found["A001_clipinfo.xml"] == ["missing_file"]
    ok = next(f for f in report.files if f.relpath == "Clips/A001C001_261123_R1AB.mov")
    assert ok.mhl_action == "verified" and "xxh64" in ok.hashes and "xxh128" in ok.hashes
    assert report.summary["errors"] == 2 and report.summary["verified"] == 1


def test_second_ingest_does_nothing(card: Path, settings) -> None:
    first = ingest_card(str(card), "test", settings)
    mhls = sorted((card / "ascmhl").iterdir())
    second = ingest_card(str(card), "test", settings)
    assert set(statuses(second).values()) == {"unchanged"}
    assert second.mhl_path is None and sorted((card / "ascmhl").iterdir()) == mhls
    assert len(list(Catalogue(settings.db_url).rows("test"))) == len(first.files)


def test_file_changed_after_ingest_is_an_error_and_the_original_is_kept(card: Path, settings) -> None:
    ingest_card(str(card), "test", settings)
    clip = card / "Clips" / "A001C001_261123_R1AB.mov"
    original = Catalogue(settings.db_url).lookup("test", str(clip))
    clip.write_bytes(clip.read_bytes()[:-10] + b"0123456789")
    report = ingest_card(str(card), "test", settings)
    assert rules(report)["Clips/A001C001_261123_R1AB.mov"] == ["changed_after_ingest"]
    kept = Catalogue(settings.db_url).lookup("test", str(clip))
    assert kept["hash"] == original["hash"] and kept["status"] == "changed"
    again = ingest_card(str(card), "test", settings)  # stays an error, never silently replaced
    assert rules(again)["Clips/A001C001_261123_R1AB.mov"] == ["changed_after_ingest"]


def test_touched_file_with_same_content_is_refreshed_not_flagged(card: Path, settings) -> None:
    ingest_card(str(card), "test", settings)
    clip = card / "Clips" / "A001C002_261123_R1AB.mov"
    os.utime(clip, (1_700_000_000, 1_700_000_000))
    report = ingest_card(str(card), "test", settings)
    assert statuses(report)["Clips/A001C002_261123_R1AB.mov"] == "updated"
    assert report.summary["errors"] == 0


def test_read_only_card_gets_its_mhl_in_the_data_directory(card: Path, settings, tmp_path: Path) -> None:
    mount = tmp_path / "shuttle"
    mount.mkdir()
    if subprocess.run(["mount", "--bind", str(card), str(mount)], capture_output=True).returncode != 0:
        pytest.skip("a read-only mount needs mount privileges (root) on this machine")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], check=True)
        report = ingest_card(str(mount), "test", settings)
        assert report.mhl_location == "data_dir"
        assert Path(report.mhl_path).is_relative_to(settings.data_path / "mhl")
        assert not (card / "ascmhl").exists()
        assert report.summary["errors"] == 0 and report.summary["new"] == 3
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_bad_input_is_reported_and_the_batch_goes_on(workspace: Path, make_media, settings) -> None:
    root = workspace / "mess"
    root.mkdir()
    good = make_media("good.mov", small_clip(reel="A002"))
    shutil.copy(good, root / "A002C001 (copy) 'été'.mov")
    (root / "zero.mov").write_bytes(b"")
    (root / "readme.mov").write_text("not a movie")
    truncated_copy(good, root / "A002C002_cut.mov", 0.4)
    (root / "loop").symlink_to(root / "loop")  # a symlink loop
    (root / "subdir_link").symlink_to(root, target_is_directory=True)
    (root / "name\nwith newline.wav").write_bytes(make_media("t.wav", TakeSpec(seconds=1, channels=2)).read_bytes())
    report = ingest_card(str(root), "test", settings)
    found = rules(report)
    assert found["zero.mov"] == ["unreadable"] and found["readme.mov"] == ["unreadable"]
    assert found["A002C002_cut.mov"] == ["unreadable"]
    assert found["loop"] == ["unreadable"]
    assert found["subdir_link"] == ["symlink"]
    assert statuses(report)["A002C001 (copy) 'été'.mov"] == "new"
    assert "name\nwith newline.wav" in statuses(report)
    messages = {f.relpath: f.all_findings[0].message for f in report.files if f.all_findings}
    assert "zero-byte" in messages["zero.mov"]
    assert "cut short" in messages["A002C002_cut.mov"]
    assert "not a media file" in messages["readme.mov"]


def test_loose_file_mhl_goes_to_data_dir(workspace: Path, make_media, settings) -> None:
    loose = workspace / "drop" / "A003C001.mov"
    loose.parent.mkdir()
    shutil.copy(make_media("loose.mov", small_clip()), loose)
    report = ingest_card(str(loose), "test", settings)
    assert report.mhl_location == "data_dir" and not (loose.parent / "ascmhl").exists()
    assert statuses(report) == {"A003C001.mov": "new"}


def test_reception_stage_moves(card: Path, settings, workspace: Path) -> None:
    reports = run_ingest([str(card)], "test", settings)
    store = PlanningStore(settings.db_url)
    assert store.state("test", Stage.RUSHES_RECEPTION) is StageState.IN_PROGRESS
    evidence = store.events("test", Stage.RUSHES_RECEPTION)[-1]["evidence"]
    assert reports[0].report_json in evidence


def test_html_report_escapes_names(workspace: Path, make_media, settings) -> None:
    root = workspace / "<b>card&amp"
    root.mkdir()
    shutil.copy(make_media("esc.mov", small_clip()), root / "<script>alert(1)<\\script>.mov")
    report = ingest_card(str(root), "test", settings)
    html = Path(report.report_html).read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)" in html
    assert "<b>card" not in html and "&lt;b&gt;card&amp;amp" in html


def test_name_that_is_not_utf8_is_reported_and_the_rest_ingested(workspace: Path, make_media, settings) -> None:
    root = workspace / "old_volume"
    root.mkdir()
    shutil.copy(make_media("u.mov", small_clip()), root / "good.mov")
    raw = os.path.join(os.fsencode(root), b"sc\xe8ne 1.mov")  # Latin-1 bytes from an old volume
    with open(raw, "wb") as fh:
        fh.write((root / "good.mov").read_bytes())
    report = ingest_card(str(root), "test", settings)
    assert statuses(report) == {"good.mov": "new", "sc\\xe8ne 1.mov": "skipped"}
    assert rules(report)["sc\\xe8ne 1.mov"] == ["file_name"]
    assert report.summary["errors"] == 1
    assert "sc\\xe8ne" in Path(report.report_html).read_text()
