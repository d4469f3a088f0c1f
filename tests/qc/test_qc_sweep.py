"""PAD QC on masters with defects planted at random frames, on random start timecodes (seeded: a failure
names its seed and can be replayed). Every planted defect must be found by its check within ±1 frame, at
the timecode computed here from the file's start; nothing else may be reported but the side effects a
defect really has (a superwhite is out of gamut too; a full-scale burst makes the programme louder)."""

from __future__ import annotations

import random
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from qc.profile import load_profile
from qc.run import qc_master
from qc.synth import Defect, MasterSpec, make_master

PROFILE = """schema_version = 1
name = "sweep"
[format]
width = 320
height = 180
frame_rate = "25/1"
[timecode]
programme_start = "{start}"
[loudness]
channels = [1, 2]
integrated = -23.0
tolerance = 0.5
true_peak_max = -1.0
[silence]
channels = [1, 2]
min_seconds = 0.2
[black]
min_seconds = 0.12
[freeze]
min_seconds = 0.2
"""

CHECK = {"black": "video.black", "freeze": "video.freeze", "silence": "audio.silence", "peak": "audio.true_peak",
         "intersample": "audio.true_peak", "illegal": "video.levels_luma", "gamut": "video.gamut"}
# What a planted defect may also, truly, cause.
SIDE = {"illegal": {"video.gamut"}, "peak": {"audio.loudness", "audio.short_term_max", "audio.momentary_max"},
        "intersample": {"audio.loudness", "audio.short_term_max", "audio.momentary_max"}}


def tc_of(start: str, frame: int) -> str:
    """Timecode of a frame at 25 fps from an HH:MM:SS:FF start, computed here without the code under test."""
    h, m, s, f = (int(x) for x in start.split(":"))
    n = ((h * 60 + m) * 60 + s) * 25 + f + frame
    return f"{n // 90000 % 24:02d}:{n // 1500 % 60:02d}:{n // 25 % 60:02d}:{n % 25:02d}"


def plant(rng: random.Random, frames: int) -> tuple[Defect, ...]:
    kinds = ["black", "freeze", "silence", "peak", "intersample", "illegal", "gamut"]
    rng.shuffle(kinds)
    out, at = [], rng.randint(2, 6)
    for kind in kinds[: rng.randint(3, 5)]:
        length = rng.randint(6, 10) if kind in ("silence", "freeze") else rng.randint(3, 6)
        if at + length + 2 >= frames:
            break
        channel = rng.choice([1, 2]) if kind in ("silence", "peak") else rng.randint(1, 8)
        area = rng.choice([1.0, 0.1, 0.03]) if kind in ("illegal", "gamut") else 1.0
        out.append(Defect(kind, at, length, channel=channel, area=area))  # type: ignore[arg-type]
        at += length + rng.randint(6, 12)
    return tuple(out)


@pytest.mark.parametrize("seed", range(12))
def test_random_defects_found_at_their_timecodes(seed: int, tmp_path: Path, ffmpeg: str):
    rng = random.Random(seed)
    start = (f"{rng.choice([0, 1, 9, 10, 23]):02d}:{rng.randint(0, 59):02d}:{rng.choice([rng.randint(0, 59), 59]):02d}:"
             f"{rng.randint(0, 24):02d}")
    codec = "xdcam" if seed % 2 == 0 else "prores"
    spec = MasterSpec(seconds=4.0, codec=codec, scan="tff" if codec == "xdcam" else "progressive",
                      timecode=start, rate=Fraction(25),
                      audio_layout="one-track" if codec == "prores" and seed % 3 == 0 else "mono-tracks")
    spec = replace(spec, defects=plant(rng, 100))
    master = make_master(tmp_path / f"sweep{seed}.{'mxf' if codec == 'xdcam' else 'mov'}", spec, ffmpeg)
    profile_file = tmp_path / "sweep.toml"
    profile_file.write_text(PROFILE.format(start=start))
    report = qc_master(master, load_profile(profile_file), ffmpeg)
    found = [f for c in report.checks for f in c.findings]
    context = f"seed {seed}, start {start}, {codec}, defects {spec.defects}, findings {found}"
    used: set[int] = set()
    for d in spec.defects:
        hits = [i for i, f in enumerate(found) if f.check_id == CHECK[d.kind] and f.start_frame is not None
                and abs(f.start_frame - d.start) <= 1 and abs(f.end_frame - (d.start + d.frames)) <= 1
                and (d.kind not in ("silence", "peak", "intersample") or f.channel == d.channel)]
        assert hits, f"{d} not found: {context}"
        f = found[hits[0]]
        assert f.start_tc == tc_of(start, f.start_frame) and f.end_tc == tc_of(start, f.end_frame - 1), context
        used.update(hits)
    allowed = {CHECK[d.kind] for d in spec.defects} | {x for d in spec.defects for x in SIDE.get(d.kind, ())}
    extra = [f for i, f in enumerate(found) if i not in used and f.check_id not in allowed]
    assert extra == [], context
