"""Threads per encode: the cores shared by the encodes that actually run at once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import small_clip

import ingest.proxies.encode as encode_module
from ingest.proxies.encode import encode_threads, ffmpeg_command
from ingest.proxies.make import ProxyBatch, make_proxy, plan_batch, run_batch
from media.probe import probe_file


def test_a_batch_of_one_clip_gets_every_core(settings, workspace: Path, make_media) -> None:
    clip = make_media("threads.mov", small_clip())
    batch = plan_batch([clip], "h264-review", "test", settings, workers=2)
    assert batch.workers == 2 and len(batch.jobs) == 1
    assert encode_threads(batch) is None  # ffmpeg's own count: all the cores, as typed by hand
    cmd, *_ = ffmpeg_command(batch, probe_file(clip, decode_check="none"), workspace / "out.mov")
    assert "-threads" not in cmd and "-filter_complex_threads" not in cmd


def test_encodes_at_once_share_the_cores(settings, workspace: Path, make_media) -> None:
    card = workspace / "card"
    card.mkdir()
    for i in range(3):
        shutil.copy(make_media("threads.mov", small_clip()), card / f"A001C00{i}.mov")
    batch = plan_batch([card], "h264-review", "test", settings, workers=2)
    assert len(batch.jobs) == 3 and encode_threads(batch) == max(1, (os.cpu_count() or 2) // 2)


def test_clips_skipped_or_refused_leave_their_cores_to_the_encodes(settings, workspace: Path, make_media,
                                                                    monkeypatch) -> None:
    card = workspace / "card"
    card.mkdir()
    for i in range(3):
        shutil.copy(make_media("threads.mov", small_clip()), card / f"A001C00{i}.mov")
    (card / "A001C000.mov").write_bytes(b"not a clip")  # refused
    run_batch(plan_batch([card / "A001C001.mov"], "h264-review", "test", settings, workers=2))  # then skipped
    batch = plan_batch([card], "h264-review", "test", settings, workers=2)
    seen: list[int | None] = []
    real = encode_module.encode_threads

    def spy(b: ProxyBatch) -> int | None:
        seen.append(real(b))
        return seen[-1]

    monkeypatch.setattr(encode_module, "encode_threads", spy)
    # One at a time, in order, so that the encode starts once the others are settled.
    results = [make_proxy(job, batch) for job in batch.jobs]
    assert [r.status for r in results] == ["error", "skipped", "made"]
    assert seen == [None]  # the one encode: every core
    first = plan_batch([card / "A001C002.mov", card / "A001C001.mov"], "h264-review", "test", settings, workers=2)
    first.encodes.started(first.jobs[0])
    assert encode_threads(first) == max(1, (os.cpu_count() or 2) // 2)  # the second may still encode
    first.encodes.settled(first.jobs[1])
    assert encode_threads(first) is None


def test_a_batch_never_encodes_more_at_once_than_its_bound(settings, workspace: Path, make_media,
                                                           monkeypatch) -> None:
    """The batch handles one clip more than it encodes (probing the next during an encode): the encodes
    themselves stay within proxy_workers."""
    import threading

    import ingest.proxies.make as make_module

    card = workspace / "card"
    card.mkdir()
    for i in range(4):
        shutil.copy(make_media("threads.mov", small_clip(seconds=0.5)), card / f"A001C00{i}.mov")
    lock, now, most = threading.Lock(), [0], [0]
    real = make_module.run_ffmpeg

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(make_module, "run_ffmpeg", counted)
    report = run_batch(plan_batch([card], "h264-review", "test", settings, workers=1))
    assert report.summary["made"] == 4 and most[0] == 1
