"""The bulk paths the stream uses (``Keyring.seal_many``, ``AuditLog.append_bulk``) write driver-level SQL
(``executemany`` with the driver's placeholders): checked on both backends, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.audit.records import AuditEntry, AuditKind
from server.audit.tables import audit_records
from server.crypto.subjects import Subject
from tests.integration.storage.conftest import backend, postgres, stack  # noqa: F401
from tests.integration.storage.stack import Stack


async def test_seal_many_and_append_bulk_on_each_backend(stack: Stack) -> None:  # noqa: F811
    subjects = [Subject("applicant", f"bulk-{uuid.uuid4().hex[:10]}") for _ in range(3)]
    items = [(subject, f"value {i}".encode(), f"ctx:{i}") for i, subject in enumerate(subjects + subjects[:1])]
    entries = [
        AuditEntry(
            kind=AuditKind.DECISION,
            rpc="/fintech.risk.v1.RiskService/AssessLoanApplications",
            decision="DECLINE",
            subject=subject,
            request_id=f"req-{i}",
            caller="spiffe://test/bulk",
            details={"n": i},
        )
        for i, subject in enumerate(subjects)
    ]
    async with stack.db.transaction() as conn:
        sealed = await stack.keyring.seal_many(conn, items)
        receipts = await stack.audit.append_bulk(conn, entries)
    stack.keyring.forget_cached()
    async with stack.db.read() as conn:
        opened = [
            await stack.keyring.open(conn, s, blob, context=c) for (s, _p, c), blob in zip(items, sealed, strict=True)
        ]
        stored = (
            await conn.execute(
                sa.select(sa.func.count()).where(audit_records.c.subject_id.in_([s.id for s in subjects]))
            )
        ).scalar_one()
        payload = await stack.audit.open_payload(conn, await stack.audit.get(conn, receipts[1].record_id))
    assert opened == [p for _s, p, _c in items]
    assert stored == 3 and payload["details"] == {"n": 1}
    report = None
    async for step in stack.audit.verify(stack.db):
        report = step
    assert report is not None and getattr(report, "ok", False), report
