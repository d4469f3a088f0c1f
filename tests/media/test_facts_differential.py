"""The probe's fast paths (our own readers, media/facts.py) against MediaInfo, on many small variants made with
real ffmpeg: the run's ffmpeg (tests/conftest.py: the bundled build by default, Debian's 5.1 with
`--ffmpeg=path`; CI runs tests/media with both).

For every variant, `probe_file(own=True)` must give exactly what `probe_file(own=False)` (MediaInfo for every
file, the probe's documented switch) gives, or our readers must have declined (then both ways are MediaInfo's).
The variants: every frame rate and drop-frame timecode, fields, ProRes/H.264/HEVC/DNxHD/DNxHR profiles in MOV,
MP4 and MXF, XDCAM-style MPEG-2 in MXF (fields, rates, sound tracks, sizes, colour),
PCM depths and layouts, AAC, no sound, sound only, timecode starts and flags, reels, pixel aspects,
colour tags, moov first or last, copies cut short or zero-filled, WAVEs with bext/LIST/extensible/RF64, and a
few headers patched as other encoders write them. A variant an ffmpeg cannot make is skipped for it.
Each file is tiny (96x64 mostly, under half a second) and made on first use, once per session, so `-k` selects
cheaply. The module is marked `differential` (about 420 files, a few minutes on a busy machine):
`-m "not differential"` leaves it out.
"""

from __future__ import annotations

import struct
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest

from media.facts import own_tracks
from media.probe import probe_file


@dataclass(frozen=True)
class Variant:
    ext: str
    video: str | None = "prores_ks -profile:v 0"  # codec arguments; None: no picture
    rate: str = "25"
    size: str = "96x64"
    audio: tuple[str, ...] = ("pcm_s24le -ac 2",)  # one entry per sound track
    seconds: float = 0.3
    extra: str = "-timecode 01:00:00:00"
    vfilter: str | None = None
    cut: float | None = None  # keep this fraction of the bytes: a copy cut short
    zeros: float | None = None  # zero the bytes after this fraction: a preallocated copy that stalled
    prores_header: tuple[tuple[int, int], ...] = ()  # (offset, byte) written into every ProRes frame's header
    fiel_detail: int | None = None  # written into the picture's fiel box: its field order (1/9 top, 6/14 bottom first)
    tmcd_flags: int | None = None  # written into the tmcd sample description (1 drop frame, 2 24 h, 4 negative, 8 counter)
    colr: tuple[int, int, int] | None = None  # written into the picture's colr box (nclc): primaries, transfer, matrix


def _v(ext: str = "mov", **kw) -> Variant:
    return Variant(ext, **kw)


PRORES = "prores_ks -profile:v {} -pix_fmt {}"
_TAGS_709 = "-color_primaries bt709 -color_trc bt709 -colorspace bt709"
_TAGS_2020 = "-color_primaries bt2020 -colorspace bt2020nc"
# Every (primaries, transfer, matrix) code media/colour.py names, each in at least one triple.
_PRIMARIES, _TRANSFERS, _MATRICES = (1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 22), tuple([1, *range(4, 19)]), \
    tuple([1, *range(4, 15)])
_CODES = [(_PRIMARIES[n % len(_PRIMARIES)], _TRANSFERS[n], _MATRICES[n % len(_MATRICES)])
          for n in range(len(_TRANSFERS))]
# XDCAM HD422 as qc/synth.py writes it: MPEG-2 4:2:2 long GOP, CBR, interlaced coding; 8 mono PCM tracks.
_XD = ("mpeg2video -pix_fmt yuv422p -profile:v 0 -level:v 2 -b:v {br} -minrate {br} -maxrate {br} -bufsize 17825792 "
       "-g 12 -bf 2 -dc 10 -intra_vlc 1 -non_linear_quant 1 -qmin 1 -qmax 12")
_FIELDS = {"tff": " -flags +ildct+ilme -field_order tt -alternate_scan 1",
           "bff": " -flags +ildct+ilme -field_order bb -alternate_scan 1", "prog": ""}
_MONO = "pcm_s24le -ac 1"


def _xd(scan: str = "tff", rate: str = "25", size: str = "256x144", br: str = "5M", audio: tuple[str, ...] = (_MONO,) * 8,
        extra: str = "-timecode 10:00:00:00", video: str | None = None, vfilter: str | None = None, **kw) -> Variant:
    shown = {"tff": "setfield=tff", "bff": "setfield=bff", "prog": None}[scan]
    return Variant("mxf", video=video or _XD.format(br=br) + _FIELDS[scan], rate=rate, size=size, audio=audio,
                   extra=extra, vfilter=shown if vfilter is None else vfilter or None, **kw)


