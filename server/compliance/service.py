"""ComplianceService: the servicer (protobuf <-> domain), persistence and audit of analyses and reviews.

The deterministic engine (:class:`~server.compliance.engine.ComplianceEngine`) decides and runs in a thread
executor, so the event loop never parses a PDF. The LLM (optional, :mod:`server.compliance.llm`) only
summarises regulations clause by clause and adds advisory contract notes, each validated. Every analysis,
comparison and review writes an audit DECISION record in the transaction that stores it; document text
is sealed by the keyring. ``ReviewContracts`` reviews a stream with bounded concurrency, reports per-item
errors as ``google.rpc.Status`` while the stream goes on, and stores finished reviews in group commits.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from fintech.common.v1 import common_pb2
from fintech.compliance.v1 import compliance_service_pb2 as pb
from fintech.compliance.v1 import compliance_service_pb2_grpc as pb_grpc
from google.protobuf.message import Message
from google.rpc import status_pb2
from sqlalchemy.ext.asyncio import AsyncConnection

from server.audit.records import AuditEntry, AuditKind, ValidationOutcome
from server.compliance import mapping
from server.compliance.domain import ContractReviewResult, ContractType, DocumentFormat
from server.compliance.engine import COMPARISON_ENGINE, DOMAIN, REGULATION_ENGINE, REVIEW_ENGINE, ComplianceEngine
from server.compliance.llm import (
    AdviceRun,
    LlmCall,
    Outcome,
    SummaryRun,
    compliance_prompt,
    overall_text,
    summarise,
)
from server.compliance.llm import advise as llm_advise
from server.compliance.repositories import (
    REGULATION_SUBJECT,
    AnalysisRepository,
    ComparisonRepository,
    Cursor,
    ReviewCursor,
    ReviewRepository,
    StoredAnalysis,
    StoredReview,
    contract_subject,
    remember_many,
    stored_responses,
)
from server.compliance.settings import ComplianceSettings
from server.crypto.subjects import Subject
from server.runtime.clock import Clock
from server.runtime.context import AppContext, ServiceBinding
from server.runtime.errors import (
    AlreadyExists,
    DomainError,
    ErrorCode,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    from_component_error,
)
from server.runtime.identity import Caller, current_caller
from server.runtime.interceptors import check_message, status_for
from server.storage.idempotency import lookup, payload_digest
from server.storage.page_tokens import filter_scope

log = logging.getLogger(__name__)

SERVICE_NAME = "compliance"
FULL_NAME = pb.DESCRIPTOR.services_by_name["ComplianceService"].full_name
RPC_ANALYZE = f"/{FULL_NAME}/AnalyzeRegulation"
RPC_COMPARE = f"/{FULL_NAME}/CompareRegulationVersions"
RPC_REVIEW = f"/{FULL_NAME}/ReviewContract"
RPC_REVIEW_STREAM = f"/{FULL_NAME}/ReviewContracts"
RPC_LIST_REVIEWS = f"/{FULL_NAME}/ListContractReviews"
RPC_GET_REVIEW = f"/{FULL_NAME}/GetContractReview"
RPC_LIST_PLAYBOOKS = f"/{FULL_NAME}/ListPlaybooks"
RPC_GET_ANALYSIS = f"/{FULL_NAME}/GetRegulationAnalysis"
RPC_LIST_ANALYSES = f"/{FULL_NAME}/ListRegulationAnalyses"
RPC_GET_COMPARISON = f"/{FULL_NAME}/GetVersionComparison"
RPC_LIST_COMPARISONS = f"/{FULL_NAME}/ListVersionComparisons"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# Finished reviews stored per transaction in ReviewContracts (group commit).
STREAM_BATCH = 64
_OUTCOME_TO_PB = {
    Outcome.PASSED: common_pb2.VALIDATION_OUTCOME_PASSED,
    Outcome.FAILED: common_pb2.VALIDATION_OUTCOME_FAILED,
    Outcome.NOT_APPLICABLE: common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE,
}
ResponseT = TypeVar("ResponseT", bound=Message)


def _prefixed(error: InvalidArgument, prefix: str) -> InvalidArgument:
    """``error`` with every field path under ``prefix`` (a stream item's ``contract.``)."""
    if not prefix:
        return error
    return InvalidArgument(
        message=error.message,
        reason=error.reason,
        domain=error.domain,
        violations=tuple(FieldViolation(f"{prefix}{v.field}", v.description, v.reason) for v in error.violations),
    )


def _llm_not_configured(field: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"{field} needs the LLM, and no inference pool is configured in this process; retry without {field}",
        reason="LLM_NOT_CONFIGURED",
        domain=DOMAIN,
    )


def _time_remaining(context: grpc.aio.ServicerContext[Any, Any]) -> float | None:
    remaining = context.time_remaining()
    return None if remaining is None else float(remaining)


def _checked_to_pb(clause_ids: Sequence[str], summary: str, outcome: Outcome, spans: Sequence[Any]) -> pb.ClauseSummary:
    return pb.ClauseSummary(
        clause_ids=list(clause_ids),
        summary=summary,
        validation_outcome=_OUTCOME_TO_PB[outcome],
        unsupported_spans=[
            common_pb2.UnsupportedSpan(start=s.start, end=s.end, text=s.text, reason=s.reason) for s in spans
        ],
    )


def add_summaries(message: pb.RegulationAnalysis, run: SummaryRun) -> None:
    """Put the checked map items and the overall summary into an analysis message."""
    for item in run.map_items:
        message.summaries.append(_checked_to_pb(item.clause_ids, item.summary, item.outcome, item.spans))
    text, cited, spans = overall_text(run.overall)
    ids = list(dict.fromkeys(c for group in cited for c in group))
    outcome = (
        Outcome.PASSED if run.overall and all(i.outcome is Outcome.PASSED for i in run.overall) else Outcome.FAILED
    )
    message.overall_summary.CopyFrom(_checked_to_pb(ids, text, outcome, spans))


@dataclass(frozen=True)
class _Prepared:
    """A reviewed contract, not yet stored."""

    request: pb.ReviewContractRequest
    result: ContractReviewResult
    advice: AdviceRun | None
    review_id: str
    created: datetime


@dataclass(frozen=True)
class _ItemError:
    item_id: str
    error: DomainError


@dataclass(frozen=True)
class _ItemDone:
    item_id: str
    prepared: _Prepared


class ComplianceServicer(pb_grpc.ComplianceServiceServicer):
    """Adapts ``fintech.compliance.v1.ComplianceService`` to the engine, the LLM and storage."""

    def __init__(
        self,
        engine: ComplianceEngine,
        settings: ComplianceSettings,
        *,
        database: Any,
        audit: Any,
        keyring: Any,
        idempotency: Any,
        page_tokens: Any,
        clock: Clock,
        pool: Any = None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._db = database
        self._audit = audit
        self._keyring = keyring
        self._idempotency = idempotency
        self._tokens = page_tokens
        self._clock = clock
        self._pool = pool
        self._analyses = AnalysisRepository(keyring)
        self._comparisons = ComparisonRepository(keyring)
        self._reviews = ReviewRepository(keyring)
        self.executor = ThreadPoolExecutor(max_workers=settings.bulk_review_workers, thread_name_prefix="compliance")
        # Optional process pool for contract review (spawned: forking a process that runs gRPC is unsafe).
        self.review_pool: ProcessPoolExecutor | None = None
        if settings.review_processes:
            self.review_pool = ProcessPoolExecutor(
                max_workers=settings.review_processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_review_worker,
                initargs=(settings,),
            )

    # ------------------------------------------------------------------ helpers

    async def _in_executor(self, work: Callable[[], ResponseT]) -> ResponseT:
        return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    async def _replay(
        self, rpc: str, request: Message, request_id: str, subject: Subject, response_type: type[ResponseT]
    ) -> ResponseT | None:
        """A stored response for a retried request id, checked before any work (None when new)."""
        if not request_id:
            return None
        async with self._db.read() as conn:
            stored = await lookup(conn, rpc=rpc, request_id=request_id, digest=payload_digest(request))
            if stored is None:
                return None
            blob = await self._keyring.open(conn, subject, stored, context=f"idempotency:{rpc}:{request_id}")
        response: ResponseT = response_type()
        response.ParseFromString(blob)
        return response

    async def _store_once(
        self,
        rpc: str,
        request: Message,
        request_id: str,
        subject: Subject,
        response_type: type[ResponseT],
        work: Callable[[AsyncConnection], Awaitable[ResponseT]],
    ) -> ResponseT:
        if request_id:
            result: ResponseT = await self._idempotency.run(
                rpc=rpc,
                request_id=request_id,
                request=request,
                response_type=response_type,
                work=work,
                subject=subject,
            )
            return result
        async with self._db.transaction() as conn:
            return await work(conn)

    def _now_us(self) -> int:
        return int(self._clock.now().timestamp() * 1_000_000)

    # ------------------------------------------------------------------ regulations

    async def AnalyzeRegulation(
        self, request: pb.AnalyzeRegulationRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.AnalyzeRegulationResponse:
        caller = current_caller()
        replay = await self._replay(
            RPC_ANALYZE, request, request.request_id, REGULATION_SUBJECT, pb.AnalyzeRegulationResponse
        )
        if replay is not None:
            return replay
        fmt = mapping.document_format(request.document.format)
        reference = mapping.from_pb_date(request.reference_date) if request.HasField("reference_date") else None
        if request.include_summaries and self._pool is None:
            raise _llm_not_configured("include_summaries")
        content = request.document.content
        analysis = await self._in_executor(
            lambda: self._engine.analyze_regulation(request.regulation_id, content, fmt, reference)
        )
        run: SummaryRun | None = None
        if request.include_summaries:
            run = await summarise(
                analysis.document,
                LlmCall(self._pool, caller.principal, _time_remaining(context)),
                token_budget=self._settings.summary_token_budget,
                fan_in=self._settings.summary_fan_in,
                concurrency=self._settings.summary_concurrency,
            )
        analysis_id = uuid.uuid4().hex
        template = compliance_prompt("compliance_clause_summary")
        outcome = run.outcome if run is not None else Outcome.NOT_APPLICABLE
        provenance = mapping.provenance(REGULATION_ENGINE, analysis.engine_version, analysis.rule_set_version)
        provenance.validation_outcome = _OUTCOME_TO_PB[outcome]
        if run is not None:
            provenance.prompt_template_id = template.template_id
            provenance.prompt_template_version = str(template.version)
            provenance.llm_model = run.model
            provenance.llm_endpoint = run.endpoint
        message = mapping.analysis_to_pb(analysis, analysis_id=analysis_id, provenance=provenance)
        if run is not None:
            add_summaries(message, run)
        created_us = self._now_us()
        message.create_time.FromMicroseconds(created_us)

        async def store(conn: AsyncConnection) -> pb.AnalyzeRegulationResponse:
            await self._analyses.add(
                conn,
                StoredAnalysis(
                    analysis_id=analysis_id,
                    regulation_id=request.regulation_id,
                    created_us=created_us,
                    caller=caller.audit_identity,
                    word_count=analysis.word_count,
                    summary_outcome=outcome.value,
                    document_text=analysis.document.text,
                    analysis=message,
                ),
            )
            receipt = await self._audit.append(
                conn,
                AuditEntry(
                    kind=AuditKind.DECISION,
                    rpc=RPC_ANALYZE,
                    decision="REGULATION_ANALYZED",
                    subject=REGULATION_SUBJECT,
                    request_id=request.request_id,
                    caller=caller.audit_identity,
                    input_digest=payload_digest(request),
                    engine=REGULATION_ENGINE,
                    engine_version=analysis.engine_version,
                    rule_set_version=analysis.rule_set_version,
                    model_id=run.served_by if run else "",
                    prompt_template_id=template.ref if run else "",
                    prompt_template_digest=template.digest if run else "",
                    validation_outcome=ValidationOutcome(outcome.value),
                    llm_output="\n".join(run.raw_outputs) if run else "",
                    details={
                        "analysis_id": analysis_id,
                        "regulation_id": request.regulation_id,
                        "word_count": analysis.word_count,
                        "obligations": len(analysis.obligations),
                        "timeline_events": len(analysis.timeline),
                        "risk_points": len(analysis.risk_points),
                        "summary_items": len(run.map_items) if run else 0,
                        "summary_items_failed": sum(1 for i in run.map_items if i.outcome is not Outcome.PASSED)
                        if run
                        else 0,
                        "map_calls": run.map_calls if run else 0,
                        "reduce_calls": run.reduce_calls if run else 0,
                    },
                ),
            )
            await self._analyses.link_audit(conn, analysis_id, receipt.record_id)
            message.provenance.audit_record_id = receipt.record_id
            return pb.AnalyzeRegulationResponse(analysis=message)

        return await self._store_once(
            RPC_ANALYZE, request, request.request_id, REGULATION_SUBJECT, pb.AnalyzeRegulationResponse, store
        )

    async def CompareRegulationVersions(
        self, request: pb.CompareRegulationVersionsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CompareRegulationVersionsResponse:
        caller = current_caller()
        replay = await self._replay(
            RPC_COMPARE, request, request.request_id, REGULATION_SUBJECT, pb.CompareRegulationVersionsResponse
        )
        if replay is not None:
            return replay
        old_fmt = mapping.document_format(request.old_version.format, "old_version.format")
        new_fmt = mapping.document_format(request.new_version.format, "new_version.format")
        old, new = request.old_version.content, request.new_version.content
        old_document, new_document, comparison = await self._in_executor(
            lambda: self._engine.compare_documents(old, old_fmt, new, new_fmt)
        )
        comparison_id = uuid.uuid4().hex
        response = mapping.comparison_to_pb(
            comparison, mapping.provenance(COMPARISON_ENGINE, comparison.engine_version, "")
        )
        response.comparison_id = comparison_id
        created_us = self._now_us()

        async def store(conn: AsyncConnection) -> pb.CompareRegulationVersionsResponse:
            stored = pb.VersionComparison(
                comparison_id=comparison_id,
                regulation_id=request.regulation_id,
                old_filename=request.old_version.filename,
                new_filename=request.new_version.filename,
                clause_changes=response.clause_changes,
                obligation_changes=response.obligation_changes,
                timeline_changes=response.timeline_changes,
                old_clauses=[mapping.clause_to_pb(c) for c in old_document.clauses],
                new_clauses=[mapping.clause_to_pb(c) for c in new_document.clauses],
            )
            stored.provenance.CopyFrom(response.provenance)
            stored.create_time.FromMicroseconds(created_us)
            await self._comparisons.add(conn, stored, created_us=created_us, caller=caller.audit_identity)
            receipt = await self._audit.append(
                conn,
                AuditEntry(
                    kind=AuditKind.DECISION,
                    rpc=RPC_COMPARE,
                    decision="VERSIONS_COMPARED",
                    subject=REGULATION_SUBJECT,
                    request_id=request.request_id,
                    caller=caller.audit_identity,
                    input_digest=payload_digest(request),
                    engine=COMPARISON_ENGINE,
                    engine_version=comparison.engine_version,
                    validation_outcome=ValidationOutcome.NOT_APPLICABLE,
                    details={
                        "comparison_id": comparison_id,
                        "regulation_id": request.regulation_id,
                        "old_filename": request.old_version.filename,
                        "new_filename": request.new_version.filename,
                        "clause_changes": len(comparison.clause_changes),
                        "obligation_changes": len(comparison.obligation_changes),
                        "timeline_changes": len(comparison.timeline_changes),
                    },
                ),
            )
            await self._comparisons.link_audit(conn, comparison_id, receipt.record_id)
            response.provenance.audit_record_id = receipt.record_id
            return response

        return await self._store_once(
            RPC_COMPARE, request, request.request_id, REGULATION_SUBJECT, pb.CompareRegulationVersionsResponse, store
        )

    # ------------------------------------------------------------------ contracts

    async def _prepare(
        self, request: pb.ReviewContractRequest, caller: Caller, time_remaining: float | None, field_prefix: str = ""
    ) -> _Prepared:
        """Review one contract (engine in the executor, then optional LLM advice); nothing stored yet."""
        fmt = mapping.document_format(request.document.format, f"{field_prefix}document.format")
        contract_type = mapping.contract_type(request.contract_type)
        if request.include_llm_advice and self._pool is None:
            raise _llm_not_configured(f"{field_prefix}include_llm_advice")
        content = request.document.content
        try:
            if self.review_pool is not None:
                result = await asyncio.get_running_loop().run_in_executor(
                    self.review_pool,
                    _review_in_worker,
                    request.contract_id,
                    content,
                    fmt,
                    contract_type,
                    request.playbook_id,
                )
            else:
                result = await self._in_executor(
                    lambda: self._engine.review_contract(
                        request.contract_id, content, fmt, contract_type, request.playbook_id
                    )
                )
        except InvalidArgument as error:
            raise _prefixed(error, field_prefix) from None
        advice = None
        if request.include_llm_advice:
            advice = await llm_advise(
                result,
                LlmCall(self._pool, caller.principal, time_remaining),
                token_budget=self._settings.summary_token_budget,
            )
        return _Prepared(request, result, advice, uuid.uuid4().hex, self._clock.now())

    async def _prepare_many(
        self, requests: Sequence[pb.ReviewContractRequest], caller: Caller, field_prefix: str
    ) -> list[_Prepared | DomainError]:
        """Review a micro-batch in one executor call, then the optional LLM advice per item; nothing stored yet."""
        items: list[tuple[str, bytes, DocumentFormat, ContractType | None, str]] = []
        outcomes: list[_Prepared | DomainError | None] = []
        for request in requests:
            try:
                fmt = mapping.document_format(request.document.format, f"{field_prefix}document.format")
                contract_type = mapping.contract_type(request.contract_type)
                if request.include_llm_advice and self._pool is None:
                    raise _llm_not_configured(f"{field_prefix}include_llm_advice")
            except DomainError as error:
                outcomes.append(_prefixed(error, field_prefix) if isinstance(error, InvalidArgument) else error)
                continue
            outcomes.append(None)
            items.append((request.contract_id, request.document.content, fmt, contract_type, request.playbook_id))
        if items:
            if self.review_pool is not None:
                results = await asyncio.get_running_loop().run_in_executor(
                    self.review_pool, _review_many_in_worker, items
                )
            else:
                results = await asyncio.get_running_loop().run_in_executor(
                    self.executor, self._engine.review_contracts, items
                )
            reviewed = iter(results)
            created = self._clock.now()
            for index, request in enumerate(requests):
                if outcomes[index] is not None:
                    continue
                result = next(reviewed)
                if isinstance(result, InvalidArgument):
                    outcomes[index] = _prefixed(result, field_prefix)
                    continue
                advice = None
                if request.include_llm_advice:
                    try:
                        advice = await llm_advise(
                            result,
                            LlmCall(self._pool, caller.principal, None),
                            token_budget=self._settings.summary_token_budget,
                        )
                    except Exception as exc:
                        mapped = exc if isinstance(exc, DomainError) else _component_error(exc)
                        if mapped is None:
                            raise
                        outcomes[index] = mapped
                        continue
                outcomes[index] = _Prepared(request, result, advice, uuid.uuid4().hex, created)
        return [o for o in outcomes if o is not None]

    def _review_pb(self, prepared: _Prepared) -> pb.ContractReview:
        result, advice = prepared.result, prepared.advice
        provenance = mapping.provenance(
            REVIEW_ENGINE, result.engine_version, f"{result.playbook_id}@{result.playbook_version}"
        )
        if advice is not None:
            template = compliance_prompt("compliance_contract_advice")
            provenance.prompt_template_id = template.template_id
            provenance.prompt_template_version = str(template.version)
            provenance.llm_model = advice.model
            provenance.llm_endpoint = advice.endpoint
            provenance.validation_outcome = _OUTCOME_TO_PB[advice.outcome]
        review = mapping.review_to_pb(result, review_id=prepared.review_id, provenance=provenance)
        if advice is not None:
            review.findings.extend(mapping.finding_to_pb(f) for f in advice.findings)
        review.create_time.FromDatetime(prepared.created.astimezone(UTC))
        return review

    def _review_audit(self, prepared: _Prepared, review: pb.ContractReview, caller: Caller) -> AuditEntry:
        result, advice = prepared.result, prepared.advice
        highest = result.max_severity
        template = compliance_prompt("compliance_contract_advice")
        return AuditEntry(
            kind=AuditKind.DECISION,
            rpc=RPC_REVIEW,
            decision=f"REVIEWED:{highest.name if highest else 'NO_FINDINGS'}",
            subject=contract_subject(result.contract_id),
            request_id=prepared.request.request_id,
            caller=caller.audit_identity,
            input_digest=payload_digest(prepared.request),
            engine=REVIEW_ENGINE,
            engine_version=result.engine_version,
            rule_set_version=f"{result.playbook_id}@{result.playbook_version}",
            model_id=advice.served_by if advice else "",
            prompt_template_id=template.ref if advice else "",
            prompt_template_digest=template.digest if advice else "",
            validation_outcome=ValidationOutcome(advice.outcome.value) if advice else ValidationOutcome.NOT_APPLICABLE,
            llm_output=advice.raw_output if advice else "",
            details={
                "review_id": review.review_id,
                "findings": [f.check_id for f in result.findings],
                # Required checks met by a sentence the lexicon did not recognise: which clause, how close.
                "semantic_matches": [
                    {"check_id": m.check_id, "clause_id": m.clause_id, "score": m.score, "margin": m.margin}
                    for m in result.semantic_matches
                ],
                # Which encoder (and the content hash of its weights) and which semantic.toml were in force.
                "semantic_provenance": result.semantic_provenance,
                "advisory_findings": len(advice.findings) if advice else 0,
                "advisory_dropped": advice.dropped if advice else 0,
            },
        )

    async def _persist(
        self, conn: AsyncConnection, prepared: Sequence[_Prepared], caller: Caller
    ) -> list[pb.ContractReview]:
        """Store reviews and append one audit record each, in the caller's transaction."""
        reviews = [self._review_pb(p) for p in prepared]
        now_us = self._now_us()
        await self._reviews.add_many(
            conn,
            [
                StoredReview(
                    review=r, created_us=now_us, caller=caller.audit_identity, document_text=p.result.document.text
                )
                for p, r in zip(prepared, reviews, strict=True)
            ],
        )
        receipts = await self._audit.append_batch(
            conn, [self._review_audit(p, r, caller) for p, r in zip(prepared, reviews, strict=True)]
        )
        await self._reviews.link_audit(
            conn, {r.review_id: rc.record_id for r, rc in zip(reviews, receipts, strict=True)}
        )
        for review, receipt in zip(reviews, receipts, strict=True):
            review.provenance.audit_record_id = receipt.record_id
        return reviews

    async def ReviewContract(
        self, request: pb.ReviewContractRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ReviewContractResponse:
        caller = current_caller()
        subject = contract_subject(request.contract_id)
        replay = await self._replay(RPC_REVIEW, request, request.request_id, subject, pb.ReviewContractResponse)
        if replay is not None:
            return replay
        prepared = await self._prepare(request, caller, _time_remaining(context))

        async def store(conn: AsyncConnection) -> pb.ReviewContractResponse:
            return pb.ReviewContractResponse(review=(await self._persist(conn, [prepared], caller))[0])

        return await self._store_once(
            RPC_REVIEW, request, request.request_id, subject, pb.ReviewContractResponse, store
        )

    async def ReviewContracts(
        self, request_iterator: AsyncIterator[pb.ReviewContractsRequest], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.ReviewContractsResponse]:
        caller = current_caller()
        finished: asyncio.Queue[_ItemDone | _ItemError | None] = asyncio.Queue()
        # At most bulk_review_queue items are read ahead of the results (back-pressure on the client).
        slots = asyncio.Semaphore(self._settings.bulk_review_queue)
        running: set[asyncio.Task[None]] = set()
        arrived: asyncio.Queue[pb.ReviewContractsRequest | None] = asyncio.Queue()

        async def fail(item_id: str, exc: BaseException) -> None:
            if isinstance(exc, DomainError):
                await finished.put(_ItemError(item_id, exc))
                return
            mapped = _component_error(exc)
            if mapped is None:
                log.exception("contract review failed for a stream item", exc_info=exc)
                mapped = _internal()
            await finished.put(_ItemError(item_id, mapped))

        async def review_batch(batch: list[pb.ReviewContractsRequest]) -> None:
            # One executor call per micro-batch: parsing and lexical checks per contract, then one embedding
            # call for every sentence the semantic matcher needs in the whole batch.
            try:
                try:
                    prepared = await self._prepare_many([item.contract for item in batch], caller, "contract.")
                except Exception as exc:  # the whole batch failed (executor gone, worker crashed)
                    for item in batch:
                        await fail(item.item_id, exc)
                    return
                for item, outcome in zip(batch, prepared, strict=True):
                    if isinstance(outcome, _Prepared):
                        await finished.put(_ItemDone(item.item_id, outcome))
                    else:
                        await fail(item.item_id, outcome)
            finally:
                for _ in batch:
                    slots.release()

        def valid(item: pb.ReviewContractsRequest) -> DomainError | None:
            try:
                check_message(item)
            except DomainError as error:
                return error
            if not item.HasField("contract"):
                return InvalidArgument(
                    "contract is required",
                    reason="INVALID_REQUEST",
                    domain=DOMAIN,
                    violations=[FieldViolation("contract", "required")],
                )
            return None

        async def receive() -> None:
            try:
                async for item in request_iterator:
                    await slots.acquire()
                    await arrived.put(item)
            finally:
                await arrived.put(None)

        async def read() -> None:
            # Items that arrived while the previous batch was reviewed form the next batch (up to
            # review_micro_batch): batches grow under load and stay single items when the stream is slow.
            receiver = asyncio.create_task(receive())
            try:
                ended = False
                while not ended:
                    first = await arrived.get()
                    if first is None:
                        break
                    waiting = [first]
                    while len(waiting) < self._settings.review_micro_batch and not arrived.empty():
                        following = arrived.get_nowait()
                        if following is None:
                            ended = True
                            break
                        waiting.append(following)
                    batch = []
                    for item in waiting:
                        error = valid(item)
                        if error is None:
                            batch.append(item)
                        else:
                            await finished.put(_ItemError(item.item_id, error))
                            slots.release()
                    if batch:
                        task = asyncio.create_task(review_batch(batch))
                        running.add(task)
                        task.add_done_callback(running.discard)
                await receiver
                if running:
                    await asyncio.gather(*list(running))
            finally:
                if not receiver.done():
                    receiver.cancel()
                await finished.put(None)

        reader = asyncio.create_task(read())
        completed = failed = 0
        try:
            ended = False
            while not ended:
                first = await finished.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < STREAM_BATCH and not finished.empty():
                    following = finished.get_nowait()
                    if following is None:
                        ended = True
                        break
                    batch.append(following)
                for item_id, outcome in await self._store_stream_batch(batch, caller):
                    response = pb.ReviewContractsResponse(item_id=item_id)
                    if isinstance(outcome, status_pb2.Status):
                        failed += 1
                        response.error.CopyFrom(outcome)
                    else:
                        completed += 1
                        response.review.CopyFrom(outcome)
                    response.progress.completed = completed
                    response.progress.failed = failed
                    yield response
            await reader
        finally:
            if not reader.done():
                reader.cancel()
            for task in list(running):
                task.cancel()

    async def _store_stream_batch(
        self, batch: Sequence[_ItemDone | _ItemError], caller: Caller
    ) -> list[tuple[str, pb.ContractReview | status_pb2.Status]]:
        """Store a batch in one transaction; on any failure, item by item so one bad item fails alone."""
        outcomes: dict[int, pb.ContractReview | status_pb2.Status] = {}
        done: list[tuple[int, _ItemDone]] = []
        for index, entry in enumerate(batch):
            if isinstance(entry, _ItemError):
                outcomes[index] = status_for(entry.error)
            else:
                done.append((index, entry))
        if done:
            try:
                async with self._db.transaction() as conn:
                    stored = await self._store_done(conn, [d for _, d in done], caller)
                for (index, _), outcome in zip(done, stored, strict=True):
                    outcomes[index] = outcome
            except Exception:
                for index, entry in done:
                    try:
                        async with self._db.transaction() as conn:
                            outcomes[index] = (await self._store_done(conn, [entry], caller))[0]
                    except DomainError as error:
                        outcomes[index] = status_for(error)
                    except Exception as exc:
                        mapped = _component_error(exc)
                        if mapped is None:
                            log.exception("storing a reviewed stream item failed")
                            mapped = _internal()
                        outcomes[index] = status_for(mapped)
        return [(entry.item_id, outcomes[index]) for index, entry in enumerate(batch)]

    async def _store_done(
        self, conn: AsyncConnection, done: Sequence[_ItemDone], caller: Caller
    ) -> list[pb.ContractReview | status_pb2.Status]:
        """Within one transaction: replay or refuse reused request ids, store the rest, remember responses.

        The request ids of the whole batch are looked up in one statement and the new responses remembered in
        one ``executemany`` (same table and semantics as ``server.storage.idempotency``).
        """
        results: list[pb.ContractReview | status_pb2.Status | None] = [None] * len(done)
        fresh: list[tuple[int, _Prepared]] = []
        ids = [entry.prepared.request.request_id for entry in done if entry.prepared.request.request_id]
        known = await stored_responses(conn, RPC_REVIEW, ids) if ids else {}
        claimed: dict[str, tuple[int, str]] = {}  # request id -> (its first item in this batch, digest)
        repeats: list[tuple[int, int]] = []  # (item, first item) for an id repeated with the same payload
        for index, entry in enumerate(done):
            request = entry.prepared.request
            if request.request_id:
                digest = payload_digest(request)
                stored = known.get(request.request_id)
                if stored is not None and stored[0] != digest:
                    results[index] = status_for(_request_id_reused(request.request_id))
                    continue
                if stored is not None:
                    blob = await self._keyring.open(
                        conn,
                        contract_subject(request.contract_id),
                        stored[1],
                        context=f"idempotency:{RPC_REVIEW}:{request.request_id}",
                    )
                    replay = pb.ReviewContractResponse()
                    replay.ParseFromString(blob)
                    results[index] = replay.review
                    continue
                first = claimed.get(request.request_id)
                if first is not None:
                    # The same id twice in one batch: the first is stored; a retry of it gets the same review.
                    if first[1] == digest:
                        repeats.append((index, first[0]))
                    else:
                        results[index] = status_for(_request_id_reused(request.request_id))
                    continue
                claimed[request.request_id] = (index, digest)
            fresh.append((index, entry.prepared))
        reviews = await self._persist(conn, [p for _, p in fresh], caller) if fresh else []
        remembered: list[tuple[str, str, bytes, int]] = []
        now_us = self._now_us()
        for (index, prepared), review in zip(fresh, reviews, strict=True):
            results[index] = review
            request = prepared.request
            if request.request_id:
                # Shared with ReviewContract: a retry of either form replays the same review.
                blob = pb.ReviewContractResponse(review=review).SerializeToString(deterministic=True)
                context = f"idempotency:{RPC_REVIEW}:{request.request_id}"
                sealed = await self._keyring.seal(conn, contract_subject(request.contract_id), blob, context=context)
                remembered.append((request.request_id, payload_digest(request), sealed, now_us))
        await remember_many(conn, RPC_REVIEW, remembered)
        for index, first_index in repeats:
            results[index] = results[first_index]
        return [r for r in results if r is not None]

    # ------------------------------------------------------------------ reads

    async def ListContractReviews(
        self, request: pb.ListContractReviewsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListContractReviewsResponse:
        caller = current_caller()
        size = request.page_size or DEFAULT_PAGE_SIZE
        min_severity = int(request.min_severity)
        scope = filter_scope(RPC_LIST_REVIEWS, {"playbook_id": request.playbook_id, "min_severity": min_severity})
        after = None
        if request.page_token:
            position = self._tokens.decode(request.page_token, scope=scope)
            after = ReviewCursor(int(position.get("t", 0)), str(position.get("r", "")))
        async with self._db.transaction() as conn:
            reviews, cursor = await self._reviews.page(
                conn, limit=size, after=after, playbook_id=request.playbook_id, min_severity=min_severity
            )
            if reviews:
                # Reviews quote contracts: a person reading them is recorded.
                await self._audit.append_batch(
                    conn,
                    [
                        AuditEntry(
                            kind=AuditKind.DATA_ACCESS,
                            rpc=RPC_LIST_REVIEWS,
                            decision="READ",
                            subject=contract_subject(r.contract_id),
                            caller=caller.audit_identity,
                            details={"review_id": r.review_id},
                        )
                        for r in reviews
                    ],
                )
        token = self._tokens.encode({"t": cursor.created_us, "r": cursor.review_id}, scope=scope) if cursor else ""
        return pb.ListContractReviewsResponse(reviews=reviews, next_page_token=token)

    async def GetContractReview(
        self, request: pb.GetContractReviewRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetContractReviewResponse:
        caller = current_caller()
        async with self._db.transaction() as conn:
            review = await self._reviews.get(conn, request.review_id)
            await self._audit.append(
                conn,
                AuditEntry(
                    kind=AuditKind.DATA_ACCESS,
                    rpc=RPC_GET_REVIEW,
                    decision="READ",
                    subject=contract_subject(review.contract_id),
                    caller=caller.audit_identity,
                    details={"review_id": review.review_id},
                ),
            )
        return pb.GetContractReviewResponse(review=review)

    def _page_after(self, token: str, scope: str) -> Cursor | None:
        if not token:
            return None
        position = self._tokens.decode(token, scope=scope)
        return Cursor(int(position.get("t", 0)), str(position.get("k", "")))

    def _next_token(self, cursor: Cursor | None, scope: str) -> str:
        return self._tokens.encode({"t": cursor.created_us, "k": cursor.key}, scope=scope) if cursor else ""

    async def GetRegulationAnalysis(
        self, request: pb.GetRegulationAnalysisRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetRegulationAnalysisResponse:
        # Regulations are published texts, sealed all the same: reading them back is not a DATA_ACCESS
        # of a person's data, so no audit record (unlike contract reviews).
        async with self._db.read() as conn:
            analysis = await self._analyses.get(conn, request.analysis_id)
        return pb.GetRegulationAnalysisResponse(analysis=analysis)

    async def ListRegulationAnalyses(
        self, request: pb.ListRegulationAnalysesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListRegulationAnalysesResponse:
        size = request.page_size or DEFAULT_PAGE_SIZE
        full = request.view == pb.RESULT_VIEW_FULL
        scope = filter_scope(RPC_LIST_ANALYSES, {"regulation_id": request.regulation_id, "view": int(request.view)})
        after = self._page_after(request.page_token, scope)
        async with self._db.read() as conn:
            analyses, cursor = await self._analyses.page(
                conn, limit=size, after=after, regulation_id=request.regulation_id, with_clauses=full
            )
        return pb.ListRegulationAnalysesResponse(analyses=analyses, next_page_token=self._next_token(cursor, scope))

    async def GetVersionComparison(
        self, request: pb.GetVersionComparisonRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetVersionComparisonResponse:
        async with self._db.read() as conn:
            comparison = await self._comparisons.get(conn, request.comparison_id)
        return pb.GetVersionComparisonResponse(comparison=comparison)

    async def ListVersionComparisons(
        self, request: pb.ListVersionComparisonsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListVersionComparisonsResponse:
        size = request.page_size or DEFAULT_PAGE_SIZE
        full = request.view == pb.RESULT_VIEW_FULL
        scope = filter_scope(RPC_LIST_COMPARISONS, {"regulation_id": request.regulation_id, "view": int(request.view)})
        after = self._page_after(request.page_token, scope)
        async with self._db.read() as conn:
            comparisons, cursor = await self._comparisons.page(
                conn, limit=size, after=after, regulation_id=request.regulation_id, with_clauses=full
            )
        return pb.ListVersionComparisonsResponse(
            comparisons=comparisons, next_page_token=self._next_token(cursor, scope)
        )

    async def ListPlaybooks(
        self, request: pb.ListPlaybooksRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListPlaybooksResponse:
        size = request.page_size or DEFAULT_PAGE_SIZE
        scope = filter_scope(RPC_LIST_PLAYBOOKS, {})
        start = 0
        if request.page_token:
            start = int(self._tokens.decode(request.page_token, scope=scope).get("o", 0))
        playbooks = self._engine.list_playbooks()
        page = playbooks[start : start + size]
        more = start + size < len(playbooks)
        token = self._tokens.encode({"o": start + size}, scope=scope) if more else ""
        return pb.ListPlaybooksResponse(playbooks=[mapping.playbook_to_pb(p) for p in page], next_page_token=token)


def _request_id_reused(request_id: str) -> AlreadyExists:
    # The same error server.storage.idempotency raises for a reused id (REQUEST_ID_REUSED).
    return AlreadyExists(
        f"request_id {request_id} was already used for {RPC_REVIEW} with a different payload",
        reason="REQUEST_ID_REUSED",
        domain="storage.fintech",
        metadata={"request_id": request_id, "rpc": RPC_REVIEW},
    )


def _component_error(exc: BaseException) -> DomainError | None:
    return from_component_error(exc)


_WORKER_ENGINE: ComplianceEngine | None = None


def _init_review_worker(settings: ComplianceSettings) -> None:
    global _WORKER_ENGINE
    _WORKER_ENGINE = ComplianceEngine.from_settings(settings)


def _review_many_in_worker(
    items: list[tuple[str, bytes, DocumentFormat, ContractType | None, str]],
) -> list[ContractReviewResult | InvalidArgument]:
    """A micro-batch of contract reviews in a worker process (its engine loaded once by the initializer)."""
    if _WORKER_ENGINE is None:
        raise RuntimeError("review worker not initialised")
    return _WORKER_ENGINE.review_contracts(items)


def _review_in_worker(
    contract_id: str, content: bytes, fmt: DocumentFormat, contract_type: ContractType | None, playbook_id: str
) -> ContractReviewResult:
    """Contract review in a worker process (its engine loaded once by the initializer)."""
    if _WORKER_ENGINE is None:
        raise RuntimeError("review worker not initialised")
    return _WORKER_ENGINE.review_contract(contract_id, content, fmt, contract_type, playbook_id)


class _InternalError(DomainError):
    code = ErrorCode.INTERNAL


def _internal() -> DomainError:
    # Unexpected failures become INTERNAL without leaking internals (the log has the traceback).
    return _InternalError("internal error", reason="INTERNAL", domain=DOMAIN)


def compliance_settings(ctx: AppContext) -> ComplianceSettings:
    """``ctx.settings.compliance``, or the defaults when the section is absent."""
    settings = getattr(ctx.settings, "compliance", None)
    return settings if isinstance(settings, ComplianceSettings) else ComplianceSettings()


async def build(ctx: AppContext) -> ServiceBinding:
    """The ComplianceService binding.

    Takes from ``ctx.resources``: ``"database"``, ``"audit"``, ``"keyring"``, ``"idempotency"`` and
    ``"page_tokens"`` (storage), and optionally ``"inference"`` (without it, requests asking for summaries
    or advice are refused with FAILED_PRECONDITION / LLM_NOT_CONFIGURED; deterministic work is unaffected).
    Settings: ``ctx.settings.compliance``. Playbooks, lexicon and taxonomy are loaded here (in an executor).

    Raises:
        KeyError: a required resource is not wired (naming it).
        ValueError: a malformed playbook, lexicon or taxonomy file (naming it).
    """
    settings = compliance_settings(ctx)
    database = ctx.require("database")
    engine = await asyncio.get_running_loop().run_in_executor(None, ComplianceEngine.from_settings, settings)
    servicer = ComplianceServicer(
        engine,
        settings,
        database=database,
        audit=ctx.require("audit"),
        keyring=ctx.require("keyring"),
        idempotency=ctx.require("idempotency"),
        page_tokens=ctx.require("page_tokens"),
        clock=ctx.clock,
        pool=ctx.resources.get("inference"),
    )

    async def readiness() -> str | None:
        problem: str | None = await database.ping()
        return problem

    async def close() -> None:
        servicer.executor.shutdown(wait=False, cancel_futures=True)
        if servicer.review_pool is not None:
            servicer.review_pool.shutdown(wait=False, cancel_futures=True)

    return ServiceBinding(
        name=SERVICE_NAME,
        full_name=FULL_NAME,
        servicer=servicer,
        add_to_server=pb_grpc.add_ComplianceServiceServicer_to_server,
        readiness=readiness,
        close=close,
    )
