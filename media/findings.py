"""The one finding: a rule's verdict on a file, a line or a span of frames, used by ingest, conform and QC.

Where a finding is says as much as it can: a timecode span, a frame span, an audio channel, the line and
event of an edit list. Each report shows the fields its readers expect, in its own order:

- ingest and probe: `rule`, `severity`, `message`, `expected`, `measured` (the model's own JSON);
- conform: `conform_dict()`, adding `event` and `line`;
- QC: `qc_dict()`, where the rule is named `check_id` and the span, channel and thumbnail follow.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_ORDER = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


def worst(severities: list[Severity]) -> Severity | None:
    """The most serious of `severities`, or None when there are none."""
    return max(severities, key=SEVERITY_ORDER.__getitem__) if severities else None


# Where-fields: left out of the model's own JSON (the ingest and probe shape), shown by the reports that use them.
_WHERE = {"exclude": True}


class Finding(BaseModel):
    """One rule's verdict on one file: what was expected, what was measured."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # QC's reports name the rule `check_id`; both read back.
    rule: str = Field(validation_alias=AliasChoices("rule", "check_id"))
    severity: Severity
    message: str
    expected: str | None = None
    measured: str | None = None
    start_tc: str | None = Field(None, **_WHERE)  # the file's own timecode at the first frame
    end_tc: str | None = Field(None, **_WHERE)  # ... at the last frame (inclusive)
    start_frame: int | None = Field(None, **_WHERE)  # frames from the file's first frame
    end_frame: int | None = Field(None, **_WHERE)  # exclusive
    channel: int | None = Field(None, **_WHERE)  # audio channel, from 1
    line: int | None = Field(None, **_WHERE)  # line of an edit list, from 1
    event: int | None = Field(None, **_WHERE)  # event number of an edit list
    thumbnail: str | None = Field(None, **_WHERE)  # file name of a picture of it, beside the HTML report

    @property
    def check_id(self) -> str:
        """The rule, by the name QC gives it."""
        return self.rule

    def conform_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": str(self.severity), "message": self.message, "event": self.event,
                "line": self.line, "expected": self.expected, "measured": self.measured}

    def qc_dict(self) -> dict[str, Any]:
        return {"check_id": self.rule, "severity": str(self.severity), "message": self.message,
                "expected": self.expected, "measured": self.measured, "start_tc": self.start_tc,
                "end_tc": self.end_tc, "start_frame": self.start_frame, "end_frame": self.end_frame,
                "channel": self.channel, "thumbnail": self.thumbnail}
