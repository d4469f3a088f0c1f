"""The one store: a database's engine, every table on one MetaData (store/tables.py), and the Alembic
migrations that change them (store/migrations). When a store opens, store/schema.py creates a new database
from the tables at HEAD, or runs the migrations an older one lacks.

The domain packages own what their rows mean (ingest/catalogue.py, ingest/proxies/store.py,
planning/store.py) and import the store; the store imports only config.

`Store` and its helpers load SQLAlchemy (a third of a light command's start-up): they are imported from
store/base.py when first asked for, so that what needs none (store/keys.py, store/reading.py) loads none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.base import Store, open_store, row_of
    from store.rows import ByKey

__all__ = ["ByKey", "Store", "open_store", "row_of"]


def __getattr__(name: str) -> Any:
    if name == "ByKey":
        from store.rows import ByKey

        return ByKey
    if name in __all__:
        from store import base

        return getattr(base, name)
    raise AttributeError(f"module 'store' has no attribute {name!r}")
