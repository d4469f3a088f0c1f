"""Verified ingest of a card or folder: hash (and verify against the set's MHL), probe, check, catalogue.

Sources are never modified: the only thing written into a card is a new generation in its `ascmhl/`
folder, and only when the card is writable; otherwise the MHL goes into the data directory.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from config import children
from config.errors import PostprodError
from config.settings import Production, Settings
from config.spec import TechSpec
from ingest import known, mhl, prehash
from ingest.hashing import ALGORITHMS, file_type, hash_file
from ingest.results import REPORT_SCHEMA_VERSION, CardReport, FileResult, report_rows, summarise
from ingest.rules import check_duplicates, check_file
from ingest.scan import Scan, is_ignored, not_regular, problem_result, relpath_of, scan
from ingest.stages import Stages
from ingest.writers import open_for_writing
from media.findings import Finding, Severity
from media.model import MediaFile, MediaKind
from media.probe import probe_file

if TYPE_CHECKING:  # a type only: `postprod probe` walks folders with scan() and loads no SQLAlchemy
    from ingest.catalogue import Catalogue, MediaRow
    from ingest.catalogue_sql import SqliteCatalogue

def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class IngestContext:
    settings: Settings
    production: Production
    spec: TechSpec
    catalogue: Catalogue | SqliteCatalogue  # SQLAlchemy's, or plain SQL on a SQLite store at HEAD (the same rows)
    ffmpeg: str
    tool_version: str
    progress: Callable[[str, int], None] | None = None  # (relpath, bytes hashed)
    workers: int = 2


def ingest_source(source: Path, ctx: IngestContext) -> CardReport:
    """Ingest one card, folder or loose file. Never raises for a bad file: findings say what went wrong."""
    source = Path(os.path.abspath(source))
    if not source.exists() and not source.is_symlink():
        raise PostprodError("no such file or folder", path=source)
    from ingest.claims import card_claim  # SQLAlchemy: not loaded by `postprod probe`, which uses scan()

    with card_claim(ctx.catalogue, ctx.settings.data_path, ctx.production.name, source):
        return _ingest_claimed(source, ctx)


def _ingest_claimed(source: Path, ctx: IngestContext) -> CardReport:
    settings, production = ctx.settings, ctx.production
    stages = Stages()
    with stages.timed("walk"):
        walked = scan(source, settings.ignore)
    report = CardReport(production=production.name, source=str(source), card=source.name, started_at=_now())
    report.ingest_id = ctx.catalogue.start_ingest(production.name, str(source))
    place = _mhl_place(walked, settings.data_path)
    report.verified_against = place.verified_against
    with stages.timed("files"):
        results = _ingest_files(walked, place, ctx, report.ingest_id, stages)
        results = _not_while_written(results, settings)
    if not walked.loose:
        results += _missing_from_card(place.history, {r.relpath for r in results}, walked.root, settings.ignore)
    with stages.timed("catalogue"):
        _catalogue(results, walked.root, ctx, report.ingest_id)
    with stages.timed("mhl"):
        entries = [_mhl_entry(r) for r in results
                   if r.hashes and r.media is not None and r.status in ("new", "updated", "changed")]
        if entries:
            report.mhl_path = str(mhl.write_generation(place.folder, walked.root.name, entries,
                                                       _mhl_ignore(settings.ignore), tool_version=ctx.tool_version,
                                                       parents=not place.on_card))
    report.mhl_location = "card" if place.on_card else "data_dir"
    results.extend(walked.problems)
    results.sort(key=lambda r: r.relpath)
    report.files = results
    report.finished_at = _now()
    report.summary = summarise(results)
    with stages.timed("catalogue"):
        ctx.catalogue.finish_ingest(report.ingest_id, files=len(results), new_files=report.summary["new"],
                                    skipped=report.summary["unchanged"], errors=report.summary["errors"],
                                    warnings=report.summary["warnings"])
    report.stage_seconds = stages.seconds()
    return report


@dataclass
class _MhlPlace:
    """The history already on the card (the offload on set), and where our generation goes."""

    folder: Path
    on_card: bool
    history: mhl.History  # the card's own (empty for a loose file)
    known: dict[str, mhl.HashRecord]  # every file any generation lists, ours included
    verified_against: list[str]


def _mhl_place(walked: Scan, data_path: Path) -> _MhlPlace:
    card_root = walked.root
    if walked.loose:
        folder, on_card = mhl.mhl_folder_for_loose(card_root, data_path)
        history = mhl.History(folder=folder)
        own = mhl.read_history(folder)
        return _MhlPlace(folder, on_card, history, {**own.files}, [])
    folder, on_card = mhl.mhl_folder_for(card_root, data_path)
    history = mhl.read_history(card_root / mhl.MHL_FOLDER)
    own = history if on_card else mhl.read_history(folder)
    return _MhlPlace(folder, on_card, history, {**own.files, **history.files},
                     [f"{n:04d}" for n in history.generations])


def _ingest_files(walked: Scan, place: _MhlPlace, ctx: IngestContext, ingest_id: int,
                  stages: Stages) -> list[FileResult]:
    """Every file of the card, `ctx.workers` side by side (xxHash and the reads release the GIL), each file's
    probe (MediaInfo; its decode check an ffmpeg child) beside its hashing. The largest files start first, so
    that no worker is left hashing a large file alone at the end; the results come back in the walk's order."""
    card_root = walked.root
    with ThreadPoolExecutor(max_workers=max(1, ctx.workers)) as probes:
        def work(path: Path) -> FileResult:
            return _ingest_file(path, card_root, place.known.get(relpath_of(path, card_root)), ctx, ingest_id,
                                stages=stages, probes=probes)

        order = sorted(range(len(walked.files)), key=lambda i: -_size(walked.files[i]))
        with ThreadPoolExecutor(max_workers=max(1, ctx.workers)) as pool:
            done = dict(zip(order, pool.map(work, [walked.files[i] for i in order]), strict=True))
        return [done[i] for i in range(len(walked.files))]


