"""Baseline: stage states and their events, as the first planning store made them (create_all).

Databases made before migrations already hold these tables: they are kept as they are.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "stages" not in existing:
        op.create_table(
            "stages",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("production", sa.String(200), nullable=False),
            sa.Column("stage", sa.String(40), nullable=False),
            sa.Column("state", sa.String(20), nullable=False),
            sa.Column("note", sa.Text),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.UniqueConstraint("production", "stage", name="uq_stage"),
        )
    if "stage_events" not in existing:
        op.create_table(
            "stage_events",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("production", sa.String(200), nullable=False, index=True),
            sa.Column("stage", sa.String(40), nullable=False),
            sa.Column("state", sa.String(20), nullable=False),
            sa.Column("note", sa.Text),
            sa.Column("evidence", sa.Text),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("stage_events")
    op.drop_table("stages")
