"""The one store: a database's engine, every table on one MetaData (store/tables.py), and the Alembic
migrations that make and change them (store/migrations; store/schema.py runs them when a store opens).

The domain packages own what their rows mean (ingest/catalogue.py, ingest/proxies/store.py,
planning/store.py) and import the store; the store imports only config.
"""

from store.base import ByKey, Store, open_store, row_of

__all__ = ["ByKey", "Store", "open_store", "row_of"]
