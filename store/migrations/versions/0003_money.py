"""Money: versioned quotes and overrun alerts (one row per crossing of the threshold).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quotes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("production", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("rates", sa.Text, nullable=False),
        sa.Column("contingency_percent", sa.String(20), nullable=False),
        sa.Column("lines", sa.Text, nullable=False),  # JSON, amounts as decimal strings: exact
        sa.Column("total", sa.String(40), nullable=False),
        sa.UniqueConstraint("production", "version", name="uq_quote_version"),
    )
    op.create_table(
        "overrun_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("production", sa.String(200), nullable=False),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("quote_version", sa.Integer, nullable=False),
        sa.Column("crossed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quoted", sa.String(40), nullable=False),
        sa.Column("forecast", sa.String(40), nullable=False),
        sa.Column("threshold_percent", sa.String(20), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True)),
        sa.Column("notified_to", sa.Text),
    )
    op.create_index("ix_overrun_alerts_production", "overrun_alerts", ["production", "scope"])


def downgrade() -> None:
    op.drop_index("ix_overrun_alerts_production", "overrun_alerts")
    op.drop_table("overrun_alerts")
    op.drop_table("quotes")
