"""The thumbnails of a master's first frames, made by the QC's one-process pass itself (an ffmpeg of 7.0 or later,
or one the command did not start early: qc/headstart.py makes them on the one it did).

A thumbnails' ffmpeg of its own for a finding on those frames is a process start on the way to the answer; the pass
decodes them anyway. `planned` (qc/run.py, around the analysis) lets the one-process pass (qc/analyse.py
`_run_one`) add `output`'s branch: the first frames (headstart.thumbs_count), each scaled and encoded into a JPEG
of its own as qc/report.py's `thumbnail` encodes one. Once the pass is over their bytes are kept here (their folder
removed) until the report takes them (`take`), which it does only for a master whose every frame decoded in its
place (qc/report.py `early_frames`): tests/qc/test_qc_early_thumbs.py holds them equal to a seek's, byte for byte.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class _Plan:
    ffmpeg: str
    source: str
    count: int
    folder: Path | None = None  # made when the pass asks for the branch
    jpegs: list[bytes] = field(default_factory=list)


_plan: _Plan | None = None


@contextmanager
def planned(ffmpeg: str, source: str, count: int) -> Iterator[None]:
    """Within the block, the one-process pass of `source` with `ffmpeg` makes the thumbnails of its first `count`
    frames; after it, they are kept for `take` (those the pass made whole)."""
    global _plan
    plan = _Plan(ffmpeg, source, count) if count > 0 and "%" not in tempfile.gettempdir() else None
    _plan = plan
    try:
        yield
    finally:
        if plan is not None and plan.folder is not None:
            from qc import scratch

            with scratch.removed(plan.folder):
                plan.jpegs = _whole(plan.folder, plan.count)


def _whole(folder: Path, count: int) -> list[bytes]:
    """The JPEGs 1.jpg, 2.jpg... in `folder`, the first `count`, while each is whole (ends with its EOI marker)."""
    jpegs = []
    for n in range(1, count + 1):
        path = folder / f"{n}.jpg"
        data = path.read_bytes() if path.is_file() else b""
        if not data.startswith(b"\xff\xd8") or not data.endswith(b"\xff\xd9"):
            break
        jpegs.append(data)
    return jpegs


def output(ffmpeg: str, source: str) -> list[str]:
    """The thumbnails' graph and output to add to the one-process pass of `source` with `ffmpeg` (none unless
    planned for them)."""
    from qc.headstart import THUMB_WIDTH

    plan = _plan
    if plan is None or (plan.ffmpeg, plan.source) != (ffmpeg, source):
        return []
    if plan.folder is None:
        plan.folder = Path(tempfile.mkdtemp(prefix="postprod-thumbs-"))
    return ["-filter_complex", f"[0:v:0]trim=end_frame={plan.count},scale=h=-2:w={THUMB_WIDTH}[thumbs]",
            "-map", "[thumbs]", "-fps_mode", "passthrough", "-f", "image2", "-c:v", "mjpeg", "-q:v", "5",
            str(plan.folder / "%d.jpg")]


def take(ffmpeg: str, source: str) -> list[bytes]:
    """The thumbnails of the first frames of `source` that its last pass with `ffmpeg` made, once."""
    global _plan
    plan, _plan = _plan, None
    if plan is None or (plan.ffmpeg, plan.source) != (ffmpeg, source):
        return []
    return plan.jpegs
