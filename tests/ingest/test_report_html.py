"""The ingest's HTML page written in Python (ingest/report_html.py) is the page its Jinja template renders
(ingest/templates/ingest_report.html.j2), character for character, over real cards: new, verified, failed,
unchanged, changed and missing files, sound takes and sidecars, names and findings with HTML in them, the MHL on
the card or in the data directory, an empty folder; and over reports with unusual values."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import small_clip
from jinja2 import Environment, PackageLoader, select_autoescape

from config import __version__
from ingest.card import ingest_card
from ingest.report import report_html
from ingest.report_html import _fps
from media.findings import Finding, Severity
from media.synth import TakeSpec

_jinja = Environment(loader=PackageLoader("ingest", "templates"), autoescape=select_autoescape(["html", "j2"]))


def _template(report) -> str:
    return _jinja.get_template("ingest_report.html.j2").render(r=report, fps=_fps, version=__version__)


def test_the_page_is_the_templates_page(workspace: Path, make_media, settings) -> None:
    card = workspace / "cards" / "<C001> & 'été'"
    (card / "Clips").mkdir(parents=True)
    for i in (1, 2):
        shutil.copy(make_media(f"H{i}.mov", small_clip(seconds=0.4, timecode=f"10:0{i}:00:00", reel="C<001>",
                                                       audio_channels=2)),
                    card / "Clips" / f"C001C00{i} \"take\" <b>.mov")
    shutil.copy(make_media("H.wav", TakeSpec(seconds=0.5, channels=2)), card / "sound & <one>.wav")
    (card / "notes 'a' & \"b\".xml").write_text("<x/>\n")
    (card / "gone.bin").write_bytes(b"soon missing")
    ascmhl = shutil.which("ascmhl") or os.path.join(os.path.dirname(sys.executable), "ascmhl")
    subprocess.run([ascmhl, "create", "-h", "xxh64", str(card)], check=True, capture_output=True)
    (card / "gone.bin").unlink()
    clip = card / "Clips" / "C001C002 \"take\" <b>.mov"
    st = clip.stat()
    data = bytearray(clip.read_bytes())
    data[len(data) // 2] ^= 0xFF
    clip.write_bytes(bytes(data))
    os.utime(clip, ns=(st.st_atime_ns, st.st_mtime_ns))
    reports = [ingest_card(str(card), "test", settings)]  # verified, failed, missing, sidecar, take
    reports.append(ingest_card(str(card), "test", settings))  # unchanged; the errors shown again
    (card / "Clips" / "C001C001 \"take\" <b>.mov").write_bytes(b"rewritten")  # changed after its ingest
    reports.append(ingest_card(str(card), "test", settings))
    loose = workspace / "loose <x>.wav"
    shutil.copy(make_media("H.wav", TakeSpec(seconds=0.5, channels=2)), loose)
    reports.append(ingest_card(str(loose), "test", settings))  # a loose file: the MHL in the data directory
    (workspace / "empty").mkdir()
    reports.append(ingest_card(str(workspace / "empty"), "test", settings))
    statuses = {f.status for r in reports for f in r.files}
    assert {"new", "unchanged", "changed", "missing"} <= statuses, statuses
    assert any(f.mhl_action == "verified" for f in reports[0].files)
    first = next(f for f in reports[0].files if f.media and f.media.video and f.media.audio)
    two_streams = first.media.model_copy(update={"audio": [*first.media.audio, first.media.audio[0].model_copy(
        update={"bit_depth": None})], "reel": "R&<1>", "start_timecode": "10:00:00:00"})
    odd = reports[0].model_copy(update={
        "summary": {}, "verified_against": ["0001", "0002"], "mhl_location": "card",
        "files": [first.model_copy(update={"media": two_streams, "findings": [
            Finding(rule="r<1>", severity=Severity.WARNING, message="a <script>'x'</script> & \"y\"", measured="m&m"),
            Finding(rule="info", severity=Severity.INFO, message="plain", expected="<e>")]})]})
    warned = reports[0].model_copy(update={"summary": {**reports[0].summary, "errors": 0, "warnings": 2}})
    for report in [*reports, odd, warned]:
        assert report_html(report) == _template(report)
    assert "&lt;C001&gt; &amp; &#39;été&#39;" in report_html(reports[0])
