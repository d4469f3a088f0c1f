"""Planning a proxy run: the preset, encoder and workers; each source and where its proxy goes; leftovers cleaned."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from config.errors import ConfigError, PostprodError
from config.locks import Slots, remove_if_stale
from config.settings import Production, Settings
from ingest.known import UNTRUSTED
from ingest.proxies.encode import choose_encoder
from ingest.proxies.models import TEMP_MARK, ClipResult, ProxyBatch, ProxyJob, Writes, rel
from ingest.proxies.presets import load_preset
from ingest.proxies.reads import ProxyReads
from media.ffmpeg.caps import Job, ffmpeg_for
from media.findings import Severity
from media.probe import SIDECAR_EXTENSIONS
from store.reading import SqliteReader, open_for_reading

if TYPE_CHECKING:
    from store import Store

IMAGE_EXTENSIONS = {".dpx", ".exr", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".cin", ".ari", ".tga", ".bmp"}


def default_workers() -> int:
    """Parallel encodes by default: each ffmpeg is itself multi-threaded, so a quarter of the cores, 2 at least."""
    return max(2, (os.cpu_count() or 2) // 4)


def proxy_root(settings: Settings, production: Production) -> Path:
    """Where a production's proxies go: its proxy_root, else output_root/proxies, else the data directory."""
    if production.proxy_root is not None:
        return production.proxy_root
    if production.output_root is not None:
        return production.output_root / "proxies"
    return settings.data_path / "proxies" / production.name


def check_cube(path: Path) -> None:
    """A .cube LUT that ffmpeg can read: exists, has LUT_3D_SIZE."""
    try:
        head = path.read_text(errors="replace")[:65536]
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read the LUT: {exc.strerror or exc}") from exc
    if path.suffix.lower() != ".cube" or "LUT_3D_SIZE" not in head:
        raise ConfigError(path, None, "not a 3D .cube LUT (no LUT_3D_SIZE line)")
    size = re.search(r"^\s*LUT_3D_SIZE\s+(\S+)", head, re.MULTILINE)
    if not size or not size.group(1).isdigit() or not 2 <= int(size.group(1)) <= 256:
        shown = size.group(1) if size else "missing"
        raise ConfigError(path, None, f"LUT_3D_SIZE {shown!r} is not a cube size (2 to 256)")


def _image_sequence(files: list[Path]) -> bool:
    stills = [f for f in files if f.suffix.lower() in IMAGE_EXTENSIONS and re.search(r"\d{3,}$", f.stem)]
    return len(stills) >= 2


