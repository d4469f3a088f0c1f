"""The QC's ffmpeg started before the command's heavy modules load, its filter graphs handed over once known.

An ffmpeg's start is mostly the dynamic linking of its libraries (Debian's 5.1: about 0.1 s of CPU, before its
`main`), and `postprod qc` of a short master used to start it only after pydantic, the settings, the profile and
the probe. `start` (cli/commands/qc_run.py, before those load) starts the one-process pass's ffmpeg with the command
line a master with sound gets, its three graphs to be read from pipes (`-filter_complex_script pipe:N`: ffmpeg
reads such options before it opens its input, so it waits there); the analysis (qc/analyse.py) takes it only if
the command it built is that one token for token, each `-filter_complex G` in place of a
`-filter_complex_script` whose pipe then gets G (the same option: ffmpeg reads the text and adds the graph as
`-filter_complex` does). Anything else (another ffmpeg in the settings, a master without sound, a long master
measured by two processes) and it is killed unused: the pass runs as it always did.

Only for an ffmpeg before 7.0 (`-filter_complex_script` is deprecated from 7.1; later ones are not started early).

The same ffmpeg makes the thumbnails of the master's first frames beside the pass (a fourth graph, `[thumbs]`:
JPEGs as qc/report.py's `thumbnail` encodes them, into a folder of their own), within THUMBS_PIXELS, so that a
short master's findings there need no thumbnails' ffmpeg of their own (whose start, Debian's dynamic linking, was
on the way to the answer). The report (qc/report.py `early_frames`) takes them only for a master whose every
frame decoded in its place, so that frame N is the Nth decoded: the frame a seek to its time gives
(tests/qc/test_qc_early_thumbs.py holds the bytes equal); the others are seeked as before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from config import children
from media.ffmpeg.commands import QUIET

GRAPHS = 3  # picture, loudness, raw sound: what a master with sound gets
_head: Head | None = None
_made: Head | None = None  # the head the analysis took, until its thumbnails are taken (`thumbnails`)
# The first frames whose thumbnails the pass makes: THUMBS_FIRST at most, within THUMBS_PIXELS of the master's
# picture (at least one). A thumbnails' ffmpeg costs about 0.1 s of CPU and as much of the wait; each frame made
# beside the pass 1.5-2.5 ms of CPU, paid by every QC, findings or none (1 s 320x180 masters, Debian's 5.1, load
# 3-8: 8 frames 0.012-0.02 s, 1 frame 0.004-0.007 s). Frame 0 is where most findings start (a leader, a
# whole-file condition, the field order): it alone.
THUMBS_FIRST = 1
THUMBS_PIXELS = 2 * 1920 * 1080
THUMB_WIDTH = 320


@dataclass
class Head:
    """An ffmpeg waiting for its graphs: its command (`-filter_complex_script pipe:N` where the graphs go), the
    pipes' write ends, the raw sound's pipe and the folder of its side files (the analysis's work folder)."""

    ffmpeg: str
    source: str
    folder: Path
    command: list[str]
    graph_fds: list[int]
    sound_read: int
    sound_fd: int  # the number the command names (closed here once the child has it)
    stderr: Path
    thumbs_fd: int  # the pipe of the thumbnails' graph, beside the pass's own
    thumbs: Path  # their folder: 1.jpg, 2.jpg... the first frames in their order
    proc: subprocess.Popen | None = None
    running: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    thumbs_count: int = 1  # how many of the first frames it makes thumbnails of (`plan_thumbnails`; 0: none,
    # and the pass does not take it)
    released: bool = False

    def matches(self, command: list[str]) -> list[str] | None:
        """The graphs of `command` if it is this ffmpeg's command with them in their places (and the thumbnails'
        output after them), else None; None too where its thumbnails' branch could fail the pass (`plan_thumbnails`)."""
        if len(command) != len(self.command) or self.thumbs_count < 1:
            return None
        graphs = []
        for i, (ours, theirs) in enumerate(zip(self.command, command, strict=True)):
            if ours == "-filter_complex_script":
                if theirs != "-filter_complex":
                    return None
                graphs.append(command[i + 1])
            elif ours != theirs and self.command[i - 1] != "-filter_complex_script":
                return None
        return graphs

    def release(self, graphs: list[str]) -> bool:
        """Hand the graphs over (ffmpeg goes on); False if it can no longer take them (it ended)."""
        texts = [*graphs, f"[0:v:0]trim=end_frame={self.thumbs_count},scale=h=-2:w={THUMB_WIDTH}[thumbs]"]
        pending, self.graph_fds, self.thumbs_fd = [*self.graph_fds, self.thumbs_fd], [], -1
        if len(pending) != len(texts):
            raise ValueError("one graph a pipe")
        try:
            for graph in texts:  # each pipe closed once, as soon as its graph is in
                data = graph.encode()
                while data:
                    data = data[os.write(pending[0], data):]
                os.close(pending.pop(0))
        except OSError:
            return False
        finally:
            for fd in pending:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.released = True
        return True

    def thumbnails(self) -> list[bytes]:
        """The JPEGs of the first frames it made (`thumbs_count` at most; none unless it ended with 0), read
        before their folder is removed (in a thread: qc/scratch.py)."""
        from qc import scratch

        with scratch.removed(self.thumbs):
            if not self.released or self.proc is None or self.proc.returncode != 0:
                return []
            names = sorted(self.thumbs.glob("*.jpg"), key=lambda p: int(p.stem))
            if [p.stem for p in names] != [str(n) for n in range(1, len(names) + 1)]:
                return []
            return [p.read_bytes() for p in names[:self.thumbs_count]]

    def _close_graphs(self) -> None:
        fds, self.graph_fds, self.thumbs_fd = [*self.graph_fds, self.thumbs_fd], [], -1
        for fd in fds:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)

    @contextlib.contextmanager
    def adopted(self) -> Iterator[subprocess.Popen]:
        """Its process, as `children.popen` yields one: killed if the block fails, stopped with postprod."""
        assert self.proc is not None
        try:
            yield self.proc
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self.running.close()

    def discard(self, *, keep_folder: bool = False) -> None:
        """Kill it unused and remove its folder (unless the analysis works in it: `keep_folder`)."""
        self._close_graphs()
        with contextlib.suppress(OSError):
            os.close(self.sound_read)
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        self.running.close()
        if not keep_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        shutil.rmtree(self.thumbs, ignore_errors=True)