def _not_while_written(results: list[FileResult], settings: Settings) -> list[FileResult]:
    """A file that a process on this host still holds open for writing, and wrote to lately, is a copy that has
    not ended (paused: nothing a stat sees changes): what was read of it is not catalogued. A card is often
    taken while its copy goes on (a pause between two files longer than the settle time), and a file the copy
    opens then is in the ingest's own listing. Held open and untouched for `watch.open_file_timeout`: as the
    watcher does, taken as complete. Writers on other hosts (NFS, SMB) are not seen: see _grew_from."""
    fresh = {r.path: r for r in results if r.status in ("new", "updated") and r.media is not None}
    writers = open_for_writing(fresh).pids if fresh else {}
    if not writers:
        return results
    now_ns = time.time_ns()
    out = []
    for r in results:
        pid = writers.get(r.path)
        mtime_ns = (r.media.mtime_ns or 0) if r.media is not None else 0
        if pid is None or (now_ns - mtime_ns) / 1e9 >= settings.watch.open_file_timeout:
            out.append(r)
            continue
        out.append(FileResult(path=r.path, relpath=r.relpath, status="interrupted", hashes=r.hashes, findings=[
            Finding(rule="changing", severity=Severity.WARNING,
                    message=f"still open for writing by {f'process {pid}' if pid else 'a process'} on this host "
                            "(a copy under way): not catalogued; ingested once it is closed")]))
    return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # its own worker says why


def _missing_from_card(history: mhl.History, present: set[str], card_root: Path,
                       ignore: list[str]) -> list[FileResult]:
    """Files the set's MHL lists that are not on the card any more."""
    missing = []
    for rel in sorted(set(history.files) - present):
        if is_ignored(Path(rel).name, ignore):
            continue
        missing.append(FileResult(path=str(card_root / rel), relpath=rel, status="missing", findings=[
            Finding(rule="missing_file", severity=Severity.ERROR,
                    message="listed in the card's MHL but not on the card",
                    expected=history.files[rel].hashes and next(iter(history.files[rel].hashes.values())),
                    measured="absent")]))
    return missing


def _catalogue(results: list[FileResult], card_root: Path, ctx: IngestContext, ingest_id: int) -> None:
    """Duplicate clip names (in this batch and against the catalogue), then each new file into the catalogue."""
    production = ctx.production.name
    fresh = [r for r in results if r.media is not None and r.status in ("new", "updated")]
    # check_duplicates leaves each file's own path out, so the catalogue's rows for this batch need no filter.
    checked = check_duplicates([r.media for r in fresh if r.media], ctx.spec, ctx.catalogue.clip_names(production))
    for r, m in zip(fresh, checked, strict=True):
        r.media = m
    algo = ctx.settings.hash_algorithm
    with ctx.catalogue.store.write() as conn:  # one commit for the card (one fsync, not one a file)
        for r in fresh:
            assert r.media is not None
            ctx.catalogue.record(production, known.to_record(r.media, r.findings), card=str(card_root),
                                 relpath=r.relpath, hash_algorithm=algo, hash_value=r.hashes.get(algo),
                                 ingest_id=ingest_id, status=known.status_of(r.media, r.findings), within=conn)


