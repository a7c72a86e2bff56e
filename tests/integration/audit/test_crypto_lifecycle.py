"""Encryption at rest on both backends: sealing, rotation (resumable, audited), shredding, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.audit.log import VerifyProgress
from server.audit.records import AuditEntry, AuditKind
from server.crypto.keyring import DecryptionFailed, Keyring, MasterKeys, SubjectErased
from server.crypto.lifecycle import IDEMPOTENCY_TARGET, erase_subject, purge_expired, rotate_master_key
from server.crypto.subjects import Subject
from server.runtime.errors import FailedPrecondition
from server.storage.idempotency import remember
from tests.integration.storage.stack import Stack, random_key

ALICE = Subject("customer", "cust-alice")
BOB = Subject("customer", "cust-bob")


async def chain_ok(stack: Stack) -> bool:
    events = [e async for e in stack.audit.verify(stack.db)]
    report = events[-1]
    assert not isinstance(report, VerifyProgress)
    return report.ok


async def test_sealed_values_open_only_in_their_context(stack: Stack) -> None:
    async with stack.db.transaction() as conn:
        sealed = await stack.keyring.seal_text(conn, ALICE, "IBAN DE89 3704", context="customers.iban:1")
        assert await stack.keyring.open_text(conn, ALICE, sealed, context="customers.iban:1") == "IBAN DE89 3704"
        with pytest.raises(DecryptionFailed):
            await stack.keyring.open_text(conn, ALICE, sealed, context="customers.iban:2")
        await stack.keyring.seal_text(conn, BOB, "x", context="c")
        with pytest.raises(DecryptionFailed):
            await stack.keyring.open_text(conn, BOB, sealed, context="customers.iban:1")


async def test_rotation_rewraps_resumably_and_changes_no_ciphertext(stack: Stack) -> None:
    subjects = [Subject("customer", f"c{i}") for i in range(7)]
    sealed = {}
    async with stack.db.transaction() as conn:
        for subject in subjects:
            sealed[subject] = await stack.keyring.seal_text(conn, subject, f"secret of {subject.id}", context="t")
        await stack.audit.append_batch(
            conn,
            [
                AuditEntry(
                    kind=AuditKind.DECISION, rpc="r", decision="D", caller="c", subject=s, llm_output=f"out {s.id}"
                )
                for s in subjects
            ],
        )
    async with stack.db.read() as conn:
        before = [tuple(r) for r in await conn.execute(sa.text("SELECT seq, payload, record_hash FROM audit_records"))]

    old = stack.keyring.master_keys.current
    rotating = Keyring(MasterKeys(random_key(), [old]), random_key(), clock=stack.clock)

    async def crash_after_first_batch(done: int, total: int) -> None:
        raise KeyboardInterrupt("power cut")

    with pytest.raises(KeyboardInterrupt):
        await rotate_master_key(
            stack.db, rotating, stack.audit, actor="operator:ops", batch_size=3, progress=crash_after_first_batch
        )
    async with stack.db.read() as conn:
        assert await rotating.pending_rewrap(conn) == 5  # the first batch committed
    report = await rotate_master_key(stack.db, rotating, stack.audit, actor="operator:ops", batch_size=3)
    assert (report.rewrapped, report.batches) == (5, 2)

    # Only the new master key is needed now; the ciphertext and the chain did not change.
    new_only = Keyring(MasterKeys(rotating.master_keys.current), random_key(), clock=stack.clock)
    async with stack.db.read() as conn:
        for subject in subjects:
            assert await new_only.open_text(conn, subject, sealed[subject], context="t") == f"secret of {subject.id}"
        after = [
            tuple(r)
            for r in await conn.execute(
                sa.text("SELECT seq, payload, record_hash FROM audit_records WHERE seq <= :n"), {"n": len(before)}
            )
        ]
        rotations = (
            await conn.execute(
                sa.text("SELECT decision, caller FROM audit_records WHERE rpc = 'keys.rotate' ORDER BY seq")
            )
        ).all()
    assert after == before
    assert [tuple(r) for r in rotations] == [("REWRAPPED", "operator:ops")] * 3 + [("COMPLETED", "operator:ops")]
    assert await chain_ok(stack)
    stale = Keyring(MasterKeys(old), random_key(), clock=stack.clock)
    async with stack.db.read() as conn:
        with pytest.raises(FailedPrecondition) as caught:
            await stale.open_text(conn, subjects[0], sealed[subjects[0]], context="t")
    assert caught.value.reason == "MASTER_KEY_MISSING"


async def test_shredded_subject_is_unreadable_and_the_chain_still_verifies(stack: Stack) -> None:
    async with stack.db.transaction() as conn:
        receipts = await stack.audit.append_batch(
            conn,
            [
                AuditEntry(
                    kind=AuditKind.DECISION, rpc="r", decision="D", caller="c", subject=s, llm_output=f"about {s.id}"
                )
                for s in (ALICE, BOB)
            ],
        )
    assert await erase_subject(stack.db, stack.keyring, stack.audit, ALICE, actor="operator:dpo")
    assert not await erase_subject(stack.db, stack.keyring, stack.audit, ALICE, actor="operator:dpo")
    fresh = Keyring(stack.keyring.master_keys, random_key(), clock=stack.clock)  # no cached keys
    async with stack.db.read() as conn:
        with pytest.raises(SubjectErased):
            await stack.audit.get(conn, receipts[0].record_id, open_payload=True)
        alice = await stack.audit.get(conn, receipts[0].record_id)
        with pytest.raises(SubjectErased):
            await fresh.open(conn, ALICE, alice.payload, context=f"audit.payload:{alice.record_id}")
        bob = await stack.audit.get(conn, receipts[1].record_id, open_payload=True)
        assert bob.opened is not None and bob.opened["llm_output"] == "about cust-bob"
        erasures = (
            await conn.execute(
                sa.text("SELECT decision, subject_id FROM audit_records WHERE rpc = 'keys.erase' ORDER BY seq")
            )
        ).all()
    assert [tuple(r) for r in erasures] == [("ERASED", "cust-alice"), ("NOTHING_TO_ERASE", "cust-alice")]
    assert await chain_ok(stack)
    with pytest.raises(SubjectErased):
        async with stack.db.transaction() as conn:
            await stack.keyring.seal_text(conn, ALICE, "new data", context="t")


async def test_retention_purge_removes_expired_records_and_is_audited(stack: Stack) -> None:
    now = stack.clock.now()
    async with stack.db.transaction() as conn:
        for i, age_days in enumerate((40, 31, 5)):
            created = int((now - timedelta(days=age_days)).timestamp() * 1_000_000)
            await remember(conn, rpc="/x/Y", request_id=f"r{i}", digest="d", response=b"", created_us=created)
    deleted = await purge_expired(
        stack.db,
        stack.audit,
        targets=[IDEMPOTENCY_TARGET],
        retention_days={"idempotency": 30},
        now=now,
        actor="job:retention",
    )
    assert deleted == {"idempotency": 2}
    async with stack.db.read() as conn:
        left = [r[0] for r in await conn.execute(sa.text("SELECT request_id FROM idempotency_records"))]
        purge = (
            await conn.execute(sa.text("SELECT record_id FROM audit_records WHERE kind = 'RETENTION'"))
        ).scalar_one()
        record = await stack.audit.get(conn, purge, open_payload=True)
    assert left == ["r2"]
    assert record.opened is not None and record.opened["details"]["deleted"] == 2
    assert await chain_ok(stack)


async def test_blind_index_finds_equal_values_without_plaintext(stack: Stack) -> None:
    index = stack.keyring.blind_index
    assert index("counterparty_name", "ACME  Trading ") != index("counterparty_name", "ACME Trading Ltd")
    assert index("counterparty_name", "Acme Trading") == index("counterparty_name", " acme trading")
    assert index("counterparty_name", "Acme") != index("customer_name", "Acme")
    other = Keyring(stack.keyring.master_keys, random_key())
    assert other.blind_index("counterparty_name", "Acme") != index("counterparty_name", "Acme")
    assert "acme" not in index("counterparty_name", "Acme")
