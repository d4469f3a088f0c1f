"""The bad-input battery: every command, fed what users and their disks really produce.

Each case builds its input in a fresh workspace (tiny media made by the real ffmpeg, hostile names,
broken files and settings, bad option values), runs the command through the entry point's own error
handling (cli.main.run: in-process for the bulk, a subset as real processes) and asserts what a user
needs: no traceback, no signal death, no hang, a message naming the file or value and the cause, exit
code 2 for unusable input or 1 for findings, and the sources and the store unchanged where the command
failed. A bug that reaches the entry point's last resort exits 70 ("internal error"): the case fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import small_clip
from postprod_inproc import Result, postprod

from cli.text import visible
from media.synth import TakeSpec

CLIP = small_clip(timecode="10:00:00:00", reel="A001")
ONE_FRAME = small_clip(timecode="10:00:00:00", reel="A001", seconds=0.04)
ROOT = os.geteuid() == 0


@dataclass
class Env:
    ws: Path
    src: Path  # everything a case feeds the command lives here: hashed before and after
    clip: Path
    make_media: Callable
    monkeypatch: pytest.MonkeyPatch

    def copy_clip(self, name: str, folder: Path | None = None, media: Path | None = None) -> Path:
        folder = folder or self.src
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)  # "A001[/b]take.mov": a folder "A001[" and its file
        shutil.copyfile(media or self.clip, path)
        return path

    def card(self, *names: str, card: str = "A001") -> Path:
        folder = self.src / card
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            self.copy_clip(name, folder)
        return folder

    def write(self, name: str, data: bytes | str) -> Path:
        path = self.src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def config(self, text: str, name: str = "postprod.toml") -> Path:
        path = self.ws / name
        path.write_text(text)
        return path

    def watch_config(self) -> Path:
        (self.src / "ingest").mkdir(parents=True, exist_ok=True)
        return self.config(f'data_dir = "data"\nsettle_seconds = 0\n\n[productions.test]\nspec = "small.toml"\n'
                           f'ingest_folders = ["{self.src / "ingest"}"]\n')

    def plan(self) -> None:
        result = postprod("plan", "create", "-p", "test", "--start", "2026-01-05", "--today", "2026-01-10")
        assert result.code == 0, result.output


@dataclass
class Case:
    id: str
    make: Callable[[Env], tuple[list[str], list[str]]]  # -> the arguments, what the output must say
    codes: tuple[int, ...]
    marks: list = field(default_factory=list)
    never: tuple[str, ...] = ()  # what the output must not say

    def param(self):  # type: ignore[no-untyped-def]
        return pytest.param(self, id=self.id, marks=self.marks)


CASES: list[Case] = []


def add(id: str, codes: tuple[int, ...] | int, make: Callable[[Env], tuple[list[str], list[str]]], *marks,
        never: tuple[str, ...] = ()) -> None:
    CASES.append(Case(id, make, codes if isinstance(codes, tuple) else (codes,), list(marks), never))


# ---- hostile names: probe (table and JSON), ingest (table) -------------------------------------------

NAMES = {
    "markup-bold": "[bold]take.mov",
    "markup-brackets": "clip [final].mov",
    "markup-close-tag": "A001[/b]take.mov",
    "markup-link": "[link=https:x]c[/link].mov",
    "markup-escape-end": "ends with a backslash\\.mov",
    "newline": "take\nnewline.mov",
    "tab": "tab\tname.mov",
    "unicode": "émile ünïcode 🎬 日本.mov",
    "long-240": "L" * 236 + ".mov",
    "leading-dash": "-dash.mov",
    "shell": "semi;colon $(rm -rf x) `y` & z.mov",
    "quotes": "quote'\"s.mov",
    "percent-braces": "percent %s %d {0} {name}.mov",
    "trailing-space": "trailing.mov ",
    "ansi-escape": "bell\x07\x1b[31mred.mov",
}


for key, name in NAMES.items():
    shown = visible(name).strip()  # control characters are shown as escapes (\x1b, \n), never obeyed
    add(f"probe-name-{key}", 0, lambda env, name=name, shown=shown: (
        ["probe", str(env.copy_clip(name)), "-p", "test"], [shown]))
    add(f"probe-json-name-{key}", 0, lambda env, name=name: (  # JSON holds the name as it is
        ["probe", str(env.copy_clip(name)), "-p", "test", "--json"], [name.strip()]))
    add(f"ingest-name-{key}", 0, lambda env, name=name, shown=shown: (
        ["ingest", str(env.card(name)), "-p", "test", "--direct"], [shown, "1 files, 1 new"]))

add("ingest-card-named-markup", 0, lambda env: (
    ["ingest", str(env.card("A001C001.mov", card="[bold]CARD [x]")), "-p", "test", "--direct"], ["[bold]CARD [x]"]))
add("proxy-name-markup", 0, lambda env: (
    ["proxy", str(env.card("clip [final].mov", "[bold]b.mov")), "--preset", "h264-review", "-p", "test",
     "--out", str(env.ws / "proxies")], ["clip [final].mov", "[bold]b.mov"]))


NON_UTF8 = os.fsdecode(b"bad\xff\xfename.mov")

add("probe-folder-non-utf8-name", 1, lambda env: (
    ["probe", str(env.card(NON_UTF8, "ok.mov")), "-p", "test"], [r"bad\xff\xfename.mov", "not valid UTF-8", "ok.mov"]))
add("probe-json-folder-non-utf8-name", 1, lambda env: (
    ["probe", str(env.card(NON_UTF8)), "-p", "test", "--json"], [r"bad\\xff\\xfename.mov", "not valid UTF-8"]))
add("probe-file-non-utf8-name", (0, 1), lambda env: (
    ["probe", str(env.copy_clip(NON_UTF8)), "-p", "test"], [r"bad\xff\xfename.mov"]))
add("ingest-non-utf8-name", 1, lambda env: (
    ["ingest", str(env.card(NON_UTF8, "ok.mov")), "-p", "test", "--direct"], [r"bad\xff\xfename.mov", "UTF-8"]))
add("proxy-non-utf8-name", (0, 1), lambda env: (
    ["proxy", str(env.card(NON_UTF8)), "--preset", "h264-review", "-p", "test", "--out", str(env.ws / "px")],
    [r"bad\xff\xfename.mov"]))


# ---- broken files -----------------------------------------------------------------------------------

def _zero(env: Env, name: str = "empty.mov") -> Path:
    return env.write(name, b"")


def _text(env: Env, name: str = "notes.mov") -> Path:
    return env.write(name, "not a video at all\n" * 40)


def _random(env: Env, name: str = "noise.mxf") -> Path:
    return env.write(name, hashlib.sha512(b"seed").digest() * 200)


def _truncated(env: Env, name: str = "cut.mov") -> Path:
    data = env.clip.read_bytes()
    return env.write(name, data[: len(data) // 3])


def _fifo(env: Env, name: str = "pipe.mov") -> Path:
    path = env.src / name
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def _folder_like(env: Env, name: str = "clip.mov") -> Path:
    path = env.src / name
    path.mkdir(parents=True)
    return path


def _dangling(env: Env, name: str = "gone.mov") -> Path:
    path = env.src / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(env.src / "nowhere.mov")
    return path


def _unreadable(env: Env, name: str = "locked.mov") -> Path:
    path = env.copy_clip(name)
    path.chmod(0)
    return path


BROKEN = {
    "zero-byte": (_zero, "empty.mov"),
    "text": (_text, "notes.mov"),
    "random-bytes": (_random, "noise.mxf"),
    "truncated": (_truncated, "cut.mov"),
    "fifo": (_fifo, "pipe.mov"),
    "folder-named-clip": (_folder_like, "clip.mov"),
    "dangling-symlink": (_dangling, "gone.mov"),
    "unreadable": (_unreadable, "locked.mov"),
}
NOT_AS_ROOT = pytest.mark.skipif(ROOT, reason="root reads a file whatever its permissions")

for key, (maker, name) in BROKEN.items():
    marks = [NOT_AS_ROOT] if key == "unreadable" else []
    # probe on the file itself, and on a card holding it
    add(f"probe-{key}", (1, 2), lambda env, m=maker, n=name: (["probe", str(m(env, n)), "-p", "test"], [n]), *marks)
    add(f"probe-card-{key}", (1, 2), lambda env, m=maker, n=name: (
        ["probe", str(m(env, f"A001/{n}").parent), "-p", "test", "--json"], [n]), *marks)
    add(f"ingest-card-{key}", (1, 2), lambda env, m=maker, n=name: (
        ["ingest", str(m(env, f"A001/{n}").parent), "-p", "test", "--direct"], [n]), *marks)
    add(f"qc-{key}", 2, lambda env, m=maker, n=name: (
        ["qc", str(m(env, n)), "--profile", "fr-pad-hd", "--report", str(env.ws / "qc")], [n]), *marks)
    add(f"proxy-{key}", (1, 2), lambda env, m=maker, n=name: (
        ["proxy", str(m(env, f"A001/{n}").parent), "--preset", "h264-review", "-p", "test",
         "--out", str(env.ws / "px")], [n]), *marks)

add("probe-missing-file", (1, 2), lambda env: (["probe", str(env.src / "nope.mov"), "-p", "test"], ["nope.mov"]))
add("ingest-missing-card", 2, lambda env: (["ingest", str(env.src / "NOPE"), "-p", "test", "--direct"],
                                             ["NOPE", "no such file or folder"]))
add("ingest-fifo-as-source", (1, 2), lambda env: (["ingest", str(_fifo(env)), "-p", "test", "--direct"],
                                                   ["pipe.mov", "FIFO"]))
add("ingest-empty-folder-named-clip", (1, 2), lambda env: (
    ["ingest", str(_folder_like(env)), "-p", "test", "--direct"], ["clip.mov", "folder named like a media file"]))
add("probe-dev-null", (1, 2), lambda env: (["probe", "/dev/null", "-p", "test"], ["/dev/null"]))
add("qc-missing", 2, lambda env: (["qc", str(env.src / "nope.mxf"), "--profile", "fr-pad-hd"],
                                  ["nope.mxf", "no such file"]))
add("qc-folder", 2, lambda env: (["qc", str(env.card("a.mov")), "--profile", "fr-pad-hd"], ["A001", "folder"]))
add("proxy-missing", 2, lambda env: (["proxy", str(env.src / "nope"), "--preset", "h264-review", "-p", "test"],
                                     ["nope", "no such file"]))


# ---- settings and other files the commands read --------------------------------------------------------

def _with_config(text: str | bytes, says: list[str], args: Callable[[Env], list[str]] | None = None,  # type: ignore[no-untyped-def]
                 names_config: bool = True):
    def make(env: Env) -> tuple[list[str], list[str]]:
        path = env.ws / "broken.toml"
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        rest = args(env) if args else ["probe", str(env.copy_clip("ok.mov"))]
        return ["--config", str(path), *rest], (["broken.toml"] if names_config else []) + says
    return make


SMALL = '[productions.test]\nspec = "small.toml"\n'
add("settings-toml-syntax", 2, _with_config('data_dir = "data\n', ["line 1"]))
add("settings-unknown-key", 2, _with_config('hash_algoritm = "xxh128"\n', ["hash_algoritm"]))
add("settings-wrong-type", 2, _with_config("settle_seconds = \"soon\"\n", ["settle_seconds"]))
add("settings-bad-hash", 2, _with_config('hash_algorithm = "crc32"\n', ["hash_algorithm"]))
add("settings-non-utf8", 2, _with_config(b'data_dir = "d\xff"\n', []))
add("settings-binary", 2, _with_config(hashlib.sha512(b"x").digest() * 4, []))
add("settings-productions-not-table", 2, _with_config('productions = 5\n', ["productions"]))
add("settings-handles-negative", 2, _with_config(SMALL + "handles = -4\n", ["handles"]))
add("settings-spec-missing", 2, _with_config('[productions.test]\nspec = "missing-spec.toml"\n',
                                             ["missing-spec.toml"], lambda env: ["probe", "x.mov", "-p", "test"], names_config=False))
add("settings-data-dir-is-file", 2, lambda env: (
    ["--config", str(env.config(f'data_dir = "{env.write("datafile", "x")}"\n' + SMALL, "broken.toml")),
     "ingest", str(env.card("a.mov")), "-p", "test", "--direct"], ["data_dir", "datafile", "is a file, not a folder"]))
add("settings-data-dir-under-file", 2, lambda env: (
    ["--config", str(env.config(f'data_dir = "{env.write("datafile", "x")}/sub"\n', "broken.toml")),
     "plan", "status"], ["data_dir", "datafile", "a file, not a folder"]))
add("settings-config-is-folder", 2, lambda env: (["--config", str(env.src), "probe", "x.mov"], [str(env.src)]))
add("settings-config-missing", 2, lambda env: (["--config", str(env.ws / "nope.toml"), "probe", "x.mov"],
                                               ["nope.toml"]))


def _env_config_missing(env: Env) -> tuple[list[str], list[str]]:
    env.monkeypatch.setenv("POSTPROD_CONFIG", str(env.ws / "gone.toml"))
    return ["probe", str(env.copy_clip("ok.mov"))], ["gone.toml"]


add("settings-env-config-missing", 2, _env_config_missing)


def _spec_broken(env: Env) -> tuple[list[str], list[str]]:
    env.write("spec.toml", "[video\nwidth = 3\n")
    return ["probe", str(env.copy_clip("ok.mov")), "--spec", str(env.src / "spec.toml")], ["spec.toml"]


add("probe-spec-broken", 2, _spec_broken)
add("probe-spec-unknown", 2, lambda env: (["probe", "x.mov", "--spec", "nope"], ["nope", "available"]))
add("probe-production-unknown", 2, lambda env: (["probe", "x.mov", "-p", "nope"], ["nope", "available"]))
add("ingest-production-unknown", 2, lambda env: (["ingest", str(env.card("a.mov")), "-p", "nope", "--direct"],
                                                 ["nope", "available"]))


# ---- QC options and masters ---------------------------------------------------------------------------

def _qc(*extra: str, says: list[str], master: Callable[[Env], Path] | None = None):  # type: ignore[no-untyped-def]
    def make(env: Env) -> tuple[list[str], list[str]]:
        path = master(env) if master else env.copy_clip("master.mov")
        return ["qc", str(path), "--profile", "fr-pad-hd", "--report", str(env.ws / "qc"), *extra], says
    return make


for value in ("99:99", "abc", "-00:00:10:00", "10:00:00", "00:61:00:00", ""):
    add(f"qc-duration-{value or 'empty'}", 2, _qc("--duration", value, says=["--duration", f"'{value}'"]))
add("qc-profile-unknown", 2, _qc("--profile", "nope", says=["nope", "available"]))
add("qc-profile-missing-file", 2, _qc("--profile", "/nonexistent/p.toml", says=["p.toml"]))


def _broken_profile(env: Env) -> tuple[list[str], list[str]]:
    env.write("p.toml", "schema_version = 1\n[loudness\n")
    return ["qc", str(env.copy_clip("m.mov")), "--profile", str(env.src / "p.toml")], ["p.toml"]


add("qc-profile-broken", 2, _broken_profile)
add("qc-name-markup", 1, _qc(says=["[bold]m [x].mov", "FAIL"], master=lambda env: env.copy_clip("[bold]m [x].mov")))
add("qc-one-frame", 1, lambda env: (
    ["qc", str(env.copy_clip("one.mov", media=env.make_media("bad_input_one_frame.mov", ONE_FRAME))),
     "--profile", "fr-pad-hd", "--report", str(env.ws / "qc")], ["one.mov"]), never=("None bit",))
add("qc-audio-only", 2, lambda env: (
    ["qc", str(env.copy_clip("take.wav", media=env.make_media("bad_input_take.wav", TakeSpec(seconds=1.0,
                                                                                              channels=2)))),
     "--profile", "fr-pad-hd", "--report", str(env.ws / "qc")], ["take.wav", "audio only"]))
add("qc-report-is-file", 2, lambda env: (
    ["qc", str(env.copy_clip("m.mov")), "--profile", "fr-pad-hd", "--report", str(env.write("report", "x"))],
    ["report"]))


# ---- proxy options ---------------------------------------------------------------------------------------

def _proxy(*extra: str, says: list[str]):  # type: ignore[no-untyped-def]
    return lambda env: (["proxy", str(env.card("a.mov")), "-p", "test", "--out", str(env.ws / "px"), *extra], says)


add("proxy-preset-unknown", 2, _proxy("--preset", "nope", says=["nope", "available"]))
add("proxy-preset-broken", 2, lambda env: (
    ["proxy", str(env.card("a.mov")), "-p", "test", "--preset", str(env.write("p.toml", "name = [\n"))],
    ["p.toml"]))
add("proxy-lut-missing", 2, _proxy("--preset", "h264-review", "--lut", "/nonexistent/look.cube",
                                   says=["look.cube"]))
add("proxy-lut-garbage", (1, 2), lambda env: (
    ["proxy", str(env.card("a.mov")), "-p", "test", "--preset", "h264-review", "--out", str(env.ws / "px"),
     "--lut", str(env.write("look.cube", "LUT_3D_SIZE banana\n1 2\n"))], ["look.cube"]))
add("proxy-workers-zero", 2, _proxy("--preset", "h264-review", "--workers", "0",
                                    says=["--workers", "greater than or equal to 1"]))
add("proxy-out-is-file", (1, 2), lambda env: (
    ["proxy", str(env.card("a.mov")), "-p", "test", "--preset", "h264-review", "--out", str(env.write("px", "x"))],
    ["px"]))


# ---- conform (issue 15 owns the edit lists; here: what reaches the user) ---------------------------------

EDL_MARKUP = """TITLE: [bold]cut [final]
FCM: NON-DROP FRAME

