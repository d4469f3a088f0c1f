"""The web page: its users, and the coordinator's review of each session report.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("language", sa.String(5), nullable=False, server_default="fr"),
        sa.Column("productions", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("session_reports") as batch:
        batch.add_column(sa.Column("review", sa.String(20)))  # None (pending), accepted, corrected, rejected
        batch.add_column(sa.Column("reviewed_by", sa.String(200)))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("original_minutes", sa.Integer))  # the technician's hours, kept on a correction


def downgrade() -> None:
    with op.batch_alter_table("session_reports") as batch:
        for column in ("original_minutes", "reviewed_at", "reviewed_by", "review"):
            batch.drop_column(column)
    op.drop_table("web_users")
