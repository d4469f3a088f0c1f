"""The database fixtures moved to tests/db_fixtures.py (the store is shared); kept for modules written before."""

from db_fixtures import db_url, pg_server

__all__ = ["db_url", "pg_server"]
