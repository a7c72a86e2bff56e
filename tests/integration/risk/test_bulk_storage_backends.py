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


async def test_micro_batch_rows_on_each_backend(stack: Stack) -> None:  # noqa: F811
    from fintech.risk.v1 import risk_service_pb2 as pb

    from server.risk import repository

    tag = uuid.uuid4().hex[:10]
    messages = [pb.LoanAssessment(application_id=f"app-{tag}-{i}", score=500 + i) for i in range(3)]
    rows = [
        (
            f"as-{tag}-{i}",
            str(uuid.uuid4()),
            "0" * 64,
            f"app-{tag}-{i}",
            f"cust-{tag}-{i}",
            "REFER",
            "MEDIUM",
            500 + i,
            "sha256:model",
            "policy-1",
            "NONE",
            None,
            1_764_000_000_000_000,
        )
        for i in range(3)
    ]
    async with stack.db.transaction() as conn:
        sealed = await repository.insert_sealed_rows(
            conn, stack.keyring, rows, [m.SerializeToString(deterministic=True) for m in messages]
        )
    assert len(sealed) == 3 and all(blob.startswith(b"\x01") for blob in sealed)
    stack.keyring.forget_cached()
    wanted = [row[1] for row in rows] + [str(uuid.uuid4())]
    async with stack.db.read() as conn:
        known = await repository.stored_request_ids(conn, wanted)
        found = await repository.find_by_request_ids(conn, stack.keyring, known)
    assert sorted(known) == sorted(row[1] for row in rows)
    assert [found[row[1]].message for row in rows] == messages
