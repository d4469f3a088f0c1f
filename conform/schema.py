"""The JSON shape of `postprod conform --json` (docs/conform.md), as models: docs/schema/conform.schema.json is
generated from them (cli/schemas.py) and the tests validate real output against it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FindingJson(_Strict):
    rule: str
    severity: str  # error, warning, info
    message: str
    event: int | None
    line: int | None
    expected: str | None
    measured: str | None


class NotTakenJson(_Strict):
    line: int | None  # first line (EDL); null for other formats
    last_line: int | None  # last line of a run of repeats
    count: int  # event lines (or clips) in the entry
    event_line: bool
    reason: str
    item: str | None  # other formats: the sequence or clip not taken


class AccountingJson(_Strict):
    unit: str  # line (EDL), clip (XML, FCPXML, AAF, OTIO)
    read: int
    blank: int
    event_lines: int
    events_in_report: int
    event_lines_not_taken: int
    not_taken_entries: int
    kinds: dict[str, int]
    padding: str | None
    not_taken: list[NotTakenJson]


class TimelineJson(_Strict):
    name: str | None
    path: str
    format: str  # cmx3600, fcp_xml, fcpx_xml, aaf, otio
    rate: str  # "num/den"
    drop_frame: bool
    rate_source: str  # option, file, catalogue, production
    encoding: str | None
    line_endings: str | None
    events: int
    event_lines: int
    record_in: str | None
    record_out: str | None
    duration_frames: int
    rate_reason: str | None
    accounting: AccountingJson


class SummaryJson(_Strict):
    events: int
    event_lines: int
    matched: int
    errors: int
    warnings: int
    info: int
    by_rule: dict[str, int]
    lines_read: int
    event_lines_in_list: int
    event_lines_not_taken: int
    lines_not_taken: int


class EventJson(_Strict):
    event: int | None
    line: int | None
    track: str
    reel: str | None
    clip_name: str | None
    source_file: str | None
    source_in: str
    source_out: str
    record_in: str
    record_out: str
    record_in_frames: int
    duration_frames: int
    transition: str
    transition_frames: int
    speed: float | None
    freeze: bool
    media: str | None
    matched_by: str | None
    findings: list[FindingJson]


class ConformJson(_Strict):
    schema_version: int
    kind: str
    checked_at: str
    production: str
    handles: int
    timeline: TimelineJson
    summary: SummaryJson
    findings: list[FindingJson]
    events: list[EventJson]
    relinked: str | None
    report_json: str | None = None  # absent when no report was written
    report_html: str | None = None
