"""Proxies: real encodes of tiny clips, re-probed; burn-in, ALE, idempotence, kill-safety, bad input."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import small_clip

from config.errors import ConfigError, UnknownNameError
from config.locks import create_locked
from ingest.catalogue import Catalogue
from ingest.hashing import hash_file
from ingest.proxies.make import TEMP_MARK, burnin_filters, burnin_layout, plan_batch, proxy_size, run_batch
from ingest.proxies.presets import builtin_presets, load_preset
from media.probe import probe_file
from media.synth import TakeSpec, truncated_copy

PRESETS = ["avid-dnxhr-lb", "prores-proxy", "h264-review"]


def card_with(tmp: Path, name: str, clips: dict[str, Path]) -> Path:
    card = tmp / name
    for rel, src in clips.items():
        (card / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, card / rel)
    return card


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture()
def a_clip(make_media) -> Path:
    return make_media("A001C001.mov", small_clip(seconds=1.0, timecode="10:00:00:00", reel="A001", audio_channels=3))


# -- presets ------------------------------------------------------------------------------------


def test_builtin_presets_load_and_unknown_name_lists_them() -> None:
    assert set(PRESETS) <= set(builtin_presets())
    for name in PRESETS:
        assert load_preset(name).name == name
    with pytest.raises(UnknownNameError, match="available: avid-dnxhr-lb, h264-review, prores-proxy"):
        load_preset("dnxhd-999")


def test_bad_preset_file_names_the_field(tmp_path: Path) -> None:
    text = (builtin_presets()["h264-review"]).read_text().replace('rule = "height"', 'rule = "height"\nfoo = 1')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(ConfigError, match=r"field 'size.foo': unknown field"):
        load_preset(bad)


# -- every preset keeps frames, start timecode, reel, audio ----------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
def test_proxy_keeps_frames_timecode_reel_and_audio(preset: str, settings, workspace: Path, a_clip: Path) -> None:
    card = card_with(workspace, "DAY01_A001", {"Clips/A001C001.mov": a_clip})
    report = run_batch(plan_batch([card], preset, "test", settings))
    [clip] = report.clips
    assert clip.status == "made", clip.error
    proxy = Path(clip.proxy)
    ext = load_preset(preset).extension
    assert proxy == workspace / "data" / "proxies" / "test" / preset / "DAY01_A001" / "Clips" / f"A001C001{ext}"
    made = probe_file(proxy, decode_check="full", ffmpeg=settings.ffmpeg_exe())
    assert made.error is None
    assert made.duration_frames == 25
    assert made.video.frame_rate == Fraction(25)
    assert made.start_timecode == "10:00:00:00"
    assert made.reel == "A001"
    assert sum(a.channels for a in made.audio) == 3
    if preset == "avid-dnxhr-lb":
        assert [a.channels for a in made.audio] == [1, 1, 1]  # one mono track per channel for Avid
    # Recorded as a proxy in the catalogue; nothing else left in the proxy tree.
    row = Catalogue(settings.db_url).lookup("test", str(proxy))
    assert row["role"] == "proxy" and row["reel"] == "A001" and row["duration_frames"] == 25
    # Its hash (read beside its probe, by its temporary name) is the placed file's.
    assert (row["hash_algorithm"], row["hash"]) == ("xxh128", hash_file(proxy, ["xxh128"])["xxh128"])
    assert row["size"] == proxy.stat().st_size
    leftovers = [p for p in files_under(proxy.parent.parent) if p.suffix != ".ale" and p != proxy]
    assert leftovers == []


def test_drop_frame_2997_keeps_its_timecode(settings, workspace: Path, make_media) -> None:
    src = make_media("C002_df.mov", small_clip(rate=Fraction(30000, 1001), seconds=0.5, timecode="01:00:59;28",
                                               reel="C002", audio_channels=1))
    report = run_batch(plan_batch([src], "h264-review", "test", settings))
    [clip] = report.clips
    assert clip.status == "made", clip.error
    made = probe_file(Path(clip.proxy), decode_check="none")
    assert made.video.frame_rate == Fraction(30000, 1001)
    assert made.start_timecode == "01:00:59;28" and made.drop_frame
    assert made.duration_frames == 15
    assert made.reel == "C002"


def test_source_is_catalogued_original_and_proxy_points_at_it(settings, workspace: Path, a_clip: Path) -> None:
    from flows.ingest import run_ingest

    card = card_with(workspace, "A001", {"A001C001.mov": a_clip})
    run_ingest([str(card)], "test", settings)
    cat = Catalogue(settings.db_url)
    original = cat.lookup("test", str(card / "A001C001.mov"))
    report = run_batch(plan_batch([card], "h264-review", "test", settings))
    assert report.clips[0].source_hash == f"xxh128:{original['hash']}"  # the ingest's hash, not re-read
    proxy_row = cat.lookup("test", report.clips[0].proxy)
    assert proxy_row["role"] == "proxy" and proxy_row["source_id"] == original["id"]
    assert [r["path"] for r in cat.rows("test", role="proxy")] == [report.clips[0].proxy]


# -- size ----------------------------------------------------------------------------------------


def test_anamorphic_source_is_unsqueezed_never_upscaled(settings, workspace: Path, make_media) -> None:
    src = make_media("ana.mov", small_clip(seconds=0.2, pixel_aspect=Fraction(2), audio_channels=0))
    media = probe_file(src, decode_check="none")
    assert media.video.pixel_aspect == 2
    assert proxy_size(media, load_preset("h264-review")) == (640, 180)  # 540 asked, 180 lines at most
    assert proxy_size(media, load_preset("prores-proxy")) == (320, 90)  # half height, display aspect 32:9
    report = run_batch(plan_batch([src], "prores-proxy", "test", settings))
    made = probe_file(Path(report.clips[0].proxy), decode_check="none")
    assert (made.video.width, made.video.height, made.video.pixel_aspect) == (320, 90, 1)
    assert made.duration_frames == 5


def test_interlaced_source_keeps_its_frame_count(settings, workspace: Path, make_media) -> None:
    src = make_media("tff.mov", small_clip(seconds=0.4, interlaced="tff", codec="prores_hq", audio_channels=0))
    report = run_batch(plan_batch([src], "h264-review", "test", settings))
    [clip] = report.clips
    assert clip.status == "made", clip.error
    made = probe_file(Path(clip.proxy), decode_check="none")
    assert made.duration_frames == 10 and made.video.frame_rate == 25 and made.video.scan == "progressive"


# -- burn-in -------------------------------------------------------------------------------------


def _gray_frames(ffmpeg: str, path: Path, vf: str | None = None, lavfi: bool = False) -> list[bytes]:
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", *(["-f", "lavfi"] if lavfi else []), "-i", str(path)]
    if vf:
        cmd += ["-vf", vf]
    cmd += ["-f", "rawvideo", "-pix_fmt", "gray", "-"]
    return [subprocess.run(cmd, capture_output=True, check=True).stdout]


def _band(frame: bytes, width: int, top: int, bottom: int) -> bytes:
    return frame[top * width:bottom * width]


def _distance(a: bytes, b: bytes) -> int:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True))


def test_burnt_in_timecode_reads_each_frames_own_timecode(settings, workspace: Path, a_clip: Path) -> None:
    """Each proxy frame's burn-in band matches a drawing of *its* timecode better than its neighbours'.

    The band is opaque, so it depends only on the text: the reference is the same band drawn over a
    plain frame with a fixed string. No OCR needed: nearest template among the candidate timecodes.
    """
    ffmpeg = settings.ffmpeg_exe()
    report = run_batch(plan_batch([a_clip], "h264-review", "test", settings))
    proxy = Path(report.clips[0].proxy)
    source = probe_file(a_clip, decode_check="none")
    preset = load_preset("h264-review")
    width, height = proxy_size(source, preset)
    lay = burnin_layout(width, height, preset)
    top = height - lay.band
    [raw] = _gray_frames(ffmpeg, proxy)
    size = width * height
    frames = [raw[i * size:(i + 1) * size] for i in range(len(raw) // size)]
    assert len(frames) == 25

    def reference(frame_number: int) -> bytes:
        tc = (source.start + frame_number).format()
        vf = ",".join(f.text() for f in burnin_filters(source, width, height, preset, static_timecode=tc))
        [ref] = _gray_frames(ffmpeg, Path(f"color=c=gray:s={width}x{height}:r=25"), vf=f"{vf},trim=end_frame=1",
                             lavfi=True)
        return _band(ref[:size], width, top, height)

    refs = {n: reference(n) for n in range(25)}
    for n in (0, 1, 9, 10, 24):
        band = _band(frames[n], width, top, height)
        scores = {k: _distance(band, refs[k]) for k in refs}
        assert min(scores, key=scores.get) == n, (n, sorted(scores.items(), key=lambda kv: kv[1])[:3])
    assert _band(frames[3], width, top, height) != _band(frames[4], width, top, height)


# -- ALE -----------------------------------------------------------------------------------------


def test_ale_lists_every_clip_of_the_card(settings, workspace: Path, a_clip: Path, make_media) -> None:
    other = make_media("A001C002.mov", small_clip(seconds=0.6, timecode="10:02:13:05", reel="A001",
                                                  audio_channels=2))
    card = card_with(workspace, "A001", {"A001C001.mov": a_clip, "A001C002.mov": other})
    report = run_batch(plan_batch([card], "avid-dnxhr-lb", "test", settings))
    assert [c.status for c in report.clips] == ["made", "made"]
    ale = Path(report.ale[0])
    assert ale == workspace / "data" / "proxies" / "test" / "avid-dnxhr-lb" / "A001" / "A001.ale"
    lines = ale.read_text().splitlines()
    assert lines[:5] == ["Heading", "FIELD_DELIM\tTABS", "VIDEO_FORMAT\tCUSTOM", "AUDIO_FORMAT\t48khz", "FPS\t25"]
    header = lines[lines.index("Column") + 1].split("\t")
    rows = [dict(zip(header, ln.split("\t"), strict=True)) for ln in lines[lines.index("Data") + 1:]]
    assert rows == [
        {"Name": "A001C001", "Tracks": "VA1A2A3", "Start": "10:00:00:00", "End": "10:00:01:00",
         "Duration": "00:00:01:00", "Tape": "A001", "FPS": "25", "Source File": "A001C001.mov",
         "Proxy File": "A001C001.mxf"},
        {"Name": "A001C002", "Tracks": "VA1A2", "Start": "10:02:13:05", "End": "10:02:13:20",
         "Duration": "00:00:00:15", "Tape": "A001", "FPS": "25", "Source File": "A001C002.mov",
         "Proxy File": "A001C002.mxf"},
    ]
    # A second run makes nothing, and the ALE still lists both clips.
    again = run_batch(plan_batch([card], "avid-dnxhr-lb", "test", settings))
    assert [c.status for c in again.clips] == ["skipped", "skipped"]
    assert ale.read_text().splitlines() == lines


# -- idempotence, collisions, kill-safety ----------------------------------------------------------


def test_second_run_is_a_no_op_by_source_hash(settings, workspace: Path, a_clip: Path, make_media) -> None:
    card = card_with(workspace, "A001", {"A001C001.mov": a_clip})
    first = run_batch(plan_batch([card], "h264-review", "test", settings))
    proxy = Path(first.clips[0].proxy)
    before = proxy.stat().st_mtime_ns
    os.utime(card / "A001C001.mov")  # touched, same content: still the same proxy
    second = run_batch(plan_batch([card], "h264-review", "test", settings))
    assert second.clips[0].status == "skipped" and proxy.stat().st_mtime_ns == before
    assert second.clips[0].width == 320 and second.clips[0].audio_channels == 3
    # New content under the same name: a new proxy replaces the old one.
    shutil.copy2(make_media("other.mov", small_clip(seconds=0.4, timecode="11:00:00:00", reel="A001")),
                 card / "A001C001.mov")
    third = run_batch(plan_batch([card], "h264-review", "test", settings))
    assert third.clips[0].status == "made" and third.clips[0].frames == 10
    assert probe_file(proxy, decode_check="none").start_timecode == "11:00:00:00"
    assert len(list(Catalogue(settings.db_url).rows("test", role="proxy"))) == 1


def test_same_clip_names_on_different_cards_never_collide(settings, workspace: Path, a_clip: Path,
                                                          make_media) -> None:
    b = make_media("B.mov", small_clip(seconds=0.4, timecode="12:00:00:00", reel="B001", audio_channels=1))
    day1 = card_with(workspace / "day1", "A001", {"Clips/C001.mov": a_clip})
    day2 = card_with(workspace / "day2", "A001", {"Clips/C001.mov": b})  # same card name, same clip name
    other = card_with(workspace, "B001", {"Clips/C001.mov": b})
    report = run_batch(plan_batch([day1, day2, other], "h264-review", "test", settings))
    assert [c.status for c in report.clips] == ["made", "made", "made"]
    proxies = {c.source: Path(c.proxy) for c in report.clips}
    assert len(set(proxies.values())) == 3
    assert probe_file(proxies[str(day1 / "Clips/C001.mov")], decode_check="none").start_timecode == "10:00:00:00"
    assert probe_file(proxies[str(day2 / "Clips/C001.mov")], decode_check="none").start_timecode == "12:00:00:00"
    # The same again, in the other order: each source finds its own proxy.
    again = run_batch(plan_batch([other, day2, day1], "h264-review", "test", settings))
    assert {c.source: Path(c.proxy) for c in again.clips} == proxies
    assert {c.status for c in again.clips} == {"skipped"}


def test_stale_temp_of_a_killed_run_is_removed_and_never_catalogued(settings, workspace: Path,
                                                                     a_clip: Path) -> None:
    card = card_with(workspace, "A001", {"A001C001.mov": a_clip})
    folder = workspace / "data" / "proxies" / "test" / "h264-review" / "A001"
    folder.mkdir(parents=True)
    stale = folder / f".A001C001{TEMP_MARK}0badc0de.mp4"
    stale.write_bytes(b"half a proxy")
    live = folder / f".A001C001{TEMP_MARK}11ve11ve.mp4"
    fd = create_locked(live)  # another encode writing right now: must be left alone
    try:
        report = run_batch(plan_batch([card], "h264-review", "test", settings))
        assert report.cleaned == [str(stale)]
        assert not stale.exists() and live.exists()
    finally:
        os.close(fd)
        live.unlink()
    assert [p.name for p in files_under(folder)] == ["A001C001.mp4"]
    paths = [r["path"] for r in Catalogue(settings.db_url).rows("test")]
    assert paths == [str(folder / "A001C001.mp4")]


def _cli(workspace: Path, *args: str, env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
    full_env = {**os.environ, "POSTPROD_CONFIG": str(workspace / "postprod.toml"), **(env or {})}
    return subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()", *args], cwd=workspace,
                            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def test_killed_run_leaves_no_proxy_and_the_next_run_cleans_up(settings, workspace: Path, a_clip: Path) -> None:
    """A real kill: the encoder hangs (a wrapper around ffmpeg), the run is SIGKILLed mid-encode."""
    card = card_with(workspace, "A001", {"A001C001.mov": a_clip})
    mark = workspace / "encoder.pid"
    wrapper = workspace / "slow-ffmpeg"
    wrapper.write_text(f'#!/bin/sh\ncase "$*" in *-progress*) echo $$ > "{mark}"; exec sleep 60;; esac\n'
                       f'exec "{settings.ffmpeg_exe()}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    run = _cli(workspace, "proxy", str(card), "--preset", "h264-review", "-p", "test", "--json",
               env={"POSTPROD_FFMPEG": str(wrapper)})
    for _ in range(600):  # wait (up to a minute) for the encode to start
        if mark.exists() and mark.read_text().strip():
            break
        assert run.poll() is None, run.communicate()
        time.sleep(0.1)
    encoder_pid = int(mark.read_text())
    folder = workspace / "data" / "proxies" / "test" / "h264-review" / "A001"
    [partial] = folder.iterdir()  # only the temporary file, under its temporary name
    assert partial.name.startswith(".A001C001" + TEMP_MARK)
    run.send_signal(signal.SIGKILL)
    run.wait()
    for _ in range(100):  # the encoder dies with its parent
        try:
            os.kill(encoder_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the encoder outlived the killed run")
    assert not (folder / "A001C001.mp4").exists()
    assert list(Catalogue(settings.db_url).rows("test", role="proxy")) == []
    report = run_batch(plan_batch([card], "h264-review", "test", settings))
    assert len(report.cleaned) == 1 and report.clips[0].status == "made"
    assert [p.name for p in files_under(folder)] == ["A001C001.mp4"]


# -- bad input -----------------------------------------------------------------------------------


def test_bad_inputs_get_a_clear_error_each_and_no_partial_file(settings, workspace: Path, a_clip: Path,
                                                              make_media, ffmpeg: str) -> None:
    card = workspace / "BAD"
    card.mkdir()
    truncated_copy(make_media("cut.mov", small_clip(seconds=1.0, audio_channels=1)), card / "cut.mov", 0.5)
    (card / "garbage.mov").write_bytes(b"\x00not a movie at all" * 500)
    sequence = card / "VFX_plate"
    sequence.mkdir()
    for i in range(3):
        subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "color=s=64x36", "-frames:v", "1",
                        str(sequence / f"plate.{i:04d}.png")], check=True)
    shutil.copy2(a_clip, card / "good.mov")
    # Damage inside the picture data, headers intact: MediaInfo sees nothing, the decode does.
    subprocess.run([ffmpeg, "-loglevel", "error", "-i", str(a_clip), "-c", "copy", "-movflags", "+faststart",
                    str(workspace / "fast.mov")], check=True)
    data = bytearray((workspace / "fast.mov").read_bytes())
    for k in range(3, 8):
        at = len(data) * k // 10
        data[at:at + 3000] = bytes((i * 7919 + k) % 251 for i in range(3000))
    (card / "damaged.mov").write_bytes(bytes(data))
    wav = make_media("take.wav", TakeSpec(seconds=0.5, channels=2))
    report = run_batch(plan_batch([card, wav], "prores-proxy", "test", settings))
    by_name = {Path(c.source).name: c for c in report.clips}
    assert by_name["good.mov"].status == "made"
    assert by_name["cut.mov"].status == "error" and "cut short" in by_name["cut.mov"].error
    assert by_name["damaged.mov"].status == "error", by_name["damaged.mov"]
    assert "does not decode cleanly" in by_name["damaged.mov"].error, by_name["damaged.mov"].error
    assert by_name["garbage.mov"].status == "error" and "unknown format" in by_name["garbage.mov"].error
    assert by_name["VFX_plate"].status == "error" and "image sequence" in by_name["VFX_plate"].error
    assert by_name["take.wav"].status == "error" and by_name["take.wav"].error.startswith("sound only")
    assert report.summary == {"clips": 6, "made": 1, "skipped": 0, "errors": 5, "ignored": 0}
    out = workspace / "data" / "proxies" / "test" / "prores-proxy"
    assert [p.name for p in files_under(out)] == ["good.mov"]


def test_volume_that_refuses_the_file_gives_a_clean_error(workspace: Path, a_clip: Path) -> None:
    """A file size limit stands in for a full disk (ENOSPC needs a small filesystem; see docs/proxy.md)."""
    card = card_with(workspace, "A001", {"A001C001.mov": a_clip})

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))

    run = _cli(workspace, "proxy", str(card), "--preset", "avid-dnxhr-lb", "-p", "test", "--json",
               preexec_fn=limit)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 1, stderr
    report = json.loads(stdout)
    assert report["clips"][0]["status"] == "error"
    assert "refused the file" in report["clips"][0]["error"]
    folder = workspace / "data" / "proxies" / "test" / "avid-dnxhr-lb"
    assert files_under(folder) == []


# -- command line --------------------------------------------------------------------------------


def test_cli_json_shape_user_preset_and_exit_codes(workspace: Path, a_clip: Path) -> None:
    card = card_with(workspace, "A001", {"A001C001.mov": a_clip})
    mine = workspace / "tiny-review.toml"
    mine.write_text(builtin_presets()["h264-review"].read_text()
                    .replace('name = "h264-review"', 'name = "tiny-review"').replace("height = 540", "height = 90"))
    run = _cli(workspace, "proxy", str(card), "--preset", str(mine), "-p", "test", "--json",
               "--out", str(workspace / "px"))
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 0, stderr
    report = json.loads(stdout)
    assert set(report) == {"schema_version", "production", "preset", "fingerprint", "root", "workers", "encoder",
                           "started_at", "finished_at", "cleaned", "clips", "ale", "summary"}
    [clip] = report["clips"]
    assert set(clip) == {"source", "card", "relpath", "status", "proxy", "error", "encoder", "source_hash", "frames",
                         "rate", "start_timecode", "reel", "audio_channels", "width", "height", "seconds"}
    assert clip["proxy"] == str(workspace / "px" / "tiny-review" / "A001" / "A001C001.mp4")
    assert (clip["width"], clip["height"], clip["frames"], clip["rate"]) == (160, 90, 25, "25/1")
    assert report["summary"] == {"clips": 1, "made": 1, "skipped": 0, "errors": 0, "ignored": 0}
    missing = _cli(workspace, "proxy", str(workspace / "nope"), "--preset", "h264-review", "-p", "test")
    _, err = missing.communicate(timeout=60)
    assert missing.returncode == 2 and b"no such file or folder" in err.replace(b"\n", b" ").replace(b"  ", b" ")



# -- LUT -----------------------------------------------------------------------------------------


def test_show_lut_is_applied_and_a_bad_one_stops_the_run(settings, workspace: Path, a_clip: Path,
                                                         ffmpeg: str) -> None:
    lut = workspace / "all_red.cube"
    lut.write_text('TITLE "everything red"\nLUT_3D_SIZE 2\n' + "1.0 0.0 0.0\n" * 8)
    report = run_batch(plan_batch([a_clip], "prores-proxy", "test", settings, lut=lut))
    [clip] = report.clips
    assert clip.status == "made", clip.error
    # The centre pixel of the first frame (above the burn-in band) is red.
    rgb = subprocess.run([ffmpeg, "-loglevel", "error", "-i", clip.proxy, "-frames:v", "1", "-vf",
                          f"crop=4:4:{clip.width // 2}:{clip.height // 3}", "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-"], capture_output=True, check=True).stdout
    r, g, b = rgb[:3]
    assert r > 200 and g < 40 and b < 40, (r, g, b)
    bad = workspace / "not_a.cube"
    bad.write_text("0 0 0\n")
    with pytest.raises(ConfigError, match="not a 3D .cube LUT"):
        plan_batch([a_clip], "prores-proxy", "test", settings, lut=bad)


def test_no_proxy_of_a_copy_that_failed_verification(workspace: Path, settings, make_media) -> None:
    """The offline edit never cuts a copy the catalogue knows is bad: it is named, with the reason (issue 14)."""
    from flows.ingest import run_ingest

    card = workspace / "cards" / "C001"
    card.mkdir(parents=True)
    clip = card / "C001C001.mov"
    shutil.copy(make_media("C001C001.mov", small_clip(timecode="10:00:00:00", reel="C001")), clip)
    run_ingest([str(card)], "test", settings)
    Catalogue(settings.db_url).mark("test", str(clip), "hash_mismatch")
    batch = plan_batch([card], "h264-review", "test", settings)
    assert batch.jobs == []
    [problem] = batch.problems
    assert problem.status == "error" and "hash mismatch" in problem.error and problem.source == str(clip)
