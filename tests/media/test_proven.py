"""The probe's shortcuts (media/proven.py) give the facts the slow way gives, on real media."""

import random
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import small_clip

from media.model import MediaFile, MediaKind
from media.mxf_check import check_mxf
from media.probe import probe_file
from media.probe_ffmpeg import _pix_fmt_depth, ffmpeg_check
from media.proven import PARSE_SPEED, WAVE_PARSE_SPEED, is_wave
from media.qt_tables import check_samples
from media.synth import TakeSpec, truncated_copy, zero_filled_copy

TAKES = {
    "take25.wav": TakeSpec(seconds=1.0),
    "take2398.wav": TakeSpec(seconds=1.0, rate=Fraction(24000, 1001), bit_depth=16, channels=2),
    "take2997df.wav": TakeSpec(seconds=1.0, rate=Fraction(30000, 1001), drop_frame=True, sample_rate=96000,
                               start_timecode="01:00:00;02"),
}
CLIPS = {
    "prores.mov": small_clip(reel="A001"),
    "hq.mov": small_clip(codec="prores_hq"),
    "dnx.mxf": small_clip(codec="dnxhr_lb", width=640, height=360),
    "phone.mp4": small_clip(codec="h264", rate=Fraction(30000, 1001), audio_codec="aac"),  # 5.1 puts no PCM in MP4
}


def _facts(path: Path, ffmpeg: str, speed: float | None) -> dict:
    return probe_file(path, ffmpeg=ffmpeg, default_rate=Fraction(25), speed=speed).model_dump(mode="json")


@pytest.mark.parametrize("name", sorted(TAKES))
def test_wave_facts_are_the_same_at_the_low_parse_speed(make_media, ffmpeg: str, tmp_path: Path, name: str) -> None:
    take = make_media(name, TAKES[name])
    cut = truncated_copy(take, tmp_path / f"cut-{name}", 0.6)
    for path in (take, cut):
        assert is_wave(path)
        slow, fast = _facts(path, ffmpeg, PARSE_SPEED), _facts(path, ffmpeg, WAVE_PARSE_SPEED)
        assert fast == slow and fast == _facts(path, ffmpeg, None)
    assert probe_file(take, ffmpeg=ffmpeg).audio[0].duration_samples is not None


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_clip_facts_are_the_same_by_default(make_media, ffmpeg: str, name: str) -> None:
    clip = make_media(name, CLIPS[name])
    assert not is_wave(clip)
    assert _facts(clip, ffmpeg, None) == _facts(clip, ffmpeg, PARSE_SPEED)


def _prores_4444(path: Path, ffmpeg: str) -> Path:
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=0.4", "-c:v", "prores_ks",
                    "-profile:v", "4", "-pix_fmt", "yuv444p10le", str(path)], check=True)
    return path


@pytest.mark.parametrize("name", ["prores.mov", "hq.mov", "4444.mov"])
def test_prores_depth_from_its_fourcc_is_what_ffmpeg_decodes(make_media, ffmpeg: str, tmp_path: Path,
                                                             name: str) -> None:
    clip = _prores_4444(tmp_path / name, ffmpeg) if name == "4444.mov" else make_media(name, CLIPS[name])
    m = probe_file(clip, ffmpeg=None, decode_check="none")  # no ffmpeg at all
    _, pix_fmt, _ = ffmpeg_check(clip, ffmpeg, "full", None)
    assert pix_fmt and (m.video.bit_depth, m.video.chroma_subsampling) == _pix_fmt_depth(pix_fmt)
    assert m.video.bit_depth in (10, 12)


def test_whole_pcm_take_needs_no_decode_but_a_cut_one_does(make_media, ffmpeg: str, tmp_path: Path) -> None:
    take = make_media("take25.wav", TAKES["take25.wav"])
    # An ffmpeg that cannot run: the whole take is described without it...
    m = probe_file(take, ffmpeg=str(tmp_path / "no-ffmpeg"), default_rate=Fraction(25))
    assert m.kind is MediaKind.MEDIA and m.error is None and m.start_timecode == "10:00:00:00"
    # ...a copy cut short is not taken on trust: the decode check still runs on it.
    cut = truncated_copy(take, tmp_path / "cut.wav", 0.5)
    with pytest.raises(OSError):
        probe_file(cut, ffmpeg=str(tmp_path / "no-ffmpeg"), default_rate=Fraction(25))