def _mhl_entry(r: FileResult) -> mhl.Entry:
    """A file of our generation. A file that failed its verification gets the failed hashes only: what it
    measures now is never declared `original`."""
    assert r.media is not None
    hashes = r.hashes
    if r.mhl_action == "failed":
        hashes = {fmt: v for fmt, v in r.hashes.items() if r.mhl_actions.get(fmt) in ("failed", "verified")}
    return mhl.Entry(path=r.relpath, size=r.media.size or 0, mtime=(r.media.mtime_ns or 0) / 1e9,
                     hashes=hashes, actions=r.mhl_actions)


def _mhl_ignore(patterns: list[str]) -> list[str]:
    return list(dict.fromkeys([".DS_Store", "ascmhl", "ascmhl/", *patterns]))


def _ingest_file(path: Path, card_root: Path, listed: mhl.HashRecord | None, ctx: IngestContext,
                 ingest_id: int, *, stages: Stages, probes: Executor) -> FileResult:
    settings, production = ctx.settings, ctx.production
    rel = relpath_of(path, card_root)
    shown = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        reason = "broken symbolic link" if path.is_symlink() else "vanished during the ingest"
        return problem_result(path, card_root, "unreadable", reason)
    except OSError as exc:
        return problem_result(path, card_root, "unreadable", f"cannot read: {exc.strerror or exc}")
    if not stat.S_ISREG(st.st_mode):
        # A link to a FIFO or a device (scan() already left out the ones named directly).
        return problem_result(path, card_root, "not_a_file", f"{file_type(st.st_mode)}, not a regular file: "
                        "not read", status="skipped")

    with stages.timed("catalogue"):
        row = ctx.catalogue.lookup(production.name, shown)
    if row and row.status == "changed":
        return FileResult(path=shown, relpath=rel, status="changed", findings=[Finding(
            rule="changed_after_ingest", severity=Severity.ERROR,
            message="changed after its ingest: the catalogue keeps the original as evidence; re-ingest it "
                    "under another name if the new content is wanted",
            expected=row.hash, measured="different")])
    if row and row.size == st.st_size and row.mtime_ns == st.st_mtime_ns:
        # As catalogued: what is known of it (its findings, an error state) is shown again.
        return FileResult(path=shown, relpath=rel, status="unchanged", media=known.stored_media(row))

    grown = row is not None and not known.in_error(row) and _grew_from(path, st.st_size, row)
    if grown and row is not None and listed is not None and listed.size == row.size:
        listed = None  # what our own earlier generation recorded of the copy before its end
    algorithms = [settings.hash_algorithm, *(listed.hashes if listed else [])]
    probing = probes.submit(_described, path, ctx, stages)  # beside the hashing; its answer is used after it
    try:
        hashes = _hash(path, st, algorithms, ctx, rel, stages)
    except FileNotFoundError:
        return problem_result(path, card_root, "unreadable", "vanished during the ingest")
    except OSError as exc:
        return problem_result(path, card_root, "unreadable", f"cannot read: {exc.strerror or exc}")

    action, actions, findings = _verify(hashes, listed)
    status = "new"
    if row is not None and known.in_error(row):
        status = "updated"  # found bad before, and its bytes changed since (copied again): judged afresh
    elif row is not None and grown:
        status = "updated"
        findings.append(Finding(rule="grew_after_ingest", severity=Severity.INFO,
                                message="grew after its ingest with its earlier bytes unchanged (a copy that had "
                                        "not ended): ingested again, the earlier entry superseded",
                                expected=str(row.size), measured=str(st.st_size)))
    elif row is not None:
        if row.hash and row.hash_algorithm in hashes and row.hash != hashes[row.hash_algorithm]:
            ctx.catalogue.mark(production.name, shown, "changed")
            return FileResult(path=shown, relpath=rel, status="changed", hashes=hashes, findings=[Finding(
                rule="changed_after_ingest", severity=Severity.ERROR,
                message="changed after its ingest: the catalogue keeps the original as evidence",
                expected=row.hash, measured=hashes[row.hash_algorithm])])
        status = "updated"  # same content, new mtime (touched): refresh the row

    media = _probe(path, st, ctx, probing)
    if isinstance(media, Finding):  # no verdict: not catalogued, checked again at the next ingest
        return FileResult(path=shown, relpath=rel, status="interrupted", hashes=hashes, findings=[media])
    if media.kind is MediaKind.SIDECAR:
        findings.append(Finding(rule="sidecar", severity=Severity.INFO,
                                message="card metadata or still image: hashed and kept, not probed"))
    return FileResult(path=shown, relpath=rel, status=status, hashes=hashes, mhl_action=action,
                      mhl_actions=actions, media=media, findings=findings)


