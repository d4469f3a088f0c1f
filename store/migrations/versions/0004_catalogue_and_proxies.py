"""Baseline of the rushes catalogue (ingests, media) and the proxies table, as create_all made them.

Until this revision the catalogue and the proxy store made their tables with create_all on every open; a
database they made already holds them, and they are kept as they are, with their rows. A database without
them gets them here, with the same columns, keys and indexes.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "ingests" not in existing:
        _create_ingests()
    if "media" not in existing:
        _create_media()
    if "proxies" not in existing:
        _create_proxies()


def _create_ingests() -> None:
    op.create_table(
        "ingests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("production", sa.String(200), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("files", sa.Integer, nullable=False),
        sa.Column("new_files", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("warnings", sa.Integer, nullable=False),
        sa.Column("report_json", sa.Text),
        sa.Column("report_html", sa.Text),
    )
    op.create_index("ix_ingests_production", "ingests", ["production"])


def _create_media() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("production", sa.String(200), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("card", sa.Text, nullable=False),
        sa.Column("relpath", sa.Text, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("source_id", sa.Integer, sa.ForeignKey("media.id")),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("hash_algorithm", sa.String(20)),
        sa.Column("hash", sa.String(128)),
        sa.Column("clip_name", sa.String(500)),
        sa.Column("reel", sa.String(200)),
        sa.Column("start_frames", sa.BigInteger),
        sa.Column("duration_frames", sa.BigInteger),
        sa.Column("rate", sa.String(32)),
        sa.Column("drop_frame", sa.Boolean),
        sa.Column("worst_severity", sa.String(10)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("media_json", sa.Text, nullable=False),
        sa.Column("ingest_id", sa.Integer, sa.ForeignKey("ingests.id")),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("production", "path", name="uq_media_production_path"),
    )
    op.create_index("ix_media_clip_name", "media", ["clip_name"])
    op.create_index("ix_media_reel", "media", ["reel"])
    op.create_index("ix_media_production_reel", "media", ["production", "reel"])


def _create_proxies() -> None:
    op.create_table(
        "proxies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("production", sa.String(200), nullable=False),
        sa.Column("preset", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("source_hash_algorithm", sa.String(20), nullable=False),
        sa.Column("source_hash", sa.String(128), nullable=False),
        sa.Column("source_media_id", sa.Integer),
        sa.Column("proxy_path", sa.Text, nullable=False),
        sa.Column("proxy_media_id", sa.Integer),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("encoder", sa.String(64)),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("production", "proxy_path", name="uq_proxies_production_path"),
    )


def downgrade() -> None:
    op.drop_table("proxies")
    op.drop_table("media")
    op.drop_table("ingests")
