"""AML: the screening-state checkpoint in parts, written off the stream's commit path.

A checkpoint (a ~16 MB blob) is written part by part, each part in its own short transaction, then
published by a small update of ``aml_screening_state`` (its ``blob`` becomes a manifest naming the
parts). See ``server.aml.monitor``.

Revision ID: aml_0002
Revises: aml_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "aml_0002"
down_revision = "aml_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aml_state_chunks",
        sa.Column("generation", sa.String(64), primary_key=True),
        sa.Column("part", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_aml_state_chunks_version", "aml_state_chunks", ["version"])


def downgrade() -> None:
    op.drop_index("ix_aml_state_chunks_version", "aml_state_chunks")
    op.drop_table("aml_state_chunks")
