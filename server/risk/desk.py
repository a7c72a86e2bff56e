"""The risk service's use cases: assess (one or a micro-batch), the model card, the review queue.

Owns the transactions: each assessment (or micro-batch of assessments) is stored with its audit
records in one transaction, the audit append last; REFER decisions open a review in the same
transaction. CPU work (validation, mapping, the engine) runs in an executor so the event loop keeps
serving; for the stream, in worker processes (:mod:`server.risk.deciding`) so that it uses another core.
Works with protobuf messages (the stored and replayed form) but never imports ``grpc``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from fintech.common.v1 import common_pb2
from fintech.risk.v1 import risk_service_pb2 as pb
from google.protobuf import timestamp_pb2
from sqlalchemy.ext.asyncio import AsyncConnection

from server.audit.records import AuditEntry, AuditKind, ValidationOutcome
from server.risk import mapping, repository
from server.risk.deciding import (
    BatchDecisions,
    Decision,
    decide,
    decide_in_worker,
    decide_micro_batch,
    decide_micro_batch_in_worker,
)
from server.risk.domain import LoanAssessment
from server.risk.drift import ScoreDriftMonitor
from server.risk.engine import ENGINE_NAME, ERROR_DOMAIN, RiskEngine
from server.risk.explaining import ExplanationOutcome, explain
from server.risk.lane import DecisionLane, bytes_field, text_field
from server.risk.model_card import build_model_card
from server.risk.settings import RiskSettings
from server.runtime.clock import Clock
from server.runtime.errors import (
    Aborted,
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    NotFound,
)
from server.storage.idempotency import lookup as idempotency_lookup
from server.storage.idempotency import payload_digest
from server.storage.page_tokens import filter_scope

SERVICE = "/fintech.risk.v1.RiskService"
RPC_ASSESS = f"{SERVICE}/AssessLoanApplication"
RPC_ASSESS_STREAM = f"{SERVICE}/AssessLoanApplications"
RPC_LIST_REVIEWS = f"{SERVICE}/ListLoanReviews"
RPC_DECIDE_REVIEW = f"{SERVICE}/DecideLoanReview"
DEFAULT_PAGE_SIZE = 50

_SOURCE = {
    "LLM": common_pb2.EXPLANATION_SOURCE_LLM,
    "TEMPLATE": common_pb2.EXPLANATION_SOURCE_TEMPLATE,
    "NONE": common_pb2.EXPLANATION_SOURCE_NONE,
}
_VALIDATION = {
    "PASSED": common_pb2.VALIDATION_OUTCOME_PASSED,
    "FAILED": common_pb2.VALIDATION_OUTCOME_FAILED,
    "NOT_APPLICABLE": common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE,
}
_RESPONSE_FIELDS = pb.AssessLoanApplicationsResponse.DESCRIPTOR.fields_by_name
_ASSESSMENT_FIELD = _RESPONSE_FIELDS["assessment"].number
_ERROR_FIELD = _RESPONSE_FIELDS["error"].number
_RESULTS_FIELD = _RESPONSE_FIELDS["results"].number
_PROVENANCE_FIELD = pb.LoanAssessment.DESCRIPTOR.fields_by_name["provenance"].number
_AUDIT_ID_FIELD = common_pb2.Provenance.DESCRIPTOR.fields_by_name["audit_record_id"].number
_REVIEW_STATUS = {repository.PENDING: pb.LOAN_REVIEW_STATUS_PENDING, repository.DECIDED: pb.LOAN_REVIEW_STATUS_DECIDED}


@dataclass(frozen=True)
class CallerInfo:
    """Who is calling, as the desk needs it (taken from ``current_caller()`` by the servicer)."""

    audit_identity: str
    principal: str


@dataclass(frozen=True)
class _Decided:
    """One application the engine decided, before it is stored."""

    request: pb.AssessLoanApplicationRequest
    decision: Decision
    explanation: ExplanationOutcome | None

    @property
    def digest(self) -> str:
        return self.decision.digest


@dataclass
class DecidedBatch:
    """A micro-batch after the engine, before storage: responses (errors filled in) and what to store."""

    responses: list[pb.AssessLoanApplicationsResponse]
    decided: list[_Decided]
    positions: list[int]
    """Index in ``responses`` of each entry of ``decided``."""


ROW_DIGEST_FORMAT = "sha256(assessment_id NUL request_id NUL input_digest NUL recommendation NUL score NUL payload)"
"""What a micro-batch audit record's per-assessment hash covers (stated in the record itself): the row's
clear fields as UTF-8 text, each followed by U+0000, then the sealed payload's bytes as stored."""


