"""Alembic environment: runs on the connection :func:`server.storage.migrations.upgrade` passes in."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations with `fintech db upgrade` (server.storage.migrations.upgrade), not the alembic CLI"
    )
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
