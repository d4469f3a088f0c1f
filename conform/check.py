"""The conform check of an edit list against the catalogue: read, match, report, relink.

The step that `postprod conform` and the conform flow (flows/conform.py) run; what its result does to the
conform stage is planning/transitions.py's rule.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.errors import PostprodError
from config.settings import Settings
from conform.index import SelectedIndex
from conform.match import CatalogueClip, CatalogueIndex, ConformResult, conform, rate_of_text
from conform.model import conform_finding
from conform.relink import WRITE_ADAPTERS
from conform.report import report_data, write_reports
from conform.timeline import read_timeline
from ingest.catalogue_read import CatalogueReader, IndexRow
from media.findings import Finding
from media.timecode import TimecodeError, parse_rate
from store.reading import open_for_reading

if TYPE_CHECKING:
    from store.reading import Readable


@dataclass
class ConformOutcome:
    data: dict[str, Any]
    report_json: Path | None
    report_html: Path | None
    json_text: str | None = None  # the report's JSON as written (what `--json` prints, byte for byte)

    @property
    def exit_code(self) -> int:
        return 1 if self.data["summary"]["errors"] else 0


def _clip(r: IndexRow | tuple) -> CatalogueClip:
    """A clip from an IndexRow or a plain row of its columns, in its order."""
    return CatalogueClip(r[0], r[1], r[2] or "", r[3], r[4], r[5], r[6], rate_of_text(r[7]) if r[7] else None, r[8],
                         r[9] or "original", r[10], r[11], r[12] or "ok")


def _clips(rows: list[IndexRow]) -> list[CatalogueClip]:
    return [_clip(r) for r in rows]


def load_index(catalogue: CatalogueReader, production: str) -> CatalogueIndex:
    """Every catalogue row of the production that matching may use, indexed in memory (one query). The
    reference select_index answers as; the check itself selects only the rows the list names."""
    return CatalogueIndex(_clips(catalogue.index_rows(production)))


class _CatalogueRows:
    """A SelectedIndex's source: the catalogue's queries for one production (ingest/catalogue.py)."""

    def __init__(self, catalogue: CatalogueReader, production: str) -> None:
        self.catalogue, self.production = catalogue, production
        self.keyed = catalogue.keyed(production)
        self._clips: dict[int, CatalogueClip] = {}

    def present(self, keys: Iterable[str]) -> set[tuple[str, str, bool]]:
        return self.keyed.present(keys)

    def rates(self, keys: Iterable[str]) -> list[tuple[str, str, int, str | None]]:
        return self.keyed.rates(keys)

    def rate_counts(self, reel_keys: list[str], name_keys: list[str]) -> dict[str | None, int] | None:
        return self.keyed.rate_counts(reel_keys, name_keys)

    def rows(self, keys: Iterable[str]) -> list[tuple[str, str, CatalogueClip, bool]]:
        found = self.keyed.rows(keys)
        return [(r.kind, r.key, c, r.shared) for r, c in zip(found, _clips([r.row for r in found]), strict=True)]

    def within(self, windows: list[tuple[int, str, int, int, bool]], rates: tuple[str, ...]
               ) -> list[tuple[int, str, str, CatalogueClip, bool]]:
        clips = self._clips  # one clip per row: a row under several names or events comes back several times
        out = []
        for tag, kind, key, row, shared in self.keyed.within(windows, rates):
            clip = clips.get(row[0])
            if clip is None:
                clip = clips[row[0]] = _clip(row)
            out.append((tag, kind, key, clip, shared))
        return out

    def starting(self, first: int, last: int) -> list[CatalogueClip]:
        return _clips(self.catalogue.index_rows_starting(self.production, first, last))

    def longest(self) -> int:
        return self.catalogue.longest_original(self.production)

    def original_count(self) -> int:
        return self.catalogue.originals_per_production().get(self.production, 0)

    def close(self) -> None:
        self.keyed.close()


def select_index(catalogue: CatalogueReader, production: str) -> SelectedIndex | CatalogueIndex:
    """The production's catalogue as matching sees it, each row selected in SQL when an edit list names it
    (close its source after use). Rows without lookup keys (written by other means than the catalogue's
    record()) would be missed there: then every row is loaded, as before."""
    if catalogue.unkeyed(production):
        return load_index(catalogue, production)
    return SelectedIndex(_CatalogueRows(catalogue, production))


def production_hint(catalogue: CatalogueReader, production: str, result: ConformResult,
                    originals: int | Callable[[], int]) -> Finding | None:
    """Every event that needs media is missing: the production checked may be the wrong one (no -p).
    `originals`: how many originals it has (or what counts them, asked only then)."""
    needing = [r for r in result.results if not r.event.is_generator and r.event.record_frames > 0]
    if not needing or any(r.media is not None for r in result.results):
        return None
    if callable(originals):
        originals = originals()
    others = {name: n for name, n in catalogue.originals_per_production().items() if name != production and n}
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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A check keeps every object it makes (events, timecodes, clips, findings: hundreds of thousands for a
    long list) until its report is written; the cyclic collector would walk them all again and again, and
    everything the process imported with them (a sixth of the check), freeing nothing. Paused for the check
    (reference counting still frees what is dropped), restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_conform(timeline_path: Path, production: str, settings: Settings, *, rate: str | Fraction | None = None,
                  handles: int | None = None, relink: Path | None = None,
                  report_dir: Path | None = None, write_report: bool = True,
                  store: Readable | None = None) -> ConformOutcome:
    """Read, match, report and (optionally) relink. Raises PostprodError when the input cannot be used.
    `store`: the run's (else the settings' database, opened for reading: store/reading.py)."""
    with _collector_paused():
        return _check(timeline_path, production, settings, rate=rate, handles=handles, relink=relink,
                      report_dir=report_dir, write_report=write_report, store=store)


def _check(timeline_path: Path, production: str, settings: Settings, *, rate: str | Fraction | None,
           handles: int | None, relink: Path | None, report_dir: Path | None, write_report: bool,
           store: Readable | None) -> ConformOutcome:
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
    catalogue = CatalogueReader(store or open_for_reading(settings.db_url))
    index = select_index(catalogue, prod.name)
    try:
        timeline = read_timeline(Path(timeline_path).absolute(), rate=exact,
                                 default_rate=prod.tech_spec().video.frame_rate, catalogue=index.rates_of)
        if isinstance(index, SelectedIndex):
            index.prepare(timeline.events)
        result: ConformResult = conform(timeline, index, prod.handles if handles is None else handles)
        hint = production_hint(catalogue, prod.name, result, index.original_count)
    finally:
        if isinstance(index, SelectedIndex):
            index.close()
    if hint is not None:
        result.findings.append(hint)
    relinked = None
    if relink is not None:
        from conform.relink import write_relinked

        relinked = str(write_relinked(result, relink))
    data = report_data(result, production=prod.name, relinked=relinked)
    json_path = html_path = text = None
    if write_report:
        json_path, html_path, text = write_reports(data, report_dir or settings.reports_dir / "conform")
    return ConformOutcome(data, json_path, html_path, text)