def row_digest(
    assessment_id: str, request_id: str, input_digest: str, recommendation: str, score: int, payload: bytes
) -> str:
    """SHA-256 (hex) of a stored assessment row as a micro-batch audit record names it (:data:`ROW_DIGEST_FORMAT`).

    It covers the sealed payload as stored, so it still verifies after the applicant was erased. The text
    fields cannot contain U+0000 (the contract's patterns and the engine's names), so the encoding is
    unambiguous.
    """
    head = f"{assessment_id}\x00{request_id}\x00{input_digest}\x00{recommendation}\x00{score}\x00"
    return hashlib.sha256(head.encode() + payload).hexdigest()


def _timestamp_us(micros: int | None) -> timestamp_pb2.Timestamp | None:
    if micros is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMicroseconds(micros)
    return stamp


def _recommendation_name(value: int) -> str:
    return str(pb.Recommendation.Name(value)).removeprefix("RECOMMENDATION_")


class RiskDesk:
    """The risk service's use cases over the engine, storage, audit trail and inference pool."""

    def __init__(
        self,
        *,
        engine: RiskEngine,
        monitor: ScoreDriftMonitor,
        settings: RiskSettings,
        database: Any,
        audit: Any,
        keyring: Any,
        idempotency: Any,
        page_tokens: Any,
        pool: Any | None,
        clock: Clock,
        executor: Executor | None = None,
        decide_pool: Executor | None = None,
    ) -> None:
        """Bind the engine to the process's shared resources (see :func:`server.risk.service.build`)."""
        self.engine = engine
        self.monitor = monitor
        self.settings = settings
        self._db = database
        self._audit = audit
        self._keyring = keyring
        self._idempotency = idempotency
        self._tokens = page_tokens
        self.pool = pool
        self._clock = clock
        self._executor = executor
        self._decide_pool = decide_pool
        self._lane = DecisionLane(engine)

    def _new_id(self) -> str:
        return os.urandom(16).hex()

    def _now_us(self) -> int:
        return int(self._clock.now().timestamp() * 1_000_000)

    async def _cpu(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    # -- assessing ---------------------------------------------------------------------------------

    async def _explain(
        self, assessment: LoanAssessment, caller: CallerInfo, time_remaining: float | None, *, batch: bool
    ) -> ExplanationOutcome:
        return await explain(
            assessment,
            self.pool,
            attempts=self.settings.explanation_attempts,
            caller=caller.principal,
            time_remaining=time_remaining,
            batch=batch,
        )

    async def assess(
        self, request: pb.AssessLoanApplicationRequest, *, caller: CallerInfo, time_remaining: float | None = None
    ) -> pb.AssessLoanApplicationResponse:
        """Assess one application, idempotently by ``request_id`` (a retry gets the stored response).

        Raises:
            InvalidArgument: a field the engine refuses (named).
            AlreadyExists: REQUEST_ID_REUSED (the id was used with another payload).
        """
        digest = payload_digest(request)
        async with self._db.read() as conn:
            stored = await idempotency_lookup(conn, rpc=RPC_ASSESS, request_id=request.request_id, digest=digest)
        decided: _Decided | None = None
        if stored is None:
            # The engine and the LLM run outside the transaction: neither holds the write lock.
            application = mapping.application_from_proto(request)
            assessment: LoanAssessment = await self._cpu(self.engine.assess, application)
            outcome = (
                await self._explain(assessment, caller, time_remaining, batch=False)
                if request.include_explanation
                else None
            )
            decided = _Decided(request, Decision.of(digest, assessment), outcome)

        async def work(conn: AsyncConnection) -> pb.AssessLoanApplicationResponse:
            if decided is None:  # the stored response vanished between the read and this transaction
                raise Aborted("the stored response changed; retry", reason="RETRY", domain=ERROR_DOMAIN)
            result = (await self._persist(conn, [decided], rpc=RPC_ASSESS, caller=caller))[0]
            if isinstance(result, DomainError):
                raise result
            return pb.AssessLoanApplicationResponse(assessment=result)

        response: pb.AssessLoanApplicationResponse = await self._idempotency.run(
            rpc=RPC_ASSESS,
            request_id=request.request_id,
            request=request,
            response_type=pb.AssessLoanApplicationResponse,
            work=work,
            subject=repository.applicant_subject(request.applicant.applicant_id),
        )
        if decided is not None:
            self.monitor.observe([decided.decision.score])
        return response

    async def assess_batch(
        self, items: Sequence[pb.AssessLoanApplicationsRequest], *, caller: CallerInfo
    ) -> list[pb.AssessLoanApplicationsResponse]:
        """Assess a micro-batch of stream items; stored with their audit records in one transaction.

        The two stages (:meth:`decide_batch`, :meth:`store_batch`) one after the other; the stream
        pipelines them so that one batch is decided while the previous one is stored.

        Returns:
            One response per item, in order: the assessment, or the item's error as a ``google.rpc.Status``.
        """
        return await self.store_batch(await self.decide_batch(items, caller=caller), caller=caller)

    async def decide_batch(
        self, items: Sequence[pb.AssessLoanApplicationsRequest], *, caller: CallerInfo
    ) -> DecidedBatch:
        """Validate, map and assess a micro-batch and explain the items that ask for it.

        The CPU part (:func:`server.risk.deciding.decide`) runs in the worker process pool when the service
        has one (``risk.stream_decide_processes``), else in the engine thread. Nothing is stored: the batch
        is released only by :meth:`store_batch`.
        """
        serialized = [item.SerializeToString() for item in items]
        if self._decide_pool is not None:  # another process: the engine runs beside gRPC and storage
            loop = asyncio.get_running_loop()
            decisions: list[Decision] = await loop.run_in_executor(self._decide_pool, decide_in_worker, serialized)
        else:
            decisions = await self._cpu(decide, self.engine, serialized)
        batch = DecidedBatch(
            responses=[pb.AssessLoanApplicationsResponse(item_id=item.item_id) for item in items],
            decided=[],
            positions=[],
        )
        explain_jobs: dict[int, Any] = {}
        for index, (item, decision) in enumerate(zip(items, decisions, strict=True)):
            if decision.error:
                batch.responses[index].error.ParseFromString(decision.error)
                continue
            request = item.application
            if request.include_explanation:
                # The LLM needs the engine's full result: decide this item again here (deterministic, the
                # same assessment) rather than ship every result's domain object between processes.
                assessment = await self._cpu(self.engine.assess, mapping.application_from_proto(request))
                explain_jobs[len(batch.decided)] = self._explain(assessment, caller, None, batch=True)
            batch.decided.append(_Decided(request, decision, None))
            batch.positions.append(index)
        if explain_jobs:
            outcomes = await asyncio.gather(*explain_jobs.values())
            for slot, outcome_ in zip(explain_jobs, outcomes, strict=True):
                d = batch.decided[slot]
                batch.decided[slot] = _Decided(d.request, d.decision, outcome_)
        return batch

    async def store_batch(self, batch: DecidedBatch, *, caller: CallerInfo) -> list[pb.AssessLoanApplicationsResponse]:
        """Store a decided micro-batch with one audit record per new assessment, in ONE transaction.

        Returns:
            The batch's responses, complete only after the commit.
        """
        from server.runtime.interceptors import status_for

        responses = batch.responses
        if batch.decided:
            async with self._db.transaction() as conn:
                stored = await self._persist(conn, batch.decided, rpc=RPC_ASSESS_STREAM, caller=caller)
            # Released only now, after the commit.
            fresh_scores = []
            for position, result, d in zip(batch.positions, stored, batch.decided, strict=True):
                if isinstance(result, DomainError):
                    responses[position].error.CopyFrom(status_for(result))
                else:
                    responses[position].assessment.CopyFrom(result)
                    fresh_scores.append(d.decision.score)
            self.monitor.observe(fresh_scores)
        return responses

    # -- micro-batch messages (``items``) ---------------------------------------------------------

    async def decide_micro_batch(self, message: pb.AssessLoanApplicationsRequest) -> BatchDecisions:
        """Validate, map and assess every item of a micro-batch message (worker process or engine thread).

        Nothing is stored: the batch is released only by :meth:`store_micro_batch`.
        """
        serialized = message.SerializeToString()
        now_us = self._now_us()
        if self._decide_pool is not None:
            loop = asyncio.get_running_loop()
            batch: BatchDecisions = await loop.run_in_executor(
                self._decide_pool, decide_micro_batch_in_worker, serialized, now_us
            )
            return batch
        result: BatchDecisions = await self._cpu(decide_micro_batch, self._lane, serialized, now_us)
        return result

    async def store_micro_batch(
        self, message: pb.AssessLoanApplicationsRequest, batch: BatchDecisions, *, caller: CallerInfo
    ) -> pb.AssessLoanApplicationsResponse:
        """Store a decided micro-batch and ONE audit record naming every assessment, in one transaction.

        Every new assessment is a row (sealed under its applicant's data key); a REFER opens a review;
        the audit record (``decision`` ``BATCH:APPROVE=a,REFER=r,DECLINE=d``) lists, in its sealed
        details, each assessment's id, request id, decision and the SHA-256 of its stored row
        (:func:`row_digest`), so each one can be checked against the trail. A ``request_id`` stored
        before (or earlier in the batch) is answered with the stored assessment, or ``REQUEST_ID_REUSED``.

        Returns:
            The message's response: one result per item in order, released only after the commit.
        """
        from server.runtime.interceptors import status_for

        errors = batch.errors
        candidates = [i for i, error in enumerate(errors) if not error]
        stored_results: dict[int, pb.LoanAssessment | DomainError] = {}
        repeats: dict[int, int] = {}  # a request_id repeated within the batch: answered like its first item
        fresh: list[int] = []
        record_id = ""
        if candidates:
            async with self._db.transaction() as conn:
                wanted = [batch.request_ids[i] for i in candidates]
                # Almost always none is stored: ask which exist first (cheap), open only those.
                known = await repository.stored_request_ids(conn, wanted)
                existing = await repository.find_by_request_ids(conn, self._keyring, known) if known else {}
                seen: dict[str, int] = {}
                for index in candidates:
                    request_id = batch.request_ids[index]
                    previous = existing.get(request_id)
                    first = seen.get(request_id)
                    if previous is None and first is None:
                        seen[request_id] = index
                        fresh.append(index)
                        continue
                    digest = previous.input_digest if previous is not None else batch.digests[first]  # type: ignore[index]
                    if digest != batch.digests[index]:
                        stored_results[index] = AlreadyExists(
                            f"request_id {request_id} was already used with a different application",
                            reason="REQUEST_ID_REUSED",
                            domain=ERROR_DOMAIN,
                            metadata={"request_id": request_id},
                        )
                    elif previous is not None:
                        stored_results[index] = previous.message
                    else:
                        repeats[index] = first  # type: ignore[assignment]
                if fresh:
                    record_id = await self._store_fresh(conn, batch, fresh, caller=caller)
            self.monitor.observe([batch.scores[i] for i in fresh])
        # Released only now, after the commit. The response is written as its protobuf encoding (each
        # result: item id, then the stored payload with the audit record id appended, or the error) and
        # parsed once: building a thousand results field by field costs more than the storage.
        audit_suffix = bytes_field(_PROVENANCE_FIELD, text_field(_AUDIT_ID_FIELD, record_id))
        item_ids = batch.item_ids
        bodies: list[bytes] = [b""] * len(errors)
        for index in fresh:
            bodies[index] = bytes_field(_ASSESSMENT_FIELD, batch.payloads[index] + audit_suffix)
        for index, first_index in repeats.items():
            bodies[index] = bodies[first_index]
        for index, error in enumerate(errors):
            if error:
                bodies[index] = bytes_field(_ERROR_FIELD, error)
        for index, result in stored_results.items():
            if isinstance(result, DomainError):
                bodies[index] = bytes_field(_ERROR_FIELD, status_for(result).SerializeToString())
            else:
                bodies[index] = bytes_field(_ASSESSMENT_FIELD, result.SerializeToString())
        encoded = text_field(1, message.item_id) + b"".join(
            bytes_field(_RESULTS_FIELD, text_field(1, item_id) + body)
            for item_id, body in zip(item_ids, bodies, strict=True)
        )
        return pb.AssessLoanApplicationsResponse.FromString(encoded)

    async def _store_fresh(
        self, conn: AsyncConnection, batch: BatchDecisions, fresh: Sequence[int], *, caller: CallerInfo
    ) -> str:
        """Rows, reviews and the batch's audit record for the new assessments; returns the record id."""
        now_us = self._now_us()
        rows = [
            (
                batch.assessment_ids[i],
                batch.request_ids[i],
                batch.digests[i],
                batch.application_ids[i],
                batch.applicant_ids[i],
                batch.recommendations[i],
                batch.risk_levels[i],
                batch.scores[i],
                batch.model_id,
                batch.rule_set_version,
                "NONE",
                batch.review_ids[i] or None,
                now_us,
            )
            for i in fresh
        ]
        sealed = await repository.insert_sealed_rows(conn, self._keyring, rows, [batch.payloads[i] for i in fresh])
        await repository.insert_reviews(
            conn,
            [
                (batch.review_ids[i], batch.assessment_ids[i], batch.application_ids[i], batch.applicant_ids[i])
                for i in fresh
                if batch.review_ids[i]
            ],
            created_us=now_us,
        )
        counts = {"APPROVE": 0, "REFER": 0, "DECLINE": 0}
        listed = []
        for i, row, blob in zip(fresh, rows, sealed, strict=True):
            counts[batch.recommendations[i]] += 1
            listed.append([row[0], row[1], row[5], row_digest(row[0], row[1], row[2], row[5], row[7], blob)])
        # Last: the chain head is held briefly.
        receipt = (
            await self._audit.append_bulk(
                conn,
                [
                    AuditEntry(
                        kind=AuditKind.DECISION,
                        rpc=RPC_ASSESS_STREAM,
                        decision="BATCH:" + ",".join(f"{k}={v}" for k, v in counts.items()),
                        subject=None,
                        caller=caller.audit_identity,
                        input_digest=hashlib.sha256("".join(row[2] for row in rows).encode()).hexdigest(),
                        engine=ENGINE_NAME,
                        engine_version=batch.engine_version,
                        rule_set_version=batch.rule_set_version,
                        model_id=batch.model_id,
                        validation_outcome=ValidationOutcome.NOT_APPLICABLE,
                        details={"assessments": listed, "row_digest": ROW_DIGEST_FORMAT},
                    )
                ],
            )
        )[0]
        record_id: str = receipt.record_id
        return record_id

    async def _persist(
        self, conn: AsyncConnection, decided: Sequence[_Decided], *, rpc: str, caller: CallerInfo
    ) -> list[pb.LoanAssessment | DomainError]:
        """Store assessments, open reviews for REFER and append one audit record per new decision, in ``conn``.

        A ``request_id`` already stored answers with the stored assessment (same payload) or
        ``REQUEST_ID_REUSED`` (another payload).
        """
        now = self._clock.now().astimezone(UTC)
        now_us = int(now.timestamp() * 1_000_000)
        existing = await repository.find_by_request_ids(conn, self._keyring, [d.request.request_id for d in decided])
        results: list[pb.LoanAssessment | DomainError | None] = []
        rows: list[repository.NewAssessment] = []
        reviews: list[tuple[str, str, str, str]] = []
        entries: list[AuditEntry] = []
        fresh: list[int] = []
        batch_ids: dict[str, tuple[str, pb.LoanAssessment]] = {}
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(now)
        for d in decided:
            request_id = d.request.request_id
            previous = existing.get(request_id)
            seen = (previous.input_digest, previous.message) if previous is not None else batch_ids.get(request_id)
            if seen is not None:
                if seen[0] != d.digest:
                    results.append(
                        AlreadyExists(
                            f"request_id {request_id} was already used with a different application",
                            reason="REQUEST_ID_REUSED",
                            domain=ERROR_DOMAIN,
                            metadata={"request_id": request_id},
                        )
                    )
                else:
                    results.append(seen[1])
                continue
            message = self._message(d, stamp)
            assessment_id = self._new_id()
            if d.decision.recommendation == "REFER":
                message.review_id = self._new_id()
                reviews.append(
                    (message.review_id, assessment_id, message.application_id, d.request.applicant.applicant_id)
                )
            source = d.explanation.source if d.explanation is not None else "NONE"
            rows.append(
                repository.NewAssessment(
                    assessment_id=assessment_id,
                    request_id=request_id,
                    input_digest=d.digest,
                    applicant_id=d.request.applicant.applicant_id,
                    explanation_source=source,
                    created_us=now_us,
                    message=message,
                )
            )
            entries.append(self._audit_entry(d, message, assessment_id, rpc=rpc, caller=caller))
            batch_ids[request_id] = (d.digest, message)
            fresh.append(len(results))
            results.append(message)
        await repository.insert_assessments(conn, self._keyring, rows)
        await repository.insert_reviews(conn, reviews, created_us=now_us)
        # Last: the chain head is held briefly. The bulk append writes the same records as append_batch.
        receipts = await self._audit.append_bulk(conn, entries)
        for index, receipt in zip(fresh, receipts, strict=True):
            stored = results[index]
            assert isinstance(stored, pb.LoanAssessment)
            stored.provenance.audit_record_id = receipt.record_id
        return [r for r in results if r is not None]

    def _message(self, d: _Decided, assess_time: timestamp_pb2.Timestamp) -> pb.LoanAssessment:
        message = pb.LoanAssessment()
        message.ParseFromString(d.decision.message)
        message.assess_time.CopyFrom(assess_time)
        outcome = d.explanation
        if outcome is None:
            message.explanation_source = common_pb2.EXPLANATION_SOURCE_NONE
            message.provenance.validation_outcome = common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE
            return message
        message.explanation = outcome.text
        message.explanation_source = _SOURCE[outcome.source]
        message.provenance.validation_outcome = _VALIDATION[outcome.validation]
        if outcome.prompt_ref:
            message.provenance.prompt_template_id = outcome.prompt_ref.partition("@")[0]
            message.provenance.prompt_template_version = outcome.prompt_version
        message.provenance.llm_model = outcome.llm_model
        message.provenance.llm_endpoint = outcome.llm_endpoint
        return message

    def _audit_entry(
        self, d: _Decided, message: pb.LoanAssessment, assessment_id: str, *, rpc: str, caller: CallerInfo
    ) -> AuditEntry:
        outcome = d.explanation
        details: dict[str, Any] = {"assessment_id": assessment_id, "application_id": message.application_id}
        if message.review_id:
            details["review_id"] = message.review_id
        validation = ValidationOutcome.NOT_APPLICABLE
        llm_output = ""
        if outcome is not None:
            validation = ValidationOutcome(outcome.validation)
            details["explanation_source"] = outcome.source
            if outcome.reason:
                details["template_reason"] = outcome.reason
            if outcome.unsupported:
                details["unsupported"] = [
                    [{"text": s.text, "reason": s.reason} for s in spans] for spans in outcome.unsupported
                ]
            if outcome.raw_outputs:
                llm_output = json.dumps(list(outcome.raw_outputs))
        return AuditEntry(
            kind=AuditKind.DECISION,
            rpc=rpc,
            decision=d.decision.recommendation,
            subject=repository.applicant_subject(d.request.applicant.applicant_id),
            request_id=d.request.request_id,
            caller=caller.audit_identity,
            input_digest=d.digest,
            engine=ENGINE_NAME,
            engine_version=d.decision.engine_version,
            rule_set_version=d.decision.rule_set_version,
            model_id=d.decision.model_id,
            prompt_template_id=outcome.prompt_ref if outcome is not None else "",
            prompt_template_digest=outcome.prompt_digest if outcome is not None else "",
            validation_outcome=validation,
            llm_output=llm_output,
            details=details,
        )

    # -- model card ---------------------------------------------------------------------------------

    def model_card(self) -> pb.ModelCard:
        """The scorecard's model card with the PSI of recent assessments (NaN until enough were seen)."""
        card = build_model_card(self.engine.scorecard, self.engine.policy, self.monitor.psi())
        return mapping.model_card_to_proto(card)

    # -- the review queue ---------------------------------------------------------------------------

    def _review_pb(self, record: repository.ReviewRecord) -> pb.LoanReview:
        review = pb.LoanReview(
            review_id=record.review_id,
            application_id=record.application_id,
            assessment=record.assessment,
            status=_REVIEW_STATUS[record.status],
            justification=record.justification,
            decided_by=record.decided_by or "",
            create_time=_timestamp_us(record.created_us),
        )
        if record.final_decision:
            review.final_decision = pb.Recommendation.Value(f"RECOMMENDATION_{record.final_decision}")
        if record.decided_us is not None:
            review.decide_time.CopyFrom(_timestamp_us(record.decided_us))
        return review

    async def list_reviews(self, request: pb.ListLoanReviewsRequest) -> pb.ListLoanReviewsResponse:
        """A page of the review queue, oldest first, optionally one status (signed page tokens).

        Raises:
            InvalidArgument: a page token not issued for this list and filter.
        """
        status = None
        if request.status != pb.LOAN_REVIEW_STATUS_UNSPECIFIED:
            status = str(pb.LoanReviewStatus.Name(request.status)).removeprefix("LOAN_REVIEW_STATUS_")
        scope = filter_scope(RPC_LIST_REVIEWS, {"status": status or ""})
        after = None
        if request.page_token:
            position = self._tokens.decode(request.page_token, scope=scope)
            after = (int(position["c"]), str(position["r"]))
        size = request.page_size or DEFAULT_PAGE_SIZE
        async with self._db.read() as conn:
            records = await repository.list_reviews(conn, self._keyring, status=status, after=after, limit=size + 1)
        response = pb.ListLoanReviewsResponse(reviews=[self._review_pb(r) for r in records[:size]])
        if len(records) > size:
            last = records[size - 1]
            response.next_page_token = self._tokens.encode({"c": last.created_us, "r": last.review_id}, scope=scope)
        return response

    async def decide_review(
        self, request: pb.DecideLoanReviewRequest, *, caller: CallerInfo
    ) -> pb.DecideLoanReviewResponse:
        """A loan officer's decision on a REFER, audited, idempotent by ``request_id``.

        Raises:
            NotFound: no such review.
            FailedPrecondition: the review was already decided.
        """
        decision = _recommendation_name(request.decision)

        async def work(conn: AsyncConnection) -> pb.DecideLoanReviewResponse:
            record = await repository.get_review(conn, self._keyring, request.review_id)
            if record is None:
                raise NotFound(
                    "no such loan review",
                    reason="REVIEW_NOT_FOUND",
                    domain=ERROR_DOMAIN,
                    metadata={"review_id": request.review_id},
                )
            if record.status != repository.PENDING:
                raise FailedPrecondition(
                    f"the review was already decided ({record.final_decision})",
                    reason="REVIEW_ALREADY_DECIDED",
                    domain=ERROR_DOMAIN,
                    metadata={"review_id": request.review_id},
                )
            now_us = self._now_us()
            decided = await repository.decide_review(
                conn,
                self._keyring,
                review=record,
                decision=decision,
                decided_by=caller.audit_identity,
                justification=request.justification,
                decided_us=now_us,
            )
            if not decided:
                raise FailedPrecondition(
                    "the review was decided concurrently",
                    reason="REVIEW_ALREADY_DECIDED",
                    domain=ERROR_DOMAIN,
                    metadata={"review_id": request.review_id},
                )
            provenance = record.assessment.provenance
            engine_reasons = [r.code for r in record.assessment.key_risk_points] + [
                h.rule_id for h in record.assessment.rule_hits
            ]
            await self._audit.append(
                conn,
                AuditEntry(
                    kind=AuditKind.DECISION,
                    rpc=RPC_DECIDE_REVIEW,
                    decision=f"REVIEW:REFER->{decision}",
                    subject=repository.applicant_subject(record.applicant_id),
                    request_id=request.request_id,
                    caller=caller.audit_identity,
                    input_digest=payload_digest(request),
                    engine=provenance.engine,
                    engine_version=provenance.engine_version,
                    rule_set_version=provenance.rule_set_version,
                    model_id=provenance.model_id,
                    validation_outcome=ValidationOutcome.NOT_APPLICABLE,
                    details={
                        "review_id": record.review_id,
                        "assessment_id": record.assessment_id,
                        "application_id": record.application_id,
                        "engine_recommendation": "REFER",
                        "engine_reasons": engine_reasons,
                        "final_decision": decision,
                        "justification": request.justification,
                    },
                ),
            )
            updated = repository.ReviewRecord(
                **{
                    **record.__dict__,
                    "status": repository.DECIDED,
                    "final_decision": decision,
                    "decided_by": caller.audit_identity,
                    "decided_us": now_us,
                    "justification": request.justification,
                }
            )
            return pb.DecideLoanReviewResponse(review=self._review_pb(updated))

        async with self._db.read() as conn:
            known = await repository.get_review(conn, self._keyring, request.review_id)
        # The stored response holds the applicant's assessment: sealed under their key, so erasure covers it.
        subject = repository.applicant_subject(known.applicant_id) if known is not None else None
        response: pb.DecideLoanReviewResponse = await self._idempotency.run(
            rpc=RPC_DECIDE_REVIEW,
            request_id=request.request_id,
            request=request,
            response_type=pb.DecideLoanReviewResponse,
            work=work,
            subject=subject,
        )
        return response
