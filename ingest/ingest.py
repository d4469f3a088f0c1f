"""Verified ingest of a card or folder: hash (and verify against the set's MHL), probe, check, catalogue.

Sources are never modified: the only thing written into a card is a new generation in its `ascmhl/`
folder, and only when the card is writable; otherwise the MHL goes into the data directory.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from config import children
from config.errors import PostprodError
from config.settings import Production, Settings
from config.spec import TechSpec
from ingest import known, mhl
from ingest.hashing import ALGORITHMS, file_type, hash_file
from ingest.rules import check_duplicates, check_file
from ingest.stages import Stages
from media.findings import Finding, Severity
from media.model import MediaFile, MediaKind
from media.probe import probe_file
from media.report import Report

if TYPE_CHECKING:  # a type only: `postprod probe` walks folders with scan() and loads no SQLAlchemy
    from ingest.catalogue import Catalogue, MediaRow

REPORT_SCHEMA_VERSION = 1


class FileResult(BaseModel):
    """One file of an ingest: what happened to it, its hashes, its description and findings."""

    model_config = ConfigDict(extra="forbid")

    path: str
    relpath: str
    status: str  # new | unchanged | updated | changed | missing | unreadable | skipped | interrupted
    hashes: dict[str, str] = {}
    mhl_action: str | None = None  # original | verified | failed
    mhl_actions: dict[str, str] = {}  # per hash format
    media: MediaFile | None = None
    findings: list[Finding] = []

    @property
    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(self.media.findings if self.media else [])]


class CardReport(Report):
    """The result of ingesting one card (or loose folder or file)."""

    schema_version: int = REPORT_SCHEMA_VERSION
    production: str
    source: str
    card: str
    ingest_id: int | None = None
    started_at: datetime
    finished_at: datetime | None = None
    mhl_path: str | None = None
    mhl_location: str | None = None  # card | data_dir
    verified_against: list[str] = []
    summary: dict[str, int] = {}
    stage_seconds: dict[str, float] = {}  # ingest/stages.py: walk, hash, probe, decode_check, catalogue, mhl, reports
    files: list[FileResult] = []
    report_json: str | None = None
    report_html: str | None = None

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.files for x in f.all_findings if x.severity == severity)


def _now() -> datetime:
    return datetime.now(UTC)


def _ignored(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


@dataclass
class Scan:
    root: Path  # the card root (for a loose file, its folder)
    files: list[Path] = field(default_factory=list)
    problems: list[FileResult] = field(default_factory=list)
    loose: bool = False


def scan(source: Path, ignore: list[str]) -> Scan:
    """List a card's files (sorted, ignoring the ignore list and `ascmhl/`), noting what cannot be walked."""
    odd = None if source.is_dir() else not_regular(source)
    if odd:
        return Scan(root=source.parent, loose=True, problems=[_problem(
            source, source.parent, "not_a_file", f"{odd}, not a regular file: not read", status="skipped")])
    if source.is_file() or (source.is_symlink() and not source.is_dir()):
        return Scan(root=source.parent, files=[source], loose=True)
    result = Scan(root=source)
    seen_dirs: set[tuple[int, int]] = set()

    def onerror(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else source
        result.problems.append(_problem(where, source, "unreadable", f"cannot list folder: {exc.strerror}"))

    for dirpath, dirnames, filenames in os.walk(source, onerror=onerror, followlinks=False):
        here = Path(dirpath)
        try:
            st = here.stat()
            seen_dirs.add((st.st_dev, st.st_ino))
        except OSError:
            pass
        kept = []
        for d in sorted(dirnames):
            full = here / d
            if (here == source and d == mhl.MHL_FOLDER) or _ignored(d, ignore):
                continue
            if not _utf8(d):
                result.problems.append(_bad_name(full, source, "folder"))
                continue
            if full.is_symlink():
                result.problems.append(_problem(full, source, "symlink", "symbolic link to a folder: not followed",
                                                Severity.WARNING, status="skipped"))
                continue
            kept.append(d)
        dirnames[:] = kept
        if here.suffix.lower() in MEDIA_SUFFIXES and not filenames and not dirnames:
            result.problems.append(_problem(here, source, "folder_named_like_media", "a folder named like a media "
                                            "file, with nothing in it: not a clip (a copy that went wrong?)",
                                            status="skipped"))
        for name in sorted(filenames):
            if _ignored(name, ignore):
                continue
            if not _utf8(name):
                result.problems.append(_bad_name(here / name, source, "file"))
                continue
            odd = not_regular(here / name)
            if odd:
                result.problems.append(_problem(here / name, source, "not_a_file", f"{odd}, not a regular file: "
                                                "not read", status="skipped"))
                continue
            result.files.append(here / name)
    return result


# Names of media files: a folder named so is reported when empty (a file expected there is not).
MEDIA_SUFFIXES = {".mov", ".mp4", ".mxf", ".m4v", ".avi", ".mkv", ".mts", ".m2ts", ".mpg", ".mpeg", ".dv",
                  ".wav", ".bwf", ".aif", ".aiff", ".r3d", ".braw", ".ari", ".crm", ".mp3", ".m4a"}


def not_regular(path: Path) -> str | None:
    """What a directory entry is when it is no regular file (nor a link): reading a FIFO or a device
    would hang or never end."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None  # gone since the listing: the steps after report it
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return None
    return {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
            stat.S_IFBLK: "a block device"}.get(stat.S_IFMT(mode), "a special file")


def _utf8(name: str) -> bool:
    """False for a name whose bytes are not UTF-8 (Python holds them as surrogates): it cannot be catalogued."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(path: Path) -> str:
    """A path fit for a report: undecodable bytes written as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _bad_name(path: Path, root: Path, what: str) -> FileResult:
    rel = os.fsencode(path.relative_to(root)).decode("utf-8", "backslashreplace")
    return FileResult(path=_shown(path), relpath=rel, status="skipped", findings=[Finding(
        rule="file_name", severity=Severity.ERROR,
        message=f"{what} name is not valid UTF-8 (copied from an old volume?): not ingested; rename it "
                f"(e.g. with convmv) and ingest again")])


def _problem(path: Path, root: Path, rule: str, message: str, severity: Severity = Severity.ERROR,
             status: str = "unreadable") -> FileResult:
    return FileResult(path=str(path), relpath=_rel(path, root), status=status,
                      findings=[Finding(rule=rule, severity=severity, message=message)])


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


@dataclass
class IngestContext:
    settings: Settings
    production: Production
    spec: TechSpec
    catalogue: Catalogue
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
    ingest_id = ctx.catalogue.start_ingest(production.name, str(source))
    report.ingest_id = ingest_id

    # The history already on the card (the offload on set), and where our generation goes.
    card_root = walked.root
    if walked.loose:
        mhl_dir, on_card = mhl.mhl_folder_for_loose(card_root, settings.data_path)
        history = mhl.History(folder=mhl_dir)
        own_history = mhl.read_history(mhl_dir)
    else:
        mhl_dir, on_card = mhl.mhl_folder_for(card_root, settings.data_path)
        history = mhl.read_history(card_root / mhl.MHL_FOLDER)
        own_history = history if on_card else mhl.read_history(mhl_dir)
        report.verified_against = [f"{n:04d}" for n in history.generations]
    known_paths = {**own_history.files, **history.files}

    # Each file's probe (its decode check an ffmpeg child) runs beside its hashing, in a thread of `probes`.
    with ThreadPoolExecutor(max_workers=max(1, ctx.workers)) as probes:
        def work(path: Path) -> FileResult:
            return _ingest_file(path, card_root, known_paths.get(_rel(path, card_root)), ctx, ingest_id,
                                stages=stages, probes=probes)

        with ThreadPoolExecutor(max_workers=max(1, ctx.workers)) as pool:
            results = list(pool.map(work, walked.files))

    # Files the set's MHL lists that are not on the card any more.
    present = {r.relpath for r in results}
    if not walked.loose:
        for rel in sorted(set(history.files) - present):
            if _ignored(Path(rel).name, settings.ignore):
                continue
            results.append(FileResult(path=str(card_root / rel), relpath=rel, status="missing", findings=[
                Finding(rule="missing_file", severity=Severity.ERROR,
                        message="listed in the card's MHL but not on the card",
                        expected=history.files[rel].hashes and next(iter(history.files[rel].hashes.values())),
                        measured="absent")]))

    # Duplicate clip names, within this batch and against what the catalogue already holds.
    fresh = [r for r in results if r.media is not None and r.status in ("new", "updated")]
    # check_duplicates leaves each file's own path out, so the catalogue's rows for this batch need no filter.
    catalogue_started = time.perf_counter()
    names = ctx.catalogue.clip_names(production.name)
    checked = check_duplicates([r.media for r in fresh if r.media], ctx.spec, names)
    for r, m in zip(fresh, checked, strict=True):
        r.media = m

    for r in results:
        if r.media is not None and r.status in ("new", "updated"):
            main_algo = settings.hash_algorithm
            ctx.catalogue.record(production.name, known.to_record(r.media, r.findings), card=str(card_root),
                                 relpath=r.relpath, hash_algorithm=main_algo, hash_value=r.hashes.get(main_algo),
                                 ingest_id=ingest_id, status=known.status_of(r.media, r.findings))

    stages.add("catalogue", time.perf_counter() - catalogue_started)

    mhl_started = time.perf_counter()
    entries = [_mhl_entry(r) for r in results
               if r.hashes and r.media is not None and r.status in ("new", "updated", "changed")]
    if entries:
        written = mhl.write_generation(mhl_dir, card_root.name, entries, _mhl_ignore(settings.ignore),
                                       tool_version=ctx.tool_version)
        report.mhl_path = str(written)
    report.mhl_location = "card" if on_card else "data_dir"
    stages.add("mhl", time.perf_counter() - mhl_started)

    results.extend(walked.problems)
    results.sort(key=lambda r: r.relpath)
    report.files = results
    report.finished_at = _now()
    report.summary = summarise(results)
    with stages.timed("catalogue"):
        ctx.catalogue.finish_ingest(ingest_id, files=len(results), new_files=report.summary["new"],
                                    skipped=report.summary["unchanged"], errors=report.summary["errors"],
                                    warnings=report.summary["warnings"])
    report.stage_seconds = stages.seconds()
    return report


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


def summarise(results: list[FileResult]) -> dict[str, int]:
    severities = [x.severity for r in results for x in r.all_findings]
    statuses = [r.status for r in results]
    return {
        "files": len(results),
        "new": statuses.count("new") + statuses.count("updated"),
        "unchanged": statuses.count("unchanged"),
        "verified": sum(1 for r in results if r.mhl_action == "verified"),
        "errors": severities.count(Severity.ERROR),
        "warnings": severities.count(Severity.WARNING),
        "infos": severities.count(Severity.INFO),
        "files_with_errors": sum(1 for r in results if any(x.severity == Severity.ERROR for x in r.all_findings)),
    }


def _ingest_file(path: Path, card_root: Path, listed: mhl.HashRecord | None, ctx: IngestContext,
                 ingest_id: int, *, stages: Stages, probes: Executor) -> FileResult:
    settings, production = ctx.settings, ctx.production
    rel = _rel(path, card_root)
    shown = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        reason = "broken symbolic link" if path.is_symlink() else "vanished during the ingest"
        return _problem(path, card_root, "unreadable", reason)
    except OSError as exc:
        return _problem(path, card_root, "unreadable", f"cannot read: {exc.strerror or exc}")
    if not stat.S_ISREG(st.st_mode):
        # A link to a FIFO or a device (scan() already left out the ones named directly).
        return _problem(path, card_root, "not_a_file", f"{file_type(st.st_mode)}, not a regular file: "
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
        with stages.timed("hash"):
            hashes = hash_file(path, algorithms,
                               progress=(lambda n: ctx.progress(rel, n)) if ctx.progress else None)
    except FileNotFoundError:
        return _problem(path, card_root, "unreadable", "vanished during the ingest")
    except OSError as exc:
        return _problem(path, card_root, "unreadable", f"cannot read: {exc.strerror or exc}")

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


def report_rows(report: CardReport) -> list[dict[str, Any]]:
    """Flat rows for tables: one per finding (or one per file without findings)."""
    rows = []
    for f in report.files:
        items = f.all_findings or [None]
        for x in items:
            rows.append({"relpath": f.relpath, "status": f.status,
                         "severity": x.severity.value if x else "", "rule": x.rule if x else "",
                         "message": x.message if x else ""})
    return rows
