"""Plans and session reports: productions, planned dates/hours/dependencies per stage, reports, digests.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "productions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("template", sa.String(200)),
        sa.Column("delivery_profile", sa.String(200)),
        sa.Column("hours_per_day", sa.Float, nullable=False, server_default="8"),
        sa.Column("planned_start", sa.Date),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        # Every write to a production's plan bumps this first: it serialises writers of one production.
        sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    )
    with op.batch_alter_table("stages") as batch:
        batch.add_column(sa.Column("label", sa.String(200)))
        batch.add_column(sa.Column("position", sa.Integer))
        batch.add_column(sa.Column("planned_start", sa.Date))
        batch.add_column(sa.Column("planned_end", sa.Date))
        batch.add_column(sa.Column("planned_minutes", sa.Integer))
        batch.add_column(sa.Column("responsible", sa.String(200)))
        batch.add_column(sa.Column("depends_on", sa.Text))  # JSON list of stage keys
        batch.add_column(sa.Column("actual_start", sa.Date))
        batch.add_column(sa.Column("actual_end", sa.Date))
        batch.add_column(sa.Column("evidence", sa.Text))  # JSON of the last change's evidence
        batch.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_stage_events_at", "stage_events", ["at"])
    op.create_table(
        "session_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("production", sa.String(200), nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("technician", sa.String(200), nullable=False),
        sa.Column("work_date", sa.Date, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),  # hours are kept as whole minutes: sums stay exact
        sa.Column("done", sa.Text, nullable=False),
        sa.Column("incidents", sa.Text),
        sa.Column("source", sa.Text),  # "cli" or "FILE:LINE"
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("production", "fingerprint", name="uq_session_report"),
    )
    op.create_index("ix_session_reports_production_stage", "session_reports", ["production", "stage"])
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.Text),
        sa.Column("sent_to", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("digests")
    op.drop_index("ix_session_reports_production_stage", "session_reports")
    op.drop_table("session_reports")
    op.drop_index("ix_stage_events_at", "stage_events")
    with op.batch_alter_table("stages") as batch:
        for name in ("revision", "evidence", "actual_end", "actual_start", "depends_on", "responsible",
                     "planned_minutes", "planned_end", "planned_start", "position", "label"):
            batch.drop_column(name)
    op.drop_table("productions")
