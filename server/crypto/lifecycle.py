"""Key lifecycle jobs, each audited: master-key rotation, subject erasure, and the retention purge.

Rotation re-wraps data keys in batches; each batch commits together with its audit record, so a crash
loses at most the batch in flight and a re-run continues where the last committed batch ended (it
selects the keys not yet under the current master key). Values sealed under the data keys, and the
audit chain over them, do not change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa

from server.audit.log import AuditLog
from server.audit.records import AuditEntry, AuditKind
from server.crypto.keyring import Keyring
from server.crypto.subjects import SYSTEM_SUBJECT, Subject
from server.storage.database import Database
from server.storage.tables import idempotency_records

ProgressCallback = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class RotationReport:
    """What a rotation run did."""

    rewrapped: int
    batches: int
    master_key_id: str


async def rotate_master_key(
    db: Database,
    keyring: Keyring,
    audit: AuditLog,
    *,
    actor: str,
    batch_size: int = 500,
    progress: ProgressCallback | None = None,
) -> RotationReport:
    """Re-wrap every data key under the keyring's current master key (resumable, audited per batch).

    Args:
        db: The database.
        keyring: Loaded with the new master key as current and the old one(s) as previous.
        audit: Where each batch is recorded.
        actor: Who runs it (``operator:<name>``), written to the audit records.
        batch_size: Data keys per transaction.
        progress: Awaited with ``(done, total)`` after each committed batch.
    """
    async with db.read() as conn:
        total = await keyring.pending_rewrap(conn)
    done = batches = 0
    while True:
        async with db.transaction() as conn:
            count = await keyring.rewrap_batch(conn, limit=batch_size)
            if count == 0:
                break
            await audit.append(
                conn,
                AuditEntry(
                    kind=AuditKind.KEY_MANAGEMENT,
                    rpc="keys.rotate",
                    decision="REWRAPPED",
                    caller=actor,
                    subject=SYSTEM_SUBJECT,
                    model_id=keyring.master_keys.current_id,
                    details={"rewrapped": count, "batch": batches + 1},
                ),
            )
        done += count
        batches += 1
        if progress is not None:
            await progress(done, max(total, done))
    async with db.transaction() as conn:
        await audit.append(
            conn,
            AuditEntry(
                kind=AuditKind.KEY_MANAGEMENT,
                rpc="keys.rotate",
                decision="COMPLETED",
                caller=actor,
                subject=SYSTEM_SUBJECT,
                model_id=keyring.master_keys.current_id,
                details={"rewrapped": done, "batches": batches},
            ),
        )
    return RotationReport(done, batches, keyring.master_keys.current_id)


async def erase_subject(
    db: Database,
    keyring: Keyring,
    audit: AuditLog,
    subject: Subject,
    *,
    actor: str,
    request_id: str = "",
    reason: str = "",
) -> bool:
    """Crypto-shred ``subject``: destroy its data key and record the erasure, in one transaction.

    Returns:
        True when a live key was destroyed.
    """
    async with db.transaction() as conn:
        destroyed = await keyring.shred(conn, subject)
        await audit.append(
            conn,
            AuditEntry(
                kind=AuditKind.KEY_MANAGEMENT,
                rpc="keys.erase",
                decision="ERASED" if destroyed else "NOTHING_TO_ERASE",
                caller=actor,
                subject=subject,
                request_id=request_id,
            ),
        )
    return destroyed


@dataclass(frozen=True)
class RetentionTarget:
    """A record type the purge job may delete from, by the age in one column.

    Attributes:
        name: The name retention periods are configured under (``database.retention_days``).
        table: The table.
        time_column: Column holding the record's time.
        time_unit: ``"us"`` for integer microseconds since the epoch, ``"datetime"`` for a timestamp column.
    """

    name: str
    table: sa.Table
    time_column: str
    time_unit: Literal["us", "datetime"] = "us"


IDEMPOTENCY_TARGET = RetentionTarget("idempotency", idempotency_records, "created_us")


async def purge_expired(
    db: Database,
    audit: AuditLog,
    *,
    targets: Sequence[RetentionTarget],
    retention_days: Mapping[str, int],
    now: datetime,
    actor: str,
) -> dict[str, int]:
    """Delete records older than their retention period, one audited transaction per record type.

    Record types without a configured period are kept. Audit records are never purged here: the trail
    is kept whole, and erasure of a person works by crypto-shredding instead.

    Returns:
        Rows deleted per record type.
    """
    deleted: dict[str, int] = {}
    for target in targets:
        days = retention_days.get(target.name)
        if days is None:
            continue
        cutoff_time = now - timedelta(days=days)
        cutoff: int | datetime = int(cutoff_time.timestamp() * 1_000_000) if target.time_unit == "us" else cutoff_time
        async with db.transaction() as conn:
            result = await conn.execute(target.table.delete().where(target.table.c[target.time_column] < cutoff))
            count = int(result.rowcount or 0)
            await audit.append(
                conn,
                AuditEntry(
                    kind=AuditKind.RETENTION,
                    rpc="retention.purge",
                    decision="PURGED",
                    caller=actor,
                    rule_set_version=f"{target.name}:{days}d",
                    details={"record_type": target.name, "deleted": count, "cutoff": cutoff_time.isoformat()},
                ),
            )
        deleted[target.name] = count
    return deleted
