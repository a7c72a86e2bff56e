"""Table definitions of the AML store (mirror ``aml_0001`` and ``aml_0002``), for queries in code.

Transactions are the shared history every replica screens against; the screening state is the
engine's blob with an optimistic version; alerts carry their evidence and status history; cases
group alerts and keep the facts of the last network investigation (the SAR is drafted from them).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

transactions = sa.Table(
    "aml_transactions",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
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

screening_state = sa.Table(
    "aml_screening_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("rule_set_version", sa.String(100), nullable=False),
    sa.Column("blob", sa.LargeBinary, nullable=False),
    sa.Column("covered_seq", sa.BigInteger, nullable=False),
    sa.Column("updated_us", sa.BigInteger, nullable=False),
)

# The parts of checkpoints written off the stream's commit path (``aml_0002``): ``generation`` names one
# checkpoint, ``version`` is the state version it is written for (older ones are garbage).
state_chunks = sa.Table(
    "aml_state_chunks",
    metadata,
    sa.Column("generation", sa.String(64), primary_key=True),
    sa.Column("part", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

alerts = sa.Table(
    "aml_alerts",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
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

alert_history = sa.Table(
    "aml_alert_history",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(64), nullable=False),
    sa.Column("from_status", sa.SmallInteger, nullable=False),
    sa.Column("to_status", sa.SmallInteger, nullable=False),
    sa.Column("reason_sealed", sa.LargeBinary, nullable=False),
    sa.Column("changed_by", sa.String(300), nullable=False),
    sa.Column("change_us", sa.BigInteger, nullable=False),
)

cases = sa.Table(
    "aml_cases",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
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