def _hash(path: Path, st: os.stat_result, algorithms: list[str], ctx: IngestContext, rel: str,
          stages: Stages) -> dict[str, str]:
    """The file's hashes: those a child of `postprod ingest` computed while the command started, when they are of
    this very file as it is now (`st`), read whole, not racy, in every format needed (ingest/prehash.py's
    `take`), else read and hashed here. Either way their time is the hash stage's."""
    ahead = prehash.take(path, st, algorithms)
    if ahead is not None:
        hashes, seconds = ahead
        stages.add("hash", seconds)
        if ctx.progress:
            ctx.progress(rel, st.st_size)
        return hashes
    with stages.timed("hash"):
        return hash_file(path, algorithms, progress=(lambda n: ctx.progress(rel, n)) if ctx.progress else None)


def _verify(hashes: dict[str, str], listed: mhl.HashRecord | None) -> tuple[str, dict[str, str], list[Finding]]:
    """The file's MHL action (original, verified, failed), per format, and a hash_mismatch finding."""
    actions = {fmt: "original" for fmt in hashes}
    if listed is None:
        return "original", actions, []
    bad = [(fmt, want, hashes[fmt]) for fmt, want in listed.hashes.items() if hashes.get(fmt) != want]
    actions.update({fmt: "verified" for fmt in listed.hashes})
    actions.update({fmt: "failed" for fmt, _, _ in bad})
    if not bad:
        return "verified", actions, []
    fmt, want, got = bad[0]
    return "failed", actions, [Finding(rule="hash_mismatch", severity=Severity.ERROR,
                                       message=f"{fmt} differs from the card's MHL: the copy is corrupt",
                                       expected=want, measured=got)]


def _probe(path: Path, st: os.stat_result, ctx: IngestContext, probing: Future[MediaFile]) -> MediaFile | Finding:
    """The file described and checked against the spec; or, when there is no verdict (its check was cut
    short, or it changed while read), the finding that says why."""
    try:
        media = probing.result()  # _described, started beside the hashing
    except children.Interrupted as exc:
        return Finding(rule="interrupted", severity=Severity.WARNING,
                       message=f"check cut short ({exc.reason}): not catalogued; checked again at the next ingest")
    if _changed_since(path, st):
        return Finding(rule="changing", severity=Severity.WARNING,
                       message="changed while it was read (a copy still going on): not catalogued; ingested "
                               "once it has settled")
    return check_file(media, ctx.spec)


def _described(path: Path, ctx: IngestContext, stages: Stages) -> MediaFile:
    """probe_file, timed (the decode check apart): run in a thread beside the file's hashing."""
    timings: dict[str, float] = {}
    with stages.timed("probe"):
        media = probe_file(path, ffmpeg=ctx.ffmpeg, decode_check=ctx.settings.decode_check,
                           default_rate=ctx.spec.video.frame_rate, timings=timings)
    stages.add("decode_check", timings.get("decode_check", 0.0))
    return media


def _changed_since(path: Path, before: os.stat_result) -> bool:
    """Size or mtime differ from `before`: what was hashed and probed is not what is there now."""
    try:
        now = path.stat()
    except OSError:
        return True
    return (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns)


def _grew_from(path: Path, size: int, row: MediaRow) -> bool:
    """The file is longer than when catalogued and starts with exactly the bytes catalogued then."""
    if not row.hash or row.hash_algorithm not in ALGORITHMS or size <= row.size:
        return False
    try:
        prefix = hash_file(path, [row.hash_algorithm], limit=row.size)
    except OSError:
        return False
    return prefix[row.hash_algorithm] == row.hash


__all__ = ["REPORT_SCHEMA_VERSION", "CardReport", "FileResult", "IngestContext", "Scan", "ingest_source",
           "not_regular", "report_rows", "scan", "summarise"]
