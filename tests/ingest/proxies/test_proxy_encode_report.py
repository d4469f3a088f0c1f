"""A proxy is proved from the encode's own report (frames, its end, errors) and a probe of the file, without a
second decode: an encode cut short, or a file whose frames differ from what was encoded, is still refused.

Real ffmpeg throughout; where a fault cannot be had from a healthy ffmpeg, a wrapper script runs the real one
and then does what a failing disk, a killed muxer or a broken build would.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from conftest import small_clip

from ingest.catalogue import Catalogue
from ingest.proxies.make import plan_batch, run_batch
from ingest.proxies.presets import builtin_presets
from ingest.proxies.store import ProxyStore


@pytest.fixture()
def clip(make_media) -> Path:
    return make_media("A001C007.mov", small_clip(seconds=1.0, timecode="10:00:00:00", reel="A001"))


def wrapper(workspace: Path, ffmpeg: str, after: str) -> Path:
    """An ffmpeg that runs the real one; for an encode (it has -progress), `after` then runs with $OUT the output
    file and $REPORT the encode's -progress report (which it passes on)."""
    script = workspace / "ffmpeg-wrapper"
    script.write_text(f"""#!/bin/bash
case " $* " in *" -progress "*) ;; *) exec "{ffmpeg}" "$@" ;; esac
OUT="${{@: -1}}"
REPORT="$(mktemp)"
"{ffmpeg}" "$@" > "$REPORT" || exit $?
{after}
cat "$REPORT"; rm -f "$REPORT"
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def nothing_recorded(settings, report) -> None:  # noqa: ANN001
    [result] = report.clips
    assert result.status == "error" and result.proxy is None
    assert not [p for p in Path(report.root).rglob("*") if p.is_file()], "a refused proxy is never left in place"
    assert list(Catalogue(settings.db_url).rows("test", role="proxy")) == []
    assert ProxyStore(settings.db_url).at("test", str(Path(report.root) / "A001C007.mov")) is None


def test_an_encode_that_stops_early_is_refused(settings, workspace: Path, clip: Path) -> None:
    """ffmpeg ends well (exit 0, its end reported) having encoded 10 of the 25 frames."""
    short = workspace / "short.toml"
    short.write_text(builtin_presets()["prores-proxy"].read_text()
                     .replace('name = "prores-proxy"', 'name = "short"')
                     .replace('"-pix_fmt", "yuv422p10le"]', '"-pix_fmt", "yuv422p10le", "-frames:v", "10"]'))
    report = run_batch(plan_batch([clip], str(short), "test", settings))
    nothing_recorded(settings, report)
    assert "proxy rejected: 10 frames, the source has 25" in report.clips[0].error


def test_an_encode_that_never_reports_its_end_is_refused(settings, workspace: Path, clip: Path,
                                                         ffmpeg: str) -> None:
    """The file looks whole to MediaInfo, but the encode's report stops before its end (progress=end)."""
    cut = wrapper(workspace, ffmpeg, """sed -i '/^progress=end/d' "$REPORT" """)
    mine = settings.model_copy(update={"ffmpeg": str(cut)})
    report = run_batch(plan_batch([clip], "prores-proxy", "test", mine))
    nothing_recorded(settings, report)
    assert "the encode did not report its end" in report.clips[0].error


def test_a_file_holding_other_frames_than_were_encoded_is_refused(settings, workspace: Path, clip: Path,
                                                                   ffmpeg: str) -> None:
    """The encode reports 25 frames; the file written holds 10 (its tail lost after ffmpeg ended)."""
    lose = wrapper(workspace, ffmpeg, f""""{ffmpeg}" -loglevel error -y -i "$OUT" -map 0 -c copy -frames:v 10 \
-f mov "$OUT.cut" && mv "$OUT.cut" "$OUT" """)
    mine = settings.model_copy(update={"ffmpeg": str(lose)})
    report = run_batch(plan_batch([clip], "prores-proxy", "test", mine))
    nothing_recorded(settings, report)
    error = report.clips[0].error
    assert "10 frames, the source has 25" in error and "the encode made 25 frames, the proxy file holds 10" in error


def test_a_whole_encode_reports_every_frame(settings, workspace: Path, clip: Path, ffmpeg: str) -> None:
    """The same wrapper passing everything on: the proxy is made (the checks above fail for their cause only)."""
    same = wrapper(workspace, ffmpeg, "true")
    report = run_batch(plan_batch([clip], "prores-proxy", "test", settings.model_copy(update={"ffmpeg": str(same)})))
    [result] = report.clips
    assert result.status == "made", result.error
    assert result.frames == 25 and result.source_hash and result.source_hash.startswith("xxh")
