"""AML: transaction history, screening state, alerts with history, cases.

Revision ID: aml_0001
Revises: storage_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "aml_0001"
down_revision = "storage_0001"
branch_labels = ("aml",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "aml_transactions",
        sa.Column("seq", _ID, primary_key=True, autoincrement=True),
        sa.Column("transaction_id", sa.String(128), nullable=False, unique=True),
        sa.Column("source_account_id", sa.String(128), nullable=False),
        sa.Column("target_account_id", sa.String(128), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("execute_time_us", sa.BigInteger, nullable=False),
        sa.Column("channel", sa.SmallInteger, nullable=False),
        sa.Column("origin_country", sa.String(2), nullable=False),
        sa.Column("counterparty_country", sa.String(2), nullable=False),
        sa.Column("counterparty_name_sealed", sa.LargeBinary, nullable=True),
        sa.Column("decision", sa.SmallInteger, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("rule_set_version", sa.String(100), nullable=False),
        sa.Column("stored_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_aml_tx_source_time", "aml_transactions", ["source_account_id", "seq"])
    op.create_index("ix_aml_tx_target_time", "aml_transactions", ["target_account_id", "seq"])
    op.create_table(
        "aml_screening_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("rule_set_version", sa.String(100), nullable=False),
        sa.Column("blob", sa.LargeBinary, nullable=False),
        sa.Column("covered_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "aml_alerts",
        sa.Column("seq", _ID, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(64), nullable=False, unique=True),
        sa.Column("alert_key", sa.String(200), nullable=False, unique=True),
        sa.Column("account_id", sa.String(128), nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("rules", sa.String(1000), nullable=False),
        sa.Column("hits_json", sa.Text, nullable=False),
        sa.Column("transaction_ids_json", sa.Text, nullable=False),
        sa.Column("first_time_us", sa.BigInteger, nullable=False),
        sa.Column("last_time_us", sa.BigInteger, nullable=False),
        sa.Column("rule_set_version", sa.String(100), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=True),
        sa.Column("create_us", sa.BigInteger, nullable=False),
        sa.Column("update_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_aml_alerts_account", "aml_alerts", ["account_id"])
    op.create_index("ix_aml_alerts_status", "aml_alerts", ["status", "seq"])
    op.create_table(
        "aml_alert_history",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("from_status", sa.SmallInteger, nullable=False),
        sa.Column("to_status", sa.SmallInteger, nullable=False),
        sa.Column("reason_sealed", sa.LargeBinary, nullable=False),
        sa.Column("changed_by", sa.String(300), nullable=False),
        sa.Column("change_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_aml_alert_history_alert", "aml_alert_history", ["alert_id", "id"])
    op.create_table(
        "aml_cases",
        sa.Column("seq", _ID, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("account_ids_json", sa.Text, nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("facts_json", sa.Text, nullable=False),
        sa.Column("create_us", sa.BigInteger, nullable=False),
        sa.Column("update_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_aml_alerts_case", "aml_alerts", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_aml_alerts_case", "aml_alerts")
    op.drop_table("aml_cases")
    op.drop_index("ix_aml_alert_history_alert", "aml_alert_history")
    op.drop_table("aml_alert_history")
    op.drop_index("ix_aml_alerts_status", "aml_alerts")
    op.drop_index("ix_aml_alerts_account", "aml_alerts")
    op.drop_table("aml_alerts")
    op.drop_table("aml_screening_state")
    op.drop_index("ix_aml_tx_target_time", "aml_transactions")
    op.drop_index("ix_aml_tx_source_time", "aml_transactions")
    op.drop_table("aml_transactions")
