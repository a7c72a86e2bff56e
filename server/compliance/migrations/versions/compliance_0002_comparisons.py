"""Compliance: stored version comparisons (sealed); the analyses' audit record id and list order.

Revision ID: compliance_0002
Revises: compliance_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "compliance_0002"
down_revision = "compliance_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_comparisons",
        sa.Column("comparison_id", sa.String(64), primary_key=True),
        # Empty when the caller named no regulation.
        sa.Column("regulation_id", sa.String(128), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("caller", sa.String(300), nullable=False),
        sa.Column("audit_record_id", sa.String(40), nullable=False),
        # Sealed under the regulation subject: the serialized VersionComparison (both versions' clauses).
        sa.Column("comparison_sealed", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_compliance_comparisons_order", "compliance_comparisons", ["created_us", "comparison_id"])
    op.create_index("ix_compliance_comparisons_regulation", "compliance_comparisons", ["regulation_id", "created_us"])
    # GetRegulationAnalysis reports the analysis's audit record (linked after the append, as for reviews).
    with op.batch_alter_table("compliance_analyses") as batch:
        batch.add_column(sa.Column("audit_record_id", sa.String(40), nullable=False, server_default=""))
    # ListRegulationAnalyses pages newest first over all regulations.
    op.create_index("ix_compliance_analyses_order", "compliance_analyses", ["created_us", "analysis_id"])


def downgrade() -> None:
    op.drop_index("ix_compliance_analyses_order", "compliance_analyses")
    with op.batch_alter_table("compliance_analyses") as batch:
        batch.drop_column("audit_record_id")
    op.drop_index("ix_compliance_comparisons_regulation", "compliance_comparisons")
    op.drop_index("ix_compliance_comparisons_order", "compliance_comparisons")
    op.drop_table("compliance_comparisons")
