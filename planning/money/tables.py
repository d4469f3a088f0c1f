"""The money tables, on the planning store's MetaData (made by migration 0003_money)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table, Text, UniqueConstraint

from planning.store import metadata

# One row per version of a production's quote; its lines are JSON with amounts as decimal strings.
quotes = Table(
    "quotes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("rates", Text, nullable=False),  # the rates file's name and path it was priced with
    Column("contingency_percent", String(20), nullable=False),
    Column("lines", Text, nullable=False),
    Column("total", String(40), nullable=False),
    UniqueConstraint("production", "version", name="uq_quote_version"),
)

# A forecast crossing the quote by the threshold: one row per crossing (cleared when it falls back under).
overrun_alerts = Table(
    "overrun_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False),
    Column("scope", String(40), nullable=False),  # a stage key, or "*" for the whole production
    Column("quote_version", Integer, nullable=False),
    Column("crossed_at", DateTime(timezone=True), nullable=False),
    Column("quoted", String(40), nullable=False),
    Column("forecast", String(40), nullable=False),
    Column("threshold_percent", String(20), nullable=False),
    Column("cleared_at", DateTime(timezone=True)),
    Column("notified_to", Text),
)
