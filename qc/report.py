"""QC reports: JSON, and a self-contained HTML page (verdict first, defects with thumbnails, loudness plot)."""

from __future__ import annotations

import base64
import contextlib
import subprocess
from collections.abc import Iterator, Sequence
from html import escape
from pathlib import Path

from media.ffmpeg.commands import thumbnail_command, thumbnails_command
from media.report import safe_name, write_report
from media.timecode import parse_rate
from qc import headstart, passthumbs, scratch
from qc.run import QcReport

VIDEO_CHECKS = ("video.", "stream.")
# Frames one ffmpeg makes thumbnails of, each from an input of its own (its own decoder): as many decoders
# open at once as the four single-frame processes that made them before.
THUMBS_PER_FFMPEG = 4


def thumbnail(master: Path, seconds: float, ffmpeg: str, width: int = 320) -> bytes | None:
    """One JPEG of the frame at `seconds` (the frame-accurate seek decodes from the previous key frame)."""
    proc = subprocess.run(thumbnail_command(ffmpeg, master, seconds, width), capture_output=True, check=False,
                          timeout=120)
    return proc.stdout if proc.returncode == 0 and proc.stdout else None


def thumbnails(master: Path, seconds: Sequence[float], ffmpeg: str, width: int = 320) -> list[bytes | None]:
    """`thumbnail` of each of `seconds`, THUMBS_PER_FFMPEG to an ffmpeg (its start-up was most of the cost of a
    thumbnail), THUMBS_SIDE_BY_SIDE such ffmpegs at a time: each frame seeked and encoded as `thumbnail` does it,
    into a file of its own. A frame that such an ffmpeg did not give (it failed, or wrote nothing for it) is asked
    of `thumbnail` alone."""
    groups = [seconds[first:first + THUMBS_PER_FFMPEG] for first in range(0, len(seconds), THUMBS_PER_FFMPEG)]
    made: list[list[bytes]] = []
    with contextlib.ExitStack() as running:
        started: list[tuple[subprocess.Popen, list[Path], int]] = []
        for group in groups:
            if len(started) - len(made) >= THUMBS_SIDE_BY_SIDE:
                made.append(_jpegs(*started[len(made)]))
            tmp = running.enter_context(scratch.folder("postprod-thumbs-"))
            files = [tmp / f"{i}.jpg" for i in range(len(group))]
            proc = running.enter_context(_started(thumbnails_command(ffmpeg, master, group, width, files)))
            started.append((proc, files, 120 * len(group)))
        made += [_jpegs(*one) for one in started[len(made):]]
    shots: list[bytes | None] = []
    for group, jpegs in zip(groups, made, strict=True):
        shots += [jpeg or thumbnail(master, at, ffmpeg, width) for jpeg, at in zip(jpegs, group, strict=True)]
    return shots


# An ffmpeg's start (the dynamic linking of its libraries: about 0.1 s of CPU for Debian's) is one core's work
# while the other waits: two such groups at once keep both of this kind of machine's cores busy.
THUMBS_SIDE_BY_SIDE = 2


@contextlib.contextmanager
def _started(cmd: list[str]) -> Iterator[subprocess.Popen]:
    """An ffmpeg making thumbnails (its files are what counts, not what it prints), killed if the block fails (a
    stop, a timeout) before it ends, as `subprocess.run` kills its child."""
    with subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        try:
            yield proc
        except BaseException:
            proc.kill()
            raise


def _jpegs(proc: subprocess.Popen, files: list[Path], timeout: float) -> list[bytes]:
    """The JPEGs `proc` made, once it ended (b"" for each it did not make, all of them if it failed). Its pipes
    are read to their end, as `subprocess.run` does (`Popen.wait` with a timeout polls, up to 50 ms late)."""
    proc.communicate(timeout=timeout)
    return [f.read_bytes() if proc.returncode == 0 and f.exists() else b"" for f in files]


def frame_seconds(frame: int, rate: float) -> float:
    """Where to seek for frame `frame` (counted from the file's first): a quarter of a frame before its start.
    ffmpeg's accurate seek drops the frames that start before the time asked (MOV), or keeps the frame whose
    time from it rounds to zero (MXF at 29.97): a frame's start is a tie for the first (the time is written with
    4 decimals), its middle (asked until 2026-12: the next frame mostly, and nothing for the last) for the
    second. tests/qc/test_qc_thumbs.py holds every frame of 25 and 29.97 fps masters to its thumbnail."""
    return max(0.0, (frame - 0.25) / rate)


