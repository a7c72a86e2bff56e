"""Crypto: wrapped per-subject data keys.

Revision ID: crypto_0001
Revises: storage_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "crypto_0001"
down_revision = "storage_0001"
branch_labels = ("crypto",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crypto_data_keys",
        sa.Column("subject_type", sa.String(32), primary_key=True),
        sa.Column("subject_id", sa.String(128), primary_key=True),
        sa.Column("master_key_id", sa.String(16), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("destroyed_us", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_crypto_data_keys_master", "crypto_data_keys", ["master_key_id"])


def downgrade() -> None:
    op.drop_table("crypto_data_keys")
