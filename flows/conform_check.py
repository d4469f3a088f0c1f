"""The conform check as plain functions: read, match, report, relink, move the plan (no Prefect here,
so the CLI starts fast; flows/conform.py wraps these as a Prefect flow)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from config.errors import PostprodError
from config.settings import Settings
from conform.match import CatalogueClip, CatalogueIndex, ConformResult, conform, rate_of_text
from conform.model import conform_finding
from conform.relink import WRITE_ADAPTERS
from conform.report import report_data, write_reports
from conform.timeline import read_timeline
from ingest.catalogue import Catalogue, media
from media.findings import Finding
from media.model import MediaKind
from media.timecode import TimecodeError, parse_rate
from planning.stages import Stage, StageState
from planning.store import PlanningStore


@dataclass
class ConformOutcome:
    data: dict[str, Any]
    report_json: Path | None
    report_html: Path | None

    @property
    def exit_code(self) -> int:
        return 1 if self.data["summary"]["errors"] else 0


def load_index(settings: Settings, production: str) -> CatalogueIndex:
    """The production's catalogue rows that matching needs (one query, no JSON decoding)."""
    catalogue = Catalogue(settings.db_url)
    cols = [media.c.id, media.c.path, media.c.card, media.c.reel, media.c.clip_name, media.c.start_frames,
            media.c.duration_frames, media.c.rate, media.c.drop_frame, media.c.role, media.c.source_id,
            media.c.hash]
    query = select(*cols).where(media.c.production == production, media.c.kind == MediaKind.MEDIA.value,
                                media.c.status != "missing")
    # A plain DB-API cursor: 100,000 rows come back several times faster than through Row objects.
    sql = str(query.compile(dialect=catalogue.engine.dialect, compile_kwargs={"literal_binds": True}))
    raw = catalogue.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        raw.close()
    clips = [CatalogueClip(r[0], r[1], r[2] or "", r[3], r[4], r[5], r[6], rate_of_text(r[7]) if r[7] else None, r[8],
                           r[9] or "original", r[10], r[11]) for r in rows]
    return CatalogueIndex(clips)


def _catalogued_productions(settings: Settings) -> dict[str, int]:
    """Originals per production in the catalogue (for the hint when nothing matched)."""
    catalogue = Catalogue(settings.db_url)
    query = (select(media.c.production, func.count()).where(media.c.kind == MediaKind.MEDIA.value,
                                                          media.c.status != "missing", media.c.role == "original")
             .group_by(media.c.production))
    with catalogue.engine.connect() as conn:
        return {row[0]: row[1] for row in conn.execute(query)}


def production_hint(settings: Settings, production: str, result: ConformResult,
                    originals: int) -> Finding | None:
    """Every event that needs media is missing: the production checked may be the wrong one (no -p)."""
    needing = [r for r in result.results if not r.event.is_generator and r.event.record_frames > 0]
    if not needing or any(r.media is not None for r in result.results):
        return None
    others = {name: n for name, n in _catalogued_productions(settings).items() if name != production and n}
    default = " (the default: no -p given)" if production == "default" else ""
    said = f"none of the {len(needing)} events that need media matched in production '{production}'{default}, " \
           f"which has {originals} catalogued originals"
    if others:
        listed = ", ".join(f"'{name}' ({n} files)" for name, n in sorted(others.items(), key=lambda x: -x[1])[:5])
        likeliest = max(others, key=lambda k: others[k])
        return conform_finding("production_hint", f"{said}; the catalogue holds {listed}: is this the right "
                              "production? Give it with -p NAME", expected=f"-p {likeliest}", measured=production)
    if not originals:
        return conform_finding("production_hint", f"{said}: the catalogue holds no original media at all; ingest "
                              "the rushes first (postprod ingest), then check again", measured=production)
    return None


def check_conform(timeline_path: Path, production: str, settings: Settings, *, rate: str | Fraction | None = None,
                  handles: int | None = None, relink: Path | None = None,
                  report_dir: Path | None = None, write_report: bool = True) -> ConformOutcome:
    """Read, match, report and (optionally) relink. Raises PostprodError when the input cannot be used."""
    prod = settings.production(production)
    try:
        exact = parse_rate(rate) if rate is not None else None
    except (TimecodeError, ValueError, OverflowError, ZeroDivisionError) as exc:  # nan, inf: ValueError, Overflow
        raise PostprodError(f"--rate: not a frame rate: {rate!r}; for example 25, 29.97, 24000/1001") from exc
    if exact is not None and not 1 <= exact <= 1000:
        raise PostprodError(f"--rate: {rate!r} is not a frame rate between 1 and 1000 fps; for example 25, 29.97")
    if relink is not None and relink.suffix.lower() not in WRITE_ADAPTERS:
        raise PostprodError(f"--relink: cannot write '{relink.suffix}'; available: {', '.join(WRITE_ADAPTERS)}",
                            path=relink)
    index = load_index(settings, prod.name)
    timeline = read_timeline(Path(timeline_path).absolute(), rate=exact, default_rate=prod.tech_spec().video.frame_rate,
                             catalogue=index.rates_of)
    result: ConformResult = conform(timeline, index, prod.handles if handles is None else handles)
    hint = production_hint(settings, prod.name, result, len(index.originals))
    if hint is not None:
        result.findings.append(hint)
    relinked = None
    if relink is not None:
        from conform.relink import write_relinked

        relinked = str(write_relinked(result, relink))
    data = report_data(result, production=prod.name, relinked=relinked)
    json_path = html_path = None
    if write_report:
        json_path, html_path = write_reports(data, report_dir or settings.reports_dir / "conform")
        data["report_json"], data["report_html"] = str(json_path), str(html_path)
    return ConformOutcome(data, json_path, html_path)


def record_conform(production: str, outcome: ConformOutcome, settings: Settings) -> StageState:
    """Clean check: conform stage in progress (ready for the online); errors: blocked, report as evidence."""
    s = outcome.data["summary"]
    state = StageState.BLOCKED if s["errors"] else StageState.IN_PROGRESS
    note = (f"conform check of {Path(outcome.data['timeline']['path']).name}: {s['events']} events, "
            f"{s['errors']} errors, {s['warnings']} warnings" + ("" if s["errors"] else "; ready for the online"))
    PlanningStore(settings.db_url).set_state(
        production, Stage.CONFORM, state, note=note,
        evidence={"timeline": outcome.data["timeline"]["path"], "report_json": str(outcome.report_json),
                  "report_html": str(outcome.report_html), "summary": s})
    return state


