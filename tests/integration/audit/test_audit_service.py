"""AuditService over a real grpc.aio server with mTLS and the role policy, on both backends."""

from __future__ import annotations

import re
from pathlib import Path

import grpc
import pytest
from fintech.audit.v1 import audit_service_pb2 as pb
from fintech.audit.v1 import audit_service_pb2_grpc as pb_grpc

from server.audit.checkpointer import Checkpointer
from server.audit.service import build
from server.crypto.lifecycle import erase_subject
from server.crypto.subjects import Subject
from server.runtime.context import AppContext
from server.runtime.pki import DevPki
from server.storage.page_tokens import PageTokenCodec
from tests.fixtures.runtime import aio_channel, running_server, settings_for
from tests.integration.audit.test_audit_chain import fill, sql
from tests.integration.storage.stack import Stack, signing_key

REPO = Path(__file__).resolve().parents[3]
AUDIT_RPCS = [f"fintech.audit.v1.AuditService/{m}" for m in ("ListAuditRecords", "GetAuditRecord", "VerifyAuditChain")]


def policy_with_audit_service(path: Path) -> Path:
    """The shipped role policy plus the entries this area asks the lead to add (auditor and sre only)."""
    text = (REPO / "server" / "config" / "roles.toml").read_text()
    lines = "".join(f'  "{rpc}",\n' for rpc in AUDIT_RPCS)
    for role in ("auditor", "sre"):
        text = re.sub(rf"(\[roles\.{role}\][^\[]*?rpcs = \[\n)", lambda m: m.group(1) + lines, text, count=1)
    path.write_text(text)
    return path


@pytest.fixture
async def audit_stub(stack: Stack, pki: DevPki, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = settings_for(
        pki,
        stack.root,
        server={"services": ["operations"]},
        auth={"policy_file": policy_with_audit_service(tmp_path / "roles.toml")},
    )
    page_tokens = PageTokenCodec(b"k" * 32)
    ctx = AppContext(
        settings=settings,
        clock=stack.clock,
        resources={"database": stack.db, "audit": stack.audit, "page_tokens": page_tokens},
    )
    binding = await build(ctx)
    async with running_server(settings, extra_bindings=[binding], ctx=ctx) as server:
        channels = {role: aio_channel(pki, role, server.port) for role in ("auditor", "sre", "agent")}
        try:
            yield {role: pb_grpc.AuditServiceStub(channel) for role, channel in channels.items()}
        finally:
            for channel in channels.values():
                await channel.close()


async def test_list_paginates_with_signed_tokens(stack: Stack, audit_stub) -> None:  # type: ignore[no-untyped-def]
    await fill(stack, 12)
    stub = audit_stub["auditor"]
    seen: list[int] = []
    token = ""
    while True:
        page = await stub.ListAuditRecords(
            pb.ListAuditRecordsRequest(page_size=5, page_token=token, decision="APPROVE")
        )
        seen += [r.sequence_number for r in page.audit_records]
        assert all(r.payload_state == pb.PAYLOAD_STATE_OMITTED and not r.raw_llm_output for r in page.audit_records)
        token = page.next_page_token
        if not token:
            break
    assert seen == [2, 4, 6, 8, 10, 12]
    first = await stub.ListAuditRecords(pb.ListAuditRecordsRequest(page_size=2))
    for bad in (first.next_page_token[:-2] + "AA", "garbage"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ListAuditRecords(pb.ListAuditRecordsRequest(page_size=2, page_token=bad))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "page_token" in (caught.value.details() or "")
    # A token from another filter is foreign.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListAuditRecords(
            pb.ListAuditRecordsRequest(page_size=2, page_token=first.next_page_token, decision="APPROVE")
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_get_decrypts_and_audits_the_read(stack: Stack, audit_stub) -> None:  # type: ignore[no-untyped-def]
    await fill(stack, 3)
    listed = await audit_stub["sre"].ListAuditRecords(pb.ListAuditRecordsRequest())
    target = listed.audit_records[1]
    got = (
        await audit_stub["auditor"].GetAuditRecord(pb.GetAuditRecordRequest(record_id=target.record_id))
    ).audit_record
    assert got.payload_state == pb.PAYLOAD_STATE_AVAILABLE and got.raw_llm_output == "explanation 1"
    assert got.record_hash == target.record_hash and got.kind == pb.AUDIT_RECORD_KIND_DECISION
    reads = await audit_stub["auditor"].ListAuditRecords(
        pb.ListAuditRecordsRequest(kind=pb.AUDIT_RECORD_KIND_DATA_ACCESS)
    )
    assert len(reads.audit_records) == 1 and reads.audit_records[0].caller == "spiffe://fintech.local/auditor"

    await erase_subject(stack.db, stack.keyring, stack.audit, Subject("applicant", "app-1"), actor="operator:dpo")
    erased = await audit_stub["auditor"].GetAuditRecord(pb.GetAuditRecordRequest(record_id=target.record_id))
    assert erased.audit_record.payload_state == pb.PAYLOAD_STATE_ERASED and not erased.audit_record.raw_llm_output
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await audit_stub["auditor"].GetAuditRecord(pb.GetAuditRecordRequest(record_id="nope"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_only_auditor_and_sre_may_call(stack: Stack, audit_stub) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await audit_stub["agent"].ListAuditRecords(pb.ListAuditRecordsRequest())
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_verify_streams_progress_and_names_the_first_bad_record(stack: Stack, audit_stub) -> None:  # type: ignore[no-untyped-def]
    await fill(stack, 12)
    await Checkpointer(
        stack.db, stack.audit, signing_key(stack), stack.root / "audit" / "checkpoints.jsonl", clock=stack.clock
    ).checkpoint_now()
    messages = [m async for m in audit_stub["sre"].VerifyAuditChain(pb.VerifyAuditChainRequest())]
    assert messages[0].total_count == 12 and messages[-1].HasField("result")
    result = messages[-1].result
    assert result.ok and result.problem == pb.CHAIN_PROBLEM_NONE and result.checkpoints_checked == 1

    await sql(stack, "UPDATE audit_records SET rpc = 'edited' WHERE seq = 5")
    messages = [m async for m in audit_stub["auditor"].VerifyAuditChain(pb.VerifyAuditChainRequest())]
    result = messages[-1].result
    assert not result.ok and result.problem == pb.CHAIN_PROBLEM_HASH_MISMATCH
    assert result.first_bad_sequence_number == 5 and result.first_bad_record_id
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in audit_stub["auditor"].VerifyAuditChain(
            pb.VerifyAuditChainRequest(start_sequence_number=5, end_sequence_number=2)
        ):
            pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
