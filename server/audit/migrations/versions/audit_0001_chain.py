"""Audit: hash-chained records, the chain head, and four-eyes configuration changes.

Revision ID: audit_0001
Revises: storage_0001
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "audit_0001"
down_revision = "storage_0001"
branch_labels = ("audit",)
depends_on = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("record_id", sa.String(40), nullable=False, unique=True),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(300), nullable=False),
        sa.Column("rpc", sa.String(200), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("input_digest", sa.String(128), nullable=False),
        sa.Column("engine", sa.String(100), nullable=False),
        sa.Column("engine_version", sa.String(100), nullable=False),
        sa.Column("rule_set_version", sa.String(100), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("prompt_template_id", sa.String(200), nullable=False),
        sa.Column("prompt_template_digest", sa.String(128), nullable=False),
        sa.Column("validation_outcome", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(128), nullable=False),
        sa.Column("trace_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_time", "audit_records", ["time_us"])
    op.create_index("ix_audit_subject", "audit_records", ["subject_type", "subject_id"])
    op.create_index("ix_audit_rpc", "audit_records", ["rpc"])
    op.create_index("ix_audit_caller", "audit_records", ["caller"])
    op.create_index("ix_audit_decision", "audit_records", ["decision"])
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("chain_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )
    # One row, forever: appends lock and advance it, which serialises them across processes.
    op.bulk_insert(head, [{"id": 1, "chain_id": secrets.token_hex(16), "seq": 0, "head_hash": GENESIS_HASH}])
    op.create_table(
        "audit_config_changes",
        sa.Column("change_id", sa.String(40), primary_key=True),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("base_version", sa.Integer, nullable=False),
        sa.Column("value_json", sa.Text, nullable=False),
        sa.Column("value_digest", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(300), nullable=False),
        sa.Column("proposed_us", sa.BigInteger, nullable=False),
        sa.Column("decided_by", sa.String(300), nullable=True),
        sa.Column("decided_us", sa.BigInteger, nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
    )
    op.create_index("ix_audit_config_target", "audit_config_changes", ["target", "status"])
    op.create_table(
        "audit_config_effective",
        sa.Column("target", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("change_id", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_config_effective", "audit_config_changes", "audit_chain_head", "audit_records"):
        op.drop_table(table)
