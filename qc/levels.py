"""The numbers the QC's meters and checks share that need no numpy: R103 code values, colour matrices, dB.

Kept apart from qc/meters.py so that building the ffmpeg command, and the checks, load no numpy: the QC
starts its decode first and loads numpy while ffmpeg starts (qc/analyse.py).
"""

from __future__ import annotations

import math

# R'G'B' from Y'CbCr: (Kr, Kb) of the matrix.
MATRICES = {"bt709": (0.2126, 0.0722), "bt601": (0.299, 0.114), "bt2020": (0.2627, 0.0593)}


def matrix_for(declared: str | None, height: int) -> str:
    """The colour matrix to read the picture with: the declared one, else BT.709 for HD and BT.601 for SD."""
    text = (declared or "").replace(" ", "").replace(".", "").lower()
    if "2020" in text:
        return "bt2020"
    if "709" in text:
        return "bt709"
    if "601" in text or "170m" in text or "470" in text:
        return "bt601"
    return "bt709" if height > 576 else "bt601"


def db(x: float) -> float:
    return 20 * math.log10(x) if x > 0 else -math.inf


def level_limits(bit_depth: int, min_pct: float, max_pct: float, chroma: bool) -> tuple[float, float]:
    """Code values for R103 percentages: 8-bit luma 16-235 (chroma 16-240), scaled for deeper bits."""
    scale = 1 << max(bit_depth - 8, 0)
    low, high = 16 * scale, (240 if chroma else 235) * scale
    span = high - low
    return low + span * min_pct / 100, low + span * max_pct / 100
