"""Risk: stored assessments and the manual-review queue of REFER decisions.

Revision ID: risk_0001
Revises: storage_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "risk_0001"
down_revision = "storage_0001"
branch_labels = ("risk",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_assessments",
        sa.Column("assessment_id", sa.String(40), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("input_digest", sa.String(64), nullable=False),
        sa.Column("application_id", sa.String(128), nullable=False),
        sa.Column("applicant_id", sa.String(128), nullable=False),
        sa.Column("recommendation", sa.String(16), nullable=False),
        sa.Column("risk_level", sa.String(16), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("rule_set_version", sa.String(100), nullable=False),
        sa.Column("explanation_source", sa.String(16), nullable=False),
        sa.Column("review_id", sa.String(40), nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("request_id", name="uq_risk_assessments_request_id"),
    )
    op.create_index("ix_risk_assessments_created", "risk_assessments", ["created_us"])
    op.create_index("ix_risk_assessments_application", "risk_assessments", ["application_id"])
    op.create_table(
        "risk_reviews",
        sa.Column("review_id", sa.String(40), primary_key=True),
        sa.Column("assessment_id", sa.String(40), nullable=False),
        sa.Column("application_id", sa.String(128), nullable=False),
        sa.Column("applicant_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("final_decision", sa.String(16), nullable=True),
        sa.Column("decided_by", sa.String(300), nullable=True),
        sa.Column("decided_us", sa.BigInteger, nullable=True),
        sa.Column("justification", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_risk_reviews_queue", "risk_reviews", ["status", "created_us", "review_id"])
    op.create_index("ix_risk_reviews_order", "risk_reviews", ["created_us", "review_id"])


def downgrade() -> None:
    op.drop_table("risk_reviews")
    op.drop_table("risk_assessments")
