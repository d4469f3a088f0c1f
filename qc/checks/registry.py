"""The check registry: the context a check reads, its outcome, and running the registered checks.

A check returns an Outcome (what was expected, what was measured, and its findings) or None when the
profile does not ask for it. A failed QC is a result, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, field_serializer

from media.findings import Finding, Severity
from media.model import MediaFile
from media.timecode import Timecode, TimecodeError
from qc.analysis import Analysis, Interval

if TYPE_CHECKING:  # the profile is read, never built, here (and qc.profile checks its ids against CHECKS)
    from qc.profile import DeliveryProfile


class CheckResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check_id: str
    title: str
    severity: Severity
    status: Literal["pass", "fail"]
    expected: str | None = None
    measured: str | None = None
    findings: list[Finding] = []  # each one's `rule` is this check_id

    @field_serializer("findings")
    def _findings(self, findings: list[Finding]) -> list[dict[str, Any]]:
        return [f.qc_dict() for f in findings]


@dataclass
class Context:
    media: MediaFile
    analysis: Analysis | None
    profile: DeliveryProfile
    expected_duration: str | None = None

    @property
    def rate(self) -> Fraction | None:
        if self.analysis is not None:
            return self.analysis.rate
        return self.media.video.frame_rate if self.media.video else None

    def start(self) -> Timecode | None:
        return self.media.start

    def tc(self, frame: int) -> str | None:
        start = self.start()
        if start is not None:
            return (start + frame).format()
        rate = self.rate
        return Timecode(frame, rate).format() if rate else None

    @property
    def head_frames(self) -> int:
        start = self.start()
        if not self.profile.timecode.programme_start or start is None:
            return 0
        try:
            prog = Timecode.parse(self.profile.timecode.programme_start, start.rate, start.drop_frame)
        except TimecodeError:
            return 0
        return max(0, prog.frames - start.frames)

    @property
    def total_frames(self) -> int | None:
        a = self.analysis
        if a is not None and a.last_frame is not None:
            return max(a.last_frame + 1, a.declared_frames or 0)
        return self.media.duration_frames

    def programme(self) -> tuple[int, int]:
        """Frames [first, end) of the programme: the head (leader) and the tail window left out."""
        total = self.total_frames or 0
        rate = self.rate or Fraction(25)
        tail = round(self.profile.timecode.tail_seconds * rate)
        return self.head_frames, max(self.head_frames, total - tail)


@dataclass(frozen=True)
class Outcome:
    expected: str | None
    measured: str | None
    findings: list[tuple[str, Interval | None]]  # (message, where); empty = pass


CheckFn = Callable[[Context], Outcome | None]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: Severity
    fn: CheckFn


CHECKS: dict[str, Check] = {}


def check(check_id: str, title: str, severity: Severity = Severity.ERROR) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS[check_id] = Check(check_id, title, severity, fn)
        return fn

    return register


def _one_of(expected: list, measured: object, what: str, prefix: bool = False) -> Outcome | None:
    if not expected:
        return None
    exp = " or ".join(str(e) for e in expected)
    if prefix:
        ok = measured is not None and any(str(measured).startswith(str(e)) for e in expected)
    else:
        ok = measured in expected
    return Outcome(exp, str(measured), [] if ok else [(f"{what} is {measured}, expected {exp}", None)])


# ---- running them -------------------------------------------------------------------------------------

def severity_for(profile: DeliveryProfile, chk: Check) -> Severity | None:
    override = profile.severity.get(chk.id)
    if override == "off":
        return None
    return Severity(override) if override else chk.severity


def run_checks(ctx: Context) -> list[CheckResult]:
    """Every registered check the profile asks for, in registry order."""
    results: list[CheckResult] = []
    for chk in CHECKS.values():
        severity = severity_for(ctx.profile, chk)
        if severity is None:
            continue
        outcome = chk.fn(ctx)
        if outcome is None:
            continue
        findings = []
        for message, where in outcome.findings:
            f = Finding(rule=chk.id, severity=severity, message=message, expected=outcome.expected,
                        measured=outcome.measured)
            if where is not None:
                f = f.model_copy(update={"start_frame": where.start, "end_frame": where.end,
                                         "start_tc": ctx.tc(where.start), "end_tc": ctx.tc(max(where.end - 1,
                                                                                            where.start)),
                                         "channel": where.channel})
            findings.append(f)
        results.append(CheckResult(check_id=chk.id, title=chk.title, severity=severity,
                                   status="fail" if findings else "pass", expected=outcome.expected,
                                   measured=outcome.measured, findings=findings))
    return results
