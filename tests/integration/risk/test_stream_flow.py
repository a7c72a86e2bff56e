"""Flow control of AssessLoanApplications: a client that writes and never reads is held back, the server
holds at most ``stream_max_in_flight`` items, and every result arrives once the client reads. Also the PSI
metric on the service's Prometheus registry."""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid

import grpc
import sqlalchemy as sa
from fintech.risk.v1 import risk_service_pb2 as pb
from fintech.risk.v1 import risk_service_pb2_grpc as pb_grpc

from server.risk import samples
from server.risk.metrics import PSI_METRIC
from server.risk.tables import assessments
from tests.integration.risk.conftest import RiskStack

ITEMS = 6_000
# Keep the client's own HTTP/2 receive window at its initial size (no BDP growth), so unread results fill
# it quickly; the server side runs with the runtime's options, untouched.
CLIENT_OPTIONS = [("grpc.http2.bdp_probe", 0)]


async def _until_stalled(count: list[int], *, quiet_s: float = 1.5, limit_s: float = 60.0) -> None:
    """Wait until ``count[0]`` stops growing for ``quiet_s`` (the writes are blocked) or ``limit_s`` passed."""
    started = last_change = time.monotonic()
    seen = count[0]
    while time.monotonic() - last_change < quiet_s and time.monotonic() - started < limit_s:
        await asyncio.sleep(0.1)
        if count[0] != seen:
            seen, last_change = count[0], time.monotonic()


async def _count_audited(risk_stack: RiskStack, tag: str) -> int:
    """Assessments of this test's items stored so far (their application ids carry no tag, so by time)."""
    database = risk_stack.ctx.require("database")
    async with database.read() as conn:
        return int(
            (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(assessments)
                    .where(assessments.c.created_us >= _STARTED_US[tag])
                )
            ).scalar_one()
        )


_STARTED_US: dict[str, int] = {}


async def test_a_client_that_does_not_read_is_held_back_and_then_gets_every_result(risk_stack: RiskStack) -> None:
    limit = risk_stack.ctx.settings.risk.stream_max_in_flight
    gauge = risk_stack.servicer.gauge
    gauge.peak = gauge.in_flight  # this test's peak (other streams of the session are finished)
    rng = random.Random(11)
    tag = uuid.uuid4().hex[:6]
    _STARTED_US[tag] = int(time.time() * 1_000_000)
    items = [
        pb.AssessLoanApplicationsRequest(item_id=f"{tag}-{i}", application=samples.varied_request(rng, i))
        for i in range(ITEMS)
    ]
    issued = risk_stack.pki.client("core-banking")

    credentials = grpc.ssl_channel_credentials(
        risk_stack.pki.ca.read_bytes(), issued.key.read_bytes(), issued.cert.read_bytes()
    )
    async with grpc.aio.secure_channel(f"localhost:{risk_stack.port}", credentials, options=CLIENT_OPTIONS) as channel:
        call = pb_grpc.RiskServiceStub(channel).AssessLoanApplications()
        written = [0]

        async def write_all() -> None:
            for item in items:
                await call.write(item)
                written[0] += 1
            await call.done_writing()

        writer = asyncio.create_task(write_all())
        await _until_stalled(written)
        # The server read exactly its bound and stopped: results it could not write hold their permits.
        assert gauge.in_flight == limit, f"{gauge.in_flight} items held, bound {limit}"
        served_so_far = [await _count_audited(risk_stack, tag)]
        await asyncio.sleep(1.0)  # nothing read for another second: the server must not take more work
        assert gauge.in_flight == limit
        assert await _count_audited(risk_stack, tag) == served_so_far[0], "stored more while nothing was read"
        assert gauge.peak <= limit, f"the server held {gauge.peak} items (bound {limit})"
        # What the client wrote beyond the bound waits in gRPC's HTTP/2 windows (bounded by the transport).
        held_back_at = written[0]

        results = [response async for response in call]
        await writer
    assert [r.item_id for r in results] == [i.item_id for i in items]
    assert all(r.WhichOneof("result") == "assessment" for r in results)
    assert gauge.peak <= limit
    assert gauge.in_flight == 0
    print(
        f"client wrote {held_back_at} of {ITEMS} unread; server stored {served_so_far[0]} and then stopped, "
        f"held at most {gauge.peak} (bound {limit})"
    )


async def test_micro_batch_messages_hold_one_permit_per_item(risk_stack: RiskStack) -> None:
    """Micro-batch messages count item by item against the bound: with a client that reads nothing the
    server holds at most the bound's worth of items (not messages), stores no more, and every result still
    arrives in order. (How much of the client's writes the HTTP/2 windows absorb is the transport's.)"""
    limit = risk_stack.ctx.settings.risk.stream_max_in_flight
    gauge = risk_stack.servicer.gauge
    gauge.peak = gauge.in_flight
    rng = random.Random(12)
    tag = uuid.uuid4().hex[:6]
    _STARTED_US[tag] = int(time.time() * 1_000_000)
    size = 200
    messages = []
    for number in range(30):  # 6,000 applications in 30 messages
        message = pb.AssessLoanApplicationsRequest(item_id=f"{tag}-batch-{number}")
        for i in range(size):
            message.items.add(item_id=f"{tag}-{number}-{i}", application=samples.varied_request(rng, i))
        messages.append(message)
    issued = risk_stack.pki.client("core-banking")
    credentials = grpc.ssl_channel_credentials(
        risk_stack.pki.ca.read_bytes(), issued.key.read_bytes(), issued.cert.read_bytes()
    )
    async with grpc.aio.secure_channel(f"localhost:{risk_stack.port}", credentials, options=CLIENT_OPTIONS) as channel:
        call = pb_grpc.RiskServiceStub(channel).AssessLoanApplications()
        written = [0]

        async def write_all() -> None:
            for message in messages:
                await call.write(message)
                written[0] += 1
            await call.done_writing()

        writer = asyncio.create_task(write_all())
        await _until_stalled(written)
        held = gauge.in_flight
        assert limit - size < held <= limit, f"{held} items held, bound {limit}"
        # The items read are decided and stored (nothing more): wait for that, then nothing changes.
        deadline = time.monotonic() + 30
        stored = await _count_audited(risk_stack, tag)
        while stored < held and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            stored = await _count_audited(risk_stack, tag)
        assert stored == held, f"stored {stored} with {held} items read"
        await asyncio.sleep(1.0)
        assert gauge.in_flight == held
        assert await _count_audited(risk_stack, tag) == stored, "stored more while nothing was read"
        responses = [response async for response in call]
        await writer
    assert [r.item_id for r in responses] == [m.item_id for m in messages]
    assert all(len(r.results) == size for r in responses)
    assert all(result.WhichOneof("result") == "assessment" for r in responses for result in r.results)
    assert gauge.peak <= limit
    assert gauge.in_flight == 0


async def test_the_psi_is_exported_as_a_prometheus_metric(risk_stack: RiskStack) -> None:
    model_id = risk_stack.servicer._desk.engine.scorecard.model_id
    value = risk_stack.metrics.get_sample_value(PSI_METRIC, {"model_id": model_id})
    expected = risk_stack.servicer._desk.monitor.psi()
    assert value is not None
    if expected is None:
        assert math.isnan(value)
    else:
        assert math.isclose(value, expected)
