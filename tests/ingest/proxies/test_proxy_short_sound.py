"""Issue 14, case 8: a clip whose sound ends a few frames before its picture gets every frame in every preset."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import small_clip

from ingest.proxies.make import plan_batch, run_batch
from media.probe import probe_file


@pytest.mark.parametrize("preset", ["avid-dnxhr-lb", "prores-proxy"])
def test_sound_shorter_than_picture_is_padded_so_every_frame_is_made(preset, settings, workspace: Path,
                                                                     make_media) -> None:
    # 50 frames of picture, 47 frames of sound: MXF OP1a's muxer stops at its shortest track.
    clip = make_media("A001C007.mov", small_clip(seconds=2.0, audio_seconds=1.88, reel="A001", audio_channels=2))
    source = probe_file(clip, decode_check="none")
    assert source.duration_frames == 50
    assert source.audio[0].duration_samples <= 48000 * (2.0 - 2 / 25)  # two frames short, at least
    card = workspace / "A001"
    card.mkdir()
    shutil.copy2(clip, card / clip.name)
    [made] = run_batch(plan_batch([card], preset, "test", settings)).clips
    assert made.status == "made", made.error
    proxy = probe_file(Path(made.proxy), decode_check="full", ffmpeg=settings.ffmpeg_exe())
    assert proxy.error is None and proxy.duration_frames == 50
    assert sum(a.channels for a in proxy.audio) == 2
