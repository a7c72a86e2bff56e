"""Tables of the crypto branch (mirror ``crypto_0001``)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

data_keys = sa.Table(
    "crypto_data_keys",
    metadata,
    sa.Column("subject_type", sa.String(32), primary_key=True),
    sa.Column("subject_id", sa.String(128), primary_key=True),
    # Fingerprint of the master key that wrapped this data key; rotation re-wraps every other one.
    sa.Column("master_key_id", sa.String(16), nullable=False),
    # nonce || AES-256-GCM(master, data key); empty once the subject is erased (crypto-shredding).
    sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("destroyed_us", sa.BigInteger, nullable=True),
)
