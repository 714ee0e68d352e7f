"""Alembic environment: luodi hands in an open connection (``config.attributes["connection"]``).

Run through ``luodi review migrate`` or any store open.
"""

from __future__ import annotations

from alembic import context

from luodi.review._tables import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - luodi always passes one
    raise RuntimeError("run review migrations through luodi (luodi review migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
