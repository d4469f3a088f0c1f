"""Issue 14: the ingest never records anything false, and what it found stays found until the bytes change."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import small_clip
from typer.testing import CliRunner

from cli.app import app
from cli.commands import ingest as _ingest_command  # noqa: F401  (registers the command)
from cli.commands import probe as _probe_command  # noqa: F401
from flows.ingest import ingest_card
from ingest.catalogue import Catalogue
from ingest.hashing import hash_file
from media.probe import probe_file
from media.synth import TakeSpec

CLIP = "Clips/A001C002_261123_R1AB.mov"


@pytest.fixture()
def card(workspace: Path, make_media) -> Path:
    root = workspace / "cards" / "A001"
    (root / "Clips").mkdir(parents=True)
    for i in (1, 2):
        shutil.copy(make_media(f"A001C00{i}.mov", small_clip(timecode=f"10:0{i}:00:00", reel="A001")),
                    root / "Clips" / f"A001C00{i}_261123_R1AB.mov")
    return root


def rules(report) -> dict[str, list[str]]:
    return {f.relpath: [x.rule for x in f.all_findings] for f in report.files if f.all_findings}


def actions_in_mhls(card: Path, relpath: str) -> list[tuple[str, str, str]]:
    """(generation file, hash format, action) of every hash any generation records for the file."""
    out = []
    for gen in sorted((card / "ascmhl").glob("*.mhl")):
        text = gen.read_text()
        for block in text.split("<hash>")[1:]:
            if f">{relpath}</path>" in block:
                for line in block.splitlines():
                    if 'action="' in line:
                        fmt = line.strip()[1:].split(" ", 1)[0]
                        out.append((gen.name, fmt, line.split('action="', 1)[1].split('"', 1)[0]))
    return out


def test_a_failed_verification_stays_an_error_and_never_becomes_an_original_hash(card: Path, settings):
    made = subprocess.run(["ascmhl", "create", "-h", "xxh64", str(card)], capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    victim = card / CLIP
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    st = victim.stat()
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    first = ingest_card(str(card), "test", settings)
    assert rules(first)[CLIP] == ["hash_mismatch"]
    row = Catalogue(settings.db_url).lookup("test", str(victim))
    assert row["status"] == "hash_mismatch"
    # Again, twice: the error is shown each time, with what was expected and what was measured.
    for _ in range(2):
        again = ingest_card(str(card), "test", settings)
        kept = next(f for f in again.files if f.relpath == CLIP)
        assert kept.status == "unchanged"
        mismatch = [x for x in kept.all_findings if x.rule == "hash_mismatch"]
        assert len(mismatch) == 1 and mismatch[0].expected and mismatch[0].measured
        assert mismatch[0].expected != mismatch[0].measured
        assert again.summary["errors"] >= 1
    # No generation declares what the corrupt copy measures as an original hash.
    recorded = actions_in_mhls(card, CLIP)
    assert recorded and all(action != "original" for _, fmt, action in recorded if fmt != "xxh64"), recorded
    assert ("xxh128", "original") not in {(fmt, a) for _, fmt, a in recorded}
    # The command line says so too (exit 1), and so does probe.
    result = CliRunner().invoke(app, ["ingest", "--direct", "--json", "-p", "test", str(card)])
    assert result.exit_code == 1, result.output
    probed = CliRunner().invoke(app, ["probe", "--json", "-p", "test", str(victim)])
    assert "hash_mismatch" in [f["rule"] for f in json.loads(probed.output)[0]["findings"]]
    assert probed.exit_code == 1
    # The bytes change (copied again from the card, whole): it is judged afresh, and found good.
    shutil.copy2(_original(victim, data), victim)
    fixed = ingest_card(str(card), "test", settings)
    assert next(f for f in fixed.files if f.relpath == CLIP).mhl_action == "verified"
    assert Catalogue(settings.db_url).lookup("test", str(victim))["status"] == "ok"


def _original(victim: Path, corrupt: bytearray) -> Path:
    fixed = bytearray(corrupt)
    fixed[len(fixed) // 2] ^= 0xFF
    out = victim.parent.parent.parent / "recopy.mov"
    out.write_bytes(bytes(fixed))
    return out


def test_a_rerun_shows_what_is_known_of_files_with_errors(workspace: Path, make_media, settings):
    folder = workspace / "mess"
    folder.mkdir()
    shutil.copy(make_media("rerun.mov", small_clip(reel="B001")), folder / "B001C001.mov")
    (folder / "B001C002.mov").write_bytes(b"\0" * 5000)  # not media: an error finding
    first = ingest_card(str(folder), "test", settings)
    assert first.summary["errors"] == 1
    second = ingest_card(str(folder), "test", settings)
    assert {f.status for f in second.files} == {"unchanged"}
    assert second.summary["errors"] == 1 and rules(second)["B001C002.mov"] == ["unreadable"]
    html = Path(second.report_html).read_text()
    assert "All files ingested and verified" not in html


def test_a_fifo_is_skipped_unopened_and_the_card_goes_on(card: Path, settings):
    os.mkfifo(card / "Clips" / "pipe.mov")
    done: list = []
    t = threading.Thread(target=lambda: done.append(ingest_card(str(card), "test", settings)), daemon=True)
    t.start()
    t.join(120)
    assert done, "the ingest hangs on the FIFO"
    report = done[0]
    pipe = next(f for f in report.files if f.relpath == "Clips/pipe.mov")
    assert pipe.status == "skipped" and [x.rule for x in pipe.findings] == ["not_a_file"]
    assert "FIFO" in pipe.findings[0].message
    assert report.summary["new"] == 2
    rows = Catalogue(settings.db_url).ingest_rows("test")
    assert all(r["finished_at"] is not None for r in rows)


def _with_garbage_bext(wav: Path, out: Path) -> Path:
    raw = wav.read_bytes()
    pos = raw.index(b"bext")
    size = struct.unpack("<I", raw[pos + 4:pos + 8])[0]
    body = bytearray(os.urandom(size))
    body[338:346] = b"\xff" * 8  # TimeReference: 2^64-1 samples
    out.write_bytes(raw[:pos + 8] + bytes(body) + raw[pos + 8 + size:])
    return out


def test_a_wav_with_a_garbage_bext_is_a_finding_and_the_card_goes_on(card: Path, make_media, settings):
    take = make_media("take.wav", TakeSpec(seconds=0.5, channels=2))
    bad = _with_garbage_bext(take, card / "SOUND_D01_T001.wav")
    media = probe_file(bad, decode_check="none")
    assert media.start_timecode is None
    assert any(f.rule == "bwf" and "TimeReference" in f.message for f in media.findings)
    report = ingest_card(str(card), "test", settings)
    assert report.summary["new"] == 3 and report.mhl_path
    assert "bwf" in rules(report)["SOUND_D01_T001.wav"]
    result = CliRunner().invoke(app, ["probe", "--json", "-p", "test", str(bad)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert json.loads(result.output)[0]["start_timecode"] is None


def test_a_card_whose_mode_forbids_writing_gets_no_mhl_folder_even_as_root(card: Path, settings):
    for p in [card, *card.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        report = ingest_card(str(card), "test", settings)
    finally:
        for p in [card, *card.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert report.mhl_location == "data_dir"
    assert not (card / "ascmhl").exists()
    assert Path(report.mhl_path).is_relative_to(settings.data_path / "mhl")


def slow_ffmpeg(where: Path, real: str, *, on_decode: str) -> Path:
    """An ffmpeg that does `on_decode` (shell) before the decode check, and runs the real one otherwise."""
    script = where / "ffmpeg"
    script.write_text(f'#!/bin/sh\ncase "$*" in *"-f null"*) {on_decode} ;; esac\nexec "{real}" "$@"\n')
    script.chmod(0o755)
    return script


def test_a_decode_check_killed_from_outside_is_no_verdict(card: Path, settings, ffmpeg, tmp_path):
    """A service stop that signals every process of the service reaches ffmpeg itself: the file is left
    uncatalogued (not `unreadable`), and the next ingest checks it."""
    killed = slow_ffmpeg(tmp_path, ffmpeg, on_decode="kill -TERM $$")
    # A full decode: the clips' sample tables would prove them whole without one (media/proven.py).
    cut = ingest_card(str(card), "test", settings.model_copy(update={"ffmpeg": str(killed), "decode_check": "full"}))
    assert {f.status for f in cut.files} == {"interrupted"}
    assert not any(x.rule == "unreadable" for f in cut.files for x in f.all_findings)
    assert list(Catalogue(settings.db_url).rows("test")) == []
    again = ingest_card(str(card), "test", settings)
    assert {f.status for f in again.files} == {"new"} and again.summary["errors"] == 0


def test_two_ingests_of_one_card_at_once_ingest_each_file_once(card: Path, settings, ffmpeg, tmp_path):
    """Two terminals, or a cron `watch --once` beside a manual ingest: one waits for the other."""
    slow = settings.model_copy(update={"ffmpeg": str(slow_ffmpeg(tmp_path, ffmpeg, on_decode="sleep 1")),
                                       "decode_check": "full"})
    Catalogue(settings.db_url)  # the tables first: two creations at once race (the store's concern)
    reports: list = []
    threads = [threading.Thread(target=lambda: reports.append(ingest_card(str(card), "test", slow)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert len(reports) == 2
    news = sorted(f.relpath for r in reports for f in r.files if f.status == "new")
    assert news == sorted(f.relpath for f in reports[0].files)  # each file new in exactly one of them
    assert len(list((card / "ascmhl").glob("*.mhl"))) == 1
    assert all(action == "original" for _, _, action in actions_in_mhls(card, CLIP))


def test_a_file_that_grew_with_its_earlier_bytes_unchanged_supersedes_its_entry(workspace: Path, settings):
    """On a share no writer can be seen: a copy ingested before its end, then grown (append-only), is the
    same file ingested again, with an info finding; rewritten bytes stay an error."""
    folder = workspace / "share"
    folder.mkdir()
    data = os.urandom(300_000)
    grown, rewritten = folder / "M001_meta.bin", folder / "M002_meta.bin"
    grown.write_bytes(data[:120_000])
    rewritten.write_bytes(data[:120_000])
    ingest_card(str(folder), "test", settings)
    with open(grown, "ab") as fh:
        fh.write(data[120_000:])
    rewritten.write_bytes(data[::-1])
    report = ingest_card(str(folder), "test", settings)
    assert {f.relpath: f.status for f in report.files} == {"M001_meta.bin": "updated", "M002_meta.bin": "changed"}
    assert rules(report)["M001_meta.bin"] == ["grew_after_ingest", "sidecar"]
    row = Catalogue(settings.db_url).lookup("test", str(grown))
    assert (row.size, row.hash, row.status) == (300_000, hash_file(grown, ["xxh128"])["xxh128"], "ok")


def test_a_file_whose_copy_is_paused_with_it_open_is_not_catalogued(card: Path, settings):
    # A copy tool that opened the next file of the card and paused (the card was taken between two files):
    # nothing a stat sees changes while the ingest reads it, but the file is not the one the copy will end with.
    data = (card / "Clips" / "A001C001_261123_R1AB.mov").read_bytes()
    target = card / "Clips" / "A001C003_261123_R1AB.mov"
    with open(target, "wb") as copy:
        copy.write(data[: len(data) // 2])
        copy.flush()
        report = ingest_card(str(card), "test", settings)
        assert rules(report)["Clips/A001C003_261123_R1AB.mov"] == ["changing"]
        entry = next(f for f in report.files if f.relpath == "Clips/A001C003_261123_R1AB.mov")
        assert entry.status == "interrupted" and f"process {os.getpid()}" in entry.findings[0].message
        assert Catalogue(settings.db_url).lookup("test", str(target)) is None
        assert {f.status for f in report.files if f != entry} == {"new"}  # the rest of the card goes on
        copy.write(data[len(data) // 2:])
    again = ingest_card(str(card), "test", settings)  # the copy ended
    assert {f.relpath: f.status for f in again.files}["Clips/A001C003_261123_R1AB.mov"] == "new"
    row = Catalogue(settings.db_url).lookup("test", str(target))
    assert (row["size"], row["hash"], row["status"]) == (len(data), hash_file(target, ["xxh128"])["xxh128"], "ok")
