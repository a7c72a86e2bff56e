"""Compliance: stored regulation analyses and contract reviews (document text sealed by the keyring).

Revision ID: compliance_0001
Revises: storage_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "compliance_0001"
down_revision = "storage_0001"
branch_labels = ("compliance",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_analyses",
        sa.Column("analysis_id", sa.String(64), primary_key=True),
        sa.Column("regulation_id", sa.String(128), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("caller", sa.String(300), nullable=False),
        sa.Column("word_count", sa.Integer, nullable=False),
        sa.Column("summary_outcome", sa.String(32), nullable=False),
        # Sealed under the regulation subject: the document text and the serialized analysis.
        sa.Column("document_sealed", sa.LargeBinary, nullable=False),
        sa.Column("analysis_sealed", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_compliance_analyses_regulation", "compliance_analyses", ["regulation_id", "created_us"])
    op.create_table(
        "compliance_reviews",
        sa.Column("review_id", sa.String(64), primary_key=True),
        sa.Column("contract_id", sa.String(128), nullable=False),
        sa.Column("playbook_id", sa.String(64), nullable=False),
        sa.Column("playbook_version", sa.String(64), nullable=False),
        sa.Column("contract_type", sa.String(32), nullable=False),
        # 0 without findings, else the highest Severity (1 low .. 4 critical): the min_severity filter.
        sa.Column("max_severity", sa.Integer, nullable=False),
        sa.Column("finding_count", sa.Integer, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("caller", sa.String(300), nullable=False),
        sa.Column("audit_record_id", sa.String(40), nullable=False),
        # Sealed under the contract subject: the contract text and the serialized ContractReview.
        sa.Column("document_sealed", sa.LargeBinary, nullable=False),
        sa.Column("review_sealed", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_compliance_reviews_order", "compliance_reviews", ["created_us", "review_id"])
    op.create_index("ix_compliance_reviews_playbook", "compliance_reviews", ["playbook_id", "created_us"])


def downgrade() -> None:
    op.drop_index("ix_compliance_reviews_playbook", "compliance_reviews")
    op.drop_index("ix_compliance_reviews_order", "compliance_reviews")
    op.drop_table("compliance_reviews")
    op.drop_index("ix_compliance_analyses_regulation", "compliance_analyses")
    op.drop_table("compliance_analyses")