001  [red]R1 V     C        10:00:00:00 10:00:01:00 01:00:00:00 01:00:01:00
* FROM CLIP NAME: clip [final][/b].mov
"""
add("conform-missing", 2, lambda env: (["conform", str(env.src / "cut.edl"), "-p", "test"], ["cut.edl"]))
add("conform-empty", 2, lambda env: (["conform", str(env.write("cut.edl", "")), "-p", "test"], ["cut.edl"]))
add("conform-binary", 2, lambda env: (["conform", str(_random(env, "cut.edl")), "-p", "test"], ["cut.edl"]))
add("conform-folder", 2, lambda env: (["conform", str(env.card("a.mov")), "-p", "test"], ["A001"]))
add("conform-xml-broken", 2, lambda env: (["conform", str(env.write("cut.xml", "<xmeml><sequence>")), "-p", "test"],
                                          ["cut.xml"]))
add("conform-rate-bad", 2, lambda env: (["conform", str(env.write("cut.edl", EDL_MARKUP)), "-p", "test",
                                         "--rate", "fast"], ["fast"]))
add("conform-handles-negative", 2, lambda env: (["conform", "cut.edl", "--handles", "-3"], ["--handles"]))
add("conform-markup-names", (1, 2), lambda env: (["conform", str(env.write("cut.edl", EDL_MARKUP)), "-p", "test",
                                                  "--report", str(env.ws / "cf")], ["cut.edl"]))
add("conform-fifo", 2, lambda env: (["conform", str(_fifo(env, "cut.edl")), "-p", "test"], ["cut.edl"]))


# ---- watch --once ------------------------------------------------------------------------------------------

def _watch(fill: Callable[[Env, Path], None], says: list[str], *extra: str):  # type: ignore[no-untyped-def]
    def make(env: Env) -> tuple[list[str], list[str]]:
        cfg = env.watch_config()
        fill(env, env.src / "ingest")
        for p in (env.src / "ingest").rglob("*"):
            if p.is_file() and not p.is_symlink():
                os.utime(p, (1_700_000_000, 1_700_000_000))  # long settled
        return ["--config", str(cfg), "watch", "--once", "--direct", *extra], says
    return make


add("watch-markup-card", 0, _watch(lambda env, f: env.card("[bold]take.mov", card="ingest/[red]A001"),
                                   ["[red]A001", "ingested"]))
add("watch-non-utf8-name", 1, _watch(lambda env, f: env.card(NON_UTF8, "ok.mov", card="ingest/A001"),
                                     [r"bad\xff\xfename.mov"]))
add("watch-zero-byte", (0, 1), _watch(lambda env, f: _zero(env, "ingest/A001/empty.mov"), ["A001"]))
add("watch-fifo", (0, 1), _watch(lambda env, f: (env.card("ok.mov", card="ingest/A001"),
                                                _fifo(env, "ingest/A001/pipe.mov")), ["A001"]))
add("watch-json-markup", 0, _watch(lambda env, f: env.card("clip [final].mov", card="ingest/A001"), ["A001"],
                                   "--json"))
add("watch-production-unknown", 2, _watch(lambda env, f: None, ["nope"], "-p", "nope"))
add("watch-poll-zero", 2, _watch(lambda env, f: None, ["--poll"], "--poll", "0"))
add("watch-no-folders", 2, lambda env: (["watch", "--once"], ["ingest"]))


def _watch_folder_missing(env: Env) -> tuple[list[str], list[str]]:
    cfg = env.config(f'data_dir = "data"\n[productions.test]\nspec = "small.toml"\n'
                     f'ingest_folders = ["{env.src / "absent"}"]\n')
    return ["--config", str(cfg), "watch", "--once", "--direct"], ["absent"]


def _watch_folder_is_file(env: Env) -> tuple[list[str], list[str]]:
    env.write("inbox", "x")
    cfg = env.config(f'data_dir = "data"\n[productions.test]\nspec = "small.toml"\n'
                     f'ingest_folders = ["{env.src / "inbox"}"]\n')
    return ["--config", str(cfg), "watch", "--once", "--direct"], ["inbox"]


add("watch-folder-missing", (1, 2), _watch_folder_missing)
add("watch-folder-is-file", (1, 2), _watch_folder_is_file)


# ---- plan ------------------------------------------------------------------------------------------------------

def _planned(*args: str, says: list[str]):  # type: ignore[no-untyped-def]
    def make(env: Env) -> tuple[list[str], list[str]]:
        env.plan()
        return ["plan", *args], says
    return make


REPORT = ["report", "-p", "test", "-s", "grading", "-t", "Léa", "--hours", "2", "--done", "bobine 1"]
add("plan-mark-reason-markup", 0, _planned("mark", "-p", "test", "grading", "blocked",
                                           "--reason", "waiting [/b] for tapes [bold]", "--json",
                                           says=["waiting [/b] for tapes [bold]"]))
add("plan-mark-reason-markup-table", 0, _planned("mark", "-p", "test", "grading", "blocked",
                                                 "--reason", "waiting [/b] for tapes", says=["waiting [/b] for tapes"]))
add("plan-mark-state-bad", 2, _planned("mark", "-p", "test", "grading", "finished", "--reason", "x",
                                       says=["finished"]))
add("plan-mark-reason-empty", 2, _planned("mark", "-p", "test", "grading", "done", "--reason", " ", says=["reason"]))
add("plan-mark-stage-unknown", 2, _planned("mark", "-p", "test", "[b]nope", "done", "--reason", "x",
                                           says=["[b]nope"]))
add("plan-mark-no-plan", 2, lambda env: (["plan", "mark", "-p", "ghost", "grading", "done", "--reason", "x"],
                                         ["ghost"]))
for value, says in (("31/02/2026", "not a real date"), ("2026-02-30", "not a real date"),
                    ("2026-13-01", "not a real date"), ("yesterday", "not YYYY-MM-DD or DD/MM/YYYY"),
                    ("2026/03/09", "not YYYY-MM-DD or DD/MM/YYYY")):
    add(f"plan-report-date-{value.replace('/', '-')}", 2, _planned(*REPORT, "--date", value, says=[value, says]))
for value in ("abc", "-3", "0", "25", "7h75", "inf", "1e308", "nan"):
    add(f"plan-report-hours-{value}", 2, _planned(*REPORT[:-4], "--hours", value, "--done", "x", says=[value]))
add("plan-report-technician-empty", 2, _planned("report", "-p", "test", "-s", "grading", "-t", " ", "--hours", "2",
                                                "--done", "x", says=["--technician"]))
add("plan-report-stage-unknown", 2, _planned("report", "-p", "test", "-s", "[red]nope", "-t", "x", "--hours", "2",
                                             "--done", "x", says=["[red]nope"]))
add("plan-report-markup", 0, _planned("report", "-p", "test", "-s", "grading", "-t", "[red]Léa[/red]", "--hours",
                                      "2", "--done", "x", "--date", "2026-01-06", "--today", "2026-01-07",
                                      says=["[red]Léa[/red]"]))
for value, says in (("2026-02-30", "not a real date"), ("soon", "not a date")):
    add(f"plan-status-today-{value}", 2, _planned("status", "--today", value, says=["--today", value, says]))
add("plan-status-unknown", 2, _planned("status", "-p", "ghost", says=["ghost"]))
add("plan-create-start-bad", 2, lambda env: (["plan", "create", "-p", "f", "--start", "31/02/2026"],
                                             ["--start", "31/02/2026"]))
add("plan-create-start-far", 2, lambda env: (["plan", "create", "-p", "f", "--start", "9999-12-31"],
                                             ["--start", "9999-12-31", "1900 to 2999"]))
add("plan-report-date-far", 2, _planned(*REPORT, "--date", "31/12/9999", says=["31/12/9999", "1900 to 2999"]))
add("plan-create-template-unknown", 2, lambda env: (["plan", "create", "-p", "f", "--template", "nope"], ["nope"]))
add("plan-create-template-broken", 2, lambda env: (
    ["plan", "create", "-p", "f", "--template", str(env.write("t.toml", "[stages\n"))], ["t.toml"]))
add("plan-create-responsible-bad", 2, lambda env: (["plan", "create", "-p", "f", "--responsible", "grading"],
                                                   ["--responsible", "grading"]))
add("plan-create-name-markup", 0, lambda env: (["plan", "create", "-p", "[bold]film [x]", "--start", "2026-01-05"],
                                               ["[bold]film [x]"]))
add("plan-digest-since-bad", 2, lambda env: (["plan", "digest", "--since", "last week"], ["--since", "last week"]))
add("plan-digest-send-no-smtp", 2, lambda env: (["plan", "digest", "--send"], ["smtp"]))
add("plan-digest-out-folder", 2, lambda env: (["plan", "digest", "--out", str(env.src)], [str(env.src)]))
add("plan-digest-out-unwritable", 2, lambda env: (["plan", "digest", "--out", "/proc/digest.html"],
                                                  ["/proc/digest.html", "cannot write"]))
add("plan-digest-today-bad", 2, lambda env: (["plan", "digest", "--today", "2026-02-31"], ["not a real date"]))

CSV_HEAD = "production,date,technician,stage,hours,done\n"


def _import(data: bytes | str | Callable[[Env], Path], says: list[str]):  # type: ignore[no-untyped-def]
    def make(env: Env) -> tuple[list[str], list[str]]:
        env.plan()
        path = data(env) if callable(data) else env.write("reports.csv", data)
        return ["plan", "import", str(path), "--today", "2026-01-10"], says
    return make


def _gigabyte_line(env: Env) -> Path:
    path = env.write("huge.csv", CSV_HEAD + "test,")
    with open(path, "r+b") as fh:
        fh.truncate(1 << 30)  # sparse: no disk used
    return path


add("plan-import-missing", 2, lambda env: (["plan", "import", str(env.src / "r.csv")], ["r.csv", "not found"]))
add("plan-import-folder", 2, lambda env: (["plan", "import", str(env.card())], ["A001", "folder"]))
add("plan-import-fifo", 2, _import(lambda env: _fifo(env, "r.csv"), ["r.csv", "not a regular file"]))
add("plan-import-empty", 2, _import("", ["reports.csv", "empty file"]))
add("plan-import-columns", 2, _import("a,b\n1,2\n", ["reports.csv", "missing column"]))
add("plan-import-binary", (1, 2), _import(hashlib.sha512(b"y").digest() * 50, ["reports.csv"]))
add("plan-import-nul", (1, 2), _import(CSV_HEAD + "test,2026-01-06,L\0a,grading,2,x\n", ["reports.csv"]))
add("plan-import-field-too-big", 1, _import(CSV_HEAD + 'test,2026-01-06,Lea,grading,2,"' + "x" * 200_000 + '"\n',
                                            ["reports.csv:2", "64 KiB"]))
add("plan-import-gigabyte-line", 1, _import(_gigabyte_line, ["huge.csv:2", "longer than 16 MiB", "1073741824"]))
add("plan-import-unclosed-quote", 1, _import(CSV_HEAD + 'test,2026-01-06,Lea,grading,2,"x\n' + ("y" * 1000 + "\n") * 80,
                                             ["reports.csv:2"]))
add("plan-import-markup-rows", 1, _import(CSV_HEAD + "test,31/02/2026,[red]Léa,grading,2,[/b]x\n"
                                          "test,2026-01-06,Léa,[bold]grading,2,x\n",
                                          ["reports.csv:2", "31/02/2026", "not a real date", "[bold]grading"]))


# ---- the runner ---------------------------------------------------------------------------------------------------

BOX = re.compile(r"[\s│┃┆┇┊┋║|─━┄┅┈┉╌╍═]+")


def _squash(text: str) -> str:
    return BOX.sub("", text)


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (bar the MHL an ingest adds to a card) with its content hash."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = os.fsencode(path.relative_to(folder)).decode("utf-8", "backslashreplace")
        if "ascmhl" in path.parts:
            continue
        try:
            if path.is_symlink() or not path.is_file():
                found[rel] = "link" if path.is_symlink() else "dir" if path.is_dir() else "special"
            elif path.stat().st_size > 1 << 24:
                found[rel] = f"size {path.stat().st_size}"
            else:
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        except PermissionError:
            found[rel] = "unreadable"
    return found


def _store_rows(ws: Path) -> list[str]:
    """The data rows of the catalogue and plans (the schema and its migrations aside)."""
    db = ws / "data" / "postprod.db"
    if not db.exists():
        return []
    con = sqlite3.connect(db)
    try:
        return [line for line in con.iterdump() if line.startswith("INSERT") and "alembic_version" not in line]
    finally:
        con.close()


def check(case: Case, result: Result, says: list[str], before: tuple) -> None:
    text = result.output
    assert "Traceback" not in text, text
    assert "internal error" not in text and result.code != 70, text
    assert result.code in case.codes, f"exit {result.code}, expected {case.codes}:\n{text}"
    if result.code:
        assert text.strip(), "a failure must say why"
    squashed = _squash(text + "\n".join(_strings(result.out)))
    for expected in says:
        for part in expected.split("\n"):  # a name with a newline spans two lines of its table cell
            assert _squash(part) in squashed, f"{expected!r} not in:\n{text}"
    for wrong in case.never:
        assert wrong not in text, f"{wrong!r} in:\n{text}"


def _strings(out: str) -> list[str]:
    """The string values of JSON output, decoded (a name's backslashes and quotes as the user wrote them)."""
    try:
        data = json.loads(out)
    except ValueError:
        try:
            data = [json.loads(line) for line in out.splitlines() if line.strip()]
        except ValueError:
            return []
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(data)
    return found


@pytest.fixture()
def env(workspace: Path, make_media, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv("POSTPROD_LOG_DIR", str(tmp_path / "crash-logs"))
    monkeypatch.delenv("POSTPROD_DEBUG", raising=False)
    from cli.app import err, out

    monkeypatch.setattr(out, "width", 2000)  # no folding of names in tables: what is said is found whole
    monkeypatch.setattr(err, "width", 2000)
    src = workspace / "src"
    src.mkdir()
    return Env(workspace, src, make_media("bad_input.mov", CLIP), make_media, monkeypatch)


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input(case: Case, env: Env) -> None:
    args, says = case.make(env)
    before = _snapshot(env.src), _store_rows(env.ws)
    result = postprod(*args, timeout=120)
    check(case, result, says, before)
    assert _snapshot(env.src) == before[0], "a source changed"
    if result.code == 2:
        assert _store_rows(env.ws) == before[1], "the store changed on a failed command"


# A subset as real processes: the entry point as installed, signals and encodings as a terminal has them.
SUBPROCESS = ["probe-name-markup-close-tag", "ingest-name-markup-close-tag", "ingest-card-fifo", "qc-fifo",
              "qc-duration-99:99", "plan-mark-reason-markup-table", "settings-data-dir-is-file",
              "probe-folder-non-utf8-name"]


@pytest.mark.parametrize("case", [c.param() for c in CASES if c.id in SUBPROCESS])
def test_bad_input_as_a_process(case: Case, env: Env) -> None:
    args, says = case.make(env)
    before = _snapshot(env.src), _store_rows(env.ws)
    proc = subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, timeout=300, check=False,
                          env={**os.environ, "COLUMNS": "2000"}, cwd=env.ws)
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}"
    result = Result(proc.returncode, proc.stdout.decode("utf-8", "backslashreplace"),
                    proc.stderr.decode("utf-8", "backslashreplace"))
    check(case, result, says, before)
    assert _snapshot(env.src) == before[0], "a source changed"
    if result.code == 2:
        assert _store_rows(env.ws) == before[1], "the store changed on a failed command"


def test_the_battery_is_large_enough() -> None:
    commands = {c.id.split("-")[0] for c in CASES}
    assert len(CASES) >= 100 and commands >= {"probe", "ingest", "watch", "proxy", "conform", "qc", "plan",
                                              "settings"}
    assert len(SUBPROCESS) == len([c for c in CASES if c.id in SUBPROCESS])
