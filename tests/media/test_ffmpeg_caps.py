"""Which ffmpeg runs a job: capabilities read once per executable (kept on disk), equivalents, the bundled build, errors that say why."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
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


def test_an_ffmpeg_refusing_the_decode_check_is_a_tool_error_not_a_verdict_on_the_file(tmp_path: Path) -> None:
    from media.probe import probe_file

    # Motion JPEG in a MOV: its tail is decoded (ProRes's or DNxHR's frames would prove it whole without ffmpeg).
    clip = tmp_path / "A001C009.mov"
    subprocess.run([bundled_ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4", "-c:v",
                    "mjpeg", str(clip)], check=True)
    old = tmp_path / "ffmpeg"  # an ffmpeg that does not know -sseof
    old.write_text(f'#!/bin/sh\nfor a in "$@"; do [ "$a" = "-sseof" ] && {{ echo "Unrecognized option \'sseof\'." >&2; '
                   f'echo "Error splitting the argument list: Option not found" >&2; exit 8; }}; done\n'
                   f'exec "{bundled_ffmpeg()}" "$@"\n')
    old.chmod(0o755)
    with pytest.raises(ToolError, match=r"decode check of A001C009.mov failed .*Unrecognized option 'sseof'"):
        probe_file(clip, ffmpeg=str(old), decode_check="tail")


# Kept on disk (media/ffmpeg/caps_store.py): a second process asks ffmpeg nothing.

def _logging_wrapper(path: Path, ffmpeg: str, log: Path, fail_when: Path | None = None) -> Path:
    """A real ffmpeg behind a script that notes each run in `log`; while `fail_when` exists, its -filters
    run is killed (as an interrupted query is)."""
    fail = f'if [ "$2" = "-filters" ] && [ -e "{fail_when}" ]; then kill -9 $$; fi\n' if fail_when else ""
    path.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n{fail}exec "{ffmpeg}" "$@"\n')
    path.chmod(0o755)
    return path


def _version_in_new_process(exe: Path, cache: Path) -> str:
    code = "import sys; from media.ffmpeg.caps import capabilities; print(capabilities(sys.argv[1]).version)"
    env = {**os.environ, "POSTPROD_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, "-c", code, str(exe)], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).parents[2], timeout=120, check=True)
    return proc.stdout.strip()


def _runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_second_process_reads_the_capabilities_from_the_cache(tmp_path: Path, ffmpeg: str) -> None:
    log, cache = tmp_path / "runs.log", tmp_path / "cache"
    exe = _logging_wrapper(tmp_path / "ffmpeg", ffmpeg, log)
    version = _version_in_new_process(exe, cache)
    asked = _runs(log)
    assert asked == 5 and version == capabilities(ffmpeg).version  # -version, -h long, ...
    [kept] = (cache / "ffmpeg").glob("caps-*.json")
    assert json.loads(kept.read_text())["ffmpeg"] == str(exe.resolve())

    assert _version_in_new_process(exe, cache) == version
    assert _runs(log) == asked  # the second process ran no ffmpeg

    os.utime(exe, ns=(exe.stat().st_atime_ns, exe.stat().st_mtime_ns + 10**9))  # "a new ffmpeg"
    assert _version_in_new_process(exe, cache) == version
    assert _runs(log) == 2 * asked  # read again
    assert _version_in_new_process(exe, cache) == version and _runs(log) == 2 * asked  # and kept again


def test_a_corrupt_cache_file_is_ignored_and_written_again(tmp_path: Path, ffmpeg: str) -> None:
    log, cache = tmp_path / "runs.log", tmp_path / "cache"
    exe = _logging_wrapper(tmp_path / "ffmpeg", ffmpeg, log)
    version = _version_in_new_process(exe, cache)
    [kept] = (cache / "ffmpeg").glob("caps-*.json")
    good = json.loads(kept.read_text())
    for broken in (b"\x00\xff not json", b'{"format": 1}', json.dumps({**good, "filters": "scale"}).encode(),
                   b""):
        kept.write_bytes(broken)
        before = _runs(log)
        assert _version_in_new_process(exe, cache) == version
        assert _runs(log) == before + 5  # asked ffmpeg again
        assert json.loads(kept.read_text()) == good  # and wrote it back whole
    kept.unlink()
    kept.mkdir()  # neither readable nor writable as a file: ffmpeg is asked each time, no error
    before = _runs(log)
    assert _version_in_new_process(exe, cache) == version and _runs(log) == before + 5


def test_an_interrupted_query_is_an_error_and_is_kept_nowhere(tmp_path: Path, ffmpeg: str) -> None:
    log, cache, flag = tmp_path / "runs.log", tmp_path / "cache", tmp_path / "fail"
    exe = _logging_wrapper(tmp_path / "ffmpeg", ffmpeg, log, fail_when=flag)
    flag.touch()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POSTPROD_CACHE_DIR", str(cache))
        with pytest.raises(ToolError, match=r"-filters` was stopped by signal 9"):
            capabilities(str(exe))
        assert not list(cache.rglob("*.json"))  # nothing on disk
        flag.unlink()
        caps = capabilities(str(exe))  # nor in this process: asked again, whole
        assert {"ebur128", "scale"} <= caps.filters and not caps.lacks(Job.QC_ANALYSIS)
        assert len(list(cache.rglob("caps-*.json"))) == 1
