"""Stream integrity: the master decodes to its declared end, every frame decodes."""

from __future__ import annotations

from qc.analysis import Interval
from qc.checks.registry import Context, Outcome, check

# ---- stream integrity ---------------------------------------------------------------------------------

@check("stream.truncated", "Decodes to the declared end")
def _truncated(c: Context) -> Outcome | None:
    a = c.analysis
    if a is None or a.declared_frames is None or a.last_frame is None:
        return None
    decoded = a.last_frame + 1
    exp = f"{a.declared_frames} frames"
    if decoded >= a.declared_frames:
        return Outcome(exp, f"{decoded} frames", [])
    where = Interval(start=decoded, end=a.declared_frames)
    return Outcome(exp, f"{decoded} frames", [((f"decoding stops at {c.tc(decoded)}, {a.declared_frames - decoded} "
                                               f"frame(s) before the declared end"), where)])


@check("stream.decode", "Every frame decodes")
def _decode(c: Context) -> Outcome | None:
    a = c.analysis
    if a is None:
        return None
    why = f" (decoder: {a.decode_errors[0]})" if a.decode_errors else ""
    out: list[tuple[str, Interval | None]] = [(f"{iv.end - iv.start} frame(s) missing from the decode{why}", iv)
                                              for iv in a.missing]
    if a.decode_errors and not out:
        first = a.decode_errors[0]
        out.append((f"{len(a.decode_errors)} decoder error(s), first: {first}", None))
    return Outcome("no decoder error", f"{len(a.decode_errors)} error(s), {sum(i.end - i.start for i in a.missing)} "
                   "missing frame(s)", out)