_XD5 = _XD.format(br="5M")
XDCAM_VARIANTS: dict[str, Variant] = {
    "xdcam_1080i25": _xd(size="1920x1080", br="50M", seconds=0.2),
    "xdcam_tff_25": _xd(), "xdcam_bff_25": _xd(scan="bff"), "xdcam_prog_25": _xd(scan="prog"),
    "xdcam_tff_2997_df": _xd(rate="30000/1001", extra="-timecode 01:00:00;02"),
    "xdcam_bff_2997_ndf": _xd(scan="bff", rate="30000/1001", extra="-timecode 01:00:00:00"),
    "xdcam_tff_2997_df_late": _xd(rate="30000/1001", extra="-timecode 23:59:59;29"),
    "xdcam_prog_50": _xd(scan="prog", rate="50"),
    "xdcam_prog_5994_df": _xd(scan="prog", rate="60000/1001", extra="-timecode 00:59:59;58"),
    "xdcam_prog_2398": _xd(scan="prog", rate="24000/1001"), "xdcam_prog_24": _xd(scan="prog", rate="24"),
    "xdcam_prog_30": _xd(scan="prog", rate="30"),
    "xdcam_tff_4_mono": _xd(audio=(_MONO,) * 4), "xdcam_tff_2_mono": _xd(audio=(_MONO,) * 2),
    "xdcam_tff_stereo": _xd(audio=("pcm_s24le -ac 2",)), "xdcam_tff_2_stereo": _xd(audio=("pcm_s24le -ac 2",) * 2),
    "xdcam_tff_mono_and_stereo": _xd(audio=(_MONO, "pcm_s24le -ac 2")),
    "xdcam_tff_no_audio": _xd(audio=()), "xdcam_tff_s16": _xd(audio=("pcm_s16le -ac 1",) * 4),
    "xdcam_tff_no_tc": _xd(extra=""), "xdcam_tff_odd_size": _xd(size="250x142"),
    "xdcam_prog_odd_size": _xd(scan="prog", size="98x66"),
    "xdcam_sd_tff": _xd(size="720x576", vfilter="setsar=16/15,setfield=tff"),
    "xdcam_sd_169": _xd(size="720x576", vfilter="setsar=64/45,setfield=tff"),
    "xdcam_sd_ntsc_bff": _xd(scan="bff", size="720x480", rate="30000/1001", vfilter="setsar=8/9,setfield=bff"),
    "xdcam_1440": _xd(size="1440x1080", vfilter="setsar=4/3,setfield=tff", seconds=0.12),
    "xdcam_vbr": _xd(video="mpeg2video -pix_fmt yuv422p -b:v 5M" + _FIELDS["tff"]),
    "xdcam_intra": _xd(video="mpeg2video -pix_fmt yuv422p -b:v 5M -g 1" + _FIELDS["tff"]),
    "xdcam_no_bframes": _xd(video=_XD5.replace("-bf 2", "-bf 0") + _FIELDS["tff"]),
    "xdcam_closed_gop": _xd(video=_XD5 + " -flags +cgop+ildct+ilme -sc_threshold 1000000000 -field_order tt"),
    "xdcam_ildct_no_setfield": _xd(vfilter=""),
    "xdcam_field_order_only": _xd(video=_XD5 + " -field_order tt"),
    "xdcam_setfield_only": _xd(video=_XD5, vfilter="setfield=tff"),
    "xdcam_ildct_bff_content_tff": _xd(scan="bff", vfilter="setfield=tff"),
    **{f"xdcam_colour_{name}": _xd(video=_XD5 + _FIELDS["tff"] + " " + tags) for name, tags in (
        ("709", "-colorspace bt709 -color_primaries bt709 -color_trc bt709"),
        ("601", "-colorspace smpte170m -color_primaries smpte170m -color_trc smpte170m"),
        ("2020", "-colorspace bt2020nc -color_primaries bt2020 -color_trc bt2020-10"),
        ("matrix_only", "-colorspace bt709"), ("primaries_only", "-color_primaries bt709"),
        ("bt470bg", "-colorspace bt470bg -color_primaries bt470bg -color_trc gamma28"))},
    "xdcam_full_range": _xd(video=_XD5 + _FIELDS["tff"] + " -color_range pc"),
    "xdcam_cut_99": _xd(cut=0.99), "xdcam_zeros_90": _xd(zeros=0.9),
    "xdcam_reel": _xd(extra="-timecode 10:00:00:00 -metadata reel_name=A001"),
    "xdcam_odd_frames": _xd(rate="30000/1001", seconds=7 * 1001 / 30000),
    "xdcam_one_frame": _xd(seconds=1 / 25),
    "xdcam_short_audio": _xd(audio=(_MONO + " -t 0.1",) * 2),
    "xdcam_matrices": _xd(video=_XD5 + _FIELDS["tff"] + " -intra_matrix " + ",".join(["16"] * 64)),
    "mpeg2_420_mxf": _v("mxf", video="mpeg2video -pix_fmt yuv420p -b:v 5M", size="256x144", audio=(_MONO,) * 2),
    "mpeg2_420_tff_mxf": _v("mxf", video="mpeg2video -pix_fmt yuv420p -b:v 5M -flags +ildct+ilme -field_order tt",
                            vfilter="setfield=tff", size="256x144", audio=(_MONO,) * 2),
    "mpeg2_420_1080_mxf": _v("mxf", video="mpeg2video -pix_fmt yuv420p -b:v 8M", size="1920x1080", seconds=0.12),
    "mpeg2_d10_mxf": _v("mxf", video="mpeg2video -pix_fmt yuv422p -g 1 -b:v 30M -minrate 30M -maxrate 30M "
                        "-bufsize 1200000 -rc_init_occupancy 1200000 -flags +ildct+ilme -field_order tt "
                        "-intra_vlc 1 -non_linear_quant 1 -dc 10 -ps 1 -qmin 1 -qmax 3", size="720x608",
                        vfilter="setfield=tff", audio=("pcm_s16le -ac 1",) * 4, seconds=0.12),
    # D-10 (IMX) as ffmpeg's mxf_d10 muxer writes it: system items, one 4-channel AES3 element (declined today)
    "mpeg2_d10_muxer": _v("mxf", video="mpeg2video -pix_fmt yuv422p -g 1 -b:v 30M -minrate 30M -maxrate 30M "
                          "-bufsize 1200000 -rc_init_occupancy 1200000 -flags +ildct+ilme -field_order tt "
                          "-intra_vlc 1 -non_linear_quant 1 -dc 10 -ps 1 -qmin 1 -qmax 3", size="720x608",
                          vfilter="setfield=tff", audio=("pcm_s16le -ac 4",), seconds=0.12,
                          extra="-timecode 10:00:00:00 -f mxf_d10"),
}

