"""The bulk storage paths the stream uses: ``Keyring.seal_many`` / ``data_keys_for`` and
``AuditLog.append_bulk``, against the session's real SQLite database, keyring and audit chain."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from server.audit.log import AuditLog
from server.audit.records import STORED_FIELDS, AuditEntry, AuditKind
from server.audit.tables import audit_records
from server.crypto.keyring import Keyring, SubjectErased
from server.crypto.subjects import Subject
from server.crypto.tables import data_keys
from server.risk import repository
from tests.integration.risk.conftest import RiskStack


def _applicant() -> Subject:
    return Subject("applicant", f"bulk-{uuid.uuid4().hex[:12]}")


async def test_seal_many_opens_with_open_and_keeps_one_key_per_subject(risk_stack: RiskStack) -> None:
    keyring: Keyring = risk_stack.ctx.require("keyring")
    database = risk_stack.ctx.require("database")
    known, fresh_a, fresh_b = _applicant(), _applicant(), _applicant()
    async with database.transaction() as conn:
        earlier = await keyring.seal(conn, known, b"before", context="ctx:0")  # an existing key
    keyring.forget_cached()  # the bulk path must read the stored key, not a cached one
    items = [
        (known, b"one", "ctx:1"),
        (fresh_a, b"two", "ctx:2"),
        (fresh_b, b"three", "ctx:3"),
        (fresh_a, b"4", "ctx:4"),
    ]
    async with database.transaction() as conn:
        sealed = await keyring.seal_many(conn, items)
    keyring.forget_cached()
    async with database.read() as conn:
        opened = [await keyring.open(conn, s, blob, context=c) for (s, _p, c), blob in zip(items, sealed, strict=True)]
        assert await keyring.open(conn, known, earlier, context="ctx:0") == b"before"
        stored = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(data_keys)
                .where(data_keys.c.subject_id.in_([known.id, fresh_a.id, fresh_b.id]))
            )
        ).scalar_one()
    assert opened == [b"one", b"two", b"three", b"4"]
    assert stored == 3, "one data key per subject, the existing one reused"
    assert len(set(sealed)) == 4, "every value has its own nonce"


async def test_a_key_created_concurrently_is_used_instead_of_ours(risk_stack: RiskStack) -> None:
    keyring: Keyring = risk_stack.ctx.require("keyring")
    other = Keyring(keyring.master_keys, b"\x00" * 32)  # another process: same master key, its own cache
    database = risk_stack.ctx.require("database")
    subject = _applicant()
    async with database.transaction() as conn:
        theirs = await other.seal(conn, subject, b"theirs", context="c")
    async with database.transaction() as conn:
        ours = (await keyring.seal_many(conn, [(subject, b"ours", "c")]))[0]
    async with database.read() as conn:
        assert await other.open(conn, subject, ours, context="c") == b"ours"
        assert await keyring.open(conn, subject, theirs, context="c") == b"theirs"


async def test_an_erased_applicant_stays_erased_and_others_stay_readable(risk_stack: RiskStack) -> None:
    keyring: Keyring = risk_stack.ctx.require("keyring")
    database = risk_stack.ctx.require("database")
    erased, kept = _applicant(), _applicant()
    async with database.transaction() as conn:
        sealed = await keyring.seal_many(conn, [(erased, b"gone", "c"), (kept, b"kept", "c")])
        assert await keyring.shred(conn, erased)
    keyring.forget_cached()
    async with database.transaction() as conn:
        with pytest.raises(SubjectErased):
            await keyring.seal_many(conn, [(kept, b"x", "c"), (erased, b"new", "c")])
    async with database.read() as conn:
        with pytest.raises(SubjectErased):
            await keyring.open(conn, erased, sealed[0], context="c")
        assert await keyring.open(conn, kept, sealed[1], context="c") == b"kept"


async def test_append_bulk_writes_what_append_batch_writes_and_the_chain_verifies(risk_stack: RiskStack) -> None:
    audit: AuditLog = risk_stack.ctx.require("audit")
    database = risk_stack.ctx.require("database")
    subject = _applicant()

    def entries(tag: str) -> list[AuditEntry]:
        return [
            AuditEntry(
                kind=AuditKind.DECISION,
                rpc="/fintech.risk.v1.RiskService/AssessLoanApplications",
                decision="APPROVE",
                subject=subject,
                request_id=f"{tag}-{i}",
                caller="spiffe://test/bulk",
                input_digest="0" * 64,
                engine="risk.scorecard",
                details={"assessment_id": f"a-{i}"} if i % 2 else {},
            )
            for i in range(4)
        ]

    async with database.transaction() as conn:
        batch = await audit.append_batch(conn, entries("batch"))
    async with database.transaction() as conn:
        bulk = await audit.append_bulk(conn, entries("bulk"))
    assert [r.seq for r in bulk] == list(range(batch[-1].seq + 1, batch[-1].seq + 5))
    async with database.read() as conn:
        rows = {
            row.request_id: row
            for row in await conn.execute(
                sa.select(*[audit_records.c[n] for n in STORED_FIELDS]).where(audit_records.c.subject_id == subject.id)
            )
        }
        for i in range(4):
            a, b = rows[f"batch-{i}"]._mapping, rows[f"bulk-{i}"]._mapping
            different = {n for n in STORED_FIELDS if a[n] != b[n]}
            # trace_id: each transaction here is its own trace (no RPC around it).
            expected = {"seq", "record_id", "time_us", "prev_hash", "record_hash", "request_id", "trace_id"}
            if i % 2:
                expected.add("payload")  # sealed with a fresh nonce under another record id
                opened = await audit.open_payload(conn, await audit.get(conn, b["record_id"]))
                assert opened["details"] == {"assessment_id": f"a-{i}"}
            else:
                assert a["payload"] == b["payload"] == b""
            assert different <= expected, sorted(different - expected)
    report = None
    async for step in audit.verify(database, start_seq=batch[0].seq):
        report = step
    assert report is not None and getattr(report, "ok", False), report


async def test_an_applicants_stored_assessment_is_erased_with_their_key(risk_stack: RiskStack) -> None:
    keyring: Keyring = risk_stack.ctx.require("keyring")
    database = risk_stack.ctx.require("database")
    from fintech.risk.v1 import risk_service_pb2 as pb

    applicants = [f"bulk-{uuid.uuid4().hex[:12]}" for _ in range(2)]
    rows = [
        repository.NewAssessment(
            assessment_id=uuid.uuid4().hex,
            request_id=str(uuid.uuid4()),
            input_digest="0" * 64,
            applicant_id=applicant,
            explanation_source="NONE",
            created_us=1,
            message=pb.LoanAssessment(application_id=f"app-{applicant}", score=500),
        )
        for applicant in applicants
    ]
    async with database.transaction() as conn:
        await repository.insert_assessments(conn, keyring, rows)
        await keyring.shred(conn, repository.applicant_subject(applicants[0]))
    keyring.forget_cached()
    async with database.read() as conn:
        with pytest.raises(SubjectErased):
            await repository.find_by_request_ids(conn, keyring, [rows[0].request_id])
        kept = await repository.find_by_request_ids(conn, keyring, [rows[1].request_id])
    assert kept[rows[1].request_id].message.application_id == f"app-{applicants[1]}"
