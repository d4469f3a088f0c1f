"""`postprod probe`: describe files and flag what does not fit the production's technical spec."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.app import JsonOpt, ProductionOpt, app, emit_json, exit_code_for, out, settings

if TYPE_CHECKING:  # the command's modules load when it runs: `postprod --help` stays quick
    from media.model import MediaFile


def probe_paths(paths: list[Path], spec_name: str | None, production: str | None) -> list[MediaFile]:
    """Probe files (folders are walked) and apply the spec rules; the plain function behind the command."""
    from config.spec import load_spec
    from ingest.ingest import not_regular, scan
    from ingest.rules import check_duplicates, check_file
    from media.ffmpeg.caps import Job, ffmpeg_for
    from media.model import MediaFile
    from media.probe import probe_file

    cfg = settings()
    spec = load_spec(spec_name) if spec_name else cfg.production(production).tech_spec()
    ffmpeg = ffmpeg_for(Job.DECODE_CHECK, cfg.ffmpeg).path
    files: list[Path] = []
    unread: list[MediaFile] = []  # what a folder holds that cannot be probed: named, not left out
    for p in paths:
        if p.is_dir() or not_regular(p):
            found = scan(p, cfg.ignore)
            files.extend(found.files)
            unread.extend(MediaFile(path=r.path, error=r.findings[0].message if r.findings else r.status,
                                    findings=r.findings) for r in found.problems)
        else:
            files.append(p)

    def one(path: Path) -> MediaFile:
        return check_file(probe_file(path, ffmpeg=ffmpeg, decode_check=cfg.decode_check,
                                     default_rate=spec.video.frame_rate), spec)

    with ThreadPoolExecutor(max_workers=4) as pool:
        items = list(pool.map(one, files))
    return _with_known(check_duplicates(items, spec), production) + unread


def _with_known(items: list[MediaFile], production: str | None) -> list[MediaFile]:
    """Add what the catalogue holds against each file as it is now (a failed verification, a decode
    failure, a change after its ingest): probing the bytes alone cannot see those."""
    cfg = settings()
    url = cfg.db_url
    if not production or production not in cfg.productions or \
            (url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file()):
        return items  # no catalogue to ask (and none is made for a probe)
    from ingest.catalogue import Catalogue
    from ingest.known import known_findings

    catalogue = Catalogue(url)
    out = []
    for m in items:
        row = catalogue.lookup(production, os.path.abspath(m.path))
        extra = known_findings(row, m.size or 0, m.mtime_ns or 0) if row else []
        out.append(m.with_findings(extra) if extra else m)
    return out


@app.command()
def probe(
    files: Annotated[list[Path], typer.Argument(help="Media files or folders to describe.")],
    spec: Annotated[str | None, typer.Option("--spec", help="Technical spec: a built-in name or a TOML file. "
                                             "Default: the production's.")] = None,
    production: ProductionOpt = "default",
    as_json: JsonOpt = False,
) -> None:
    """Describe each file (format, frame rate, scan, timecode, reel, audio) and flag what breaks the spec.

    Exit code: 0 when no error-level finding, 1 when there is one.
    """
    items = probe_paths(files, spec, production)
    if as_json:
        emit_json([m.model_dump(mode="json") for m in items])
    else:
        from cli.render import probe_table

        out.print(probe_table(items))
    from media.findings import Severity

    errors = sum(1 for m in items for f in m.findings if f.severity is Severity.ERROR)
    raise typer.Exit(exit_code_for(errors))