def start(master: Path, configured: str | None) -> None:
    """Start the pass's ffmpeg for `master` (an absolute path) with the ffmpeg `configured` names (the settings'
    POSTPROD_FFMPEG), where the analysis may take it. Never fails: without it the pass starts as before."""
    global _head
    if _head is not None or not master.is_file() or "%" in tempfile.gettempdir():  # `%d`: the thumbnails' names
        return
    try:
        from media.ffmpeg.caps import Job, ffmpeg_for

        caps = ffmpeg_for(Job.QC_ANALYSIS, configured)
        if caps.release is None or caps.release >= (7, 0):
            return
        _head = _spawn(caps.path, str(master))
    except Exception:  # noqa: BLE001 - whatever stops it, the pass starts its own ffmpeg
        _head = None


def _spawn(ffmpeg: str, source: str) -> Head:
    folder = Path(tempfile.mkdtemp(prefix="postprod-qc-"))
    thumbs = Path(tempfile.mkdtemp(prefix="postprod-thumbs-"))
    pipes = [os.pipe() for _ in range(GRAPHS + 1)]  # the last: the thumbnails' graph
    sound_read, sound_write = os.pipe()
    graphs = [arg for r, _ in pipes[:GRAPHS] for arg in ("-filter_complex_script", f"pipe:{r}")]
    command = [ffmpeg, *QUIET, "-loglevel", "level+error", "-threads", "0", "-i", source, *graphs,
               "-map", "[vpic]", "-fps_mode", "passthrough", "-f", "rawvideo", "pipe:1",
               "-map", "[aout]", "-f", "null", "-", "-map", "[araw]", "-f", "f32le", f"pipe:{sound_write}"]
    # The thumbnails' output, as qc.report.thumbnail encodes one (an image2 file a frame, not one a process)
    tail = ["-filter_complex_script", f"pipe:{pipes[GRAPHS][0]}", "-map", "[thumbs]", "-fps_mode", "passthrough",
            "-f", "image2", "-c:v", "mjpeg", "-q:v", "5", str(thumbs / "%d.jpg")]
    head = Head(ffmpeg, source, folder, command, [w for _, w in pipes[:GRAPHS]], sound_read, sound_write,
                folder / "stderr-head.txt", pipes[GRAPHS][1], thumbs)
    try:
        with head.stderr.open("w") as errfh:
            head.proc = head.running.enter_context(children.popen(
                [*command, *tail], stdout=subprocess.PIPE, stderr=errfh, stdin=subprocess.DEVNULL,
                pass_fds=(*(r for r, _ in pipes), sound_write)))
    except BaseException:
        head.discard()
        raise
    finally:
        for r, _ in pipes:
            os.close(r)
        os.close(sound_write)
    return head


def take(ffmpeg: str, source: str) -> Head | None:
    """The ffmpeg started for `source` with `ffmpeg`, once (another is killed unused)."""
    global _head, _made
    head, _head = _head, None
    if head is not None and (head.ffmpeg, head.source) != (ffmpeg, source):
        head.discard()
        return None
    _made = head
    return head


def plan_thumbnails(source: str, width: int, height: int) -> None:
    """Thumbnails of the first frames of `source`, a `width` x `height` picture (THUMBS_FIRST, THUMBS_PIXELS),
    where the ffmpeg started early for it is taken (called before the analysis takes it: qc/run.py)."""
    if _head is not None and _head.source == source:
        _head.thumbs_count = thumbs_count(width, height)


def thumbs_count(width: int, height: int) -> int:
    """How many of the first frames of a `width` x `height` master the pass makes thumbnails of: THUMBS_FIRST,
    within THUMBS_PIXELS, at least one; none for a thumbnail 320 wide outside 40 to 2560 high (no scale nor encoder
    limit near: the pass is not risked on a thumbnail)."""
    if not (0 < width <= 8 * height and 0 < height <= 8 * width):
        return 0
    return max(1, min(THUMBS_FIRST, THUMBS_PIXELS // (width * height)))


def thumbnails(ffmpeg: str, source: str) -> list[bytes]:
    """The thumbnails of the first frames of `source` that the pass made with `ffmpeg`, where it ran on the ffmpeg
    started early and ended with 0 (else none), once."""
    global _made
    head, _made = _made, None
    if head is None:
        return []
    if (head.ffmpeg, head.source) != (ffmpeg, source):
        head.discard(keep_folder=True)
        return []
    return head.thumbnails()


def discard() -> None:
    """Kill the ffmpegs started early that nothing took (the command failed before its analysis, the master had
    no frame to show)."""
    global _head, _made
    for head in (_head, _made):
        if head is not None:
            head.discard()
    _head = _made = None
