"""What the catalogue knows of a file: an error state stays recorded, and shown, until the bytes change.

Error states: `hash_mismatch` (differs from the set's MHL), `unreadable` (does not decode, cut short...),
`changed` (changed after its ingest). The row keeps the findings with their expected and measured values
in its media description, so every later ingest, report and probe of the file says the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from media.findings import Finding, Severity
from media.model import MediaFile, MediaKind

if TYPE_CHECKING:
    from ingest.catalogue import MediaRow

ERROR_STATES = ("hash_mismatch", "unreadable", "changed")
# A catalogued copy whose bytes are not the verified ones: no proxy is made of it, and a conform event that
# uses it is an error (ingest/proxies/plan.py, conform/match.py). Unreadable files never match at all.
UNTRUSTED = {"hash_mismatch": "the copy failed its verification against the card's MHL (hash mismatch)",
             "changed": "the file changed after its ingest (its hash is no longer the one verified)"}
# Findings of the file itself (not of its media) that are kept with its row.
KEPT_RULES = ("hash_mismatch",)


def status_of(media: MediaFile, findings: list[Finding]) -> str:
    """The catalogue status of a file just ingested."""
    if any(f.rule == "hash_mismatch" for f in findings):
        return "hash_mismatch"
    if media.kind is MediaKind.UNREADABLE:
        return "unreadable"
    return "ok"


def in_error(row: MediaRow) -> bool:
    """A row whose file was found bad (older catalogues: status ok but kind unreadable)."""
    return row.status in ("hash_mismatch", "unreadable") or row.kind == MediaKind.UNREADABLE.value


def to_record(media: MediaFile, findings: list[Finding]) -> MediaFile:
    """The description to store: the media, with the file's own error findings (expected, measured) kept."""
    kept = [f for f in findings if f.rule in KEPT_RULES]
    return media.with_findings(kept) if kept else media


def stored_media(row: MediaRow) -> MediaFile | None:
    try:
        return MediaFile.model_validate_json(row.media_json)
    except ValueError:
        return None


def known_findings(row: MediaRow, size: int, mtime_ns: int) -> list[Finding]:
    """The error findings the catalogue holds for a file that is as it was then (for `probe`)."""
    if (row.size, row.mtime_ns) != (size, mtime_ns):
        return []
    if row.status == "changed":
        return [Finding(rule="changed_after_ingest", severity=Severity.ERROR,
                        message=f"catalogue: changed after its ingest on {row.first_seen:%Y-%m-%d}",
                        expected=row.hash, measured="different")]
    media = stored_media(row)
    if media is None or not in_error(row):
        return []
    return [f.model_copy(update={"message": f"catalogue: {f.message}"})
            for f in media.findings if f.severity is Severity.ERROR]
