"""Proxies the online can trust: sized by rule, burnt-in source timecode, same frames, start TC and reel.

Each proxy is encoded to a locked temporary file beside its target, re-probed (frame count, start
timecode, reel, audio channels must equal the source's) and only then renamed into place and recorded
in the catalogue (role "proxy", source_id → the original). A second run skips every proxy already made
from the same source content (hash) with the same preset; leftovers of a killed run are removed first.

The package, by concern: models.py (jobs, batch, results), plan.py (what to make and where), filters.py
(size, burn-in, sound tracks), encode.py (encoder, command, running ffmpeg), verify.py (source usable,
proxy equal), ale.py (the ALE of each card), store.py (proxies made), presets.py; this module makes one
proxy and runs a batch.
"""

from __future__ import annotations

import errno
import os
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from config.errors import PostprodError
from config.locks import create_locked
from ingest.catalogue_rows import media_values
from ingest.hashing import hash_file
from ingest.proxies.encode import EncodeError, ffmpeg_command, run_ffmpeg
from ingest.proxies.filters import burnin_filters, burnin_layout, font_file, proxy_size
from ingest.proxies.models import TEMP_MARK, ClipResult, ProxyBatch, ProxyJob, ProxyReport, fail, rel
from ingest.proxies.plan import default_workers, plan_batch, proxy_root
from ingest.proxies.reads import MadeRow, SourceRow
from ingest.proxies.verify import Hashed, describe_source, proxy_problems, source_hash, usable_source
from media.model import MediaFile, MediaKind
from media.probe import probe_file
from media.timecode import format_rate

# The package's entry points, imported from here by the flows, the command line, the demo and bench.
__all__ = ["TEMP_MARK", "ClipResult", "ProxyBatch", "ProxyJob", "ProxyReport", "burnin_filters", "burnin_layout",
           "default_workers", "finish_batch", "font_file", "job_threads", "make_proxy", "plan_batch", "proxy_root",
           "proxy_size", "run_batch"]

VIDEO_EXTENSIONS = {".mov", ".mp4", ".mxf", ".m4v", ".avi", ".mkv", ".mts", ".m2ts", ".mpg", ".mpeg", ".dv",
                    ".r3d", ".braw", ".crm", ".ari", ".3gp", ".webm", ".wmv", ".vob"}


def make_proxy(job: ProxyJob, batch: ProxyBatch) -> ClipResult:
    """Make, verify, place and record one proxy; never raises for a bad source (the result says why)."""
    try:
        return _make_proxy(job, batch)
    finally:
        batch.encodes.settled(job)


def _make_proxy(job: ProxyJob, batch: ProxyBatch) -> ClipResult:
    started = time.monotonic()
    source = Path(job.source)
    try:
        st = source.stat()
    except OSError as exc:
        return fail(job, f"cannot read: {exc.strerror or exc}")
    row = batch.reads.media(batch.production.name, str(source))
    media = describe_source(source, st, row)
    refused = _refused(job, batch, media)
    if refused is not None:
        return refused
    described = {"frames": media.duration_frames, "start_timecode": media.start_timecode, "reel": media.reel,
                 "rate": format_rate(media.video.frame_rate) if media.video and media.video.frame_rate else None}
    existing = batch.reads.made_at(batch.production.name, job.target)
    hashing = source_hashing(batch, source, st, row)
    if existing is not None:  # a proxy to skip if made from the same content: hashed now (else while it encodes)
        hashing.begin(beside=False)
        unread = hashing.exception()
        if unread is not None:
            return _failed(job, hashing, f"cannot read: {getattr(unread, 'strerror', None) or unread}", described)
        done = _already_made(job, batch, existing, hashing.result(), described)
        if done is not None:
            return done
    return _encode_and_place(job, batch, media, hashing, described, started)


