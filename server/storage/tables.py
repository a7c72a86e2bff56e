"""Table definitions of the storage base (mirrors ``storage_0001``), for queries in code."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

idempotency_records = sa.Table(
    "idempotency_records",
    metadata,
    sa.Column("rpc", sa.String(200), primary_key=True),
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("payload_digest", sa.String(64), nullable=False),
    sa.Column("response", sa.LargeBinary, nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
)
