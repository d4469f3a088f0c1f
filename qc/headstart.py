"""The QC's ffmpeg started before the command's heavy modules load, its filter graphs handed over once known.

An ffmpeg's start is mostly the dynamic linking of its libraries (Debian's 5.1: about 0.1 s of CPU, before its
`main`), and `postprod qc` of a short master used to start it only after pydantic, the settings, the profile and
the probe. `start` (cli/commands/qc.py, before those load) starts the one-process pass's ffmpeg with the command
line a master with sound gets, its three graphs to be read from pipes (`-filter_complex_script pipe:N`: ffmpeg
reads such options before it opens its input, so it waits there); the analysis (qc/analyse.py) takes it only if
the command it built is that one token for token, each `-filter_complex G` in place of a
`-filter_complex_script` whose pipe then gets G (the same option: ffmpeg reads the text and adds the graph as
`-filter_complex` does). Anything else (another ffmpeg in the settings, a master without sound, a long master
measured by two processes) and it is killed unused: the pass runs as it always did.

Only for an ffmpeg before 7.0 (`-filter_complex_script` is deprecated from 7.1; later ones are not started early).
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
    proc: subprocess.Popen | None = None
    running: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def matches(self, command: list[str]) -> list[str] | None:
        """The graphs of `command` if it is this ffmpeg's command with them in their places, else None."""
        if len(command) != len(self.command):
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
        try:
            for fd, graph in zip(self.graph_fds, graphs, strict=True):
                data = graph.encode()
                while data:
                    data = data[os.write(fd, data):]
                os.close(fd)
        except OSError:
            return False
        finally:
            self._close_graphs()
        return True

    def _close_graphs(self) -> None:
        for fd in self.graph_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.graph_fds = []

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


def start(master: Path, configured: str | None) -> None:
    """Start the pass's ffmpeg for `master` (an absolute path) with the ffmpeg `configured` names (the settings'
    POSTPROD_FFMPEG), where the analysis may take it. Never fails: without it the pass starts as before."""
    global _head
    if _head is not None or not master.is_file():
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
    pipes = [os.pipe() for _ in range(GRAPHS)]
    sound_read, sound_write = os.pipe()
    graphs = [arg for r, _ in pipes for arg in ("-filter_complex_script", f"pipe:{r}")]
    command = [ffmpeg, *QUIET, "-loglevel", "level+error", "-threads", "0", "-i", source, *graphs,
               "-map", "[vpic]", "-fps_mode", "passthrough", "-f", "rawvideo", "pipe:1",
               "-map", "[aout]", "-f", "null", "-", "-map", "[araw]", "-f", "f32le", f"pipe:{sound_write}"]
    head = Head(ffmpeg, source, folder, command, [w for _, w in pipes], sound_read, sound_write,
                folder / "stderr-head.txt")
    try:
        with head.stderr.open("w") as errfh:
            head.proc = head.running.enter_context(children.popen(
                command, stdout=subprocess.PIPE, stderr=errfh, stdin=subprocess.DEVNULL,
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
    global _head
    head, _head = _head, None
    if head is not None and (head.ffmpeg, head.source) != (ffmpeg, source):
        head.discard()
        return None
    return head


def discard() -> None:
    """Kill the ffmpeg started early if nothing took it (the command failed before its analysis)."""
    global _head
    head, _head = _head, None
    if head is not None:
        head.discard()
