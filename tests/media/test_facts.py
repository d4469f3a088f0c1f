"""Facts from our own readers (media/facts.py) are MediaInfo's, field for field, on real files made by ffmpeg;
anything they do not know goes to MediaInfo."""

import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import small_clip

from media.facts import own_tracks
from media.probe import probe_file
from media.synth import TakeSpec, truncated_copy, zero_filled_copy

TAKES = {
    "take25.wav": TakeSpec(seconds=1.0),
    "take2398.wav": TakeSpec(seconds=1.0, rate=Fraction(24000, 1001), bit_depth=16, channels=2),
    "take2997df.wav": TakeSpec(seconds=1.0, rate=Fraction(30000, 1001), drop_frame=True, sample_rate=96000,
                               start_timecode="01:00:00;02"),
    "mono32.wav": TakeSpec(seconds=0.3, channels=1, bit_depth=32),
    "eight.wav": TakeSpec(seconds=0.3, channels=8, sample_rate=44100),
    "three.wav": TakeSpec(seconds=0.3, channels=3),
}
# Plain ffmpeg WAVEs: (codec, channels, sample rate, samples), odd lengths for MediaInfo's rounding of the duration.
PLAIN = [("s24le", 2, 48000, 48001), ("s16le", 1, 48000, 4799), ("s16le", 2, 44100, 4411), ("s24le", 6, 48000, 12345),
         ("f32le", 2, 48000, 2400), ("f32le", 1, 48000, 2401), ("s32le", 2, 96000, 9601), ("s16le", 4, 48000, 1001), ("u8", 1, 8000, 801)]


def _both(path: Path, ffmpeg: str) -> tuple[dict, dict]:
    ours = probe_file(path, ffmpeg=ffmpeg, default_rate=Fraction(25)).model_dump(mode="json")
    theirs = probe_file(path, ffmpeg=ffmpeg, default_rate=Fraction(25), own=False).model_dump(mode="json")
    return ours, theirs


def _plain(ffmpeg: str, out: Path, codec: str, channels: int, rate: int, samples: int, *extra: str) -> Path:
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=f=1000:r={rate}", "-af",
                    f"atrim=end_sample={samples}", "-ac", str(channels), "-c:a", f"pcm_{codec}", *extra, str(out)],
                   check=True)
    return out


@pytest.mark.parametrize("name", sorted(TAKES))
def test_bwf_take_facts_are_mediainfos(make_media, ffmpeg: str, name: str) -> None:
    take = make_media(name, TAKES[name])
    assert own_tracks(take, take.stat().st_size) is not None
    ours, theirs = _both(take, ffmpeg)
    assert ours == theirs


@pytest.mark.parametrize("plain", PLAIN, ids=lambda p: "_".join(map(str, p)))
def test_plain_wave_facts_are_mediainfos(ffmpeg: str, tmp_path: Path, plain: tuple) -> None:
    wav = _plain(ffmpeg, tmp_path / "plain.wav", *plain)
    assert own_tracks(wav, wav.stat().st_size) is not None
    ours, theirs = _both(wav, ffmpeg)
    assert ours == theirs


def test_what_our_readers_do_not_know_goes_to_mediainfo(make_media, ffmpeg: str, tmp_path: Path) -> None:
    cut = truncated_copy(make_media("take25.wav", TAKES["take25.wav"]), tmp_path / "cut.wav", 0.6)
    rf64 = _plain(ffmpeg, tmp_path / "rf64.wav", "s24le", 2, 48000, 4800, "-rf64", "always")
    for path in (cut, rf64):
        assert own_tracks(path, path.stat().st_size) is None
        ours, theirs = _both(path, ffmpeg)
        assert ours == theirs


# QuickTime/MP4 clips our reader describes: (name, spec) through make_media, or ffmpeg arguments.
CLIPS = {
    "A001C001_261123_R1AB.mov": small_clip(reel="A001"),
    "hq.mov": small_clip(codec="prores_hq", seconds=0.6),
    "df.mov": small_clip(rate=Fraction(30000, 1001), timecode="01:00:00;00", reel="B002"),
    "C003.mov": small_clip(rate=Fraction(24000, 1001), timecode="12:40:00:00"),
    "tff.mov": small_clip(codec="prores_hq", interlaced="tff", seconds=0.4),
    "bff.mov": small_clip(codec="prores_hq", interlaced="bff", seconds=0.4),
    "par.mov": small_clip(pixel_aspect=Fraction(4, 3), seconds=0.4),
    "short_sound.mov": small_clip(audio_seconds=0.5),
    "faststart.mov": small_clip(moov_first=True, seconds=0.4),
    "notc.mov": small_clip(timecode=None, seconds=0.4),
    "mono16.mov": small_clip(audio_channels=1, audio_codec="pcm_s16le", seconds=0.4),
    "h264.mov": small_clip(codec="h264"),
    "phone.mp4": small_clip(codec="h264", rate=Fraction(30000, 1001), audio_codec="aac"),
    "six.mp4": small_clip(codec="h264", rate=Fraction(50), audio_codec="aac", audio_channels=6, seconds=0.5),
}
# (rate, codec arguments, sound arguments, extension): B-frames, High profile, AAC mono, rates MediaInfo rounds.
DIRECT = [("24000/1001", "libx264 -preset fast", "aac -ac 1", "mp4"), ("60000/1001", "libx264 -preset veryfast",
          "pcm_s16le -ac 1", "mov"), ("50", "libx264 -preset veryfast", "pcm_s16le -ac 1", "mov"),
          ("30", "libx264 -preset fast", "aac", "mp4"), ("30000/1001", "prores_ks -profile:v 3", "pcm_s24le", "mov"),
          ("24000/1001", "prores_ks -profile:v 2", "pcm_s24le -ac 1", "mov"),
          ("50", "prores_ks -profile:v 1", "pcm_s24le", "mov")]