VARIANTS: dict[str, Variant] = {
    # every frame rate, with and without drop-frame timecode
    **{f"rate_{r.replace('/', '_')}": _v(rate=r) for r in ("24000/1001", "24", "25", "30000/1001", "30", "50",
                                                          "60000/1001", "48", "60")},
    "rate_2997_df": _v(rate="30000/1001", extra="-timecode 01:00:00;02"),
    "rate_2997_df_dropped_label": _v(rate="30000/1001", extra="-timecode 00:01:00;00"),
    "rate_2997_df_late": _v(rate="30000/1001", extra="-timecode 23:59:59;29"),
    "rate_5994_df": _v(rate="60000/1001", extra="-timecode 00:59:59;58"),
    "rate_2997_df_mp4": _v("mp4", video="libx264 -preset ultrafast", rate="30000/1001", audio=("aac",),
                           extra="-timecode 10:00:00;00"),
    # timecode starts
    "tc_midnight_minus": _v(rate="24", extra="-timecode 23:59:59:23"),
    "tc_zero": _v(extra="-timecode 00:00:00:00"),
    "tc_none": _v(extra=""),
    **{f"tmcd_flags_{f}": _v(tmcd_flags=f) for f in (1, 2, 4, 8)},
    "tmcd_flags_df_30": _v(rate="30", tmcd_flags=1),
    "tmcd_flags_df_2997": _v(rate="30000/1001", tmcd_flags=1),
    "tc_none_mp4": _v("mp4", video="libx264 -preset ultrafast", extra=""),
    # reel / tape names
    "reel_mov": _v(extra="-timecode 01:00:00:00 -metadata:s:v:0 reel_name=A001 -metadata reel_name=A001"),
    "reel_odd_chars": _v(extra="-timecode 01:00:00:00 -metadata:s:v:0 reel_name=Ré_01 -metadata reel_name=Ré_01"),
    "reel_mp4_tags": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",),
                        extra="-timecode 01:00:00:00 -metadata reel_name=B002 -movflags +use_metadata_tags"),
    # As postprod's review proxy is written (ingest/proxies, h264-review): our readers read its metadata keys.
    "reel_mp4_tags_proxy": _v("mp4", video="libx264 -preset veryfast -pix_fmt yuv420p -profile:v high",
                              audio=("aac -b:a 192k",), extra="-timecode 10:00:00:00 -metadata reel_name=A001 "
                              "-metadata:s:v:0 reel_name=A001 -movflags +faststart+use_metadata_tags"),
    "reel_mp4_tags_utf8": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",),
                             extra="-timecode 01:00:00:00 -metadata reel_name=Ré_01 -movflags +use_metadata_tags"),
    "reel_mp4_tags_no_tc": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",),
                              extra="-metadata reel_name=G007 -movflags +use_metadata_tags"),
    "reel_mp4_tags_title": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",),
                              extra="-metadata reel_name=H008 -metadata title=Shot -movflags +use_metadata_tags"),
    "reel_no_tmcd": _v(extra="-timecode 01:00:00:00 -write_tmcd 0 -metadata:s:v:0 reel_name=C003 -metadata reel_name=C003"),
    "reel_track_only": _v(extra="-timecode 01:00:00:00 -metadata:s:v:0 reel_name=D004"),
    "reel_global_only": _v(extra="-timecode 01:00:00:00 -metadata reel_name=E005"),
    "reel_mp4_no_tags": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",),
                           extra="-timecode 01:00:00:00 -metadata reel_name=F006 -metadata:s:v:0 reel_name=F006"),
    "title_mov": _v(extra="-timecode 01:00:00:00 -metadata title=Shot -metadata comment=hello"),
    "title_mp4": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",), extra="-metadata title=Shot"),
    # interlaced
    "prores_tff": _v(video=PRORES.format(3, "yuv422p10le") + " -flags +ildct+ilme -field_order tt",
                     vfilter="setfield=tff", size="96x64"),
    "prores_bff": _v(video=PRORES.format(3, "yuv422p10le") + " -flags +ildct+ilme -field_order bb",
                     vfilter="setfield=bff"),
    **{f"prores_tff_fiel_{d}": _v(video=PRORES.format(3, "yuv422p10le") + " -flags +ildct+ilme -field_order tt",
                                  vfilter="setfield=tff", fiel_detail=d) for d in (1, 6, 9, 14)},
    **{f"prores_bff_fiel_{d}": _v(video=PRORES.format(3, "yuv422p10le") + " -flags +ildct+ilme -field_order bb",
                                  vfilter="setfield=bff", fiel_detail=d) for d in (1, 6, 9, 14)},
    "prores_tff_flag_only": _v(video=PRORES.format(3, "yuv422p10le") + " -field_order tt", vfilter="setfield=tff"),
    "prores_progressive_flagged_tt": _v(video=PRORES.format(2, "yuv422p10le") + " -field_order tt"),
    "h264_field_order_only": _v(video="libx264 -preset ultrafast -field_order tt", vfilter="setfield=tff"),
    "h264_interlaced": _v(video="libx264 -preset ultrafast -flags +ildct+ilme -field_order bb",
                          vfilter="setfield=bff"),
    # ProRes profiles
    **{f"prores_{p}": _v(video=PRORES.format(p, "yuv422p10le")) for p in (0, 1, 2, 3)},
    "prores_4444": _v(video=PRORES.format(4, "yuv444p10le")),
    "prores_4444_alpha": _v(video=PRORES.format(4, "yuva444p10le")),
    "prores_4444xq": _v(video=PRORES.format(5, "yuv444p10le")),
    "prores_aw_hq": _v(video="prores -profile:v 3 -pix_fmt yuv422p10le"),
    # H.264 / HEVC
    "h264_baseline": _v(video="libx264 -preset ultrafast -profile:v baseline -pix_fmt yuv420p"),
    "h264_main": _v(video="libx264 -preset ultrafast -profile:v main -pix_fmt yuv420p"),
    "h264_high": _v(video="libx264 -preset fast -profile:v high -pix_fmt yuv420p"),
    "h264_high10": _v(video="libx264 -preset ultrafast -profile:v high10 -pix_fmt yuv420p10le"),
    "h264_high422": _v(video="libx264 -preset ultrafast -profile:v high422 -pix_fmt yuv422p"),
    "h264_high422_10": _v(video="libx264 -preset ultrafast -profile:v high422 -pix_fmt yuv422p10le"),
    "h264_high444": _v(video="libx264 -preset ultrafast -profile:v high444 -pix_fmt yuv444p"),
    "h264_level": _v("mp4", video="libx264 -preset ultrafast -level 5.1 -pix_fmt yuv420p", audio=("aac",)),
    **{f"h264_level_{lv.replace('.', '_')}": _v(video=f"libx264 -preset ultrafast -profile:v {pf} -level {lv}")
       for pf, lv in (("high", "4"), ("high", "3.1"), ("main", "4.2"), ("high", "6.2"))},
    "h264_sps_tick_rate_120": _v(video="libx264 -preset ultrafast -bsf:v h264_metadata=tick_rate=120"),
    "h264_sps_tick_rate_50_mp4": _v("mp4", video="libx264 -preset ultrafast -bsf:v h264_metadata=tick_rate=100",
                                    audio=("aac",)),
    "h264_sps_crop": _v(video="libx264 -preset ultrafast -bsf:v h264_metadata=crop_left=8:crop_bottom=8"),
    "h264_sps_level_patched": _v(video="libx264 -preset ultrafast -bsf:v h264_metadata=level=5.2"),
    "h264_intra": _v(video="libx264 -preset ultrafast -g 1 -pix_fmt yuv420p"),
    "h264_mp4_aac": _v("mp4", video="libx264 -preset veryfast -pix_fmt yuv420p", audio=("aac -ac 2",)),
    "h264_mp4_aac_mono_44k": _v("mp4", video="libx264 -preset veryfast", audio=("aac -ac 1 -ar 44100",)),
    "h264_mp4_aac_he": _v("mp4", video="libx264 -preset ultrafast", audio=("aac -profile:a aac_he",)),
    "h264_mp4_aac_6": _v("mp4", video="libx264 -preset ultrafast", audio=("aac -ac 6",)),
    "h264_mp4_aac_32k": _v("mp4", video="libx264 -preset ultrafast", audio=("aac -ar 32000",)),
    "h264_odd_size": _v(video="libx264 -preset ultrafast -pix_fmt yuv420p", size="98x66"),
    "h264_crop_size": _v("mp4", video="libx264 -preset ultrafast", size="100x58", audio=("aac",)),
    "h264_fake_interlaced": _v("mp4", video="libx264 -preset ultrafast -x264-params fake-interlaced=1",
                               audio=("aac",)),
    "h264_pic_struct_tff": _v("mp4", video="libx264 -preset ultrafast -x264-params pic-struct=1",
                              vfilter="setfield=tff", audio=("aac",)),
    "h264_avc3": _v("mp4", video="libx264 -preset ultrafast -tag:v avc3", audio=("aac",)),
    "h264_no_bframes_cabac_off": _v(video="libx264 -preset ultrafast -coder 0 -bf 0"),
    "h264_bframes_mp4_2398": _v("mp4", video="libx264 -preset medium -bf 3", rate="24000/1001", audio=("aac",)),
    **{f"aac_{n}ch": _v("mp4", video="libx264 -preset ultrafast", audio=(f"aac -ac {n}",)) for n in (3, 4, 5, 7, 8)},
    "aac_main": _v("mp4", video="libx264 -preset ultrafast", audio=("aac -profile:a aac_main",)),
    "aac_96k": _v("mp4", video="libx264 -preset ultrafast", audio=("aac -ar 96000",)),
    "aac_8k": _v("mp4", video="libx264 -preset ultrafast", audio=("aac -ar 8000",)),
    "aac_two_tracks": _v("mp4", video="libx264 -preset ultrafast", audio=("aac -ac 2", "aac -ac 1")),
    "hevc_main": _v("mp4", video="libx265 -preset ultrafast -x265-params log-level=error", audio=("aac",)),
    "hevc_main10": _v(video="libx265 -preset ultrafast -pix_fmt yuv420p10le -x265-params log-level=error"),
    "mpeg4_part2": _v("mp4", video="mpeg4", audio=("aac",)),
    "mjpeg_mov": _v(video="mjpeg"),
    # DNxHD / DNxHR in MOV and MXF
    "dnxhr_lb_mov": _v(video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144"),
    "dnxhr_hqx_mov": _v(video="dnxhd -profile:v dnxhr_hqx -pix_fmt yuv422p10le", size="256x144"),
    "dnxhd_mov": _v(video="dnxhd -b:v 36M -pix_fmt yuv422p", size="1920x1080", seconds=0.12),
    "dnxhr_lb_mxf": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144"),
    "dnxhr_sq_mxf_2997df": _v("mxf", video="dnxhd -profile:v dnxhr_sq -pix_fmt yuv422p", size="256x144",
                              rate="30000/1001", extra="-timecode 01:00:00;02"),
    "dnxhr_hq_mxf_5994": _v("mxf", video="dnxhd -profile:v dnxhr_hq -pix_fmt yuv422p", size="256x144",
                            rate="60000/1001", extra="-timecode 00:00:00;00"),
    "dnxhr_mxf_2398": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                         rate="24000/1001", extra="-timecode 23:59:59:20"),
    "dnxhr_mxf_30": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144", rate="30"),
    "dnxhr_mxf_24": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144", rate="24"),
    "dnxhr_mxf_s16": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                        audio=("pcm_s16le -ac 1", "pcm_s16le -ac 1")),
    "dnxhr_mxf_mono_tracks": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                                audio=("pcm_s24le -ac 1",) * 4),
    "dnxhr_mxf_no_audio": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144", audio=()),
    "dnxhr_mxf_no_tc": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144", extra=""),
    "dnxhr_mxf_reel": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                         extra="-timecode 01:00:00:00 -metadata reel_name=A001"),
    # the avid-dnxhr-lb proxy as ingest/proxies writes it: 1080 lines (stored as 1088), one mono track per channel,
    # the reel as the tape's package name (ffmpeg's reel_name), no other metadata
    "dnxhr_mxf_1080_proxy": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="1920x1080",
                               seconds=0.12, audio=(_MONO, _MONO),
                               extra="-map_metadata -1 -timecode 10:00:00:00 -metadata reel_name=A001 "
                                     "-metadata:s:v:0 reel_name=A001"),
    "dnxhr_mxf_1080": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="1920x1080", seconds=0.12),
    "dnxhr_mxf_720_reel": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="1280x720",
                             seconds=0.12, extra="-timecode 01:00:00:00 -metadata reel_name=B002"),
    **{f"dnxhr_mxf_reel_{n}": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                                 extra=f"-timecode 01:00:00:00 -metadata reel_name={reel}")
       for n, reel in (("utf8", "Ré_01"), ("long", "A001_CAMERA_ROLL_0123456789_ABCDEFGHIJ"), ("digits", "0001"))},
    "dnxhr_mxf_reel_drop": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                              rate="30000/1001", extra="-timecode 01:00:00;02 -metadata reel_name=C003"),
    "dnxhr_mxf_s16_stereo": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                               audio=("pcm_s16le -ac 2",)),
    "dnxhr_mxf_mono": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                         audio=("pcm_s24le -ac 1",)),
    "dnxhr_mxf_8ch": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                        audio=("pcm_s24le -ac 8",)),
    **{f"dnxhr_mxf_{r}": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144", rate=r)
       for r in ("50", "60", "48")},
    "dnxhr_mxf_short_audio": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                                audio=("pcm_s24le -ac 2 -t 0.1",)),
    "dnxhr_mxf_cut_999": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144", cut=0.999),
    "dnxhr_mxf_no_comments": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                                extra="-timecode 01:00:00:00 -store_user_comments 0 -metadata comment=x"),
    "dnxhr_mxf_odd_frames": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                               rate="30000/1001", seconds=7 * 1001 / 30000),
    "dnxhd_mxf": _v("mxf", video="dnxhd -b:v 36M -pix_fmt yuv422p", size="1920x1080", seconds=0.12),
    "dnxhd_mxf_interlaced": _v("mxf", video="dnxhd -b:v 120M -pix_fmt yuv422p -flags +ildct",
                               size="1920x1080", vfilter="setfield=tff", seconds=0.12),
    "dnxhr_mxf_par": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144",
                        vfilter="setsar=4/3"),
    "dnxhr_mxf_colour": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p -color_primaries bt709 "
                           "-color_trc bt709 -colorspace bt709", size="256x144"),
    "mpeg2_mxf": _v("mxf", video="mpeg2video -pix_fmt yuv422p -b:v 10M", size="256x144"),
    # XDCAM HD422-style MPEG-2 in MXF (media/mxf_mpeg2.py), as qc/synth.py and bench/qc_bench.py make masters
    **XDCAM_VARIANTS,
    # sound in MOV
    **{f"pcm_{c}": _v(audio=(f"pcm_{c} -ac 2",)) for c in ("s16le", "s24le", "s32le", "f32le", "f64le", "s16be",
                                                           "s24be", "s32be", "f32be")},
    "pcm_mono": _v(audio=("pcm_s24le -ac 1",)),
    "pcm_six": _v(audio=("pcm_s24le -ac 6",)),
    "pcm_six_mono_tracks": _v(audio=("pcm_s24le -ac 1",) * 6),
    "pcm_two_stereo": _v(audio=("pcm_s24le -ac 2", "pcm_s16le -ac 2")),
    "pcm_96k": _v(audio=("pcm_s24le -ac 2 -ar 96000",)),
    "pcm_44k": _v(audio=("pcm_s16le -ac 2 -ar 44100",)),
    **{f"pcm_samples_{n}": _v(audio=(f"pcm_s24le -ac 2 -af atrim=end_sample={n}",)) for n in (14401, 14399, 7213, 1)},
    "pcm_samples_44k_odd": _v(audio=("pcm_s16le -ac 1 -ar 44100 -af atrim=end_sample=13231",)),
    "pcm_samples_44k_281ms": _v(audio=("pcm_s16le -ac 1 -af aresample=44100,atrim=end_sample=12392",)),
    "pcm_samples_44k_275ms": _v(audio=("pcm_s16le -ac 1 -af aresample=44100,atrim=end_sample=12128",)),
    "pcm_samples_2398_10f": _v(rate="24000/1001", seconds=10 * 1001 / 24000,
                               audio=("pcm_s24le -ac 2 -af atrim=end_sample=20020",)),
    "aac_samples_2398_10f": _v("mp4", video="libx264 -preset ultrafast", rate="24000/1001", seconds=10 * 1001 / 24000,
                               audio=("aac -af atrim=end_sample=20020",)),
    "aac_samples_odd": _v("mp4", video="libx264 -preset ultrafast", audio=("aac -af atrim=end_sample=14401",)),
    "pcm_short_audio": _v(audio=("pcm_s24le -ac 2 -t 0.1",)),
    "no_audio": _v(audio=()),
    "audio_only_mov": _v(video=None, extra=""),
    "audio_only_mov_tc": _v(video=None),
    "audio_only_m4a": _v("mp4", video=None, audio=("aac",), extra=""),
    "aac_in_mov": _v(audio=("aac",)),
    "alac_in_mov": _v(audio=("alac",)),
    # pixel aspect ratios
    **{f"par_{n}_{d}": _v(vfilter=f"setsar={n}/{d}") for n, d in ((4, 3), (10, 11), (40, 33), (2, 1), (59, 54),
                                                                   (1, 2), (3, 2))},
    "par_h264_sps_differs": _v("mp4", video="libx264 -preset ultrafast -x264-params sar=1/1", vfilter="setsar=4/3",
                               audio=("aac",)),
    "par_h264_sps_only": _v("mp4", video="libx264 -preset ultrafast -x264-params sar=4/3", audio=("aac",)),
    "par_h264_mov_differs": _v(video="libx264 -preset ultrafast -x264-params sar=10/11", vfilter="setsar=40/33"),
    "par_h264_mp4": _v("mp4", video="libx264 -preset ultrafast", vfilter="setsar=64/45", audio=("aac",)),
    # colour tags
    "colour_709": _v(video=PRORES.format(3, "yuv422p10le") + " -color_primaries bt709 -color_trc bt709 "
                     "-colorspace bt709"),
    "colour_2020_pq": _v(video=PRORES.format(3, "yuv422p10le") + " -color_primaries bt2020 -color_trc smpte2084 "
                         "-colorspace bt2020nc"),
    "colour_2020_hlg": _v(video=PRORES.format(3, "yuv422p10le") + " -color_primaries bt2020 "
                          "-color_trc arib-std-b67 -colorspace bt2020nc"),
    # ProRes frame headers as other encoders write them (ffmpeg 9 writes the matrix there, and no colr box)
    "prores_header_primaries": _v(prores_header=((22, 1),)),
    "prores_header_transfer": _v(prores_header=((23, 1),)),
    "prores_header_709": _v(prores_header=((22, 1), (23, 1), (24, 1))),
    "prores_header_2020_pq": _v(prores_header=((22, 9), (23, 16), (24, 9))),
    "prores_header_2020_hlg": _v(prores_header=((22, 9), (23, 18), (24, 9))),
    "prores_header_601": _v(prores_header=((22, 6), (23, 6), (24, 6))),
    "prores_header_matrix_0": _v(prores_header=((24, 0),)),
    "prores_header_444_in_apch": _v(video=PRORES.format(3, "yuv422p10le"), prores_header=((20, 0xC0),)),
    "prores_header_alpha": _v(video=PRORES.format(3, "yuv422p10le"), prores_header=((25, 0x02),)),
    "prores_header_width": _v(prores_header=((16, 0), (17, 64))),
    "prores_header_aspect_rate": _v(prores_header=((21, 0x13),)),
    "colour_range_full": _v(video=PRORES.format(3, "yuv422p10le") + " -color_range pc"),
    # colr boxes (camera ProRes carries one): as each ffmpeg writes them, then patched to every code named in
    # media/colour.py, beside frame headers that agree, disagree or say nothing, and codes that are not named
    **{f"colr_{name}": _v(video=PRORES.format(3, "yuv422p10le") + f" {tags} -movflags +write_colr")
       for name, tags in (("unspecified", ""), ("709", _TAGS_709), ("2020_pq", _TAGS_2020 + " -color_trc smpte2084"),
                          ("2020_hlg", _TAGS_2020 + " -color_trc arib-std-b67"),
                          ("p3_pq", "-color_primaries smpte432 -color_trc smpte2084 -colorspace bt709"),
                          ("601", "-color_primaries smpte170m -color_trc smpte170m -colorspace smpte170m"),
                          ("range_full", _TAGS_709 + " -color_range pc"), ("matrix_only", "-colorspace bt709"))},
    **{f"colr_codes_{n}": _v(video=PRORES.format(3, "yuv422p10le") + " -movflags +write_colr",
                             colr=_CODES[n]) for n in range(len(_CODES))},
    "colr_camera_709": _v(video=PRORES.format(3, "yuv422p10le") + f" {_TAGS_709} -movflags +write_colr",
                          prores_header=((22, 1), (23, 1), (24, 1))),
    "colr_709_header_2020_pq": _v(video=PRORES.format(3, "yuv422p10le") + f" {_TAGS_709} -movflags +write_colr",
                                  prores_header=((22, 9), (23, 16), (24, 9))),
    "colr_unspecified_header_709": _v(video=PRORES.format(3, "yuv422p10le") + " -movflags +write_colr",
                                      prores_header=((22, 1), (23, 1), (24, 1))),
    "colr_709_header_unnamed": _v(video=PRORES.format(3, "yuv422p10le") + f" {_TAGS_709} -movflags +write_colr",
                                  prores_header=((24, 0),)),
    **{f"colr_unnamed_{n}": _v(video=PRORES.format(3, "yuv422p10le") + " -movflags +write_colr", colr=codes)
       for n, codes in enumerate(((0, 1, 1), (1, 0, 1), (1, 1, 0), (3, 1, 1), (1, 3, 1), (1, 1, 3), (1, 19, 1),
                                  (23, 1, 1), (1, 1, 15)))},
    "colr_tff": _v(video=PRORES.format(3, "yuv422p10le") + f" -flags +ildct+ilme -field_order tt {_TAGS_709} "
                   "-movflags +write_colr", vfilter="setfield=tff"),
    "colr_lt_25fps_pcm16": _v(video=PRORES.format(1, "yuv422p10le") + f" {_TAGS_709} -movflags +write_colr",
                              audio=("pcm_s16le -ac 2",)),
    "colr_h264_mov": _v(video=f"libx264 -preset ultrafast {_TAGS_709} -movflags +write_colr"),
    "colr_h264_mp4": _v("mp4", video="libx264 -preset ultrafast -movflags +write_colr", audio=("aac",)),
    # H.264's colour and range: the SPS's video signal type (every named code, set by h264_metadata), a colr box
    # (nclx in MP4, nclc in MOV) beside it agreeing or not, ranges that disagree, codes not named
    **{f"h264_vui_codes_{n}{'_mp4' if n % 2 else ''}": _v(
        "mp4" if n % 2 else "mov", video="libx264 -preset ultrafast -bsf:v h264_metadata=video_full_range_flag="
        f"{n % 3 // 2}:colour_primaries={p}:transfer_characteristics={t}:matrix_coefficients={m}",
        audio=("aac",) if n % 2 else ("pcm_s24le -ac 2",)) for n, (p, t, m) in enumerate(_CODES)},
    **{f"h264_{name}_{ext}": _v(ext, video=f"libx264 -preset ultrafast {args}",
                                audio=("aac",) if ext == "mp4" else ("pcm_s24le -ac 2",))
       for ext in ("mp4", "mov") for name, args in (
           ("vui_709_full", "-x264-params colorprim=bt709:transfer=bt709:colormatrix=bt709:fullrange=on"),
           ("vui_2020_hlg", "-x264-params colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc"),
           ("vui_format_only", "-x264-params videoformat=pal"),
           ("vui_format_only_full", "-x264-params videoformat=pal:fullrange=on"),
           ("vui_range_only_full", "-x264-params fullrange=on"),
           ("vui_matrix_unnamed", "-x264-params colormatrix=GBR"),
           ("colr_tags_709", f"{_TAGS_709} -movflags +write_colr"),
           ("colr_only", "-movflags +write_colr"),
           ("colr_unspecified_vui_709", "-x264-params colorprim=bt709:transfer=bt709:colormatrix=bt709:fullrange=on "
                                        "-movflags +write_colr"),
           ("colr_disagrees", "-x264-params colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc "
                              f"{_TAGS_709} -movflags +write_colr"),
           ("colr_limited_vui_full", f"-x264-params fullrange=on -color_range tv {_TAGS_709} -movflags +write_colr"),
           ("colr_full_vui_limited", f"-x264-params fullrange=off -color_range pc {_TAGS_709} -movflags +write_colr"))},
    **{f"h264_nclx_codes_{n}": _v("mp4", video="libx264 -preset ultrafast -movflags +write_colr", audio=("aac",),
                                  colr=_CODES[n]) for n in (1, 6, 11, 15)},
    "h264_nclx_unnamed": _v("mp4", video="libx264 -preset ultrafast -movflags +write_colr", audio=("aac",),
                            colr=(1, 1, 0)),
    # frame headers patched to every colour code named in media/colour.py (no colr box)
    **{f"prores_header_codes_{n}": _v(prores_header=((22, p), (23, t), (24, m))) for n, (p, t, m) in enumerate(_CODES)},
    "colour_h264_709": _v("mp4", video="libx264 -preset ultrafast -color_primaries bt709 -color_trc bt709 "
                          "-colorspace bt709", audio=("aac",)),
    "colour_h264_vui_only": _v("mp4", video="libx264 -preset ultrafast -x264-params colorprim=bt709:transfer=bt709:"
                               "colormatrix=bt709", audio=("aac",)),
    "colour_h264_full_range": _v("mp4", video="libx264 -preset ultrafast -x264-params fullrange=on",
                                 audio=("aac",)),
    "colour_hevc_hlg": _v("mp4", video="libx265 -preset ultrafast -pix_fmt yuv420p10le -color_primaries bt2020 "
                          "-color_trc arib-std-b67 -colorspace bt2020nc -x265-params log-level=error",
                          audio=("aac",)),
    # layout: moov first or last, cut short, odd timescales, edit lists
    "faststart": _v(extra="-timecode 01:00:00:00 -movflags +faststart"),
    "faststart_mp4": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",), extra="-movflags +faststart"),
    **{f"cut_{int(f * 100)}": _v(cut=f) for f in (0.5, 0.9, 0.995)},
    "cut_mp4_99": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",), cut=0.99),
    "cut_faststart_99": _v(extra="-timecode 01:00:00:00 -movflags +faststart", cut=0.99),
    "zeros_faststart_90": _v(extra="-timecode 01:00:00:00 -movflags +faststart", zeros=0.9),
    "zeros_faststart_video": _v(video=PRORES.format(3, "yuv422p10le"), size="320x180", audio=(),
                                extra="-timecode 01:00:00:00 -movflags +faststart", zeros=0.8),
    "zeros_mp4_faststart_90": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",),
                                 extra="-movflags +faststart", zeros=0.9),
    "zeros_mxf_90": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144", zeros=0.9),
    "cut_mxf_99": _v("mxf", video="dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p", size="256x144", cut=0.99),
    "timescale_600": _v(extra="-timecode 01:00:00:00 -video_track_timescale 600"),
    "timescale_90k_2398": _v(rate="24000/1001", extra="-timecode 01:00:00:00 -video_track_timescale 90000"),
    "audio_offset": _v(extra="-timecode 01:00:00:00 -itsoffset 0.1"),
    "audio_longer": _v(vfilter="trim=end_frame=3"),
    "tc_one_frame_mp4": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",), extra="-timecode 00:00:00:01"),
    "frames_7": _v(seconds=7 / 25),
    "frames_1": _v(seconds=1 / 25),
    "frames_odd_2997": _v(rate="30000/1001", seconds=0.4),
    "no_tmcd_written": _v(extra="-timecode 01:00:00:00 -write_tmcd 0"),
    "mp4_write_tmcd": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",),
                         extra="-timecode 01:00:00:00 -write_tmcd 1"),
    "isml_brand": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",), extra="-brand mp42"),
    "negative_cts": _v("mp4", video="libx264 -preset fast -bf 2", audio=("aac",),
                       extra="-movflags +negative_cts_offsets"),
    "rtphint": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",), extra="-movflags +rtphint"),
    "fragmented": _v("mp4", video="libx264 -preset ultrafast", audio=("aac",),
                     extra="-movflags +frag_keyframe+empty_moov"),
    "mov_language": _v(extra="-timecode 01:00:00:00 -metadata:s:a:0 language=fra -metadata:s:v:0 language=eng"),
    "mov_handler": _v(extra="-timecode 01:00:00:00 -metadata:s:a:0 handler_name=Boom"),
    "vfr_h264": _v("mp4", video="libx264 -preset ultrafast -fps_mode passthrough", audio=("aac",),
                   vfilter="setpts=N/FRAME_RATE/TB+if(mod(N\\,3)\\,0\\,0.01/TB)"),
}

