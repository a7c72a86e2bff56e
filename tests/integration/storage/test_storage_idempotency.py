"""Idempotent mutations (AIP-155) on both backends, including two concurrent first attempts."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from fintech.aml.v1 import aml_service_pb2 as aml
from sqlalchemy.ext.asyncio import AsyncConnection

from server.audit.records import AuditEntry, AuditKind
from server.crypto.subjects import Subject
from server.runtime.errors import AlreadyExists, InvalidArgument
from server.storage.idempotency import Idempotency
from tests.integration.storage.stack import Stack

RPC = "/fintech.aml.v1.AMLService/UpdateAlert"
REQUEST_ID = "5f0c6a52-6d0e-4b8e-9d55-0f6f3f0c2a11"


def request(reason: str = "false positive") -> aml.UpdateAlertRequest:
    return aml.UpdateAlertRequest(
        request_id=REQUEST_ID, alert_id="al-1", status=aml.ALERT_STATUS_CLOSED_FALSE_POSITIVE, reason=reason
    )


async def audit_count(stack: Stack) -> int:
    async with stack.db.read() as conn:
        return int((await conn.execute(sa.text("SELECT COUNT(*) FROM audit_records"))).scalar_one())


def work(stack: Stack, calls: list[int]):  # type: ignore[no-untyped-def]
    async def mutate(conn: AsyncConnection) -> aml.UpdateAlertResponse:
        calls.append(1)
        await stack.audit.append(
            conn,
            AuditEntry(
                kind=AuditKind.DECISION,
                rpc=RPC,
                decision="OPEN->CLOSED",
                caller="staff:x",
                subject=Subject("account", "acc-1"),
            ),
        )
        await asyncio.sleep(0.05)  # widen the race window for the concurrent test
        return aml.UpdateAlertResponse(alert=aml.Alert(alert_id="al-1", status=aml.ALERT_STATUS_CLOSED_FALSE_POSITIVE))

    return mutate


async def test_retry_returns_the_stored_response_and_changes_nothing(stack: Stack) -> None:
    idem = Idempotency(stack.db, sealer=stack.keyring, clock=stack.clock)
    calls: list[int] = []
    first = await idem.run(
        rpc=RPC,
        request_id=REQUEST_ID,
        request=request(),
        response_type=aml.UpdateAlertResponse,
        work=work(stack, calls),
        subject=Subject("account", "acc-1"),
    )
    again = await idem.run(
        rpc=RPC,
        request_id=REQUEST_ID,
        request=request(),
        response_type=aml.UpdateAlertResponse,
        work=work(stack, calls),
        subject=Subject("account", "acc-1"),
    )
    assert again == first and len(calls) == 1 and await audit_count(stack) == 1
    async with stack.db.read() as conn:
        stored = (await conn.execute(sa.text("SELECT response FROM idempotency_records"))).scalar_one()
    assert b"al-1" not in bytes(stored), "stored responses are encrypted"


async def test_reused_id_with_another_payload_is_already_exists(stack: Stack) -> None:
    idem = Idempotency(stack.db, clock=stack.clock)
    calls: list[int] = []
    await idem.run(
        rpc=RPC,
        request_id=REQUEST_ID,
        request=request(),
        response_type=aml.UpdateAlertResponse,
        work=work(stack, calls),
    )
    with pytest.raises(AlreadyExists) as caught:
        await idem.run(
            rpc=RPC,
            request_id=REQUEST_ID,
            request=request("other reason"),
            response_type=aml.UpdateAlertResponse,
            work=work(stack, calls),
        )
    assert caught.value.reason == "REQUEST_ID_REUSED" and len(calls) == 1
    with pytest.raises(InvalidArgument) as missing:
        await idem.run(
            rpc=RPC, request_id="", request=request(), response_type=aml.UpdateAlertResponse, work=work(stack, calls)
        )
    assert missing.value.violations[0].field == "request_id"


async def test_concurrent_first_attempts_run_the_mutation_once(stack: Stack) -> None:
    idem = Idempotency(stack.db, clock=stack.clock)
    calls: list[int] = []
    results = await asyncio.gather(
        *(
            idem.run(
                rpc=RPC,
                request_id=REQUEST_ID,
                request=request(),
                response_type=aml.UpdateAlertResponse,
                work=work(stack, calls),
            )
            for _ in range(3)
        )
    )
    assert results[0] == results[1] == results[2]
    assert await audit_count(stack) == 1, "the losers' mutations rolled back"
