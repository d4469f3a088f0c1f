"""`postprod probe`'s work, without typer: cli/commands/probe.py declares the command (its options, its help) and
cli/fast.py calls `probe_command` directly for a plain command line."""

from __future__ import annotations

import os
import stat
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from cli.base import emit_json, exit_code_for, settings

if TYPE_CHECKING:  # the command's modules load when it runs: `postprod --help` stays quick
    from config.spec import TechSpec
    from media.model import MediaFile


def probe_command(files: list[Path], spec: str | None = None, production: str = "default",
                  as_json: bool = False) -> int:
    """Describe each file and flag what breaks the spec; returns the exit code (1 on an error-level finding)."""
    started = time.perf_counter()
    items = probe_paths(files, spec, production)
    seconds = time.perf_counter() - started
    if as_json:
        emit_json([m.model_dump(mode="json") for m in items])
    else:
        from cli.plain import show, txt
        from cli.render import probe_view

        show([probe_view(items),  # without loading rich where the table fits (cli/plain.py)
              txt(f"{len(items)} files in {seconds:.2f} s ({len(items) / max(seconds, 1e-6):.1f} files/s)")])
    from media.findings import Severity

    errors = sum(1 for m in items for f in m.findings if f.severity is Severity.ERROR)
    return exit_code_for(errors)


def probe_paths(paths: list[Path], spec_name: str | None, production: str | None) -> list[MediaFile]:
    """Probe files (folders are walked) and apply the spec rules; the plain function behind the command."""
    from config.spec import load_spec
    from ingest.rules import check_duplicates
    from media.ffmpeg.caps import Job, ffmpeg_for
    from media.model import MediaFile

    cfg = settings()
    spec = load_spec(spec_name) if spec_name else cfg.production(production).tech_spec()
    ffmpeg = ffmpeg_for(Job.DECODE_CHECK, cfg.ffmpeg).path
    files: list[Path] = []
    unread: list[MediaFile] = []  # what a folder holds that cannot be probed: named, not left out
    for p in paths:
        if _plain_file(p):  # the usual case, decided without loading the folder walk (and the card's models)
            files.append(p)
            continue
        from ingest.scan import not_regular, scan

        if p.is_dir() or not_regular(p):
            found = scan(p, cfg.ignore)
            files.extend(found.files)
            unread.extend(MediaFile(path=r.path, error=r.findings[0].message if r.findings else r.status,
                                    findings=r.findings) for r in found.problems)
        else:
            files.append(p)

    one = partial(_probe_one, ffmpeg=ffmpeg, decode_check=cfg.decode_check, spec=spec)
    items = _probe_all(one, files)
    return _with_known(check_duplicates(items, spec), production) + unread


def _plain_file(path: Path) -> bool:
    """A regular file, or a link to anything but a folder: what `not_regular` passes and `is_dir` does not
    (a folder, a FIFO or a device, or a path that cannot be read, go the walk's way, which names them)."""
    try:
        mode = path.lstat().st_mode
        return stat.S_ISREG(mode) or (stat.S_ISLNK(mode) and not path.is_dir())
    except OSError:
        return False


def _probe_one(path: Path, *, ffmpeg: str | None, decode_check: str, spec: TechSpec) -> MediaFile:
    from ingest.rules import check_file
    from media.probe import probe_file

    return check_file(probe_file(path, ffmpeg=ffmpeg, decode_check=decode_check,
                                 default_rate=spec.video.frame_rate), spec)


POOL_FROM = 8  # files: below this, starting worker processes costs more than it gains


def _probe_all(one: partial[MediaFile], files: list[Path]) -> list[MediaFile]:
    """Probe in order. Many files: worker processes, each parsing a share of them (MediaInfo's
    parse and our reading of it hold the GIL; the decode checks run in ffmpeg children either way)."""
    if len(files) <= 1:  # one file (the usual `postprod probe clip.mov`): no pool to start, nor its modules
        return [one(f) for f in files]
    import multiprocessing

    cores = os.cpu_count() or 1
    if len(files) < POOL_FROM or cores < 2 or "fork" not in multiprocessing.get_all_start_methods():
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=4) as threads:
            return list(threads.map(one, files))
    # Two a core: while one waits on its ffmpeg child or the disk, the other parses.
    workers = min(2 * cores, len(files) // (POOL_FROM // 2))
    # The probe's modules loaded here, once, before the fork: else each worker imports them again on its first
    # file (4 workers: more CPU than the 200 files of bench/probe_bench.py take to read).
    import media.mxf_facts
    import media.probe  # noqa: F401
    # fork: the workers start with this process's modules already imported (no second start-up).
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_signals)
    try:
        items = list(pool.imap(one, files, chunksize=max(1, len(files) // (workers * 8))))
    except BaseException:
        pool.terminate()  # Ctrl-C, a stop, a bug: the workers stop their ffmpeg children and go
        raise
    pool.close()
    pool.join()
    return items


def _worker_signals() -> None:
    """A worker leaves Ctrl-C to postprod itself, and on a stop takes its ffmpeg children with it."""
    import signal

    from config import children

    def stop(signum: int, frame: object) -> None:
        children.stop_all(signal.SIGKILL)
        os._exit(128 + signum)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop)


def _with_known(items: list[MediaFile], production: str | None) -> list[MediaFile]:
    """Add what the catalogue holds against each file as it is now (a failed verification, a decode
    failure, a change after its ingest): probing the bytes alone cannot see those."""
    cfg = settings()
    url = cfg.db_url
    if not production or production not in cfg.productions or \
            (url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file()):
        return items  # no catalogue to ask (and none is made for a probe)
    from ingest.known import known_findings
    from store.reading import SqliteReader, open_for_reading

    opened = open_for_reading(url)
    if isinstance(opened, SqliteReader):  # a SQLite catalogue at HEAD: read without SQLAlchemy
        from ingest.catalogue_read import CatalogueReader

        catalogue: CatalogueReader = CatalogueReader(opened)
    else:
        from ingest.catalogue import Catalogue

        catalogue = Catalogue(opened)
    out = []
    for m in items:
        row = catalogue.lookup(production, os.path.abspath(m.path))
        extra = known_findings(row, m.size or 0, m.mtime_ns or 0) if row else []
        out.append(m.with_findings(extra) if extra else m)
    return out