def plan_batch(paths: list[Path], preset_name: str, production_name: str, settings: Settings, *,
               out: Path | None = None, workers: int | None = None, lut: Path | None = None,
               allow_hw: bool = True, strict: bool = True, store: Store | None = None) -> ProxyBatch:
    """Resolve the preset and production, list the sources and their targets, clean leftovers. The batch
    reads and records in the run's store (the settings' when none is given). Without one, the batch reads
    without SQLAlchemy where the store allows it (ingest/proxies/reads.py) and opens it to write beside its
    first encode.

    strict: a file named in `paths` that is not a picture clip (sound take, document) is an error; with
    strict=False (after an ingest) it is ignored, as inside a card.
    """
    production = settings.production(production_name)
    preset = load_preset(preset_name)
    lut = lut or (production.proxy_lut if preset.lut else None)
    if lut is not None:
        check_cube(lut)
    ffmpeg = ffmpeg_for(Job.PROXY_ENCODE, settings.ffmpeg, encoders=(preset.video.encoder,)).path
    workers = workers or settings.proxy_workers or default_workers()
    encoder, encoder_args = choose_encoder(ffmpeg, preset, allow_hw)
    root = (out if out is not None else proxy_root(settings, production)) / preset.name
    readable = store if store is not None else open_for_reading(settings.db_url)
    sqlite = readable.path if isinstance(readable, SqliteReader) else None  # read and written in plain SQL
    if sqlite is None:  # a full Store (the run's, or one just created or migrated)
        store = readable
    batch = ProxyBatch(
        settings=settings, production=production, preset=preset, root=Path(os.path.abspath(root)), ffmpeg=ffmpeg,
        encoder=encoder, encoder_args=encoder_args, workers=workers,
        threads=max(1, (os.cpu_count() or 2) // workers), lut=lut, reads=ProxyReads(readable),
        writes=Writes(settings.db_url, store, sqlite), slots=Slots(settings.data_path / "locks" / "proxy", workers))
    claimed: dict[str, str] = {}  # target → source, within this batch
    for given in paths:
        _plan_path(batch, Path(os.path.abspath(given)), strict, claimed)
    batch.cleaned = clean_stale({Path(j.target).parent for j in batch.jobs})
    return batch


def _plan_path(batch: ProxyBatch, given: Path, strict: bool, claimed: dict[str, str]) -> None:
    """The jobs for one path given: every clip of a folder (walked as a card), or the file itself."""
    if given.is_dir():
        from ingest.scan import scan  # a card's walk: a batch of named clips does not load it

        walked = scan(given, batch.settings.ignore)
        batch.problems.extend(ClipResult(  # names that cannot be read, FIFOs, empty "clip.mov" folders
            source=p.path, card=given.name, relpath=p.relpath,
            status="error" if any(f.severity is Severity.ERROR for f in p.findings) else "ignored",
            error="; ".join(f.message for f in p.findings) or p.status) for p in walked.problems)
        by_folder: dict[Path, list[Path]] = {}
        for f in walked.files:
            by_folder.setdefault(f.parent, []).append(f)
        for folder, files in sorted(by_folder.items()):
            if _image_sequence(files):
                batch.problems.append(ClipResult(
                    source=str(folder), card=given.name, relpath=rel(folder, given), status="error",
                    error="image sequence folder: proxies of image sequences are not supported; "
                          "wrap the sequence into a clip first"))
                files = [f for f in files if f.suffix.lower() not in IMAGE_EXTENSIONS]
            for f in files:
                if f.suffix.lower() not in SIDECAR_EXTENSIONS:
                    _add_job(batch, f, given, explicit=False, claimed=claimed)
    elif given.exists():
        _add_job(batch, given, given.parent, explicit=strict, claimed=claimed)
    else:
        batch.problems.append(ClipResult(source=str(given), card=given.parent.name, relpath=given.name,
                                         status="error", error="no such file or folder"))


def _add_job(batch: ProxyBatch, source: Path, card_root: Path, *, explicit: bool, claimed: dict[str, str]) -> None:
    row = batch.reads.media(batch.production.name, str(source))
    if row is not None and row.status in UNTRUSTED:  # the offline edit would cut a bad file
        batch.problems.append(ClipResult(source=str(source), card=Path(row.card).name, relpath=row.relpath,
                                         status="error", error=f"no proxy: {UNTRUSTED[row.status]}; copy it "
                                         "again from the card and re-ingest"))
        return
    batch.jobs.append(_job(batch, source, card_root, row, explicit=explicit, claimed=claimed))


def _job(batch: ProxyBatch, source: Path, card_root: Path, row, *, explicit: bool,  # noqa: ANN001
         claimed: dict[str, str]) -> ProxyJob:
    if row is not None:  # an ingested rush: its card as the ingest saw it
        card_root = Path(row.card)
        relpath = row.relpath
    else:
        relpath = rel(source, card_root)
    card = card_root.name or "root"
    path = Path(relpath)
    candidates = [
        (card, path.with_suffix(batch.preset.extension)),
        # Same stem, other extension, in the same folder (A.mov and A.mxf): keep both.
        (card, path.with_name(f"{path.stem}_{path.suffix.lstrip('.')}{batch.preset.extension}")),
    ]
    # Two cards with the same folder name from different places: the second gets a stable suffix.
    tag = hash_text(str(card_root))
    candidates.append((f"{card}~{tag}", path.with_suffix(batch.preset.extension)))
    for card_dir, target_rel in candidates:
        target = str(batch.root / card_dir / target_rel)
        owner = claimed.get(target) or batch.reads.owner(batch.production.name, target)
        if owner is None or owner == str(source):
            claimed[target] = str(source)
            return ProxyJob(source=str(source), card_root=str(card_root), card=card_dir, relpath=relpath,
                            target=target, explicit=explicit)
    raise PostprodError("no free proxy path (three candidates taken)", path=source)  # pragma: no cover


def hash_text(text: str) -> str:
    import xxhash

    return xxhash.xxh64(text.encode()).hexdigest()[:8]


def clean_stale(folders: set[Path]) -> list[str]:
    """Remove temporary proxies that no live encode holds (leftovers of a killed run)."""
    removed = []
    for folder in sorted(folders):
        if not folder.is_dir():
            continue
        for tmp in folder.glob(f".*{TEMP_MARK}*"):
            if remove_if_stale(tmp):
                removed.append(str(tmp))
    return removed
