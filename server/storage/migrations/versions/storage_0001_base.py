"""Storage base: the idempotency records every mutating RPC shares.

Revision ID: storage_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "storage_0001"
down_revision = None
branch_labels = ("storage",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("rpc", sa.String(200), primary_key=True),
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("payload_digest", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_idempotency_created", "idempotency_records", ["created_us"])


def downgrade() -> None:
    op.drop_table("idempotency_records")
