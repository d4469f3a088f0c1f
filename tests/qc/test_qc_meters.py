"""The QC meters' arithmetic on signals whose answers are known in closed form (no ffmpeg)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from qc.meters import TRUE_PEAK_BOUND, PictureMeter, SoundMeter, true_peaks


def test_true_peak_filter_reads_the_peak_between_samples():
    n = np.arange(4800)
    # fs/4 at 45°: the samples sit at ±0.354, the waveform between them reaches 0.5.
    x = 0.5 * np.sin(np.pi * n / 2 + np.pi / 4)
    assert abs(x).max() < 0.36
    assert abs(20 * math.log10(true_peaks(x)[50:-50].max() / 0.5)) < 0.1
    # And a 1 kHz tone reads its own amplitude.
    y = 0.5 * np.sin(2 * np.pi * 1000 * n / 48000)
    assert abs(20 * math.log10(true_peaks(y)[50:-50].max() / 0.5)) < 0.05


def test_no_true_peak_exceeds_the_sample_peak_times_the_bound():
    # What lets the meter skip frames: the filter cannot exceed max|x| times the sum of |coefficients|.
    rng = np.random.default_rng(7)
    for _ in range(20):
        x = rng.uniform(-1, 1, 2000) * rng.choice([-1, 1], 2000)
        assert true_peaks(x).max() <= abs(x).max() * TRUE_PEAK_BOUND + 1e-12


def test_sound_meter_cuts_29_97_frames_without_drift():
    # At 30000/1001 a frame is 1601.6 samples: frame k starts at sample round(k * 48000 * 1001 / 30000).
    m = SoundMeter(1, 48000, Fraction(30000, 1001), silence_channels=[1], silence_db=-60, true_peak_max=-1)
    assert m.boundary(30000) == 48_048_000  # 30000 frames last exactly 1001 s
    assert [m.boundary(k + 1) - m.boundary(k) for k in range(5)] == [1602, 1601, 1602, 1601, 1602]
    # A click at the first sample of frame 17000 is silence-breaking in that frame only.
    total = m.boundary(17010)
    x = np.zeros(total, dtype=np.float32)
    x[m.boundary(17000)] = 0.5
    for i in range(0, total, 48000):
        m.feed(x[i:i + 48000].tobytes())
    m.finish()
    silent = set(m.silent[1])
    assert 17000 not in silent and 16999 in silent and 17001 in silent


def test_picture_meter_black_freeze_and_area_rule():
    h, w = 34, 60
    pm = PictureMeter(w, h, 8, luma=(13.8, 237.2), chroma=(4.8, 251.2), rgb_pct=(-5, 105), area_pct=1.0,
                      black_pixel=0.1, black_ratio=0.98, freeze_noise_db=-60, matrix="bt709")
    rng = np.random.default_rng(1)
    frames = np.empty((30, 3, h, w), dtype=np.uint8)
    frames[:, 0] = rng.integers(40, 200, (30, h, w))
    frames[:, 1:] = 128
    frames[5:8, 0] = 16  # black
    frames[12:18] = frames[12]  # still
    frames[20, 0, :2, :2] = 255  # 4 of 2040 pixels over: under 1 %, ignored
    frames[22, 0, :10, :10] = 255  # 100 pixels: about 5 %, counted
    pm.feed(frames[:13])
    pm.feed(frames[13:])
    pm.finish()
    assert pm.black == [5, 6, 7]
    assert (12, 18) in pm.freeze and all(b - a > 1 for a, b in pm.freeze)
    assert [f for f, _ in pm.luma_bad] == [22]
