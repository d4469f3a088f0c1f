"""Per-frame picture and sound measurements on the raw data that the QC's one ffmpeg decode pipes out.

ffmpeg decodes the master once and hands over two small raw streams: the picture area-averaged to a
fraction of its size (4:4:4, native bit depth) and every audio channel as 32-bit float. These meters
read them in batches with numpy and reduce each video frame to a few numbers, so the measurements cost
a small fraction of the decode.

Picture (EBU R103): levels, chroma and R'G'B' gamut are judged on the area-averaged picture. R103 asks
for a low-pass filtered measurement and ignores excursions over less than 1 % of the picture; an area
average *is* a low-pass filter, and each measured pixel covers 0.003 % of an HD picture, so any
excursion R103 counts survives it while ringing and isolated overshoots, which it tells us to ignore,
do not. A frame is out of range when more than `area_pct` of its (filtered) pixels are. Black and frozen
pictures stay black and frozen when averaged; freeze follows ffmpeg's freezedetect (mean absolute
difference against the first frame of the still run, over the full range) on luma.

Sound: per-frame sample peaks and silence per channel, and true peak (ITU-R BS.1770-4 Annex 2: the
4x oversampling FIR of the Recommendation) for the frames that could be over the limit. A frame whose
sample peak times the filter's largest gain is under the limit cannot have a true peak over it, so the
filter runs only where it can matter; where it runs, its reading is exact to the Recommendation.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from qc.levels import MATRICES, db, level_limits, matrix_for

__all__ = ["TRUE_PEAK_BOUND", "PictureMeter", "SoundMeter", "db", "level_limits", "matrix_for", "true_peaks"]

# ITU-R BS.1770-4 Annex 2: order-48 interpolation FIR in four phases of 12 taps (4x oversampling).
TRUE_PEAK_PHASES = np.array([
    [0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000, -0.0594482421875, 0.1373291015625,
     0.9721679687500, -0.1022949218750, 0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500],
    [-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250, -0.1665039062500, 0.4650878906250,
     0.7797851562500, -0.2003173828125, 0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375],
    [-0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625000000, -0.2003173828125, 0.7797851562500,
     0.4650878906250, -0.1665039062500, 0.0891113281250, -0.0517578125000, 0.0292968750000, -0.0291748046875],
    [-0.0083007812500, 0.0148925781250, -0.0266113281250, 0.0476074218750, -0.1022949218750, 0.9721679687500,
     0.1373291015625, -0.0594482421875, 0.0332031250000, -0.0196533203125, 0.0109863281250, 0.0017089843750],
])
TAPS = TRUE_PEAK_PHASES.shape[1]
# No output of the filter can exceed the largest input magnitude times this (sum of |coefficients|).
TRUE_PEAK_BOUND = float(np.abs(TRUE_PEAK_PHASES).sum(axis=1).max())


def true_peaks(x: np.ndarray) -> np.ndarray:
    """Largest |4x-oversampled value| at each input sample of a 1-D signal (float64), BS.1770 Annex 2.

    Output i covers the interpolated points around input sample i; the filter's delay (6 samples) is
    taken out so a peak is attributed to where it is.
    """
    out = np.zeros(len(x))
    for h in TRUE_PEAK_PHASES:
        y = np.abs(np.convolve(x, h)[TAPS // 2: TAPS // 2 + len(x)])
        np.maximum(out, y, out=out)
    return out


class PictureMeter:
    """Levels, gamut, black and freeze per frame, from raw 4:4:4 frames of the reduced picture.

    Levels and chroma are judged on every pixel of the reduced picture. Gamut, black and freeze are
    judged on every other one each way (a quarter of them: 8,000 at HD, each the average of 8x8 source
    pixels): they are shares of the picture (1 % out of gamut, 98 % black) or a mean difference, which
    that many samples estimate well, and it keeps the meter at about a tenth of a millisecond a frame.
    """

    def __init__(self, width: int, height: int, depth: int, *, luma: tuple[float, float],
                 chroma: tuple[float, float], rgb_pct: tuple[float, float], area_pct: float,
                 black_pixel: float, black_ratio: float, freeze_noise_db: float, matrix: str) -> None:
        self.w, self.h, self.depth = width, height, depth
        self.dtype = np.dtype(np.uint8) if depth <= 8 else np.dtype("<u2")
        self.frame_bytes = 3 * width * height * self.dtype.itemsize
        scale = 1 << max(depth - 8, 0)
        self.luma, self.chroma = luma, chroma
        self.area = area_pct / 100
        sub_pixels = ((height + 1) // 2) * ((width + 1) // 2)
        # blackdetect's pixel threshold: a share of the nominal luma range above black.
        self.black_code = 16 * scale + black_pixel * 219 * scale
        self.black_ratio = black_ratio
        # freezedetect: mean |difference| / 2^depth at or under the noise floor (dB → amplitude).
        self.freeze_sad = 10 ** (freeze_noise_db / 20) * (1 << depth) * sub_pixels
        # R'G'B' = Y' + weights · (Cb, Cr), all normalised, as one affine map of the code values.
        kr, kb = MATRICES[matrix]
        kg = 1 - kr - kb
        ky, kc = 1 / (219 * scale), 1 / (224 * scale)
        y0, c0 = 16 * scale, 128 * scale
        self._rgb = [(ky, 0.0, 2 * (1 - kr) * kc), (ky, -2 * kb * (1 - kb) / kg * kc, -2 * kr * (1 - kr) / kg * kc),
                     (ky, 2 * (1 - kb) * kc, 0.0)]
        self._offset = [-(wy * y0 + wb * c0 + wr * c0) for wy, wb, wr in self._rgb]
        self.rgb = (rgb_pct[0] / 100, rgb_pct[1] / 100)
        self.frames = 0
        self.luma_bad: list[tuple[int, float]] = []
        self.chroma_bad: list[tuple[int, float]] = []
        self.gamut_bad: list[tuple[int, float]] = []
        self.black: list[int] = []
        self.freeze: list[tuple[int, int]] = []  # [start, end) still runs (not yet filtered by duration)
        self.ymin = self.ymax = self.cmin = self.cmax = None
        self.rgb_min = self.rgb_max = None
        self._ref: np.ndarray | None = None  # (subsampled) luma of the first frame of the current still run
        self._ref_frame = 0
        self._still_to = 0  # frames [ref, still_to) match the reference
        self._last: np.ndarray | None = None

    def batch_buffer(self, frames: int) -> np.ndarray:
        return np.empty((frames, 3, self.h, self.w), dtype=self.dtype)

    def feed(self, a: np.ndarray) -> None:
        """Measure frames a[0..n) (n, 3, h, w), the next ones in decode order."""
        first = self.frames
        y, c = a[:, 0], a[:, 1:]
        ymin, ymax = y.min(axis=(1, 2)), y.max(axis=(1, 2))
        cmin, cmax = c.min(axis=(1, 2, 3)), c.max(axis=(1, 2, 3))
        self._ranges(float(ymin.min()), float(ymax.max()), float(cmin.min()), float(cmax.max()))
        limit = self.area * self.w * self.h
        lo, hi = self.luma
        for i in np.nonzero((ymin < lo) | (ymax > hi))[0]:
            yi = y[i]
            if np.count_nonzero((yi < lo) | (yi > hi)) > limit:
                self.luma_bad.append((first + int(i), max(lo - float(ymin[i]), float(ymax[i]) - hi)))
        lo, hi = self.chroma
        for i in np.nonzero((cmin < lo) | (cmax > hi))[0]:
            over = (c[i] < lo) | (c[i] > hi)
            if np.count_nonzero(over[0] | over[1]) > limit:
                self.chroma_bad.append((first + int(i), max(lo - float(cmin[i]), float(cmax[i]) - hi)))
        sub = np.ascontiguousarray(a[:, :, ::2, ::2])
        self._gamut(sub, first)
        ys = sub[:, 0]
        npix = ys.shape[1] * ys.shape[2]
        for i in np.nonzero(ymin <= self.black_code)[0]:
            if np.count_nonzero(ys[i] <= self.black_code) >= self.black_ratio * npix:
                self.black.append(first + int(i))
        self._freeze(ys, first)
        self.frames += len(a)

    def _ranges(self, y0: float, y1: float, c0: float, c1: float) -> None:
        self.ymin = y0 if self.ymin is None else min(self.ymin, y0)
        self.ymax = y1 if self.ymax is None else max(self.ymax, y1)
        self.cmin = c0 if self.cmin is None else min(self.cmin, c0)
        self.cmax = c1 if self.cmax is None else max(self.cmax, c1)

    def _gamut(self, sub: np.ndarray, first: int) -> None:
        f = sub.astype(np.float32)
        yy, cb, cr = f[:, 0], f[:, 1], f[:, 2]
        glo, ghi = self.rgb
        lows, highs, comps = [], [], []
        for (wy, wb, wr), off in zip(self._rgb, self._offset, strict=True):
            v = yy * np.float32(wy)
            if wb:
                v += cb * np.float32(wb)
            if wr:
                v += cr * np.float32(wr)
            v += np.float32(off)
            comps.append(v)
            lows.append(v.min(axis=(1, 2)))
            highs.append(v.max(axis=(1, 2)))
        lo, hi = np.minimum.reduce(lows), np.maximum.reduce(highs)
        bmin, bmax = float(lo.min()), float(hi.max())
        self.rgb_min = bmin if self.rgb_min is None else min(self.rgb_min, bmin)
        self.rgb_max = bmax if self.rgb_max is None else max(self.rgb_max, bmax)
        limit = self.area * yy.shape[1] * yy.shape[2]
        for i in np.nonzero((lo < glo) | (hi > ghi))[0]:
            out = np.zeros(yy.shape[1:], dtype=bool)
            for v in comps:
                out |= (v[i] < glo) | (v[i] > ghi)
            if np.count_nonzero(out) > limit:
                self.gamut_bad.append((first + int(i), max(glo - float(lo[i]), float(hi[i]) - ghi) * 100))

    def _freeze(self, ys: np.ndarray, first: int) -> None:
        # freezedetect: a frame is still when its mean |difference| to the run's first frame is at or under
        # the noise floor. Most frames differ from the one before, which a batch difference shows at once;
        # a frame still against the run's first one moved at most twice the floor from its predecessor
        # (triangle inequality), so only those frames are compared with the run's first frame.
        # A fresh array per batch: the run's first frame can stay a view into it.
        yi = ys.astype(np.int32)
        prev = np.concatenate([self._last[None], yi[:-1]]) if self._last is not None else None
        steps = np.abs(yi - prev).sum(axis=(1, 2)) if prev is not None else None
        for i in range(len(yi)):
            n = first + i
            if self._ref is None:
                self._ref, self._ref_frame, self._still_to = yi[i], n, n + 1
                continue
            step = steps[i] if steps is not None else np.abs(yi[i] - yi[i - 1]).sum()
            if step <= 2 * self.freeze_sad and np.abs(yi[i] - self._ref).sum() <= self.freeze_sad:
                self._still_to = n + 1
                continue
            if self._still_to - self._ref_frame > 1:
                self.freeze.append((self._ref_frame, self._still_to))
            self._ref, self._ref_frame, self._still_to = yi[i], n, n + 1
        self._last = yi[-1]

    def finish(self) -> None:
        if self._ref is not None and self._still_to - self._ref_frame > 1:
            self.freeze.append((self._ref_frame, self._still_to))


class SoundMeter:
    """Per video frame and channel: sample peak, silence, and true peak where it can exceed the limit.

    Frames are cut on the audio's own clock: frame k holds samples [k*sr/rate, (k+1)*sr/rate), rounded,
    so 29.97 fps (1601.6 samples a frame) never drifts.
    """

    BLOCK_FRAMES = 25

    def __init__(self, channels: int, sample_rate: int, rate: Fraction, *, silence_channels: list[int],
                 silence_db: float, true_peak_max: float) -> None:
        self.ch, self.sr, self.rate = channels, sample_rate, rate
        self.silence_channels = [c - 1 for c in silence_channels if 0 < c <= channels]
        self.silence_lin = 10 ** (silence_db / 20)
        self.limit_lin = 10 ** (true_peak_max / 20)
        self.frames = 0  # whole frames measured
        self._pending = np.zeros((0, channels), dtype=np.float32)
        self._history = np.zeros((TAPS, channels), dtype=np.float64)  # samples before the pending block
        self.samples = 0  # samples consumed into frames
        self.silent: dict[int, list[int]] = {c + 1: [] for c in self.silence_channels}
        self.over: list[tuple[int, int, float]] = []  # (frame, channel 1-based, dBTP)
        self.sample_peak = np.zeros(channels)
        self.true_peak: float | None = None  # largest true peak computed (frames that could be over)

    def boundary(self, k: int) -> int:
        return round(Fraction(k * self.sr) / self.rate)

    def feed(self, data: bytes) -> None:
        x = np.frombuffer(data, dtype="<f4")
        x = x[: len(x) - len(x) % self.ch].reshape(-1, self.ch)
        self._pending = np.concatenate([self._pending, x]) if len(self._pending) else x
        end = self.frames + self.BLOCK_FRAMES
        while len(self._pending) >= self.boundary(end) - self.samples + TAPS:
            self._measure(end)
            end = self.frames + self.BLOCK_FRAMES

    def finish(self) -> None:
        """Measure what is left, the last partial frame included."""
        if not len(self._pending):
            return
        last = self.frames
        while self.boundary(last + 1) - self.samples <= len(self._pending):
            last += 1
        if self.boundary(last) - self.samples < len(self._pending):
            last += 1  # a partial last frame
        self._measure(last, final=True)

    def _measure(self, end_frame: int, final: bool = False) -> None:
        first = self.frames
        edges = [min(self.boundary(k) - self.samples, len(self._pending)) for k in range(first, end_frame + 1)]
        n = edges[-1]
        block = self._pending[:n]
        starts = np.array(edges[:-1])
        if not n or len(starts) == 0:
            return
        peaks = np.maximum.reduceat(np.abs(block), starts, axis=0)  # (frames, channels)
        np.maximum(self.sample_peak, peaks.max(axis=0), out=self.sample_peak)
        for c in self.silence_channels:
            for i in np.nonzero(peaks[:, c] < self.silence_lin)[0]:
                self.silent[c + 1].append(first + int(i))
        could = peaks * TRUE_PEAK_BOUND > self.limit_lin
        if could.any():
            # The filter needs TAPS samples either side: history before, the pending samples after.
            after = self._pending[n: n + TAPS].astype(np.float64)
            for c in np.nonzero(could.any(axis=0))[0]:
                sig = np.concatenate([self._history[:, c], block[:, c].astype(np.float64), after[:, c]])
                tp = true_peaks(sig)[TAPS: TAPS + n]
                frame_tp = np.maximum.reduceat(tp, starts)
                best = float(frame_tp.max())
                self.true_peak = best if self.true_peak is None else max(self.true_peak, best)
                for i in np.nonzero(frame_tp > self.limit_lin)[0]:
                    self.over.append((first + int(i), int(c) + 1, db(float(frame_tp[i]))))
        keep = block[-TAPS:].astype(np.float64)
        if len(keep) < TAPS:
            keep = np.concatenate([self._history[len(keep):], keep])
        self._history = keep
        self._pending = self._pending[n:]
        self.samples += n
        self.frames = end_frame
