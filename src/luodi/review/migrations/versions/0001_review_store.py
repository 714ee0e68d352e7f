"""review store: items, flags, events

Revision ID: 0001
Revises:
Create Date: 2026-05-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("schema_name", sa.String(128)),
        sa.Column("dataset", sa.String(128)),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("source", sa.String(1024)),
        sa.Column("images", sa.JSON, nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("parent_image", sa.String(128)),
        sa.Column("suggestion", sa.JSON, nullable=False),
        sa.Column("labels", sa.JSON),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_until", sa.Float),
        sa.Column("reviewer", sa.String(128)),
        sa.Column("reviewed_at", sa.Float),
    )
    op.create_index("ix_review_items_queue", "review_items", ["status", "created_at"])
    op.create_index("ix_review_items_schema", "review_items", ["status", "schema_name", "created_at"])
    op.create_index("ix_review_items_kind", "review_items", ["status", "kind", "created_at"])
    op.create_index("ix_review_items_dataset", "review_items", ["dataset"])
    op.create_table(
        "review_flags",
        sa.Column("item_id", sa.String(32), sa.ForeignKey("review_items.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("field", sa.String(128), primary_key=True),
        sa.Column("reason", sa.String(128), primary_key=True),
    )
    op.create_index("ix_review_flags_field", "review_flags", ["field", "item_id"])
    op.create_index("ix_review_flags_reason", "review_flags", ["reason", "item_id"])
    op.create_table(
        "review_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(32), sa.ForeignKey("review_items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(128)),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("labels", sa.JSON),
    )
    op.create_index("ix_review_events_item", "review_events", ["item_id", "id"])


def downgrade() -> None:
    op.drop_table("review_events")
    op.drop_table("review_flags")
    op.drop_table("review_items")
