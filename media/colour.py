"""MediaInfo's names of the colour codes (ISO/IEC 23091-2: primaries, transfer, matrix) that a ProRes frame header,
an H.264 SPS and a QuickTime 'colr' box carry, as the probe shows them (media/qt_facts.py).

Only the codes checked against MediaInfo are named (tests/media/test_facts_differential.py: a colr box, a frame
header and an SPS set to each of them, on files made by both ffmpegs); any other code (0, 3, the reserved ones)
is MediaInfo's to read. 2, unspecified, is not shown.
"""

from __future__ import annotations

FIELDS = ("color_primaries", "transfer_characteristics", "matrix_coefficients")
NAMES: tuple[dict[int, str], dict[int, str], dict[int, str]] = (
    {1: "BT.709", 4: "BT.470 System M", 5: "BT.601 PAL", 6: "BT.601 NTSC", 7: "SMPTE 240M", 8: "Generic film",
     9: "BT.2020", 10: "XYZ", 11: "DCI P3", 12: "Display P3", 22: "EBU Tech 3213"},
    {1: "BT.709", 4: "BT.470 System M", 5: "BT.470 System B/G", 6: "BT.601", 7: "SMPTE 240M", 8: "Linear",
     9: "Logarithmic (100:1)", 10: "Logarithmic (316.22777:1)", 11: "xvYCC", 12: "BT.1361", 13: "sRGB/sYCC",
     14: "BT.2020 (10-bit)", 15: "BT.2020 (12-bit)", 16: "PQ", 17: "SMPTE 428M", 18: "HLG"},
    {1: "BT.709", 4: "FCC 73.682", 5: "BT.470 System B/G", 6: "BT.601", 7: "SMPTE 240M", 8: "YCgCo",
     9: "BT.2020 non-constant", 10: "BT.2020 constant", 11: "Y'D'zD'x", 12: "Chromaticity-derived non-constant",
     13: "Chromaticity-derived constant", 14: "ICtCp"},
)
UNSPECIFIED = 2


def known(codes: tuple[int, ...] | bytes) -> bool:
    """Every code one MediaInfo names here, or unspecified."""
    return all(code == UNSPECIFIED or code in names for names, code in zip(NAMES, codes, strict=True))


def named(codes: tuple[int, ...] | bytes) -> dict[str, str] | None:
    """The fields MediaInfo shows for these (primaries, transfer, matrix) codes; None where one is not named here."""
    if not known(codes):
        return None
    return {field: names[code] for field, names, code in zip(FIELDS, NAMES, codes, strict=True)
            if code != UNSPECIFIED}