def add_thumbnails(report: QcReport, ffmpeg: str, limit: int = 24) -> dict[str, bytes]:
    """A thumbnail at each located video defect (the first `limit`); returns {finding key: jpeg}."""
    shots: dict[str, bytes] = {}
    rate = None
    if report.measurements:
        rate = float(parse_rate(report.measurements["rate"]))
    if rate is None:
        return shots
    wanted = []
    for check in report.checks:
        for i, f in enumerate(check.findings):
            if len(wanted) >= limit or f.start_frame is None or not check.check_id.startswith(VIDEO_CHECKS):
                continue
            frame = f.start_frame
            if check.check_id == "stream.truncated":
                frame = max(frame - 1, 0)  # the last frame that decodes
            wanted.append((f"{check.check_id}-{i}", check.findings, i, frame))
    frames = sorted({w[3] for w in wanted})  # defects that start on the same frame share its thumbnail
    jpegs = _frame_jpegs(report, frames, rate, ffmpeg)
    for key, findings, i, frame in wanted:
        jpeg = jpegs[frame]
        if jpeg:
            findings[i] = findings[i].model_copy(update={"thumbnail": key})
            shots[key] = jpeg
    return shots


def _frame_jpegs(report: QcReport, frames: list[int], rate: float, ffmpeg: str) -> dict[int, bytes | None]:
    """The thumbnail of each of `frames`: those `early_frames` allows from the pass's own (qc/headstart.py,
    qc/passthumbs.py), the others seeked by `thumbnails`."""
    made = headstart.thumbnails(ffmpeg, report.master)  # the pass's on the ffmpeg started early, else its own
    made = passthumbs.take(ffmpeg, report.master) or made
    jpegs: dict[int, bytes | None] = {n: made[n] for n in early_frames(report, frames, len(made)) if made[n]}
    rest = [n for n in frames if n not in jpegs]
    if rest:
        jpegs.update(zip(rest, thumbnails(Path(report.master), [frame_seconds(n, rate) for n in rest], ffmpeg),
                         strict=True))
    return jpegs


def early_frames(report: QcReport, frames: list[int], made: int) -> list[int]:
    """Those of `frames` whose thumbnail the pass made (the first `made` frames it decoded) is the frame a seek
    gives: only where the analysis decoded every frame in its place (none missing, none counted twice, no decode
    error), so that frame N is the Nth decoded (tests/qc/test_qc_early_thumbs.py holds the bytes equal)."""
    m = report.measurements or {}
    decoded, last = m.get("frames_decoded") or 0, m.get("last_frame")
    if not made or m.get("missing") or m.get("decode_errors") or last is None or decoded != last + 1:
        return []
    return [n for n in frames if 0 <= n < min(made, decoded)]


def _tc_at(report: QcReport, seconds: float) -> str:
    """The timecode at `seconds` from the file's first frame, or seconds when the file has no timecode."""
    from fractions import Fraction

    from media.timecode import Timecode

    rate = Fraction((report.measurements or {}).get("rate", "25/1"))
    if report.start_timecode:
        start = Timecode.parse(report.start_timecode, rate, ";" in report.start_timecode)
        return (start + int(seconds * rate)).format()
    return f"{seconds:.0f} s"


def loudness_svg(report: QcReport, target: float, tolerance: float, width: int = 900, height: int = 260) -> str:
    """Short-term loudness over time with the target and its tolerance band, as inline SVG."""
    m = report.measurements or {}
    series = [(t, s) for t, _, s in m.get("loudness_series", []) if s > -120]
    label = "short-term loudness (3 s)"
    if not series:
        # Shorter than 3 s: the momentary (400 ms) loudness is all there is.
        series = [(t, mo) for t, mo, _ in m.get("loudness_series", []) if mo > -120]
        label = "momentary loudness (400 ms): the programme is shorter than 3 s"
    if not series:
        return "<p>No loudness measured: the programme has no sound on its loudness channels.</p>"
    t_max = max(t for t, _ in series) or 1.0
    lo, hi = -50.0, max(-10.0, max(s for _, s in series) + 2)
    pad = 40

    def x(t: float) -> float:
        return pad + (width - pad - 10) * t / t_max

    def y(v: float) -> float:
        v = min(max(v, lo), hi)
        return 10 + (height - 40) * (hi - v) / (hi - lo)

    step = max(1, len(series) // 2000)
    points = " ".join(f"{x(t):.1f},{y(s):.1f}" for t, s in series[::step])
    band = (f'<rect x="{pad}" y="{y(target + tolerance):.1f}" width="{width - pad - 10}" '
            f'height="{y(target - tolerance) - y(target + tolerance):.1f}" fill="#cfe8cf"/>')
    grid = "".join(f'<line x1="{pad}" x2="{width - 10}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
                   f'<text x="2" y="{y(v) + 4:.1f}" font-size="11">{v:g}</text>' for v in range(-50, int(hi) + 1, 10))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="{label}">{band}{grid}'
            f'<line x1="{pad}" x2="{width - 10}" y1="{y(target):.1f}" y2="{y(target):.1f}" stroke="#2a7" '
            f'stroke-dasharray="6,3"/><polyline fill="none" stroke="#245" stroke-width="1.5" points="{points}"/>'
            f'<text x="{pad}" y="{height - 8}" font-size="11">{escape(_tc_at(report, 0.0))}</text>'
            f'<text x="{width - 90}" y="{height - 8}" font-size="11">{escape(_tc_at(report, t_max))}</text>'
            f'<text x="{pad + 6}" y="{y(target) - 4:.1f}" font-size="11" fill="#2a7">target {target:g} LUFS '
            f'±{tolerance:g} LU</text></svg><p><small>{label}</small></p>')


