"""Tracks as pymediainfo shows them, made by our own readers (media/facts.py): what the probe reads of a file."""

from __future__ import annotations

from typing import Any

from media.bwf import BwfInfo


class Track:
    """One track as pymediainfo shows it: an attribute per field, None where the field is absent."""

    def __init__(self, track_type: str, **fields: Any) -> None:
        self.track_type = track_type
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> None:
        if name.startswith("__"):
            raise AttributeError(name)
        return None


class Tracks:
    """What pymediainfo's MediaInfo gives the probe, made by our readers. `bwf`: the take's header, read once;
    `proof`: what the reader proved of the file's structure (an MXF's MxfProof), for the decode check."""

    def __init__(self, tracks: list[Track], bwf: BwfInfo | None = None, proof: Any = None) -> None:
        self.tracks = tracks
        self.bwf = bwf
        self.proof = proof

    def _of(self, kind: str) -> list[Track]:
        return [t for t in self.tracks if t.track_type == kind]

    general_tracks = property(lambda self: self._of("General"))
    video_tracks = property(lambda self: self._of("Video"))
    audio_tracks = property(lambda self: self._of("Audio"))
    other_tracks = property(lambda self: self._of("Other"))
    image_tracks = property(lambda self: self._of("Image"))