# The sample tables (media/qt_tables.py) stand in for the tail decode of QuickTime/MP4 picture files.
TABLES = {
    "prores.mov": CLIPS["prores.mov"],
    "phone.mp4": CLIPS["phone.mp4"],
    "tff.mov": small_clip(interlaced="tff"),  # two pictures a ProRes frame
    "first.mov": small_clip(moov_first=True, reel="A002"),
    "first.mp4": small_clip(codec="h264", audio_codec="aac", moov_first=True),
    "dnx.mov": small_clip(codec="dnxhr_lb", width=640, height=360, seconds=0.5),
}
BROKEN_FROM = {"prores": small_clip(moov_first=True, seconds=2.0),
               "h264": small_clip(codec="h264", audio_codec="aac", moov_first=True, seconds=2.0),
               "dnxhr": small_clip(codec="dnxhr_lb", width=640, height=360, moov_first=True, seconds=2.0)}


def _without_integrity(m: MediaFile) -> dict:
    return m.model_dump(mode="json", exclude={"integrity"})


@pytest.mark.parametrize("name", sorted(TABLES))
def test_sample_tables_give_the_facts_the_decode_gives(make_media, ffmpeg: str, name: str) -> None:
    clip = make_media(name, TABLES[name])
    fast = probe_file(clip, ffmpeg=ffmpeg, default_rate=Fraction(25))
    slow = probe_file(clip, ffmpeg=ffmpeg, default_rate=Fraction(25), decode_check="full")
    assert check_samples(clip).proved
    assert (fast.integrity, slow.integrity) == ("sample tables", "decode")
    assert fast.kind is MediaKind.MEDIA and _without_integrity(fast) == _without_integrity(slow)


def test_without_a_proof_the_tail_is_decoded(make_media, ffmpeg: str, tmp_path: Path) -> None:
    mjpeg = tmp_path / "mjpeg.mov"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=0.5", "-c:v", "mjpeg",
                    str(mjpeg)], check=True)
    assert probe_file(mjpeg, ffmpeg=ffmpeg).integrity == "decode"  # Motion JPEG frames in a MOV: not read here
    # An ffmpeg that cannot run: a proved MOV is described without it, the Motion JPEG MOV is not.
    mov = make_media("prores.mov", CLIPS["prores.mov"])
    assert probe_file(mov, ffmpeg=str(tmp_path / "no-ffmpeg")).integrity == "sample tables"
    with pytest.raises(OSError):
        probe_file(mjpeg, ffmpeg=str(tmp_path / "no-ffmpeg"))
    assert probe_file(mov, ffmpeg=ffmpeg, decode_check="none").integrity is None


def _broken(source: Path, how: str, out: Path) -> Path:
    if how == "cut short":
        return truncated_copy(source, out, 0.6)
    if how == "zero-filled tail":
        return zero_filled_copy(source, out, 0.6)
    return zero_filled_copy(source, out, 0.97)  # only the last frame or two


@pytest.mark.parametrize("codec", sorted(BROKEN_FROM))
@pytest.mark.parametrize("how", ["cut short", "zero-filled tail", "zeros at the very end"])
def test_a_copy_that_stopped_is_still_unusable(make_media, ffmpeg: str, tmp_path: Path, codec: str,
                                               how: str) -> None:
    source = make_media(f"{codec}-first.mov", BROKEN_FROM[codec])
    assert check_samples(source).proved
    bad = _broken(source, how, tmp_path / f"bad-{source.name}")
    verdict = check_samples(bad)
    assert not verdict.proved and verdict.defect, verdict
    # The tail is decoded, as before; where ffmpeg finds nothing wrong (5.1 decodes an H.264 MOV whose last
    # 40 % are zeros without a word, even whole), the tables' finding stands.
    fast = probe_file(bad, ffmpeg=ffmpeg, default_rate=Fraction(25))
    assert fast.kind is MediaKind.UNREADABLE and fast.error, fast
    assert fast.integrity == "decode" or fast.error.startswith("not whole: ")
    # No ffmpeg to ask: the tables' own finding makes it unusable all the same.
    alone = probe_file(bad, ffmpeg=None, default_rate=Fraction(25))
    assert alone.kind is MediaKind.UNREADABLE and alone.error, alone


