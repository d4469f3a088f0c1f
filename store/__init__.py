"""The one store: a database's engine, every table on one MetaData (store/tables.py), and the Alembic
migrations that change them (store/migrations). When a store opens, store/schema.py creates a new database
from the tables at HEAD, or runs the migrations an older one lacks.

The domain packages own what their rows mean (ingest/catalogue.py, ingest/proxies/store.py,
planning/store.py) and import the store; the store imports only config.
"""

from store.base import ByKey, Store, open_store, row_of

__all__ = ["ByKey", "Store", "open_store", "row_of"]
