"""Threads per encode: the cores shared by the encodes that actually run at once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import small_clip

from ingest.proxies.encode import encode_threads, ffmpeg_command
from ingest.proxies.make import plan_batch
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