def test_a_moov_at_the_end_cut_short_is_not_media(make_media, ffmpeg: str, tmp_path: Path) -> None:
    cut = truncated_copy(make_media("prores.mov", CLIPS["prores.mov"]), tmp_path / "cut.mov", 0.6)
    assert not check_samples(cut).proved
    assert probe_file(cut, ffmpeg=ffmpeg).kind is MediaKind.UNREADABLE


def test_samples_in_another_file_are_not_taken_on_trust(make_media, tmp_path: Path) -> None:
    data = bytearray(make_media("prores.mov", CLIPS["prores.mov"]).read_bytes())
    moov = data.rindex(b"moov")
    for at in range(moov, len(data)):
        if data[at:at + 4] == b"url ":
            data[at + 7] = 0  # the data reference's 'self-contained' flag off: a reference movie
    ref = tmp_path / "ref.mov"
    ref.write_bytes(bytes(data))
    verdict = check_samples(ref)
    assert not verdict.proved and not verdict.defect and "another file" in verdict.why


def test_a_damaged_index_is_never_a_crash(make_media, tmp_path: Path) -> None:
    good = make_media("first.mp4", TABLES["first.mp4"]).read_bytes()
    moov = good.index(b"moov")
    rng = random.Random(17)
    for n in range(150):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(moov, moov + 2000)] = rng.randrange(256)
        path = tmp_path / f"damaged{n}.mp4"
        path.write_bytes(bytes(data))
        verdict = check_samples(path)  # never raises; whatever it proves, it proves of the bytes there
        assert isinstance(verdict.why, str)


MXF = {
    "dnx.mxf": CLIPS["dnx.mxf"],
    "df.mxf": small_clip(codec="dnxhr_lb", width=640, height=360, seconds=0.5, rate=Fraction(30000, 1001),
                         timecode="01:00:00;02"),
    "late.mxf": small_clip(codec="dnxhr_lb", width=640, height=360, seconds=0.5, timecode="23:59:59:24"),
}


@pytest.mark.parametrize("name", sorted(MXF))
def test_mxf_partitions_give_the_facts_the_decode_gives(make_media, ffmpeg: str, name: str) -> None:
    clip = make_media(name, MXF[name])
    proof = check_mxf(clip)
    assert proof.verdict.proved, proof
    assert proof.timecode == ffmpeg_check(clip, ffmpeg, "full", None)[2]  # the timecode as ffmpeg reads it
    fast = probe_file(clip, ffmpeg=ffmpeg, default_rate=Fraction(25))
    slow = probe_file(clip, ffmpeg=ffmpeg, default_rate=Fraction(25), decode_check="full")
    assert (fast.integrity, slow.integrity) == ("mxf partitions", "decode")
    assert fast.kind is MediaKind.MEDIA and _without_integrity(fast) == _without_integrity(slow)


@pytest.mark.parametrize("how", ["cut short", "zero-filled tail", "zeros at the very end"])
def test_an_mxf_copy_that_stopped_is_still_unusable(make_media, ffmpeg: str, tmp_path: Path, how: str) -> None:
    bad = _broken(make_media("late.mxf", MXF["late.mxf"]), how, tmp_path / "bad.mxf")
    assert not check_mxf(bad).verdict.proved  # no Random Index Pack at its end: decoded, as before
    m = probe_file(bad, ffmpeg=ffmpeg)
    assert m.kind is MediaKind.UNREADABLE and m.error and m.integrity == "decode"


def _damaged_tails(source: Path, out: Path, count: int) -> list[Path]:
    """Copies with a few bytes changed in the last third (frame headers, slice tables, KLV keys and lengths)."""
    good = source.read_bytes()
    rng = random.Random(23)
    found = []
    for n in range(count):
        data = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(good) * 2 // 3, len(good))] = rng.randrange(256)
        path = out / f"damaged{n}-{source.name}"
        path.write_bytes(bytes(data))
        found.append(path)
    return found


