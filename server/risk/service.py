"""RiskService: the servicer (protobuf <-> the desk's use cases) and its builder.

The servicer converts and delegates to :class:`server.risk.desk.RiskDesk`; it never decides.
``AssessLoanApplications`` reads the client's items into a bounded queue (so a fast client is held
back by gRPC flow control and memory stays flat), cuts them into micro-batches, and sends each
batch's results only after the batch and its audit records committed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from fintech.risk.v1 import risk_service_pb2 as pb
from fintech.risk.v1 import risk_service_pb2_grpc as pb_grpc

from server.risk import repository
from server.risk.desk import CallerInfo, RiskDesk
from server.risk.drift import ScoreDriftMonitor
from server.risk.engine import RiskEngine
from server.runtime.context import AppContext, ServiceBinding
from server.runtime.identity import current_caller

FULL_NAME = pb.DESCRIPTOR.services_by_name["RiskService"].full_name
MICRO_BATCH = 256
"""Items assessed, stored and audited together (one transaction)."""
QUEUE_ITEMS = 2 * MICRO_BATCH
"""Items read ahead of the batch in progress; beyond this the reader waits (flow control)."""
LINGER_SECONDS = 0.002
"""How long a partial micro-batch waits for more items before it is assessed."""

_END = object()


def _caller() -> CallerInfo:
    caller = current_caller()
    return CallerInfo(audit_identity=caller.audit_identity, principal=caller.principal)


def _time_remaining(context: grpc.aio.ServicerContext[Any, Any]) -> float | None:
    remaining = context.time_remaining()
    return None if remaining is None else float(remaining)


class RiskServicer(pb_grpc.RiskServiceServicer):
    """Adapts ``fintech.risk.v1.RiskService`` to the desk."""

    def __init__(self, desk: RiskDesk) -> None:
        self._desk = desk

    async def AssessLoanApplication(
        self, request: pb.AssessLoanApplicationRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.AssessLoanApplicationResponse:
        return await self._desk.assess(request, caller=_caller(), time_remaining=_time_remaining(context))

    async def AssessLoanApplications(
        self,
        request_iterator: AsyncIterator[pb.AssessLoanApplicationsRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[pb.AssessLoanApplicationsResponse]:
        caller = _caller()
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=QUEUE_ITEMS)

        async def read() -> None:
            try:
                async for item in request_iterator:
                    await queue.put(item)  # waits while the queue is full: the client is held back
            finally:
                await queue.put(_END)

        reader = asyncio.create_task(read())
        try:
            done = False
            while not done:
                first = await queue.get()
                if first is _END:
                    break
                batch = [first]
                while len(batch) < MICRO_BATCH:
                    try:
                        item = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        try:
                            item = await asyncio.wait_for(queue.get(), LINGER_SECONDS)
                        except TimeoutError:
                            break
                    if item is _END:
                        done = True
                        break
                    batch.append(item)
                for response in await self._desk.assess_batch(batch, caller=caller):
                    yield response
            await reader  # surfaces a broken client stream
        finally:
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader

    async def GetModelCard(
        self, request: pb.GetModelCardRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetModelCardResponse:
        return pb.GetModelCardResponse(model_card=self._desk.model_card())

    async def ListLoanReviews(
        self, request: pb.ListLoanReviewsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListLoanReviewsResponse:
        return await self._desk.list_reviews(request)

    async def DecideLoanReview(
        self, request: pb.DecideLoanReviewRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.DecideLoanReviewResponse:
        return await self._desk.decide_review(request, caller=_caller())


async def build(ctx: AppContext) -> ServiceBinding:
    """The RiskService of this process.

    Takes ``database``, ``audit``, ``keyring``, ``idempotency`` and ``page_tokens`` (required) and
    ``inference`` (optional: without it explanations are the template and say so). Loads the engine from
    ``settings.risk`` and seeds the drift monitor with the most recent stored scores.
    """
    settings = ctx.settings.risk
    engine = RiskEngine.from_files(settings.scorecard_file, settings.policy_file)
    monitor = ScoreDriftMonitor.for_scorecard(
        engine.scorecard, window=settings.drift_window, min_scores=settings.drift_min_scores
    )
    database = ctx.require("database")
    async with database.read() as conn:
        monitor.observe(reversed(await repository.recent_scores(conn, settings.drift_window)))
    # One worker: the engine is GIL-bound; the executor keeps the event loop free, not parallel.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk-engine")
    desk = RiskDesk(
        engine=engine,
        monitor=monitor,
        settings=settings,
        database=database,
        audit=ctx.require("audit"),
        keyring=ctx.require("keyring"),
        idempotency=ctx.require("idempotency"),
        page_tokens=ctx.require("page_tokens"),
        pool=ctx.resources.get("inference"),
        clock=ctx.clock,
        executor=executor,
    )

    async def close() -> None:
        executor.shutdown(wait=False, cancel_futures=True)

    async def readiness() -> str | None:
        reason: str | None = await database.ping()
        return reason

    return ServiceBinding(
        name="risk",
        full_name=FULL_NAME,
        servicer=RiskServicer(desk),
        add_to_server=pb_grpc.add_RiskServiceServicer_to_server,
        readiness=readiness,
        close=close,
    )
