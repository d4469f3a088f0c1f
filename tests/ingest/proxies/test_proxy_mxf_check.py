"""The avid-dnxhr-lb proxy (DNxHR in MXF, the reel as its tape's package name) is checked after its encode by our
own MXF reader (media/mxf_facts.py), not MediaInfo: what the reader finds equals MediaInfo's probe, and a proxy
whose reel or frames differ from its source's is still refused, on what the reader found.

Real ffmpeg and MediaInfo; the faults come from a wrapper that runs the real ffmpeg with one of postprod's
arguments changed (the reel, the start timecode, the frames), keeping a copy of what the check read.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import small_clip
from test_proxy_encode_report import nothing_recorded

from ingest.catalogue import Catalogue
from ingest.proxies.make import plan_batch, run_batch
from media.facts import own_tracks
from media.probe import probe_file


@pytest.fixture()
def clip(make_media) -> Path:
    return make_media("A001C007.mov", small_clip(seconds=1.0, timecode="10:00:00:00", reel="A001"))


@pytest.mark.parametrize("size", [(320, 180), (1920, 1080)])
def test_the_dnxhr_proxy_is_read_by_our_reader_as_mediainfo_reads_it(settings, make_media, size) -> None:
    """1080 lines: stored as 1088 in the MXF, shown as 1080 (MediaInfo's Height)."""
    width, height = size
    source = make_media(f"A001C{height:03d}.mov", small_clip(width=width, height=height, seconds=0.2,
                                                             timecode="10:00:00:00", reel="A001"))
    report = run_batch(plan_batch([source], "avid-dnxhr-lb", "test", settings))
    [result] = report.clips
    assert result.status == "made", result.error
    proxy = Path(result.proxy)
    tracks = own_tracks(proxy, proxy.stat().st_size)
    assert tracks is not None, "declined: MediaInfo would read the proxy after its encode"
    assert tracks.general_tracks[0].package_name == "A001"
    ours = probe_file(proxy, ffmpeg=None, decode_check="none", own=True)
    assert ours == probe_file(proxy, ffmpeg=None, decode_check="none", own=False)
    assert (ours.duration_frames, ours.start_timecode, ours.reel, ours.video.height) == (5, "10:00:00:00", "A001",
                                                                                        height)
    row = Catalogue(settings.db_url).lookup("test", str(proxy))
    assert row["reel"] == "A001" and row["duration_frames"] == 5 and row["role"] == "proxy"


def _refused(settings, workspace: Path, clip: Path, ffmpeg: str, change: str, to: str,  # noqa: ANN202
             extra: str = ""):
    """A batch of the clip through an ffmpeg whose encode has `change` changed to `to` in its arguments, and `extra`
    output options (everything else as postprod asks); the report, and the tracks our reader found in the file the
    check read."""
    seen = workspace / "seen.mxf"
    script = workspace / "ffmpeg-changed"
    script.write_text(f"""#!/bin/bash
case " $* " in *" -progress "*) ;; *) exec "{ffmpeg}" "$@" ;; esac
args=()
for a in "$@"; do args+=("${{a//{change}/{to}}}"); done
"{ffmpeg}" "${{args[@]:0:${{#args[@]}}-1}}" {extra} "${{args[-1]}}" || exit $?
cp "${{@: -1}}" "{seen}"
""")
    script.chmod(0o755)
    report = run_batch(plan_batch([clip], "avid-dnxhr-lb", "test",
                                  settings.model_copy(update={"ffmpeg": str(script)})))
    nothing_recorded(settings, report)
    tracks = own_tracks(seen, seen.stat().st_size)
    assert tracks is not None, "the refused proxy was read by MediaInfo, not by our reader"
    return report, tracks


def test_a_dnxhr_proxy_of_another_reel_is_refused(settings, workspace: Path, clip: Path, ffmpeg: str) -> None:
    report, tracks = _refused(settings, workspace, clip, ffmpeg, "reel_name=A001", "reel_name=B999")
    assert tracks.general_tracks[0].package_name == "B999"
    assert "proxy rejected: reel 'B999', the source has 'A001'" in report.clips[0].error


def test_a_dnxhr_proxy_holding_fewer_frames_is_refused(settings, workspace: Path, clip: Path, ffmpeg: str) -> None:
    report, tracks = _refused(settings, workspace, clip, ffmpeg, "A001", "A001", "-frames:v 10")
    assert tracks.video_tracks[0].frame_count == "10"
    assert "proxy rejected: 10 frames, the source has 25" in report.clips[0].error


def test_a_dnxhr_proxy_of_another_start_timecode_is_refused(settings, workspace: Path, clip: Path,
                                                            ffmpeg: str) -> None:
    report, _ = _refused(settings, workspace, clip, ffmpeg, "10:00:00:00", "11:00:00:00")
    assert "start timecode 11:00:00:00, the source has 10:00:00:00" in report.clips[0].error


def test_a_dnxhr_proxy_of_a_source_without_timecode_is_read_by_our_reader(settings, make_media) -> None:
    """ffmpeg's MXF has a timecode track even then (from 00:00:00:00): our reader reads it as MediaInfo does."""
    source = make_media("A001C009.mov", small_clip(seconds=0.2))
    report = run_batch(plan_batch([source], "avid-dnxhr-lb", "test", settings))
    [result] = report.clips
    assert result.status == "made", result.error
    proxy = Path(result.proxy)
    assert own_tracks(proxy, proxy.stat().st_size) is not None
    ours = probe_file(proxy, ffmpeg=None, decode_check="none", own=True)
    assert ours == probe_file(proxy, ffmpeg=None, decode_check="none", own=False)
    assert ours.duration_frames == 5