def test_reads_from_a_buffer_prove_what_one_read_each_proves(make_media, tmp_path: Path, monkeypatch) -> None:
    """The frame and KLV walks take small reads from bytes already read (media/qt_frames.py, media/mxf_check.py):
    on whole, cut, zero-filled and damaged copies they say what reading each field on its own says."""
    from media import mxf_check, qt_frames

    sources = [make_media("tff.mov", TABLES["tff.mov"]), make_media("prores-first.mov", BROKEN_FROM["prores"]),
               make_media("late.mxf", MXF["late.mxf"])]
    files = []
    for source in sources:
        files += [source, *(_broken(source, how, tmp_path / f"{how}-{source.name}")
                            for how in ("cut short", "zero-filled tail", "zeros at the very end"))]
        files += _damaged_tails(source, tmp_path, 40)

    def verdicts() -> list:
        return [check_mxf(f) if f.suffix == ".mxf" else check_samples(f) for f in files]

    buffered = verdicts()
    assert all((v.verdict if f.suffix == ".mxf" else v).proved for f, v in zip(files, buffered, strict=True)
               if f in sources)
    monkeypatch.setattr(qt_frames, "_HEAD", 28)  # a frame's fields each read on their own, as they were
    monkeypatch.setattr(mxf_check._Window, "SIZE", 0)  # one read a packet
    assert verdicts() == buffered


DNX_MOV = {"dnxhd_36": ("1920x1080", "-b:v 36M -pix_fmt yuv422p"),
           "dnxhd_120_interlaced": ("1920x1080", "-b:v 120M -pix_fmt yuv422p -flags +ildct -field_order tt"),
           "dnxhr_hqx": ("640x360", "-profile:v dnxhr_hqx -pix_fmt yuv422p10le"),
           "dnxhr_444": ("640x360", "-profile:v dnxhr_444 -pix_fmt yuv444p10le")}


@pytest.mark.parametrize("name", sorted(DNX_MOV))
def test_dnx_frames_prove_what_the_decode_proves(ffmpeg: str, tmp_path: Path, name: str) -> None:
    size, args = DNX_MOV[name]
    clip = tmp_path / f"{name}.mov"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", f"testsrc2=s={size}:r=25:d=0.4", "-c:v", "dnxhd",
                    *args.split(), "-timecode", "01:00:00:00", str(clip)], check=True)
    assert check_samples(clip).proved
    fast = probe_file(clip, ffmpeg=ffmpeg, default_rate=Fraction(25))
    slow = probe_file(clip, ffmpeg=ffmpeg, default_rate=Fraction(25), decode_check="full")
    assert (fast.integrity, slow.integrity) == ("sample tables", "decode")
    assert fast.kind is MediaKind.MEDIA and _without_integrity(fast) == _without_integrity(slow)
    # The last frame's end not written (zeros where its end-of-frame code is): no proof, the tail is decoded.
    data = bytearray(clip.read_bytes())
    last = data.rindex(b"\x60\x0d\xc0\xde")
    data[last - 60:last + 4] = bytes(64)
    stalled = tmp_path / f"stalled-{name}.mov"
    stalled.write_bytes(bytes(data))
    assert not check_samples(stalled).proved
    assert probe_file(stalled, ffmpeg=ffmpeg, default_rate=Fraction(25)).integrity == "decode"
    # A last frame that is no DNx frame (its header prefix overwritten): a sure fault, as a ProRes frame's would be.
    from media.qt_facts import _top
    from media.qt_tables import _tracks, sample_spans

    with open(clip, "rb") as fh:
        _, moov = _top(fh, clip.stat().st_size)
        start = sample_spans(next(t for t in _tracks(moov) if t.handler == b"vide"))[-1][0]
    data = bytearray(clip.read_bytes())
    assert data[start:start + 4] == b"\x00\x00\x02\x80" and data[start + 4] in (1, 2, 3)
    data[start:start + 4] = b"\xff" * 4
    garbage = tmp_path / f"garbage-{name}.mov"
    garbage.write_bytes(bytes(data))
    verdict = check_samples(garbage)
    assert not verdict.proved and verdict.defect and "no header prefix" in verdict.why, verdict
