"""The one ffmpeg command builder: commands that real ffmpeg runs, names with any characters, timecode kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import small_clip

from ingest.proxies.filters import font_file
from media.ffmpeg.commands import Filter, ProxyEncode, SoundMap, decode_check_command, proxy_command
from media.probe import probe_file


def test_decode_check_reads_only_the_tail_when_asked(ffmpeg: str) -> None:
    tail = decode_check_command(ffmpeg, Path("/cards/A001 [1]/clip.mov"), tail_seconds=2)
    assert tail[tail.index("-sseof") + 1] == "-2" and tail.index("-sseof") < tail.index("-i")
    assert tail[tail.index("-i") + 1] == "/cards/A001 [1]/clip.mov"
    assert "-sseof" not in decode_check_command(ffmpeg, Path("clip.mov"), tail_seconds=None)


def test_a_proxy_command_burns_any_name_and_keeps_timecode_and_reel(ffmpeg: str, make_media, tmp_path) -> None:
    clip = make_media("A001C003.mov", small_clip(seconds=0.4, timecode="01:00:00:00", reel="A001"))
    name = "It's 50% [take 2]; a,b:c\\d=e"
    encode = ProxyEncode(
        source=str(clip), output=str(tmp_path / "p.mov"),
        video=(Filter("scale", {"w": 160, "h": 90}),
               Filter("drawtext", {"fontfile": str(font_file()), "expansion": "none", "text": name, "y": 2})),
        sound=SoundMap(1, ((0, 1), (0, 0)), 0.4), encoder="prores_ks", encoder_args=("-profile:v", "0"),
        audio_codec="pcm_s16le", audio_args=(), container="mov", timecode="01:00:00:00", reel="A001")
    cmd = proxy_command(ffmpeg, encode)
    assert cmd.count("-filter_complex") == 1  # ffmpeg-python: one graph; timecode as an output option
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    made = probe_file(tmp_path / "p.mov", ffmpeg=ffmpeg)
    assert made.error is None and made.duration_frames == 10
    assert made.start_timecode == "01:00:00:00" and made.reel == "A001"
    assert [a.channels for a in made.audio] == [1, 1]


def test_ffmpeg_python_loads_at_the_first_command_whatever_the_threads() -> None:
    # Imported at first use (a probe needs no command): threads building their first commands together
    # all get whole commands (the QC builds its thumbnails' commands in a thread pool).
    code = ("import sys; from concurrent.futures import ThreadPoolExecutor; "
            "from media.ffmpeg.commands import thumbnail_command; "
            "loaded = 'ffmpeg' in sys.modules; "
            "cmds = list(ThreadPoolExecutor(8).map(lambda i: thumbnail_command('ffmpeg', 'm.mxf', i, 320), range(16))); "
            "print(loaded, all(c[0] == 'ffmpeg' and '-ss' in c for c in cmds))")
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                             cwd=Path(__file__).parents[2], check=False)
        assert out.stdout.split() == ["False", "True"], out.stderr[-2000:]