class Beside:
    """A read done in a thread beside other work (or here, at once), asked for once it is needed; asking begins it
    if nothing has. Its OSError is its answer too (`exception`); any other error is raised where it is asked for.
    (A plain thread and event: concurrent.futures would load `logging` before the encode starts.)"""

    def __init__(self, work: Callable[[], Any], name: str) -> None:
        self._work, self._name = work, name
        self._begun = False
        self._begin_lock = threading.Lock()
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def begin(self, beside: bool = True) -> None:
        """In a thread (`beside`), or here; once."""
        with self._begin_lock:
            if self._begun:
                return
            self._begun = True
        if beside:
            threading.Thread(target=self._settle, daemon=True, name=self._name).start()
        else:
            self._settle()

    def _settle(self) -> None:
        try:
            self._value = self._work()
        except BaseException as exc:  # noqa: BLE001 - kept for the asker (an OSError is an answer, others are raised)
            self._error = exc
        finally:
            self._done.set()

    def exception(self) -> OSError | None:
        """The OSError it ended with, or None (waits for it)."""
        self.begin()
        self._done.wait()
        if self._error is not None and not isinstance(self._error, OSError):
            raise self._error
        return self._error

    def result(self) -> Any:
        """Its value (waits for it); its error raised."""
        error = self.exception()
        if error is not None:
            raise error
        return self._value


def source_hashing(batch: ProxyBatch, source: Path, st: os.stat_result, row: SourceRow | None) -> Beside:
    """The source's hash (verify.source_hash): begun beside the encode once ffmpeg runs (nothing delays the
    encode's start), or at once where it decides a skip."""
    return Beside(partial(source_hash, batch, source, st, row), f"hash {source.name}")


def _refused(job: ProxyJob, batch: ProxyBatch, media: MediaFile) -> ClipResult | None:
    """Why no proxy is made of this source (ignored inside a card, an error when named), or None."""
    source = Path(job.source)
    if media.kind is MediaKind.UNREADABLE and media.error and "no picture or sound" in media.error:
        if not job.explicit and source.suffix.lower() not in VIDEO_EXTENSIONS:
            # Walking a card: a document or unknown file is not a clip.
            return ClipResult(source=job.source, card=job.card, relpath=job.relpath, status="ignored",
                              error=media.error)
        return fail(job, f"cannot read this clip ({media.error}): cut short, damaged, or an unknown format")
    why = usable_source(media, batch.preset)
    if why is None:
        return None
    # Walking a card: sound takes and card metadata are not clips to make proxies of.
    if not job.explicit and (media.kind is MediaKind.SIDECAR or (media.video is None and media.audio
                                                                  and not media.error)):
        return ClipResult(source=job.source, card=job.card, relpath=job.relpath, status="ignored", error=why)
    return fail(job, why)


def _already_made(job: ProxyJob, batch: ProxyBatch, existing: MadeRow, hashed: tuple[str, str, int | None],
                  described: dict[str, object]) -> ClipResult | None:
    """The proxy recorded at the target, made from the same content with the same preset and still as it was
    made; or None."""
    algo, digest, _ = hashed
    if (existing.source_hash != digest or existing.source_hash_algorithm != algo
            or existing.fingerprint != batch.preset.fingerprint() or existing.source_path != job.source):
        return None
    try:
        pst = Path(existing.proxy_path).stat()
    except OSError:
        return None
    if pst.st_size != existing.size or pst.st_mtime_ns != existing.mtime_ns:
        return None
    shape: dict[str, object] = {}
    row = batch.reads.media(batch.production.name, existing.proxy_path)
    if row is not None:
        made = row.media
        shape = {"audio_channels": sum(a.channels or 0 for a in made.audio),
                 "width": made.video.width if made.video else None,
                 "height": made.video.height if made.video else None}
    return ClipResult(source=job.source, card=job.card, relpath=job.relpath, status="skipped",
                      proxy=existing.proxy_path, encoder=existing.encoder, source_hash=f"{algo}:{digest}",
                      **described, **shape)


