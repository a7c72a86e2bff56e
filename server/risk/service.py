"""RiskService: the servicer (protobuf <-> the desk's use cases) and its builder.

The servicer converts and delegates to :class:`server.risk.desk.RiskDesk`; it never decides.
``AssessLoanApplications`` is a pipeline: a reader, units decided by the engine while the previous unit
is stored, and the writer, which sends each unit's results only after the unit and its audit records
committed. A unit is either single-item messages coalesced into a micro-batch, or one micro-batch message
(``items``: up to 1,000 applications, answered by one response with one result per item). Items read but
not yet answered are bounded per stream (``stream_max_in_flight``; a micro-batch message holds one permit
per item), so neither a fast writer nor a client that stops reading can grow the server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
from fintech.risk.v1 import risk_service_pb2 as pb
from fintech.risk.v1 import risk_service_pb2_grpc as pb_grpc

from server.risk import repository
from server.risk.deciding import start_worker
from server.risk.desk import CallerInfo, RiskDesk
from server.risk.drift import ScoreDriftMonitor
from server.risk.engine import ERROR_DOMAIN, RiskEngine
from server.risk.metrics import register_drift
from server.runtime.context import AppContext, ServiceBinding
from server.runtime.errors import FieldViolation, InvalidArgument
from server.runtime.identity import current_caller
from server.runtime.interceptors import check_message

FULL_NAME = pb.DESCRIPTOR.services_by_name["RiskService"].full_name
LINGER_SECONDS = 0.002
"""How long a partial micro-batch waits for more items before it is assessed."""
MAX_MICRO_BATCH = 1000
"""Items one micro-batch message may carry (the contract's ``items`` rule)."""

_END = object()


@dataclass(frozen=True)
class _Failed:
    """A stage of the stream pipeline failed: the error travels down to the writer, which raises it."""

    error: BaseException


@dataclass
class StreamGauge:
    """Stream items read whose results are not yet written, now and at most (all streams of this servicer)."""

    in_flight: int = 0
    peak: int = 0

    def add(self, count: int) -> None:
        self.in_flight += count
        self.peak = max(self.peak, self.in_flight)


def malformed_micro_batch(message: pb.AssessLoanApplicationsRequest) -> pb.AssessLoanApplicationsResponse | None:
    """The error response for a micro-batch message whose own fields break the contract, else None.

    Only the message's own fields are checked here (its ``item_id``, ``application`` left unset, at most
    ``MAX_MICRO_BATCH`` items); each item is validated on its own by the decide stage, so that a bad item
    fails only itself.
    """
    from server.runtime.interceptors import status_for

    violations: list[FieldViolation] = []
    try:
        check_message(pb.AssessLoanApplicationsRequest(item_id=message.item_id))
    except InvalidArgument as invalid:
        violations.extend(invalid.violations)
    if message.HasField("application"):
        violations.append(
            FieldViolation("application", "must be unset when items carries a micro-batch", "BATCH_AND_ITEM")
        )
    if len(message.items) > MAX_MICRO_BATCH:
        violations.append(FieldViolation("items", f"at most {MAX_MICRO_BATCH:,} items per message", "TOO_MANY_ITEMS"))
    if not violations:
        return None
    problem = InvalidArgument(
        "invalid micro-batch message: " + ", ".join(v.field for v in violations),
        reason="INVALID_REQUEST",
        domain=ERROR_DOMAIN,
        violations=tuple(violations),
    )
    return pb.AssessLoanApplicationsResponse(item_id=message.item_id, error=status_for(problem))


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
        self.gauge = StreamGauge()

    async def AssessLoanApplication(
        self, request: pb.AssessLoanApplicationRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.AssessLoanApplicationResponse:
        return await self._desk.assess(request, caller=_caller(), time_remaining=_time_remaining(context))

    async def AssessLoanApplications(
        self,
        request_iterator: AsyncIterator[pb.AssessLoanApplicationsRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[pb.AssessLoanApplicationsResponse]:
        """A pipeline of four tasks joined by queues, bounded by one semaphore.

        reader -> micro-batches -> decider (worker process or engine thread) -> storer (one transaction each) -> this
        generator, which writes results in order. The reader takes a permit before it reads each item and
        the writer gives it back once that item's result was written, so at most ``stream_max_in_flight``
        items are held per stream whatever the client does; a client that stops reading results stops
        the reader, and gRPC flow control then holds the client's writes back.
        """
        caller = _caller()
        settings = self._desk.settings
        bound = settings.stream_max_in_flight
        permits = asyncio.Semaphore(bound)
        incoming: asyncio.Queue[Any] = asyncio.Queue()  # each queue is bounded by the permits
        decided: asyncio.Queue[Any] = asyncio.Queue()
        outgoing: asyncio.Queue[Any] = asyncio.Queue()
        held = [0]  # permits of this stream's items read and not yet written

        async def read() -> None:
            iterator = request_iterator.__aiter__()
            try:
                while True:
                    await permits.acquire()
                    try:
                        item = await iterator.__anext__()
                    except StopAsyncIteration:
                        permits.release()
                        break
                    # A micro-batch message holds one permit per item (at most the whole bound, so that
                    # one message larger than the bound still gets through, alone).
                    weight = min(max(1, len(item.items)), bound)
                    for _ in range(weight - 1):
                        await permits.acquire()
                    held[0] += weight
                    self.gauge.add(weight)
                    incoming.put_nowait((item, weight))
                incoming.put_nowait(_END)
            except Exception as error:  # a broken client stream ends the call with its error
                incoming.put_nowait(_Failed(error))

        lookahead: list[Any] = []

        async def next_unit() -> tuple[Any, Any]:
            """Single items coalesced up to ``stream_micro_batch``, or one micro-batch message on its own."""
            first = lookahead.pop() if lookahead else await incoming.get()
            if first is _END or isinstance(first, _Failed):
                return None, first
            if first[0].items:
                return first, None
            batch = [first]
            while len(batch) < settings.stream_micro_batch:
                try:
                    entry = incoming.get_nowait()
                except asyncio.QueueEmpty:
                    try:
                        entry = await asyncio.wait_for(incoming.get(), LINGER_SECONDS)
                    except TimeoutError:
                        break
                if entry is _END or isinstance(entry, _Failed):
                    return batch, entry
                if entry[0].items:  # a micro-batch message ends the coalesced batch, in order
                    lookahead.append(entry)
                    break
                batch.append(entry)
            return batch, None

        async def decide() -> None:
            try:
                while True:
                    unit, end = await next_unit()
                    if isinstance(unit, list):
                        singles = [item for item, _weight in unit]
                        decided.put_nowait(("singles", await self._desk.decide_batch(singles, caller=caller)))
                    elif unit is not None:
                        message, weight = unit
                        problem = malformed_micro_batch(message)
                        if problem is not None:
                            decided.put_nowait(("ready", [(problem, weight)]))
                        else:
                            decisions = await self._desk.decide_micro_batch(message)
                            decided.put_nowait(("micro", (message, weight, decisions)))
                    if end is not None:
                        decided.put_nowait(end)
                        return
            except Exception as error:
                decided.put_nowait(_Failed(error))

        async def store() -> None:
            try:
                while True:
                    entry = await decided.get()
                    if entry is _END or isinstance(entry, _Failed):
                        outgoing.put_nowait(entry)
                        return
                    kind, work = entry
                    if kind == "singles":
                        responses = await self._desk.store_batch(work, caller=caller)
                        outgoing.put_nowait([(response, 1) for response in responses])
                    elif kind == "micro":
                        message, weight, decisions = work
                        response = await self._desk.store_micro_batch(message, decisions, caller=caller)
                        outgoing.put_nowait([(response, weight)])
                    else:
                        outgoing.put_nowait(work)
            except Exception as error:
                outgoing.put_nowait(_Failed(error))

        tasks = [asyncio.create_task(read()), asyncio.create_task(decide()), asyncio.create_task(store())]
        try:
            while True:
                responses = await outgoing.get()
                if responses is _END:
                    break
                if isinstance(responses, _Failed):
                    raise responses.error
                for response, weight in responses:
                    yield response  # returns once the transport took the message
                    held[0] -= weight
                    self.gauge.add(-weight)
                    for _ in range(weight):
                        permits.release()
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            # Items read but never answered (the call ended early) are no longer held.
            self.gauge.add(-held[0])

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
    ``inference`` (optional: without it explanations are the template and say so) and ``metrics_registry``
    (optional: the Prometheus registry for the PSI gauge; the process default when absent). Loads the
    engine from ``settings.risk``, seeds the drift monitor with the most recent stored scores and starts
    ``risk.stream_decide_processes`` worker processes for the stream (stopped by the binding's ``close``).
    """
    settings = ctx.settings.risk
    engine = RiskEngine.from_files(settings.scorecard_file, settings.policy_file)
    monitor = ScoreDriftMonitor.for_scorecard(
        engine.scorecard, window=settings.drift_window, min_scores=settings.drift_min_scores
    )
    # The PSI as a Prometheus metric, on the registry the metrics endpoint serves when the runtime provides one.
    register_drift(monitor, engine.scorecard.model_id, ctx.resources.get("metrics_registry"))
    database = ctx.require("database")
    async with database.read() as conn:
        monitor.observe(reversed(await repository.recent_scores(conn, settings.drift_window)))
    # One worker: the engine is GIL-bound; the executor keeps the event loop free, not parallel.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk-engine")
    # The stream's CPU half (validation, mapping, the engine) in worker processes: in this process it
    # would share one core (the GIL) with gRPC and storage. Spawned, not forked: gRPC runs here.
    decide_pool = None
    if settings.stream_decide_processes > 0:
        decide_pool = ProcessPoolExecutor(
            max_workers=settings.stream_decide_processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=start_worker,
            initargs=(str(settings.scorecard_file), str(settings.policy_file)),
        )
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
        decide_pool=decide_pool,
    )

    async def close() -> None:
        executor.shutdown(wait=False, cancel_futures=True)
        if decide_pool is not None:  # wait: no worker process outlives the service
            await asyncio.to_thread(decide_pool.shutdown, wait=True, cancel_futures=True)

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
