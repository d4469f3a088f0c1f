"""Which ffmpeg runs a job: capabilities read once (path + mtime), equivalents, the bundled build, errors that say why."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import pytest

from config.errors import ToolError
from config.tools import bundled_ffmpeg, find_ffmpeg
from media.ffmpeg.caps import Job, capabilities, ffmpeg_for
from media.ffmpeg.errors import failure, first_error


def _wrapper(path: Path, hide_filter: str | None = None) -> Path:
    """A real ffmpeg behind a script; with `hide_filter`, its -filters listing leaves that filter out."""
    hide = f' | grep -v " {hide_filter} "' if hide_filter else ""
    path.write_text(f'#!/bin/sh\nif [ "$2" = "-filters" ]; then "{bundled_ffmpeg()}" "$@"{hide}; '
                    f'else exec "{bundled_ffmpeg()}" "$@"; fi\n')
    path.chmod(0o755)
    return path


@pytest.fixture(autouse=True)
def _fresh():
    find_ffmpeg.cache_clear()
    yield
    find_ffmpeg.cache_clear()


def test_capabilities_of_the_bundled_build() -> None:
    caps = capabilities(bundled_ffmpeg())
    assert caps.release is not None and caps.release >= (5, 1)
    assert {"ebur128", "idet", "drawtext", "scale"} <= caps.filters
    assert {"dnxhd", "prores_ks", "libx264", "pcm_s24le"} <= caps.encoders
    assert {"fps_mode", "sseof"} <= caps.options
    assert not any(caps.lacks(job) for job in Job)


def test_read_once_per_path_and_mtime(tmp_path: Path) -> None:
    exe = _wrapper(tmp_path / "ffmpeg")
    first = capabilities(str(exe))
    assert capabilities(str(exe)) is first  # cached
    os.utime(exe, ns=(first_mtime := exe.stat().st_mtime_ns, first_mtime + 10**9))
    again = capabilities(str(exe))
    assert again is not first and again.version == first.version  # read again: the file changed


def test_explicit_ffmpeg_lacking_a_filter_is_an_error_naming_it(tmp_path: Path) -> None:
    exe = _wrapper(tmp_path / "ffmpeg", hide_filter="ebur128")
    assert "ebur128" not in capabilities(str(exe)).filters
    with pytest.raises(ToolError, match="lacks the ebur128 filter") as err:
        ffmpeg_for(Job.QC_ANALYSIS, str(exe))
    assert str(exe) in str(err.value) and "QC analysis" in str(err.value)
    assert ffmpeg_for(Job.PROXY_ENCODE, str(exe)).path == str(exe)  # the proxies need no ebur128


def test_ffmpeg_on_path_lacking_a_filter_gives_way_to_the_bundled_build_said_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    _wrapper(tmp_path / "ffmpeg", hide_filter="idet")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with caplog.at_level(logging.WARNING, logger="postprod.ffmpeg"):
        chosen = ffmpeg_for(Job.QC_ANALYSIS)
        assert ffmpeg_for(Job.QC_ANALYSIS).path == chosen.path == bundled_ffmpeg()
    [notice] = [r.getMessage() for r in caplog.records]
    assert "lacks the idet filter" in notice and capabilities(bundled_ffmpeg()).version in notice
    assert capabilities(str(tmp_path / "ffmpeg")).version in notice


def test_an_ffmpeg_failure_says_its_first_meaningful_line(ffmpeg: str) -> None:
    proc = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "level+error", "-f", "lavfi", "-i",
                           "sine=d=0.1", "-af", "ebur128=framelog=nonsense", "-f", "null", "-"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    line = first_error(proc.stderr, proc.returncode)
    assert line.startswith("ebur128: ") and "nonsense" in line, line
    message = failure(Job.QC_ANALYSIS, Path("/masters/PAD v1.mxf"), proc.stderr, proc.returncode, "5.1.9")
    assert message.startswith("QC analysis of PAD v1.mxf failed (ffmpeg 5.1.9): ebur128: ")


def test_first_error_skips_lines_that_only_say_something_failed() -> None:
    stderr = ("[Parsed_ebur128_0 @ 0x55d0] [error] Unable to parse option value \"quiet\"\n"
              "[Parsed_ebur128_0 @ 0x55d0] [error] Error setting option framelog to value quiet.\n"
              "[fatal] Error initializing complex filters.\n[fatal] Invalid argument\n")
    assert first_error(stderr) == 'ebur128: Unable to parse option value "quiet"'
    assert first_error("", 1) == "ffmpeg exit 1"


def test_an_ffmpeg_refusing_the_decode_check_is_a_tool_error_not_a_verdict_on_the_file(
        tmp_path: Path, make_media) -> None:
    from conftest import small_clip

    from media.probe import probe_file

    # An MXF: its tail is decoded (a MOV's sample tables would prove it whole without ffmpeg).
    clip = make_media("A001C009.mxf", small_clip(seconds=4.0, codec="dnxhr_lb", width=640, height=360))
    old = tmp_path / "ffmpeg"  # an ffmpeg that does not know -sseof
    old.write_text(f'#!/bin/sh\nfor a in "$@"; do [ "$a" = "-sseof" ] && {{ echo "Unrecognized option \'sseof\'." >&2; '
                   f'echo "Error splitting the argument list: Option not found" >&2; exit 8; }}; done\n'
                   f'exec "{bundled_ffmpeg()}" "$@"\n')
    old.chmod(0o755)
    with pytest.raises(ToolError, match=r"decode check of A001C009.mxf failed .*Unrecognized option 'sseof'"):
        probe_file(clip, ffmpeg=str(old), decode_check="tail")
