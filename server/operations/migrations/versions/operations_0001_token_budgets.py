"""Operations: the inference pool's shared tokens-per-minute budget table every replica of every service uses.

The table's definition lives with the pool (``inference.budget.token_budget_table``); this revision
creates exactly that shape, so the limit is enforced in the platform database rather than per process.

Revision ID: operations_0001
Revises: storage_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "operations_0001"
down_revision = "storage_0001"
branch_labels = ("operations",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inference_token_budget",
        sa.Column("subject", sa.String(300), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("used", sa.BigInteger, nullable=False),
        sa.Column("token_limit", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("inference_token_budget")