# WAVE variants: (ffmpeg sound arguments, or a builder name)
WAVES: dict[str, str] = {
    "s16_stereo": "-c:a pcm_s16le -ac 2",
    "s24_stereo": "-c:a pcm_s24le -ac 2",
    "s32_stereo": "-c:a pcm_s32le -ac 2",
    "f32_stereo": "-c:a pcm_f32le -ac 2",
    "f64_mono": "-c:a pcm_f64le -ac 1",
    "u8_mono": "-c:a pcm_u8 -ac 1",
    "s24_mono": "-c:a pcm_s24le -ac 1",
    "s24_51": "-c:a pcm_s24le -ac 6",
    "s24_51_side": "-c:a pcm_s24le -af aformat=channel_layouts=5.1(side)",
    "s24_71": "-c:a pcm_s24le -af aformat=channel_layouts=7.1",
    "s24_quad": "-c:a pcm_s24le -af aformat=channel_layouts=quad",
    "s24_21": "-c:a pcm_s24le -af aformat=channel_layouts=2.1",
    "s24_3_0": "-c:a pcm_s24le -af aformat=channel_layouts=3.0",
    "s24_4_unknown": "-c:a pcm_s24le -ac 4",
    "s16_6": "-c:a pcm_s16le -ac 6",
    "s16_96k": "-c:a pcm_s16le -ac 2 -ar 96000",
    "s24_192k": "-c:a pcm_s24le -ac 2 -ar 192000",
    "s24_44k": "-c:a pcm_s24le -ac 2 -ar 44100",
    "alaw": "-c:a pcm_alaw -ac 1 -ar 8000",
    "mulaw": "-c:a pcm_mulaw -ac 1 -ar 8000",
    "adpcm": "-c:a adpcm_ms -ac 1",
    "s24_bext": "-c:a pcm_s24le -ac 2 -write_bext 1 -metadata time_reference=172800000 -metadata originator=postprod",
    "s24_bext_tc_odd": "-c:a pcm_s24le -ac 2 -write_bext 1 -metadata time_reference=4147199000",
    "s24_info": "-c:a pcm_s24le -ac 2 -metadata title=Boom -metadata artist=Sound",
    "rf64_always": "-c:a pcm_s24le -ac 2 -rf64 always",
    "rf64_auto": "-c:a pcm_s24le -ac 2 -rf64 auto",
    "s24_cut": "cut",
    "s24_trailing": "trailing",
    "s24_valid20": "valid20",
    "s24_data_size_zero": "data_size_zero",
    "s24_riff_short": "riff_short",
    "s24_pipe": "pipe",
    "s24_odd_samples": "-c:a pcm_s24le -ac 1 -af atrim=end_sample=4801",
    "u8_odd": "-c:a pcm_u8 -ac 1 -af atrim=end_sample=4801",
    "s24_3ch_odd": "-c:a pcm_s24le -ac 3 -af atrim=end_sample=4801",
    "s16_half_ms": "-c:a pcm_s16le -ac 1 -ar 8000 -af atrim=end_sample=2004",
}


