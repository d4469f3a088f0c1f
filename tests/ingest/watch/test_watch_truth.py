"""Issue 14 on watch folders: a stop is no verdict, an open file is not complete, a share may go and come back."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import small_clip
from test_watch import SETTLE, WAIT, _config, _events, catalogue_paths, check_exactly_once, running, until
from typer.testing import CliRunner

from cli.app import app
from cli.commands import watch as _watch_command  # noqa: F401  (registers the command)
from config.settings import Settings, load_settings
from ingest import mhl
from ingest.hashing import hash_file
from ingest.watch import folders_to_watch
from ingest.watch.mounts import Folder
from ingest.watch.readiness import Rules, globs
from ingest.watch.tracker import Tracker
from ingest.writers import open_for_writing


@pytest.fixture()
def wsettings(workspace: Path) -> Settings:
    return load_settings(_config(workspace))


@pytest.fixture()
def clip(make_media) -> bytes:
    return make_media("watch_a.mov", small_clip(timecode="10:00:00:00", reel="A001")).read_bytes()


def test_the_os_tells_which_files_are_open_for_writing(tmp_path):
    path = tmp_path / "x.mov"
    with open(path, "wb"):
        assert open_for_writing([str(path)]).pids == {str(path): os.getpid()}
    with open(path, "rb"):
        assert open_for_writing([str(path)]).pids == {}


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("capsh") or not shutil.which("setpriv"),
                    reason="needs root, capsh and setpriv")
def test_a_writer_the_os_will_not_show_is_found_by_a_lease_or_said_unknown_never_none(tmp_path):
    # Another user's copy, looked at by root without CAP_SYS_PTRACE (a container's default): its fds can be
    # listed but not read. Before, that writer was silently not there: "nobody writes" when unsure.
    path = tmp_path / "x.mov"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)  # handed to the other user's process, closed here
    writer = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "30"],
                              pass_fds=[fd])
    os.close(fd)

    def asked(drop: str) -> list[str]:
        code = (f"import sys; sys.path.insert(0, {str(Path.cwd())!r}); from ingest.writers import open_for_writing; "
                f"w = open_for_writing([{str(path)!r}]); print(sorted(w.pids.values()), w.complete)")
        done = subprocess.run(["capsh", f"--drop={drop}", "--", "-c", f"{sys.executable} -c {shlex.quote(code)}"],
                              capture_output=True, text=True, check=True)
        return done.stdout.split()

    try:
        until(lambda: Path(f"/proc/{writer.pid}/comm").read_text().strip() == "sleep")
        assert open_for_writing([str(path)]).pids == {str(path): writer.pid}  # root with every capability
        assert asked("cap_sys_ptrace") == ["[0]", "True"]  # not shown, but the lease is refused: a writer
        os.chown(path, 65534, 65534)  # nor the file's owner, nor CAP_LEASE: the kernel will not say either
        assert asked("cap_sys_ptrace,cap_lease") == ["[]", "False"]
    finally:
        writer.kill()
        writer.wait()
    assert asked("cap_sys_ptrace") == ["[]", "True"]  # the copy ended: the lease is granted, nobody writes


def test_stopping_the_watcher_service_does_not_make_a_good_clip_unreadable(wsettings, workspace, clip, ffmpeg):
    """systemd or Ctrl-C signal the whole process group, ffmpeg included: the clip being checked is not
    judged by its interrupted decode."""
    _config(workspace, 'decode_check = "full"')  # a MOV's sample tables would prove it whole without a decode
    started = workspace / "decode-started"
    wrapper = workspace / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\ncase "$*" in *"-f null"*) touch "{started}"; sleep 2 ;; esac\n'
                       f'exec "{ffmpeg}" "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "POSTPROD_CONFIG": str(workspace / "postprod.toml"), "POSTPROD_FFMPEG": str(wrapper)}
    log = workspace / "watch.log"
    with open(log, "ab") as fh:
        proc = subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()", "watch", "--json"],
                                cwd=workspace, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        until(lambda: any(e["event"] == "reconciled" for e in _events(log)))
        (workspace / "in" / "good.mov").write_bytes(clip)
        until(started.exists)
        os.killpg(proc.pid, signal.SIGTERM)  # the whole service, as systemd's stop or a terminal's Ctrl-C
        assert proc.wait(WAIT) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    rows = catalogue_paths(wsettings)
    row = rows.get(str(workspace / "in" / "good.mov"))
    assert row is not None and row["kind"] == "media" and row["status"] == "ok", row


def test_a_file_created_and_paused_before_its_first_byte_is_not_ingested_empty(wsettings, workspace, clip):
    target = workspace / "in" / "late start.mov"
    with running(wsettings, folders_to_watch(wsettings, "test")) as (watcher, events):
        with open(target, "wb") as fh:
            time.sleep(4 * SETTLE)  # open, nothing written yet, longer than the settle time
            fh.write(clip)
        until(lambda: str(target) in catalogue_paths(wsettings) and not watcher.running)
    check_exactly_once(wsettings, {target: clip})


def test_once_leaves_a_file_its_writer_holds_open_and_ingests_it_whole_later(wsettings, workspace, clip):
    target = workspace / "in" / "paused.mov"
    fh = open(target, "wb")  # noqa: SIM115
    try:
        fh.write(clip[: len(clip) // 2])
        fh.flush()
        time.sleep(2 * SETTLE)  # the copy pauses, file open
        result = CliRunner().invoke(app, ["watch", "--once", "--json"])
        events = [json.loads(line) for line in result.output.splitlines()]
        left = [e for e in events if e["event"] == "left"]
        assert [e["unit"] for e in left] == ["paused.mov"], events
        assert "open by their writer" in left[0]["reason"]
        assert catalogue_paths(wsettings) == {}
        fh.write(clip[len(clip) // 2:])
    finally:
        fh.close()
    again = CliRunner().invoke(app, ["watch", "--once", "--json"])
    assert again.exit_code == 0, again.output
    check_exactly_once(wsettings, {target: clip})


def _mount(src: Path, dst: Path) -> None:
    subprocess.run(["mount", "--bind", str(src), str(dst)], check=True, capture_output=True)


@pytest.mark.parametrize("mode", ["inotify", "poll"])
def test_a_share_unmounted_and_mounted_again(wsettings, workspace, clip, mode):
    """The ingest folder is a mount; it is unmounted for a while (cards keep arriving on the server), then
    mounted again: the watcher keeps running, says so, deletes nothing, and ingests what came exactly once."""
    share = workspace / "server"
    (share / "K001").mkdir(parents=True)
    (share / "K001" / "K001C001.mov").write_bytes(clip)
    inbox = workspace / "in"
    if subprocess.run(["mount", "--bind", str(share), str(inbox)], capture_output=True).returncode != 0:
        pytest.skip("a bind mount needs mount privileges (root) on this machine")
    try:
        folders = folders_to_watch(wsettings, "test", 0.2 if mode == "poll" else None)
        with running(wsettings, folders) as (watcher, events):
            until(lambda: any(e["event"] == "ingested" and e["unit"] == "K001" for e in events))
            subprocess.run(["umount", str(inbox)], check=True)
            until(lambda: any(e["event"] == "folder_unavailable" for e in events))
            (share / "K002").mkdir()
            (share / "K002" / "K002C001.mov").write_bytes(clip)
            time.sleep(3 * SETTLE)
            assert not any(e["event"] == "ingest_started" and e["unit"] == "K002" for e in events)
            _mount(share, inbox)
            until(lambda: any(e["event"] == "folder_back" for e in events))
            until(lambda: any(e["event"] == "ingested" and e["unit"] == "K002" for e in events))
            time.sleep(3 * SETTLE)
        assert not [e for e in events if e["event"] in ("vanished", "ingest_failed")]
        check_exactly_once(wsettings, {inbox / "K001" / "K001C001.mov": clip, inbox / "K002" / "K002C001.mov": clip})
        assert events[-1]["event"] == "stopped"
        gone = next(e for e in events if e["event"] == "folder_unavailable")
        assert "unmounted" in gone["message"]
    finally:
        subprocess.run(["umount", str(inbox)], capture_output=True)


def test_a_folder_that_goes_and_comes_back_between_two_checks_is_learnt_again(wsettings, workspace, clip):
    inbox = workspace / "in"
    with running(wsettings, folders_to_watch(wsettings, "test", 0.2)) as (watcher, events):
        away = workspace / "away"
        inbox.rename(away)
        time.sleep(0.5)  # a poll sees it gone; the 2 s folder check may not
        away.rename(inbox)
        until(lambda: any(e["event"] in ("folder_back", "folder_unavailable") for e in events))
        (inbox / "L001").mkdir()
        (inbox / "L001" / "L001C001.mov").write_bytes(clip)
        until(lambda: any(e["event"] == "ingested" and e["unit"] == "L001" for e in events))
    assert hash_file(inbox / "L001" / "L001C001.mov", ["xxh128"])["xxh128"] == \
        catalogue_paths(wsettings)[str(inbox / "L001" / "L001C001.mov")]["hash"]


def test_a_card_is_waited_for_by_the_set_s_mhl_not_by_our_own_earlier_generation(tmp_path):
    # The card was taken between two files of its copy, one of them paused part-way by a copy on another host:
    # our generation recorded that file's size then. The set's MHL is what tells what the card should hold.
    card = tmp_path / "in" / "A001"
    (card / "META").mkdir(parents=True)
    (card / "META" / "late.bin").write_bytes(b"y" * 5)
    made = subprocess.run(["ascmhl", "create", "-h", "xxh64", str(card)], capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr  # the offload on set
    (card / "META" / "late.bin").write_bytes(b"y" * 2)  # this one's copy here is not over
    (card / "META" / "grew.bin").write_bytes(b"x" * 20)  # not on the set's MHL; ingested by us at 10 bytes
    mhl.write_generation(card / "ascmhl", "A001", [mhl.Entry("META/grew.bin", 10, 0.0, {"xxh128": "0" * 32},
                                                             {"xxh128": "original"})], [], tool_version="test")
    history = mhl.read_history(card / "ascmhl")
    assert history.ours == {2} and set(history.listed_on_set()) == {"META/late.bin"}
    folder = Folder("test", str(tmp_path / "in"), None)
    tracker = Tracker(Rules(settle=5.0, open_file_timeout=3600.0, incomplete_card_seconds=3600.0,
                                    ignore=globs([]), partial=globs(["*.part"])), lambda: [folder], lambda e: None, lambda *a: None, check_every=0.1)
    unit = tracker.unit(folder, "A001", 0.0, is_card=True)
    assert tracker.manifest_missing(unit) == ["META/late.bin"]  # not grew.bin, which outgrew our record
