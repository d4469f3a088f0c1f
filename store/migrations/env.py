"""Alembic environment for the store: run on the connection store/schema.py hands over."""

from __future__ import annotations

from alembic import context

from store.schema import VERSION_TABLE

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
