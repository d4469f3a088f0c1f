"""What OTIO's adapters leave in metadata: the reel (tape) name, the media's path, AAF's drop-frame flag."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def find_key(data: Any, names: set[str], depth: int = 0) -> str | None:
    """A reel/tape name anywhere in adapter metadata (fcp_xml file/timecode/reel/name, AAF TapeName...)."""
    if depth > 6:
        return None
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).lower().replace(" ", "").replace("_", "") in names:
                if isinstance(value, str) and value.strip():
                    return value.strip()
                if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"].strip():
                    return value["name"].strip()
        for value in data.values():
            found = find_key(value, names, depth + 1)
            if found:
                return found
    elif isinstance(data, list):
        for value in data[:50]:
            found = find_key(value, names, depth + 1)
            if found:
                return found
    return None


REEL_KEYS = {"reel", "reelname", "tape", "tapename"}


def tape_name(clip: Any) -> str | None:
    """AAF: the tape source mob at the end of the clip's chain is the reel (otio-aaf-adapter keeps it as a
    reference named after the tape, with a TapeDescriptor)."""
    for name, ref in clip.media_references().items():
        aaf = ref.metadata.get("AAF") if ref is not None else None
        if aaf is not None and dict(aaf.get("EssenceDescription") or {}).get("ClassName") == "TapeDescriptor":
            return ref.name or name
    return None


def target_url(ref: Any) -> str | None:
    url = getattr(ref, "target_url", None)
    if not url:
        return None
    if url.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(url).path)
    return url


def aaf_drop_frame(file: Path, name: str | None) -> bool | None:
    """The drop flag of the composition's start timecode, which otio-aaf-adapter does not carry over
    (a 29.97 DF timeline starting 05:00:00;00 would read 04:59:42:00). None when it cannot be told."""
    try:
        import aaf2

        with aaf2.open(str(file), "r") as f:
            mobs = list(f.content.toplevel()) or list(f.content.compositionmobs())
            mobs.sort(key=lambda m: m.name != name)
            for mob in mobs:
                for slot in mob.slots:
                    for component in _components(slot.segment):
                        if isinstance(component, aaf2.components.Timecode):
                            return bool(component.drop)
    except Exception:  # the adapter has read the file already; this is only a flag
        return None
    return None


def _components(segment: Any) -> list[Any]:
    import aaf2

    if isinstance(segment, aaf2.components.Sequence):
        return list(segment.components)
    return [segment]

