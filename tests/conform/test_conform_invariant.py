"""The conform reader's promise, over every list in tests/conform/data: each event line of the list is
either in the report with its frames, or named by a finding on its line. And the count adds up."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest

from conform.match import CatalogueIndex, conform
from conform.model import TimelineError
from conform.report import report_data
from conform.timeline import read_timeline

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "schema" / "conform.schema.json").read_text())

DATA = Path(__file__).parent / "data"
LISTS = sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix.lower() == ".edl")


def event_lines(path: Path) -> list[int]:
    """What a user checks with their own eyes: lines that start with an event number (1 to 6 digits)."""
    data = path.read_bytes()
    text = data.decode("utf-8") if _utf8(data) else data.decode("latin-1")
    lines = re.split(r"\r\n|\r|\n", text.lstrip("\ufeff"))
    return [n for n, line in enumerate(lines, start=1) if re.match(r"^\s*\d{1,6}\s+\S", line)]


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_there_are_lists_to_check() -> None:
    assert len(LISTS) >= 30


@pytest.mark.parametrize("path", LISTS, ids=lambda p: str(p.relative_to(DATA)))
def test_every_event_line_is_in_the_report_or_named_by_a_finding(path: Path) -> None:
    try:
        tl = read_timeline(path, rate=None, default_rate=Fraction(25))
    except TimelineError as exc:
        assert path.name in str(exc)  # unusable as a whole: the message names the file and the cause
        return
    data = report_data(conform(tl, CatalogueIndex([]), 12), production="test")
    jsonschema.validate(json.loads(json.dumps(data, default=str)), SCHEMA)
    reported = {e["line"]: e for e in data["events"]}
    finding_lines = {f["line"] for f in data["findings"]} | {f["line"] for e in data["events"] for f in e["findings"]}
    acc = data["timeline"]["accounting"]
    runs = acc["not_taken"]
    expected = event_lines(path)
    for line in expected:
        if line in reported:
            event = reported[line]
            assert event["record_in"] and event["duration_frames"] is not None
            continue
        run = next((r for r in runs if r["line"] <= line <= r["last_line"] and r["event_line"]), None)
        assert run is not None, f"{path.name}: event line {line} is neither reported nor accounted for"
        assert run["line"] in finding_lines, f"{path.name}: no finding names line {run['line']}"
    # The count a user can check: lines read, event lines, events in the report, event lines not taken.
    assert acc["event_lines"] == len(expected)
    assert acc["events_in_report"] == len(data["events"]) == data["summary"]["event_lines"]
    assert acc["event_lines"] == acc["events_in_report"] + acc["event_lines_not_taken"]
    assert acc["read"] == len(re.split(r"\r\n|\r|\n", path.read_bytes().rstrip(b"\x00\x1a").decode("latin-1")
                                       .removesuffix("\n").removesuffix("\r")))
    # And the rate used is always said.
    assert [f["rule"] for f in data["findings"]].count("timeline_rate") == 1


OTHERS = sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix.lower() in (".otio", ".xml", ".fcpxml", ".aaf"))


def clips_in(path: Path) -> int:
    """Clips counted in the file itself, not through the reader under test."""
    import xml.etree.ElementTree as ET

    if path.suffix == ".otio":
        return len(re.findall(r'"OTIO_SCHEMA":\s*"Clip\.', path.read_text()))
    if path.suffix == ".xml":
        return sum(1 for c in ET.parse(path).iter("clipitem") if c.find("file") is not None)
    if path.suffix == ".fcpxml":
        return sum(1 for s in ET.parse(path).iter("spine") for c in s if c.tag in ("clip", "asset-clip"))
    import aaf2

    with aaf2.open(str(path), "r") as f:
        return sum(len(list(slot.segment.components)) for mob in f.content.compositionmobs() for slot in mob.slots
                   if isinstance(slot.segment, aaf2.components.Sequence))


def test_there_are_other_formats_to_check() -> None:
    assert {p.suffix for p in OTHERS} == {".otio", ".xml", ".fcpxml", ".aaf"}


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: str(p.relative_to(DATA)))
def test_every_clip_is_in_the_report_or_named_by_a_finding(path: Path) -> None:
    tl = read_timeline(path, rate=None, default_rate=Fraction(25))
    data = report_data(conform(tl, CatalogueIndex([]), 12), production="test")
    jsonschema.validate(json.loads(json.dumps(data, default=str)), SCHEMA)
    acc = data["timeline"]["accounting"]
    assert acc["unit"] == "clip" and acc["event_lines"] == clips_in(path)
    assert acc["event_lines"] == acc["events_in_report"] + acc["event_lines_not_taken"]
    assert acc["events_in_report"] == len(data["events"])
    messages = [f["message"] for f in data["findings"]]
    for entry in acc["not_taken"]:
        assert any(repr(entry["item"]) in m for m in messages), entry
    assert all(e["duration_frames"] > 0 and e["record_in"] for e in data["events"])
