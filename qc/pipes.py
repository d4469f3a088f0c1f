"""The QC pass's raw streams into its numpy meters: pipes that hold ten frames, one reader thread a stream.

No numpy here: the meters are handed in once ffmpeg runs (qc/analyse.py), so numpy loads beside its start; meanwhile
the pipes are read ahead into memory (`meanwhile`), so that ffmpeg is not held up by a full pipe while it loads.
"""

from __future__ import annotations

import fcntl
import io
import os
import select
import subprocess
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from qc.analysis import Progress
    from qc.meters import PictureMeter, SoundMeter

PIPE_BYTES = 1 << 20  # Linux's default most for an unprivileged pipe: 10 reduced HD frames, 0.7 s of 8-channel sound


def widen(fd: int) -> None:
    """Make a pipe hold PIPE_BYTES instead of 64 KiB: ffmpeg then writes frames ahead instead of waiting, at every
    frame, for the meters to read the last one (a reduced HD frame is 97 KB). Where the system refuses, as it was."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (OSError, AttributeError):  # over the user's pipe quota; not Linux
        pass


READ_AHEAD_BYTES = 64 << 20  # what a pipe may hold in memory while numpy loads (a second of reduced UHD frames)


class _ReadAhead(io.RawIOBase):
    """A pipe that a thread of its own reads into memory until `stop()` (the meters are made): ffmpeg goes on
    decoding meanwhile instead of waiting on a full pipe. Then it reads as the pipe would: what was read ahead,
    then the rest of the pipe, the same bytes in the same order."""

    def __init__(self, pipe: IO[bytes]) -> None:
        super().__init__()
        self._pipe = pipe
        self._fd = pipe.fileno()
        self._head = bytearray()
        self._taken = 0
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._ahead, name="qc-read-ahead", daemon=True)
        self._thread.start()

    def _ahead(self) -> None:
        poll = select.poll()
        poll.register(self._fd, select.POLLIN)
        poll.register(self._wake_r, select.POLLIN)
        try:
            while len(self._head) < READ_AHEAD_BYTES:
                if any(fd == self._wake_r for fd, _ in poll.poll()):
                    return
                data = os.read(self._fd, PIPE_BYTES)
                if not data:
                    return
                self._head += data
        except (OSError, ValueError):  # the pipe is gone (a stop): the reader meets that on the pipe itself
            return

    def stop(self) -> None:
        """End the reading ahead (it ends by itself at the pipe's end or READ_AHEAD_BYTES)."""
        if self._wake_w < 0:
            return
        os.write(self._wake_w, b".")
        self._thread.join()
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._wake_r = self._wake_w = -1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001
        self.stop()
        if self._taken < len(self._head):
            n = min(len(buffer), len(self._head) - self._taken)
            buffer[:n] = self._head[self._taken:self._taken + n]
            self._taken += n
            if self._taken == len(self._head):
                self._head = bytearray()
                self._taken = 0
            return n
        return os.readv(self._fd, [buffer])

    def close(self) -> None:
        self.stop()
        self._pipe.close()
        super().close()


def meanwhile(pipes: list[IO[bytes]], work: Callable[[], None]) -> list[IO[bytes]]:
    """Do `work` (make the meters: numpy's import, the first time) while threads read `pipes` ahead into memory;
    returns files that read as the pipes would have (what was read ahead, then the rest)."""
    ahead = [_ReadAhead(pipe) for pipe in pipes]
    try:
        work()
    finally:
        for one in ahead:
            one.stop()
    return [io.BufferedReader(one, PIPE_BYTES) for one in ahead]


def _read_exact(fh: IO[bytes], view: memoryview) -> int:
    n = 0
    while n < len(view):
        got = fh.readinto(view[n:])  # type: ignore[attr-defined]
        if not got:
            break
        n += got
    return n


def picture_reader(pipe: IO[bytes], picture: PictureMeter, rate: Fraction, total_seconds: float,  # noqa: ANN201
                   progress: Progress | None, stop: Callable[[], bool] | None = None):
    """Raw reduced frames from ffmpeg's stdout into the picture meter, 25 at a time (until `stop()` says so)."""

    def read() -> None:
        batch = picture.batch_buffer(25)
        raw = memoryview(batch.reshape(-1).view("u1"))
        while True:
            n = _read_exact(pipe, raw)
            frames = n // picture.frame_bytes
            if frames:
                picture.feed(batch[:frames])
                if progress:
                    progress(float(picture.frames / rate), total_seconds)
            if n < len(raw) or (stop is not None and stop()):
                break
        picture.finish()

    return read


def sound_reader(pipe: IO[bytes], sound: SoundMeter):  # noqa: ANN201
    """Raw float samples from a pipe into the sound meter, a second at a time; the pipe is closed at its end."""

    def read() -> None:
        with pipe as fh:
            chunk = sound.sr * sound.ch * 4
            while data := fh.read(chunk):
                sound.feed(data)
        sound.finish()

    return read


def read_all(jobs: list[Callable[[], None]], procs: tuple[subprocess.Popen, ...]) -> float:
    """Run the readers in threads of their own until their pipes end, then wait for `procs`; the readers' CPU
    seconds. A reader's failure kills the ffmpeg processes and is raised here."""
    failures: list[BaseException] = []
    meter_cpu: list[float] = []

    def guarded(job) -> None:  # noqa: ANN001
        c0 = time.thread_time()
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failures.append(exc)
            for proc in procs:
                proc.kill()
        meter_cpu.append(time.thread_time() - c0)

    readers = [threading.Thread(target=guarded, args=(job,), daemon=True) for job in jobs]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    for proc in procs:
        proc.wait()
    if failures:
        raise failures[0]
    return round(sum(meter_cpu), 3)

