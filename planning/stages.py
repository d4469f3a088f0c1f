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
