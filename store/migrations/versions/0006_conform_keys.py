"""Conform at scale: each media row's lookup keys (media_keys), indexes by timecode and by hash, so that a conform
check selects in SQL the few rows an edit list names instead of loading the whole catalogue.

The keys of the rows already there are computed here, by the rule conform uses (store/keys.py).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from store.keys import fill_media_keys

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_keys",
        sa.Column("media_id", sa.Integer, sa.ForeignKey("media.id"), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("production", sa.String(200), nullable=False),
        sa.Column("original", sa.Boolean, nullable=False),
        sa.Column("usable", sa.Boolean, nullable=False),
        sa.Column("rate", sa.String(32)),
        sa.Column("drop_frame", sa.Boolean),
        sa.Column("start_frames", sa.BigInteger),
        sa.Column("end_frames", sa.BigInteger),
    )
    op.create_index("ix_media_keys_lookup", "media_keys", ["production", "key", "kind", "usable", "original", "rate",
                                                            "drop_frame", "start_frames", "end_frames", "media_id"])
    op.create_index("ix_media_production_start", "media", ["production", "start_frames"])
    op.create_index("ix_media_production_hash", "media", ["production", "hash"])
    fill_media_keys(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_media_production_hash", table_name="media")
    op.drop_index("ix_media_production_start", table_name="media")
    op.drop_index("ix_media_keys_lookup", table_name="media_keys")
    op.drop_table("media_keys")
