"""The stages of a production's post plan, in their usual order (DOMAIN.md §1)."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    RUSHES_RECEPTION = "rushes_reception"
    OFFLINE_EDIT = "offline_edit"
    GRADING = "grading"
    SOUND_EDIT = "sound_edit"
    FOLEY = "foley"
    MUSIC = "music"
    VOICE_SYNC = "voice_sync"
    MIX = "mix"
    CONFORM = "conform"
    VFX = "vfx"
    TITLES = "titles"
    PAD_DELIVERY = "pad_delivery"


class StageState(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    LATE = "late"
    BLOCKED = "blocked"


# The states in which a stage has begun: the first of them gives the stage its actual start.
STARTED = frozenset({StageState.IN_PROGRESS, StageState.DONE, StageState.LATE})

LABELS: dict[str, str] = {
    Stage.RUSHES_RECEPTION: "Rushes reception",
    Stage.OFFLINE_EDIT: "Offline edit",
    Stage.GRADING: "Grading",
    Stage.SOUND_EDIT: "Sound edit",
    Stage.FOLEY: "Foley",
    Stage.MUSIC: "Music",
    Stage.VOICE_SYNC: "Voice sync / dubbing",
    Stage.MIX: "Mix",
    Stage.CONFORM: "Conform",
    Stage.VFX: "VFX",
    Stage.TITLES: "Titles / credits",
    Stage.PAD_DELIVERY: "PAD delivery",
}


def label(key: str) -> str:
    """A stage's display name: the known stages' own, else the key made readable."""
    return LABELS.get(key, key.replace("_", " ").capitalize())


# What French-speaking crews write in their session reports (DOMAIN.md §1), folded: lower case, no accents.
FRENCH: dict[str, str] = {
    "reception des rushes": Stage.RUSHES_RECEPTION, "rushes": Stage.RUSHES_RECEPTION,
    "montage image": Stage.OFFLINE_EDIT, "montage image offline": Stage.OFFLINE_EDIT, "montage": Stage.OFFLINE_EDIT,
    "etalonnage": Stage.GRADING,
    "montage son": Stage.SOUND_EDIT,
    "bruitages": Stage.FOLEY, "bruitage": Stage.FOLEY,
    "musique": Stage.MUSIC, "montage musique": Stage.MUSIC,
    "synchronisation des voix": Stage.VOICE_SYNC, "doublage": Stage.VOICE_SYNC,
    "mixage": Stage.MIX,
    "conformation": Stage.CONFORM,
    "effets speciaux": Stage.VFX,
    "generiques": Stage.TITLES, "titres": Stage.TITLES, "habillage": Stage.TITLES,
    "pad": Stage.PAD_DELIVERY, "livraison pad": Stage.PAD_DELIVERY, "pret a diffuser": Stage.PAD_DELIVERY,
}
