"""What the faster ingest keeps: the largest files are hashed first, yet the catalogue and the report follow
the card's walk (the report's page: tests/ingest/test_report_html.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import small_clip

from ingest.card import ingest_card
from ingest.catalogue import Catalogue
from ingest.hashing import hash_file


def test_largest_first_keeps_the_walk_order_in_the_catalogue_and_the_report(workspace: Path, make_media,
                                                                            settings) -> None:
    root = workspace / "cards" / "B001"
    root.mkdir(parents=True)
    (root / "a_notes.xml").write_text("<clips/>")
    shutil.copy(make_media("B001C001.mov", small_clip(reel="B001")), root / "b_B001C001.mov")
    (root / "c_big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 5))  # the largest, last in the walk
    report = ingest_card(str(root), "test", settings)
    names = ["a_notes.xml", "b_B001C001.mov", "c_big.bin"]
    assert [f.relpath for f in report.files] == names
    assert all(f.status == "new" for f in report.files)
    rows = list(Catalogue(settings.db_url).rows("test"))
    assert [Path(r.path).name for r in rows] == names  # ids in walk order
    for f in report.files:
        assert f.hashes["xxh128"] == hash_file(root / f.relpath, ["xxh128"])["xxh128"]


def test_mhl_of_names_with_xml_characters_is_read_back_by_the_asc_tool(workspace: Path, make_media, settings,
                                                                       tmp_path: Path) -> None:
    import subprocess

    root = workspace / "cards" / 'D&<"001">'
    root.mkdir(parents=True)
    shutil.copy(make_media("D001C001.mov", small_clip(reel="D001")), root / 'D001 "take" & <one>.mov')
    report = ingest_card(str(root), "test", settings)
    assert report.mhl_path and [f.status for f in report.files] == ["new"]
    text = Path(report.mhl_path).read_text(encoding="utf-8")
    # The ASC's own tool reads our generation, checks the chain and verifies the file against it.
    check = subprocess.run(["ascmhl", "create", "-h", "xxh128", str(root)], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0 and "ERROR" not in check.stdout.upper(), check.stdout + check.stderr
    theirs = sorted((root / "ascmhl").glob("*.mhl"))[-1]  # its own generation, after ours
    assert theirs.name.startswith("0002_") and 'action="verified"' in theirs.read_text(encoding="utf-8")
    assert "D001 &quot;take&quot; &amp; &lt;one&gt;.mov" in text
    import socket
    from xml.sax.saxutils import escape

    assert f"<hostname>{escape(socket.gethostname())}</hostname>" in text  # (read without importing socket)
