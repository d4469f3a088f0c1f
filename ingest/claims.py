"""One ingest per card at a time, across processes, and across hosts that share a PostgreSQL catalogue.

A second ingest of a card waits for the first to end, then finds its files catalogued: never two ingests
that both call every file new and both write a generation declaring them original. On PostgreSQL the
claim is an advisory lock of the catalogue's database (held by a connection: a killed ingest releases
it); on SQLite, whose file only one host uses, a lock file in the data directory (flock, likewise).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from config.locks import locked

if TYPE_CHECKING:
    from ingest.catalogue import Catalogue
    from ingest.catalogue_sql import SqliteCatalogue


def claim_key(production: str, source: Path) -> str:
    return f"{production}\0{os.path.realpath(source)}"


@contextlib.contextmanager
def card_claim(catalogue: Catalogue | SqliteCatalogue, data_path: Path, production: str,
               source: Path) -> Iterator[None]:
    """Held while the card is ingested; waits while another ingest holds it."""
    key = claim_key(production, source)
    digest = hashlib.sha1(key.encode("utf-8", "surrogateescape")).digest()
    if catalogue.store.dialect == "postgresql":
        from sqlalchemy import text

        number = int.from_bytes(digest[:8], "big", signed=True)
        with catalogue.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": number})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": number})
                conn.commit()
        return
    folder = data_path / "claims"
    folder.mkdir(parents=True, exist_ok=True)
    with locked(folder / f"{digest.hex()}.lock"):
        yield
