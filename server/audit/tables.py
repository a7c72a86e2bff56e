"""Tables of the audit branch (mirror the ``audit_*`` migrations)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

audit_records = sa.Table(
    "audit_records",
    metadata,
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

chain_head = sa.Table(
    "audit_chain_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("chain_id", sa.String(64), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("head_hash", sa.String(64), nullable=False),
)

config_changes = sa.Table(
    "audit_config_changes",
    metadata,
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

config_effective = sa.Table(
    "audit_config_effective",
    metadata,
    sa.Column("target", sa.String(200), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("change_id", sa.String(40), nullable=False),
)