pytestmark = pytest.mark.differential


def _run(cmd: list[str]) -> bool:
    return subprocess.run(cmd, capture_output=True, check=False).returncode == 0


def _make_clip(ffmpeg: str, out: Path, v: Variant) -> bool:
    cmd = [ffmpeg, "-v", "error", "-y"]
    if v.video:
        cmd += ["-f", "lavfi", "-i", f"testsrc2=s={v.size}:r={v.rate}:d={v.seconds}"]
    extra = v.extra.split()
    if v.audio:
        if "-itsoffset" in extra:  # an input option: the sound starts later
            at = extra.index("-itsoffset")
            cmd += extra[at:at + 2]
            del extra[at:at + 2]
        cmd += ["-f", "lavfi", "-i", f"sine=r=48000:d={v.seconds}"]
    maps = []
    if v.video:
        maps += ["-map", "0:v"]
        if v.vfilter:
            maps += ["-vf", v.vfilter]
        maps += ["-c:v", *v.video.split()]
    index = 1 if v.video else 0
    for n, sound in enumerate(v.audio):
        codec, *rest = sound.split()
        maps += ["-map", f"{index}:a", f"-c:a:{n}", codec]
        it = iter(rest)
        for opt in it:
            value = next(it)
            maps += [f"{opt}:a:{n}" if opt in ("-ac", "-ar", "-profile:a") else opt, value]
    cmd += maps + extra + [str(out)]
    return _run(cmd)