def _encode_and_place(job: ProxyJob, batch: ProxyBatch, media: MediaFile, hashing: Beside,
                      described: dict[str, object], started: float) -> ClipResult:
    """Encode to a locked temporary file, verify it against the source, rename it into place, record it."""
    target = Path(job.target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _failed(job, hashing, f"cannot create the proxy folder {target.parent}: {exc.strerror or exc}",
                       described)
    tmp = target.parent / f".{target.stem}{TEMP_MARK}{secrets.token_hex(4)}{target.suffix}"
    lock_fd = None
    try:
        lock_fd = create_locked(tmp)
        progress = batch.progress
        with batch.encodes.turn(batch.workers):
            batch.encodes.started(job)
            cmd, width, height, channels = ffmpeg_command(batch, media, tmp)

            def beside() -> None:  # once ffmpeg runs: the source's hash, and what the check and rows need
                hashing.begin()
                batch.prefetch(partial(_load_after_encode, plain=batch.writes.sqlite is not None,
                                       ale=batch.preset.ale.write, mxf=batch.preset.container == "mxf"))

            with batch.slots.acquire():
                encoded = run_ffmpeg(cmd, lock_fd, (lambda n: progress(job.source, n)) if progress else None,
                                     source=job.source, started=beside)
        # The proxy's hash is read beside its probe and check (the file is whole: ffmpeg has ended), and waited for
        # before the file is renamed (it reads it by its temporary name). xxhash lets go of the interpreter's lock:
        # the two take the cores the encode had.
        proxy_hashing = Beside(partial(hash_file, tmp, [batch.settings.hash_algorithm]), f"hash {tmp.name}")
        proxy_hashing.begin()
        made = probe_file(tmp, ffmpeg=None, decode_check="none")
        problems = proxy_problems(media, made, channels, encoded)
        proxy_hashing.exception()  # read whole (or failed: the OSError is raised where its digest is taken)
        if problems:
            return _failed(job, hashing, "proxy rejected: " + "; ".join(problems), described)
        unread = hashing.exception()
        if unread is not None:
            return _failed(job, hashing, f"cannot read: {getattr(unread, 'strerror', None) or unread}", described)
        proxy_digest = proxy_hashing.result()[batch.settings.hash_algorithm]
        os.replace(tmp, target)
        _record(job, batch, media, made, hashing.result(), proxy_digest)
        return ClipResult(source=job.source, card=job.card, relpath=job.relpath, status="made", proxy=str(target),
                          encoder=batch.encoder, audio_channels=channels, width=width, height=height,
                          seconds=round(time.monotonic() - started, 3), **_with_hash(described, hashing))
    except EncodeError as exc:
        return _failed(job, hashing, str(exc), described)
    except PostprodError as exc:
        return _failed(job, hashing, exc.reason, described)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return _failed(job, hashing, "disk full: no space left on the proxy volume", described)
        return _failed(job, hashing, f"cannot write the proxy: {exc.strerror or exc}", described)
    finally:
        _tidy(tmp, lock_fd, target)


def _load_after_encode(*, plain: bool, ale: bool, mxf: bool) -> None:
    """What runs once an encode ends, imported beside it (ProxyBatch.prefetch's thread; the import lock makes the
    batch's own import of a module wait for this one, never see it half made): the plain rows' writer, the ALE's
    module, the reader of an MXF proxy (media/mxf_facts.py; the MOVs' and MP4s' is loaded by the source's probe).
    MediaInfo is not: our readers read back every proxy ffmpeg writes for the built-in presets (a shape they
    decline still gets MediaInfo, after the encode)."""
    if plain:
        import ingest.proxies.record  # noqa: F401
    if ale:
        import ingest.proxies.ale  # noqa: F401
    if mxf:
        import media.mxf_facts  # noqa: F401


def _with_hash(described: dict[str, object], hashing: Beside) -> dict[str, object]:
    """What the result says of the source, with its hash once read (waits for it: a result is whole)."""
    if hashing.exception() is not None:
        return described
    algo, digest, _ = hashing.result()
    return {**described, "source_hash": f"{algo}:{digest}"}


def _failed(job: ProxyJob, hashing: Beside, message: str, described: dict[str, object]) -> ClipResult:
    return fail(job, message, **_with_hash(described, hashing))


def _record(job: ProxyJob, batch: ProxyBatch, media: MediaFile, made: MediaFile, hashed: Hashed,
            proxy_hash: str) -> None:
    """The placed proxy in the catalogue (role proxy, pointing at its source) and in the proxy store; `proxy_hash`:
    its content's, in the settings' algorithm (the source's hash is in it too)."""
    algo, digest, source_id = hashed
    target = Path(job.target)
    pst = target.stat()
    proxy_media = made.model_copy(update={"path": str(target), "clip_name": media.clip_name,
                                          "size": pst.st_size, "mtime_ns": pst.st_mtime_ns})
    values = media_values(proxy_media, card=str(batch.root / job.card), relpath=rel(target, batch.root / job.card),
                          hash_algorithm=algo, hash_value=proxy_hash, ingest_id=None, role="proxy",
                          source_id=source_id)
    batch.writes.record(batch.production.name, str(target), values, {
        "preset": batch.preset.name, "fingerprint": batch.preset.fingerprint(), "source_path": job.source,
        "source_hash_algorithm": algo, "source_hash": digest, "source_media_id": source_id,
        "proxy_path": str(target), "size": pst.st_size, "mtime_ns": pst.st_mtime_ns, "encoder": batch.encoder})


def _tidy(tmp: Path, lock_fd: int | None, target: Path) -> None:
    if tmp.exists():
        tmp.unlink()
    if lock_fd is not None:
        os.close(lock_fd)
    if not target.exists():
        try:
            target.parent.rmdir()  # a folder made for a proxy that was refused goes too, if empty
        except OSError:
            pass


# -- a batch --------------------------------------------------------------------------------------


def summarise(results: list[ClipResult]) -> dict[str, int]:
    statuses = [r.status for r in results]
    return {"clips": len([s for s in statuses if s != "ignored"]), "made": statuses.count("made"),
            "skipped": statuses.count("skipped"), "errors": statuses.count("error"),
            "ignored": statuses.count("ignored")}


def finish_batch(batch: ProxyBatch, results: list[ClipResult]) -> ProxyReport:
    batch.writes.settle()
    everything = sorted([*batch.problems, *results], key=lambda r: (r.card, r.relpath))
    report = ProxyReport(production=batch.production.name, preset=batch.preset.name,
                         fingerprint=batch.preset.fingerprint(), root=str(batch.root), workers=batch.workers,
                         encoder=batch.encoder, started_at=batch.started_at, cleaned=batch.cleaned,
                         clips=everything)
    if batch.preset.ale.write:  # a preset without ALEs does not load their module once its encodes have ended
        from ingest.proxies.ale import write_batch_ales  # after the encodes: not loaded before the first one starts

        report.ale = write_batch_ales(batch, everything)
    report.finished_at = datetime.now(UTC)
    report.summary = summarise(everything)
    return report


def job_threads(batch: ProxyBatch) -> int:
    """Jobs of a batch handled at once: one more than it encodes at once (each encode takes one of the batch's
    turns), so that a clip is probed before its turn and checked and recorded after it, during other encodes."""
    return batch.workers + 1


def run_batch(batch: ProxyBatch) -> ProxyReport:
    """All encodes of a batch, `workers` at a time (the slot locks bound them across processes too)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=job_threads(batch)) as pool:
        results = list(pool.map(lambda j: make_proxy(j, batch), batch.jobs))
    return finish_batch(batch, results)