# What our reader leaves to MediaInfo: fields and MBAFF, HEVC, frames at uneven times.
OTHERS = {
    "mbaff.mp4": small_clip(codec="h264", interlaced="tff", audio_codec="aac", seconds=0.4),
    "hevc.mp4": small_clip(codec="hevc", audio_codec="aac", seconds=0.4),
    "IMG_0042.MP4": small_clip(rate=Fraction(30), codec="h264", timecode=None, vfr=True, audio_codec="aac"),
}


def _direct(ffmpeg: str, out: Path, rate: str, video: str, sound: str) -> Path:
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s=320x180:r={rate}:d=0.7",
                    "-f", "lavfi", "-i", "sine=r=48000:d=0.7", "-c:v", *video.split(), "-c:a", *sound.split(),
                    "-timecode", "01:00:00:00", str(out)], check=True)
    return out


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_quicktime_facts_are_mediainfos(make_media, ffmpeg: str, name: str) -> None:
    clip = make_media(name, CLIPS[name])
    assert own_tracks(clip, clip.stat().st_size) is not None
    ours, theirs = _both(clip, ffmpeg)
    assert ours == theirs


@pytest.mark.parametrize("direct", DIRECT, ids=lambda d: f"{d[1].split()[0]}-{d[0].replace('/', '_')}.{d[3]}")
def test_quicktime_facts_at_every_rate_are_mediainfos(ffmpeg: str, tmp_path: Path, direct: tuple) -> None:
    rate, video, sound, ext = direct
    clip = _direct(ffmpeg, tmp_path / f"clip.{ext}", rate, video, sound)
    assert own_tracks(clip, clip.stat().st_size) is not None
    ours, theirs = _both(clip, ffmpeg)
    assert ours == theirs


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_quicktime_our_reader_does_not_know_goes_to_mediainfo(make_media, ffmpeg: str, name: str) -> None:
    clip = make_media(name, OTHERS[name])
    assert own_tracks(clip, clip.stat().st_size) is None
    ours, theirs = _both(clip, ffmpeg)
    assert ours == theirs


def test_cut_short_and_camera_timecode_clips_go_to_mediainfo(make_media, ffmpeg: str, tmp_path: Path) -> None:
    cut = truncated_copy(make_media("phone.mp4", CLIPS["phone.mp4"]), tmp_path / "cut.mp4", 0.7)
    # An action camera's tmcd: 29 in the frames-per-second byte at 30000/1001 (MediaInfo then counts otherwise).
    camera = _direct(ffmpeg, tmp_path / "GX010042.mp4", "30000/1001", "libx264", "aac")
    data = bytearray(camera.read_bytes())
    description = bytes.fromhex("00007530" "000003e9" "1e")
    assert data.count(description) == 1
    data[data.find(description) + 8] = 29
    camera.write_bytes(bytes(data))
    for clip in (cut, camera):
        assert own_tracks(clip, clip.stat().st_size) is None
        ours, theirs = _both(clip, ffmpeg)
        assert ours == theirs
    assert _both(camera, ffmpeg)[0]["findings"]  # MediaInfo's reading, and the tmcd sample's kept over it


MXF = {
    "B001C001.mxf": small_clip(width=1280, height=720, codec="dnxhr_lb", timecode="14:30:00:00"),
    "dnx2997.mxf": small_clip(width=1280, height=720, codec="dnxhr_lb", rate=Fraction(30000, 1001),
                              timecode="01:00:00;00", seconds=0.7),
    "dnx4ch.mxf": small_clip(width=1280, height=720, codec="dnxhr_lb", audio_channels=4, seconds=0.5),
}
# DNxHR profiles and depths, and what our reader leaves to MediaInfo. 640x360 is stored as 368 lines (ffmpeg
# rounds DNxHR's stored height up to 16): read by our reader since the proxies' 1080 = 1088 was (issue 17).
MXF_DIRECT = {"sq": ("dnxhr_sq", "yuv422p", True), "hqx": ("dnxhr_hqx", "yuv422p10le", True),
              "444": ("dnxhr_444", "yuv444p10le", None), "50p": ("dnxhr_hq", "yuv422p", True),
              "dnxhd": (None, "yuv422p", False), "stored368": ("dnxhr_lb", "yuv422p", True)}