def _patch_prores(path: Path, header: tuple[tuple[int, int], ...]) -> None:
    from media.qt_facts import _top
    from media.qt_tables import _tracks, sample_spans

    with open(path, "r+b") as fh:
        _, moov = _top(fh, path.stat().st_size)
        video = next(t for t in _tracks(moov) if t.handler == b"vide")
        for offset, _ in sample_spans(video):
            for at, value in header:
                fh.seek(offset + at)
                fh.write(bytes([value]))


def _make(ffmpeg: str, out: Path, v: Variant) -> bool:
    """The variant at `out`, made with this ffmpeg; False where it cannot make it."""
    if not _make_clip(ffmpeg, out, v):
        return False
    if v.prores_header:
        _patch_prores(out, v.prores_header)
    if v.fiel_detail is not None:
        data = bytearray(out.read_bytes())
        assert data.count(b"fiel") == 1
        data[data.find(b"fiel") + 5] = v.fiel_detail
        out.write_bytes(bytes(data))
    if v.colr is not None:
        data = bytearray(out.read_bytes())
        box = b"colrnclx" if v.ext == "mp4" else b"colrnclc"
        assert data.count(box) == 1
        struct.pack_into(">HHH", data, data.find(box) + 8, *v.colr)
        out.write_bytes(bytes(data))
    if v.tmcd_flags is not None:
        data = bytearray(out.read_bytes())
        entry = b"tmcd" + bytes(6) + b"\x00\x01"  # the tmcd sample description: fourcc, reserved, data reference 1
        assert data.count(entry) == 1
        struct.pack_into(">I", data, data.find(entry) + 16, v.tmcd_flags)
        out.write_bytes(bytes(data))
    if v.zeros is not None:
        data = bytearray(out.read_bytes())
        data[int(len(data) * v.zeros):] = bytes(len(data) - int(len(data) * v.zeros))
        out.write_bytes(bytes(data))
    if v.cut is not None:
        data = out.read_bytes()
        out.write_bytes(data[: int(len(data) * v.cut)])
    return True