def render_html(report: QcReport, shots: dict[str, bytes], target: float, tolerance: float) -> str:
    e = escape
    colour = {"pass": "#1a7f37", "fail": "#c62828", "unusable": "#8e24aa"}[report.verdict]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>QC {e(Path(report.master).name)} — {e(report.verdict.upper())}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 6px;"
        "text-align:left;vertical-align:top}.error{color:#c62828}.warning{color:#b26a00}.info{color:#555}"
        ".verdict{font-size:2em;font-weight:bold;color:" + colour + "}img{max-width:320px}</style></head><body>",
        f"<div class='verdict'>{e(report.verdict.upper())}</div>",
        (f"<p><b>{e(report.master)}</b><br>profile <b>{e(report.profile)}</b> — {e(report.profile_description)}"
        f"<br>start timecode {e(report.start_timecode or 'none')} · checked {e(report.checked_at)} · "
        f"{report.elapsed_seconds:.1f} s</p>"),
    ]
    if report.error:
        parts.append(f"<p class='error'><b>Unusable:</b> {e(report.error)}</p>")
    s = report.summary
    if s:
        parts.append(f"<p>{s['checks']} checks: {s['passed']} passed, {s['failed']} failed — {s['errors']} error(s), "
                     f"{s['warnings']} warning(s), {s['infos']} info.</p>")
    failed = report.failed
    if failed:
        parts.append("<h2>Failed checks</h2><table><tr><th>check</th><th>severity</th><th>from</th><th>to</th>"
                     "<th>what</th><th>expected</th><th>measured</th><th>picture</th></tr>")
        for c in failed:
            for f in c.findings:
                img = ""
                if f.thumbnail and f.thumbnail in shots:
                    data = base64.b64encode(shots[f.thumbnail]).decode()
                    img = f"<img alt='{e(f.thumbnail)}' src='data:image/jpeg;base64,{data}'>"
                parts.append(f"<tr class='{e(f.severity.value)}'><td>{e(c.check_id)}</td><td>{e(f.severity.value)}</td>"
                             f"<td>{e(f.start_tc or '')}</td><td>{e(f.end_tc or '')}</td><td>{e(f.message)}</td>"
                             f"<td>{e(f.expected or '')}</td><td>{e(f.measured or '')}</td><td>{img}</td></tr>")
        parts.append("</table>")
    m = report.measurements
    if m:
        def db(key: str, unit: str) -> str:
            v = m.get(key)
            return f"{v:.1f} {unit}" if isinstance(v, (int, float)) else "—"

        parts.append("<h2>Loudness</h2><p>" + " · ".join(e(x) for x in (
            f"integrated {db('integrated', 'LUFS')}", f"range {db('lra', 'LU')}",
            f"true peak {db('true_peak', 'dBTP')}", f"max short-term {db('max_short_term', 'LUFS')}",
            f"max momentary {db('max_momentary', 'LUFS')}")) + "</p>" + loudness_svg(report, target, tolerance))
    passed = [c for c in report.checks if c.status == "pass"]
    if passed:
        parts.append("<h2>Passed checks</h2><table><tr><th>check</th><th>expected</th><th>measured</th></tr>")
        for c in passed:
            parts.append(f"<tr><td>{e(c.title)} <small>({e(c.check_id)})</small></td><td>{e(c.expected or '')}</td>"
                         f"<td>{e(c.measured or '')}</td></tr>")
        parts.append("</table>")
    parts.append(f"<p><small>postprod {e(report.tool_version)} · one ffmpeg decode, "
                 f"{report.analysis_seconds:.1f} s</small></p></body></html>")
    return "\n".join(parts)


def write_reports(report: QcReport, folder: Path, ffmpeg: str, target: float, tolerance: float) -> QcReport:
    """qc-<master>.json and .html in `folder` (thumbnails inlined), written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    shots = add_thumbnails(report, ffmpeg) if report.verdict != "unusable" else {}
    master, profile = (safe_name(name, "master", strip=True) for name in (Path(report.master).stem, report.profile))
    stem = f"qc-{master}-{profile}"
    report.report_json = str(folder / f"{stem}.json")
    report.report_html = str(folder / f"{stem}.html")
    write_report(Path(report.report_json), report.model_dump_json(indent=2), Path(report.report_html),
                 render_html(report, shots, target, tolerance))
    return report
