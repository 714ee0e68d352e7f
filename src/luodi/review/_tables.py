"""The review store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

The Alembic revisions under ``migrations/versions`` create exactly these; a test compares the two
(``alembic check`` semantics), so a change here without a new revision fails.

Times are epoch seconds (``float``): one portable type whose ordering and arithmetic (lease expiry)
behave alike on both databases.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Alembic's version table, named for luodi so the review tables can share a database with an
# application's own Alembic history
VERSION_TABLE = "luodi_review_alembic_version"

# what a reviewer works on: one document (page images + fields), one text line, one text, one image
KINDS = ("document", "line", "text", "image")
STATUSES = ("waiting", "accepted", "rejected")

items = sa.Table(
    "review_items",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("schema_name", sa.String(128)),
    sa.Column("dataset", sa.String(128)),
    sa.Column("origin", sa.String(16), nullable=False),  # service | job | batch | import | api
    sa.Column("source", sa.String(1024)),
    # image keys in the image store, one per page (documents) or one (line, image)
    sa.Column("images", sa.JSON, nullable=False),
    sa.Column("text", sa.Text),  # the text of a text item
    # a line's place on its page: the page's image key and the line's quad there (det export)
    sa.Column("parent_image", sa.String(128)),
    sa.Column("suggestion", sa.JSON, nullable=False),  # what the machine said
    sa.Column("labels", sa.JSON),  # what the reviewer decided (None until saved)
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_until", sa.Float),
    sa.Column("reviewer", sa.String(128)),
    sa.Column("reviewed_at", sa.Float),
    sa.Index("ix_review_items_queue", "status", "created_at"),
    sa.Index("ix_review_items_schema", "status", "schema_name", "created_at"),
    sa.Index("ix_review_items_kind", "status", "kind", "created_at"),
    sa.Index("ix_review_items_dataset", "dataset"),
)

# one row per (item, field, reason) the machine flagged: the queue's field and reason filters
flags = sa.Table(
    "review_flags",
    metadata,
    sa.Column("item_id", sa.String(32), sa.ForeignKey("review_items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("field", sa.String(128), primary_key=True),
    sa.Column("reason", sa.String(128), primary_key=True),
    sa.Index("ix_review_flags_field", "field", "item_id"),
    sa.Index("ix_review_flags_reason", "reason", "item_id"),
)

# every decision, in the same transaction as the item's update: who changed what, and when
events = sa.Table(
    "review_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.String(32), sa.ForeignKey("review_items.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(128)),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("labels", sa.JSON),
    sa.Index("ix_review_events_item", "item_id", "id"),
)