def _make_wave(ffmpeg: str, out: Path, how: str) -> bool:
    base = [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "sine=r=48000:d=0.2"]
    if how == "cut":
        ok = _run(base + ["-c:a", "pcm_s24le", "-ac", "2", str(out)])
        if ok:
            data = out.read_bytes()
            out.write_bytes(data[: int(len(data) * 0.9)])
        return ok
    if how == "pipe":
        proc = subprocess.run(base + ["-c:a", "pcm_s24le", "-ac", "2", "-f", "wav", "-"], capture_output=True)
        out.write_bytes(proc.stdout)
        return proc.returncode == 0
    if how in ("trailing", "valid20", "data_size_zero", "riff_short"):
        ok = _run(base + ["-c:a", "pcm_s24le", "-ac", "2", str(out)])
        if ok:
            data = bytearray(out.read_bytes())
            fmt, dat = data.find(b"fmt "), data.find(b"data")
            if how == "trailing":  # a recorder's file padded past its RIFF
                data += bytes(1000)
            elif how == "valid20":  # 20 valid bits in 24 (WAVE_FORMAT_EXTENSIBLE's wValidBitsPerSample)
                assert struct.unpack_from("<H", data, fmt + 8)[0] == 0xFFFE
                struct.pack_into("<H", data, fmt + 8 + 18, 20)
            elif how == "data_size_zero":  # a recorder stopped before it wrote the sizes
                struct.pack_into("<I", data, dat + 4, 0)
            else:
                struct.pack_into("<I", data, 4, 100)
            out.write_bytes(bytes(data))
        return ok
    args = how.split()
    if "-ar" not in args:
        args += ["-ar", "48000"]
    return _run(base + args + [str(out)])