@pytest.mark.parametrize("name", sorted(MXF))
def test_mxf_facts_are_mediainfos(make_media, ffmpeg: str, name: str) -> None:
    clip = make_media(name, MXF[name])
    tracks = own_tracks(clip, clip.stat().st_size)
    assert tracks is not None and tracks.proof is not None and tracks.proof.verdict.proved
    ours, theirs = _both(clip, ffmpeg)
    assert ours == theirs and ours["integrity"] == "mxf partitions"


@pytest.mark.parametrize("name", sorted(MXF_DIRECT))
def test_mxf_profiles_are_mediainfos_and_the_rest_goes_to_mediainfo(ffmpeg: str, tmp_path: Path, name: str) -> None:
    profile, pix_fmt, ours_to_read = MXF_DIRECT[name]
    size, rate = ("640x360", 25) if name == "stored368" else ("1920x1080" if profile is None else "1280x720",
                                                             50 if name == "50p" else 25)
    codec = ["-profile:v", profile] if profile else ["-b:v", "36M"]
    clip = tmp_path / "clip.mxf"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}:d=0.3", "-f",
                    "lavfi", "-i", "sine=r=48000:d=0.3", "-c:v", "dnxhd", *codec, "-pix_fmt", pix_fmt,
                    "-c:a", "pcm_s24le", "-timecode", "01:00:00:00", str(clip)], check=True)
    if ours_to_read is not None:  # 4:4:4: ffmpeg 9 adds a descriptor our reader leaves to MediaInfo
        assert (own_tracks(clip, clip.stat().st_size) is not None) is ours_to_read
    ours, theirs = _both(clip, ffmpeg)
    assert ours == theirs


def test_mxf_cut_short_goes_to_mediainfo_and_a_named_reel_is_read_as_mediainfo_reads_it(
        make_media, ffmpeg: str, tmp_path: Path) -> None:
    cut = truncated_copy(make_media("B001C001.mxf", MXF["B001C001.mxf"]), tmp_path / "cut.mxf", 0.7)
    named = make_media("A007C012_261123_R1AB.mxf", small_clip(codec="dnxhr_lb", width=1280, height=720,
                                                              reel="A007C012_261123_R1AB"))
    # ffmpeg's reel: a named tape source package with an empty tape descriptor (MediaInfo's PackageName), read
    # by our reader since issue 17 (the DNxHR proxies carry their reel so); a file cut short is MediaInfo's.
    for clip, ours_to_read in ((cut, False), (named, True)):
        assert (own_tracks(clip, clip.stat().st_size) is not None) is ours_to_read
        ours, theirs = _both(clip, ffmpeg)
        assert ours == theirs


def test_metadata_keys_read_as_mediainfo_shows_them(ffmpeg: str, tmp_path: Path) -> None:
    """mdta keys in the movie's udta (MP4 with `use_metadata_tags`, as postprod's H.264 proxies carry their reel):
    the keys ffmpeg writes (reel_name, timecode, encoder) are read by our reader as MediaInfo shows them; any other
    key (a title) leaves the file to MediaInfo. The reel is read either way."""
    for name, extra in (("tagged.mp4", []), ("titled.mp4", ["-metadata", "title=Shot"])):
        clip = tmp_path / name
        subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=0.4",
                        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-timecode", "01:00:00:00",
                        "-metadata", "reel_name=A001", *extra, "-movflags", "+use_metadata_tags", str(clip)],
                       check=True)
        fast = own_tracks(clip, clip.stat().st_size)
        assert (fast is None) == bool(extra)
        ours, theirs = _both(clip, ffmpeg)
        assert ours == theirs and ours["reel"] == "A001"
        assert probe_file(clip, decode_check="none").reel == "A001"


def test_zero_filled_copies_read_by_our_readers_are_still_not_whole(make_media, ffmpeg: str, tmp_path: Path) -> None:
    """A stalled copy at full size: its headers are whole, so our readers describe it, and the decode check's
    proof, from the tables they read, still finds the zeros, as check_samples / check_mxf alone do."""
    for name, spec in (("faststart.mov", CLIPS["faststart.mov"]),):  # the moov first: the zeros hit the frames
        clip = zero_filled_copy(make_media(name, spec), tmp_path / name, 0.8)
        assert own_tracks(clip, clip.stat().st_size) is not None
        ours, theirs = _both(clip, ffmpeg)
        assert ours == theirs and ours["kind"] == "unreadable" and ours["integrity"] in ("sample tables", "decode")
