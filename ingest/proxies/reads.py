"""What a proxy batch reads of the store before it encodes: plain SQL, no SQLAlchemy to import first.

A batch of one clip waits for everything done before its encode starts. Its reads (the source's catalogue row,
the proxy recorded at a target, who owns a target path) go through ingest/catalogue_read.py's CatalogueReader
on store/reading.py's `open_for_reading` (sqlite3 alone for a SQLite store at HEAD, else the full Store, which
creates or migrates it as before). The writes (the proxy's two rows) are ingest/proxies/record.py's: plain SQL too on
such a store, else the full Store, opened beside the first encode (ProxyBatch.prefetch).

The rows carry only the columns the proxies use, named as ingest/catalogue.MediaRow and
ingest/proxies/store.ProxyRow name them (tests/ingest/proxies/test_proxy_reads.py holds them equal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ingest.catalogue_read import CatalogueReader

if TYPE_CHECKING:
    from media.model import MediaFile


class SourceRow(NamedTuple):
    """A catalogued file as the proxies read it (ingest/catalogue.MediaRow's columns of the same names)."""

    id: int
    path: str
    card: str
    relpath: str
    role: str
    kind: str
    size: int
    mtime_ns: int
    hash_algorithm: str | None
    hash: str | None
    status: str
    media_json: str

    @property
    def media(self) -> MediaFile:
        """The media description stored at its ingest (as MediaRow.media)."""
        from media.model import MediaFile

        return MediaFile.model_validate_json(self.media_json)


class MadeRow(NamedTuple):
    """A verified proxy as a re-run reads it (ingest/proxies/store.ProxyRow's columns of the same names)."""

    source_path: str
    source_hash_algorithm: str
    source_hash: str
    fingerprint: str
    proxy_path: str
    size: int
    mtime_ns: int
    encoder: str | None


_SOURCE = ", ".join(SourceRow._fields)
_MADE = ", ".join(MadeRow._fields)


class ProxyReads(CatalogueReader):
    """The lookups of a proxy batch, on a Store or a SqliteReader (store/reading.py)."""

    def media(self, production: str, path: str) -> SourceRow | None:
        """The catalogue's row of a file (as Catalogue.lookup)."""
        rows = self._all(f"SELECT {_SOURCE} FROM media WHERE production = {{m}} AND path = {{m}}", (production, path))
        return SourceRow._make(rows[0]) if rows else None

    def made_at(self, production: str, proxy_path: str) -> MadeRow | None:
        """The verified proxy recorded at this path (as ProxyStore.at)."""
        rows = self._all(f"SELECT {_MADE} FROM proxies WHERE production = {{m}} AND proxy_path = {{m}}",
                         (production, proxy_path))
        return MadeRow._make(rows[0]) if rows else None

    def owner(self, production: str, proxy_path: str) -> str | None:
        """The source path a proxy path belongs to (as ProxyStore.owner)."""
        rows = self._all("SELECT source_path FROM proxies WHERE production = {m} AND proxy_path = {m}",
                         (production, proxy_path))
        return rows[0][0] if rows else None

    def in_folder(self, production: str, preset: str, folder: str) -> list[tuple[str, str]]:
        """(proxy path, source path) of every proxy of a preset inside a folder, by proxy path (as
        ProxyStore.for_folder selects them: a LIKE on the folder's path, escaped)."""
        prefix = folder.rstrip("/") + "/"
        pattern = prefix.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        return [(r[0], r[1]) for r in self._all(
            "SELECT proxy_path, source_path FROM proxies WHERE production = {m} AND preset = {m} "
            "AND proxy_path LIKE {m} ESCAPE '/' ORDER BY proxy_path", (production, preset, pattern))]
