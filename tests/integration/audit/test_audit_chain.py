"""The hash chain on both backends: appends, tampering made directly in the database, checkpoints."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from server.audit.chain import ChainProblem, VerifyReport
from server.audit.checkpointer import Checkpointer
from server.audit.checkpoints import read_checkpoints
from server.audit.log import AuditFilter, VerifyProgress
from server.audit.records import HASHED_FIELDS, AuditEntry, AuditKind, ValidationOutcome, record_hash
from server.crypto.subjects import Subject
from server.runtime.errors import InvalidArgument
from server.runtime.identity import Caller, reset_caller, set_caller
from tests.integration.storage.stack import Stack, signing_key


def entry(i: int, **overrides: Any) -> AuditEntry:
    fields: dict[str, Any] = {
        "kind": AuditKind.DECISION,
        "rpc": "/fintech.risk.v1.RiskService/AssessLoanApplication",
        "decision": "APPROVE" if i % 2 else "DECLINE",
        "subject": Subject("applicant", f"app-{i}"),
        "request_id": f"req-{i}",
        "caller": "spiffe://fintech.local/core-banking",
        "input_digest": f"{i:064x}",
        "engine": "risk.scorecard",
        "engine_version": "1.0",
        "rule_set_version": "rs-3",
        "model_id": "sha256:abc",
        "prompt_template_id": "explain@2",
        "prompt_template_digest": "d" * 64,
        "validation_outcome": ValidationOutcome.PASSED,
        "trace_id": f"{i:032x}",
        "llm_output": f"explanation {i}",
        "inputs": {"income": 1000 + i},
    }
    fields.update(overrides)
    return AuditEntry(**fields)


async def fill(stack: Stack, n: int = 20, batch: int = 5) -> None:
    for start in range(0, n, batch):
        async with stack.db.transaction() as conn:
            await stack.audit.append_batch(conn, [entry(i) for i in range(start, min(n, start + batch))])


async def verify(stack: Stack, **kwargs: Any) -> VerifyReport:
    report = None
    async for event in stack.audit.verify(stack.db, batch_size=7, **kwargs):
        if not isinstance(event, VerifyProgress):
            report = event
    assert report is not None
    return report


async def sql(stack: Stack, statement: str, **params: Any) -> None:
    """Tamper with the database directly, bypassing the audit log."""
    async with stack.db.transaction() as conn:
        await conn.execute(sa.text(statement), params)


async def rows(stack: Stack) -> list[dict[str, Any]]:
    async with stack.db.read() as conn:
        result = await conn.execute(sa.text("SELECT * FROM audit_records ORDER BY seq"))
        return [dict(r._mapping) for r in result]


async def record_id(stack: Stack, seq: int) -> str:
    return next(r["record_id"] for r in await rows(stack) if r["seq"] == seq)


async def test_appended_records_chain_and_verify(stack: Stack) -> None:
    await fill(stack)
    report = await verify(stack)
    assert report.ok and report.checked == 20 and report.last_seq == 20
    stored = await rows(stack)
    assert [r["seq"] for r in stored] == list(range(1, 21))
    assert all(stored[i]["prev_hash"] == stored[i - 1]["record_hash"] for i in range(1, 20))
    async with stack.db.read() as conn:
        head = await stack.audit.head(conn)
        record = await stack.audit.get(conn, stored[3]["record_id"], open_payload=True)
    assert head.seq == 20 and head.head_hash == stored[-1]["record_hash"]
    assert record.opened == {"llm_output": "explanation 3", "inputs": {"income": 1003}, "details": {}}
    assert record.engine == "risk.scorecard" and record.validation_outcome == "PASSED"


async def test_rolled_back_transaction_leaves_no_record(stack: Stack) -> None:
    await fill(stack, 3)
    with pytest.raises(RuntimeError):
        async with stack.db.transaction() as conn:
            await stack.audit.append(conn, entry(99))
            raise RuntimeError("decision failed")
    assert len(await rows(stack)) == 3
    assert (await verify(stack)).ok


async def test_caller_defaults_to_the_rpc_caller_and_is_required(stack: Stack) -> None:
    token = set_caller(
        Caller(
            peer="spiffe://fintech.local/console",
            peer_role="console",
            role="auditor",
            principal="staff:s-1",
            staff_id="s-1",
            forwarded_by="console",
        )
    )
    try:
        async with stack.db.transaction() as conn:
            receipt = await stack.audit.append(conn, entry(1, caller=""))
    finally:
        reset_caller(token)
    async with stack.db.read() as conn:
        assert (await stack.audit.get(conn, receipt.record_id)).caller == "staff:s-1 via spiffe://fintech.local/console"
    with pytest.raises(InvalidArgument) as caught:
        async with stack.db.transaction() as conn:
            await stack.audit.append(conn, entry(2, caller=""))
    assert caught.value.violations[0].field == "caller"


async def test_list_filters(stack: Stack) -> None:
    await fill(stack, 10)
    async with stack.db.read() as conn:
        approvals = await stack.audit.list_records(conn, AuditFilter(decision="APPROVE"), limit=100)
        one = await stack.audit.list_records(conn, AuditFilter(subject_type="applicant", subject_id="app-4"), limit=100)
        page = await stack.audit.list_records(conn, AuditFilter(), limit=3, after_seq=5)
    assert [r.seq for r in approvals] == [2, 4, 6, 8, 10]
    assert [r.subject_id for r in one] == ["app-4"]
    assert [r.seq for r in page] == [6, 7, 8]


async def test_edited_record_is_named(stack: Stack) -> None:
    await fill(stack)
    await sql(stack, "UPDATE audit_records SET decision = 'APPROVE' WHERE seq = 7")
    report = await verify(stack)
    assert not report.ok
    assert (report.problem, report.first_bad_seq) == (ChainProblem.HASH_MISMATCH, 7)
    assert report.first_bad_record_id == await record_id(stack, 7)


async def test_edited_payload_ciphertext_is_named(stack: Stack) -> None:
    await fill(stack)
    stored = await rows(stack)
    payload = bytearray(stored[11]["payload"])
    payload[-1] ^= 1
    await sql(stack, "UPDATE audit_records SET payload = :p WHERE seq = 12", p=bytes(payload))
    report = await verify(stack)
    assert (report.problem, report.first_bad_seq) == (ChainProblem.HASH_MISMATCH, 12)


async def test_deleted_record_is_named(stack: Stack) -> None:
    await fill(stack)
    await sql(stack, "DELETE FROM audit_records WHERE seq = 7")
    report = await verify(stack)
    assert (report.problem, report.first_bad_seq) == (ChainProblem.SEQUENCE_GAP, 7)


async def test_deleted_and_renumbered_record_is_named(stack: Stack) -> None:
    await fill(stack)
    await sql(stack, "DELETE FROM audit_records WHERE seq = 7")
    await sql(stack, "UPDATE audit_records SET seq = -(seq - 1) WHERE seq > 7")
    await sql(stack, "UPDATE audit_records SET seq = -seq WHERE seq < 0")
    report = await verify(stack)
    assert (report.problem, report.first_bad_seq) == (ChainProblem.LINK_BROKEN, 7)


async def test_inserted_record_is_named(stack: Stack) -> None:
    await fill(stack)
    stored = await rows(stack)
    await sql(stack, "UPDATE audit_records SET seq = -(seq + 1) WHERE seq >= 7")
    await sql(stack, "UPDATE audit_records SET seq = -seq WHERE seq < 0")
    forged = dict(stored[5], seq=7, record_id="forged", decision="APPROVE", prev_hash=stored[5]["record_hash"])
    columns = ", ".join(forged)
    await sql(stack, f"INSERT INTO audit_records ({columns}) VALUES ({', '.join(':' + c for c in forged)})", **forged)
    report = await verify(stack)
    assert (report.problem, report.first_bad_seq, report.first_bad_record_id) == (
        ChainProblem.HASH_MISMATCH,
        7,
        "forged",
    )


async def test_reordered_records_are_named(stack: Stack) -> None:
    await fill(stack)
    moved = await record_id(stack, 8)
    await sql(stack, "UPDATE audit_records SET seq = -1 WHERE seq = 7")
    await sql(stack, "UPDATE audit_records SET seq = 7 WHERE seq = 8")
    await sql(stack, "UPDATE audit_records SET seq = 8 WHERE seq = -1")
    report = await verify(stack)
    assert (report.problem, report.first_bad_seq, report.first_bad_record_id) == (ChainProblem.LINK_BROKEN, 7, moved)


async def rehash_from(stack: Stack, seq: int) -> None:
    """What an attacker with write access does: recompute every hash from ``seq`` and the head."""
    stored = await rows(stack)
    running = stored[seq - 2]["record_hash"] if seq > 1 else "0" * 64
    for row in stored[seq - 1 :]:
        new_hash = record_hash(running, [row[f] for f in HASHED_FIELDS])
        await sql(
            stack,
            "UPDATE audit_records SET prev_hash = :p, record_hash = :h WHERE seq = :s",
            p=running,
            h=new_hash,
            s=row["seq"],
        )
        running = new_hash
    await sql(stack, "UPDATE audit_chain_head SET head_hash = :h WHERE id = 1", h=running)


async def test_rewritten_and_rehashed_tail_is_caught_by_checkpoints(stack: Stack) -> None:
    path = stack.root / "audit" / "checkpoints.jsonl"
    checkpointer = Checkpointer(stack.db, stack.audit, signing_key(stack), path, every_records=5, clock=stack.clock)
    await fill(stack, 12)
    assert (await checkpointer.maybe_checkpoint()) is not None
    await fill(stack, 8)
    await checkpointer.checkpoint_now()
    checkpoints = read_checkpoints(path, signing_key(stack).public_key())
    assert [c.seq for c in checkpoints] == [12, 20]
    assert (await verify(stack, checkpoints=checkpoints)).checkpoints_checked == 2

    await sql(stack, "UPDATE audit_records SET decision = 'APPROVE' WHERE seq = 15")
    await rehash_from(stack, 15)
    assert (await verify(stack)).ok, "the chain alone cannot see a consistent rewrite"
    report = await verify(stack, checkpoints=checkpoints)
    assert (report.problem, report.first_bad_seq) == (ChainProblem.CHECKPOINT_MISMATCH, 20)


async def test_truncated_tail_is_caught_by_checkpoints(stack: Stack) -> None:
    path = stack.root / "audit" / "checkpoints.jsonl"
    checkpointer = Checkpointer(stack.db, stack.audit, signing_key(stack), path, clock=stack.clock)
    await fill(stack)
    await checkpointer.checkpoint_now()
    stored = await rows(stack)
    await sql(stack, "DELETE FROM audit_records WHERE seq > 17")
    report = await verify(stack)
    assert (report.problem, report.first_bad_seq) == (ChainProblem.SEQUENCE_GAP, 18)
    await sql(stack, "UPDATE audit_chain_head SET seq = 17, head_hash = :h WHERE id = 1", h=stored[16]["record_hash"])
    assert (await verify(stack)).ok
    report = await verify(stack, checkpoints=read_checkpoints(path, signing_key(stack).public_key()))
    assert (report.problem, report.first_bad_seq) == (ChainProblem.CHECKPOINT_BEYOND_END, 18)


async def test_partial_range_verifies_and_reports_progress(stack: Stack) -> None:
    await fill(stack)
    events = [e async for e in stack.audit.verify(stack.db, start_seq=5, end_seq=15, batch_size=4)]
    progress = [e for e in events if isinstance(e, VerifyProgress)]
    assert progress[0] == VerifyProgress(0, 11) and progress[-1] == VerifyProgress(11, 11)
    report = events[-1]
    assert isinstance(report, VerifyReport) and report.ok and report.checked == 11 and report.last_seq == 15


async def test_database_built_encoding_is_the_python_encoding(stack: Stack) -> None:
    """Verification on SQLite lets the database build the canonical text; it must equal ours byte for byte."""
    from server.audit.log import canonical_sql
    from server.audit.records import STORED_FIELDS, canonical_bytes
    from server.audit.tables import audit_records

    await fill(stack, n=3, batch=3)
    async with stack.db.transaction() as conn:
        await stack.audit.append_batch(
            conn,
            [
                entry(100, decision="ÉCHU→ 決定 🏦", llm_output="", inputs=None, request_id=""),
                entry(101, rule_set_version="", trace_id="", engine="e" * 100, inputs={"x": "\u2028"}),
            ],
        )
    canonical = canonical_sql(stack.db.dialect)
    if stack.db.dialect == "postgresql":
        assert canonical is None  # PostgreSQL text cannot hold U+0000: the Python encoding is used
        return
    assert canonical is not None
    c = audit_records.c
    async with stack.db.read() as conn:
        result = await conn.execute(sa.select(*(c[n] for n in STORED_FIELDS), canonical).order_by(c.seq))
        stored = result.all()
    assert len(stored) == 5
    for row in stored:
        assert row[-1].encode() == canonical_bytes(row[: len(HASHED_FIELDS)])
        assert record_hash(row[len(HASHED_FIELDS)], row[: len(HASHED_FIELDS)]) == row[len(HASHED_FIELDS) + 1]


@pytest.mark.parametrize("tampered", ["decision || {nul}", "{nul} || decision", "decision || {nul} || 'X'"])
async def test_nul_smuggled_into_a_text_column_is_named(stack: Stack, tampered: str) -> None:
    await fill(stack, n=6)
    statement = f"UPDATE audit_records SET decision = {tampered} WHERE seq = 4"
    if stack.db.dialect == "postgresql":
        with pytest.raises(Exception, match="null character not permitted"):  # nothing can be smuggled there
            await sql(stack, statement.format(nul="chr(0)"))
        assert (await verify(stack)).ok
        return
    await sql(stack, statement.format(nul="char(0)"))
    report = await verify(stack)
    assert not report.ok
    assert (report.first_bad_seq, report.problem) == (4, ChainProblem.HASH_MISMATCH)
    assert report.first_bad_record_id == await record_id(stack, 4)