@pytest.fixture(scope="session")
def variant(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str):
    """Make (once per session, on first use) a variant: its path, or None where this ffmpeg cannot make it."""
    made: dict[str, Path | None] = {}
    folder = tmp_path_factory.mktemp("variants")

    def make(name: str) -> Path | None:
        if name not in made:
            if name.startswith("wav_"):
                out = folder / f"{name}.wav"
                made[name] = out if _make_wave(ffmpeg, out, WAVES[name[4:]]) else None
            else:
                out = folder / f"{name}.{VARIANTS[name].ext}"
                made[name] = out if _make(ffmpeg, out, VARIANTS[name]) else None
        return made[name]

    return make


NAMES = sorted(VARIANTS) + sorted("wav_" + n for n in WAVES)


def _probe(path: Path, ffmpeg: str, own: bool) -> dict:
    return probe_file(path, ffmpeg=ffmpeg, default_rate=Fraction(25), own=own).model_dump(mode="json")


@pytest.mark.parametrize("name", NAMES)
def test_fast_path_equals_mediainfo_or_declines(variant, ffmpeg: str, name: str) -> None:
    path = variant(name)
    if path is None:
        pytest.skip(f"{ffmpeg} cannot make {name}")
    fast = own_tracks(path, path.stat().st_size)
    ours, theirs = _probe(path, ffmpeg, True), _probe(path, ffmpeg, False)
    assert ours == theirs, f"{name}: our readers {'declined' if fast is None else 'answered'}"


def _read_by_us(variant, ffmpeg: str, name: str):  # noqa: ANN001, ANN202
    """The variant made by this ffmpeg (skipped where it cannot make it) and our readers' tracks of it: not
    declined."""
    path = variant(name)
    if path is None:
        pytest.skip(f"{ffmpeg} cannot make {name}")
    fast = own_tracks(path, path.stat().st_size)
    assert fast is not None, f"{name}: declined"
    return path, fast


# XDCAM masters as postprod's own QC synth and bench make them, on both ffmpegs: read by our readers, not declined.
READ_XDCAM = ("xdcam_1080i25", "xdcam_tff_25", "xdcam_bff_2997_ndf", "xdcam_prog_5994_df", "xdcam_tff_stereo",
              "xdcam_tff_no_audio", "mpeg2_420_mxf")


@pytest.mark.parametrize("name", READ_XDCAM)
def test_our_readers_read_xdcam(variant, ffmpeg: str, name: str) -> None:
    _, fast = _read_by_us(variant, ffmpeg, name)
    assert fast.video_tracks[0].format == "MPEG Video"


# The MP4s ffmpeg writes with its metadata keys (a reel, a timecode, its name): read by our readers, not declined.
READ_BY_US = ("reel_mp4_tags", "reel_mp4_tags_proxy", "reel_mp4_tags_utf8", "reel_mp4_tags_no_tc")


@pytest.mark.parametrize("name", READ_BY_US)
def test_our_readers_read_ffmpegs_metadata_keys(variant, ffmpeg: str, name: str) -> None:
    path, fast = _read_by_us(variant, ffmpeg, name)
    assert fast.general_tracks[0].reel_name == probe_file(path, ffmpeg=ffmpeg, own=False).reel


# DNxHR as the avid-dnxhr-lb proxy and its reel are written: read by our readers (the proxy's check after its encode
# needs no MediaInfo), the reel as MediaInfo's PackageName.
READ_DNXHR = {"dnxhr_mxf_1080_proxy": "A001", "dnxhr_mxf_reel": "A001", "dnxhr_mxf_720_reel": "B002",
              "dnxhr_mxf_reel_drop": "C003", "dnxhr_mxf_1080": None}


@pytest.mark.parametrize("name", sorted(READ_DNXHR))
def test_our_readers_read_dnxhr_proxies(variant, ffmpeg: str, name: str) -> None:
    path, fast = _read_by_us(variant, ffmpeg, name)
    assert fast.general_tracks[0].package_name == READ_DNXHR[name]
    assert probe_file(path, ffmpeg=ffmpeg, own=True).reel == READ_DNXHR[name]
