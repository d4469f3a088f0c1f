"""The proxy's filter graph converts the picture's pixel format no more often than the command typed by hand:
the scaler converts, and at most one conversion follows the burn-in (10-bit ProRes: the burn-in draws 8-bit).

Read from ffmpeg's own log of the graph it built (real ffmpeg: the bundled build and the distribution's).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import small_clip

from config.settings import load_settings
from config.tools import bundled_ffmpeg
from ingest.proxies.encode import ffmpeg_command
from ingest.proxies.make import plan_batch
from ingest.proxies.verify import describe_source

FFMPEGS = sorted({bundled_ffmpeg(),
                  *(p for p in (shutil.which("ffmpeg"), "/usr/bin/ffmpeg") if p and Path(p).is_file())})


@pytest.mark.parametrize("build", FFMPEGS, ids=lambda p: Path(p).name)
@pytest.mark.parametrize("preset", ["prores-proxy", "h264-review", "avid-dnxhr-lb"])
def test_the_picture_is_converted_at_most_once_after_scaling(workspace: Path, make_media, build: str,
                                                             preset: str) -> None:
    clip = make_media("A001C001.mov", small_clip(seconds=0.2, codec="prores_hq", timecode="10:00:00:00",
                                                 reel="A001"))
    settings = load_settings(workspace / "postprod.toml").model_copy(update={"ffmpeg": build})
    batch = plan_batch([clip], preset, "test", settings, out=workspace / "proxies")
    media = describe_source(clip, clip.stat(), None)
    out = workspace / f"out{batch.preset.extension}"
    cmd, *_ = ffmpeg_command(batch, media, out)
    cmd[cmd.index("level+error")] = "level+debug"
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    inserted = [ln for ln in run.stderr.splitlines() if "auto-inserting filter 'auto_scale" in ln]
    assert len(inserted) <= 1, inserted
    if inserted:  # the one conversion is the last step, into the encoder's format
        assert re.search(r"and the filter '(Parsed_)?format(_\d+)?'", inserted[0]), inserted[0]
