"""Alembic environment for the planning store: run on the connection PlanningStore hands over."""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    version_table="planning_alembic_version",  # the catalogue shares the database: keep our own table
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
