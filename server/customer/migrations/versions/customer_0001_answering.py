"""Customer service: conversations, turns, escalations, feedback, stored results, knowledge-base articles.

Revision ID: customer_0001
Revises: storage_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "customer_0001"
down_revision = "storage_0001"
branch_labels = ("customer",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_conversations",
        sa.Column("conversation_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_customer_conversations_customer_id", "customer_conversations", ["customer_id"])
    op.create_table(
        "customer_turns",
        sa.Column("turn_id", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("customer_conversations.conversation_id"),
                  nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("speaker", sa.String(16), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("answer_source", sa.String(16), nullable=False),
        sa.Column("dissatisfied", sa.Boolean, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_customer_turns_seq"),
    )
    op.create_table(
        "customer_escalations",
        sa.Column("escalation_id", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("customer_conversations.conversation_id"),
                  nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("resolved_us", sa.BigInteger, nullable=True),
        sa.Column("resolved_by", sa.String(300), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_customer_escalations_queue", "customer_escalations", ["status", "created_us"])
    op.create_table(
        "customer_feedback",
        sa.Column("feedback_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("turn_id", sa.String(64), nullable=False),
        sa.Column("rating", sa.String(16), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("comment", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_customer_feedback_conversation_id", "customer_feedback", ["conversation_id"])
    op.create_table(
        "customer_results",
        sa.Column("customer_id", sa.String(128), primary_key=True),
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "customer_kb_documents",
        sa.Column("document_id", sa.String(128), primary_key=True),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("intents", sa.String(1400), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("customer_kb_documents", "customer_results", "customer_feedback", "customer_escalations",
                  "customer_turns", "customer_conversations"):
        op.drop_table(table)
