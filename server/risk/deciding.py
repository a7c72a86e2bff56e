"""Deciding stream items: validation, mapping and the engine, in plain data.

Owns the CPU half of ``AssessLoanApplications`` (everything before storage), written so that it can run
in another process: :func:`decide` takes serialized single items and returns :class:`Decision` values;
:func:`decide_micro_batch` takes one serialized micro-batch message (``items``) and returns
:class:`BatchDecisions`, columns of bytes, strings and numbers with each stored payload already finished,
decided by the engine's columnar lane (:mod:`server.risk.lane`). Both validate with the fast contract
check (:mod:`server.risk.validation`) and fall back to protovalidate for the error of an item it refuses,
so a bad item gets its own ``google.rpc.Status`` naming its fields. The servicer runs them in a worker
process (:func:`start_worker`, ``risk.stream_decide_processes``) so that the engine uses another core
than gRPC and storage, or in the engine thread when that setting is 0.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fintech.common.v1 import common_pb2
from fintech.risk.v1 import risk_service_pb2 as pb
from google.protobuf import timestamp_pb2

from server.risk import mapping
from server.risk.domain import LoanApplication, LoanAssessment
from server.risk.engine import ERROR_DOMAIN, RiskEngine
from server.risk.lane import DecisionLane
from server.risk.validation import ApplicationFields, passes_contract, read_application
from server.runtime.errors import FieldViolation, InvalidArgument
from server.storage.idempotency import payload_digest


@dataclass(frozen=True)
class Decision:
    """One stream item after the engine: an error, or what storage and the response need.

    Attributes:
        error: The item's ``google.rpc.Status`` (serialized); empty when it was decided.
        digest: ``payload_digest`` of the application (idempotency and the audit record).
        message: The engine's part of the ``LoanAssessment`` (serialized; ``assessment_to_proto``).
        recommendation: ``APPROVE``, ``REFER`` or ``DECLINE``.
        score: The scorecard score (drift).
        engine_version: For the audit record.
        rule_set_version: For the audit record.
        model_id: For the audit record.
    """

    error: bytes = b""
    digest: str = ""
    message: bytes = b""
    recommendation: str = ""
    score: int = 0
    engine_version: str = ""
    rule_set_version: str = ""
    model_id: str = ""

    @classmethod
    def of(cls, digest: str, assessment: LoanAssessment) -> Decision:
        """The decision for an assessment the engine made."""
        return cls(
            digest=digest,
            message=mapping.assessment_to_proto(assessment).SerializeToString(),
            recommendation=assessment.recommendation.value,
            score=assessment.score,
            engine_version=assessment.engine_version,
            rule_set_version=assessment.rule_set_version,
            model_id=assessment.model_id,
        )


def prefixed(error: InvalidArgument, prefix: str) -> InvalidArgument:
    """The same error with every field named from the stream item (``application.loan.amount``)."""
    return InvalidArgument(
        error.message,
        reason=error.reason,
        domain=error.domain,
        metadata=dict(error.metadata),
        violations=tuple(FieldViolation(prefix + v.field, v.description, v.reason) for v in error.violations),
    )


def decide(engine: RiskEngine, items: Sequence[bytes]) -> list[Decision]:
    """Validate (the contract's rules), map and assess serialized ``AssessLoanApplicationsRequest`` items.

    A bad item gets its own ``INVALID_ARGUMENT`` status naming fields from the item
    (``application.applicant.age``, ``application`` when missing); the others are assessed together
    with the vectorised :meth:`RiskEngine.assess_batch`.
    """
    from server.runtime.interceptors import status_for  # the error mapping

    decisions: list[Decision | None] = []
    valid: list[tuple[int, pb.AssessLoanApplicationRequest]] = []
    applications = []
    for raw in items:
        item = pb.AssessLoanApplicationsRequest.FromString(raw)
        try:
            application = checked_application(item)
        except InvalidArgument as error:
            decisions.append(Decision(error=status_for(error).SerializeToString()))
            continue
        valid.append((len(decisions), item.application))
        decisions.append(None)
        applications.append(application)
    for (index, request), outcome in zip(valid, engine.assess_batch(applications), strict=True):
        if isinstance(outcome, InvalidArgument):
            decisions[index] = Decision(error=status_for(prefixed(outcome, "application.")).SerializeToString())
        else:
            decisions[index] = Decision.of(payload_digest(request), outcome)
    return [d for d in decisions if d is not None]


def checked_application(item: pb.AssessLoanApplicationsRequest) -> LoanApplication:
    """The domain application of one stream item, after the contract's rules and the mapping's checks.

    The contract's rules are checked by :func:`server.risk.validation.passes_contract` first (a few
    µs); only an item it refuses goes to protovalidate's ``check_message``, which names the fields.

    Raises:
        InvalidArgument: fields named from the item (``application.applicant.age``; ``application`` when
            missing; ``items`` when a batch item carries a batch of its own).
    """
    from server.runtime.interceptors import check_message  # the contract's validator (protovalidate)

    if item.items:
        raise InvalidArgument(
            "a micro-batch item cannot carry items of its own",
            reason="INVALID_REQUEST",
            domain=ERROR_DOMAIN,
            violations=(FieldViolation("items", "must be empty in a micro-batch item", "NESTED_BATCH"),),
        )
    if not passes_contract(item):
        check_message(item)
    if not item.HasField("application"):
        raise InvalidArgument(
            "the item carries no application",
            reason="INVALID_REQUEST",
            domain=ERROR_DOMAIN,
            violations=(FieldViolation("application", "required", "REQUIRED"),),
        )
    try:
        return mapping.application_from_proto(item.application)
    except InvalidArgument as error:
        raise prefixed(error, "application.") from None


NO_EXPLANATION_IN_BATCH = InvalidArgument(
    "explanations are not available in a micro-batch message; send the item on its own",
    reason="EXPLANATION_NOT_IN_BATCH",
    domain=ERROR_DOMAIN,
    violations=(
        FieldViolation("application.include_explanation", "must be false in a micro-batch item", "NOT_IN_BATCH"),
    ),
)
"""A micro-batch never waits on the LLM: an item asking for an explanation is refused on its own."""


@dataclass(frozen=True)
class BatchDecisions:
    """A micro-batch message after the engine, as columns (one entry per item, in order).

    Columns cross the process boundary far more cheaply than one object per item. For an item with an
    error only ``errors`` is meaningful (the other columns hold empty values).

    Attributes:
        errors: The item's ``google.rpc.Status`` (serialized), or empty when it was decided.
        item_ids: The client's item ids (every item).
        request_ids: The application's ``request_id``.
        applicant_ids: The applicant (the data key the stored assessment is sealed under).
        digests: ``payload_digest`` of the application.
        assessment_ids: New ids for the stored rows.
        review_ids: New review ids for REFER decisions, else empty.
        payloads: The complete stored ``LoanAssessment`` (time, review id, no explanation), serialized
            deterministically; the response adds only the audit record id.
        recommendations: ``APPROVE``, ``REFER`` or ``DECLINE``.
        risk_levels: ``LOW``, ``MEDIUM`` or ``HIGH``.
        scores: Scorecard scores (drift).
        application_ids: The client's application ids.
        engine_version: For the audit record.
        rule_set_version: For the audit record.
        model_id: For the audit record.
    """

    errors: list[bytes]
    item_ids: list[str]
    request_ids: list[str]
    applicant_ids: list[str]
    digests: list[str]
    assessment_ids: list[str]
    review_ids: list[str]
    payloads: list[bytes]
    recommendations: list[str]
    risk_levels: list[str]
    scores: list[int]
    application_ids: list[str]
    engine_version: str
    rule_set_version: str
    model_id: str


def decide_micro_batch(lane: DecisionLane, message: bytes, assess_time_us: int) -> BatchDecisions:
    """Validate, map and assess every item of a serialized micro-batch message (its ``items``).

    Each item is checked on its own: a bad one gets its own ``INVALID_ARGUMENT`` (fields named from the
    item: ``application.applicant.age``) and the others are assessed. Items that pass the contract go
    through the engine's columnar lane (:class:`server.risk.lane.DecisionLane`: the same decisions, no
    domain objects); anything else (an item the contract or the engine refuses) through the domain path,
    which names the fields. The stored payload is finished here (assessment time, review id for a REFER,
    no explanation), so the server process only seals, stores and audits it.
    """
    from server.runtime.interceptors import status_for  # the error mapping

    items = pb.AssessLoanApplicationsRequest.FromString(message).items
    count = len(items)
    errors: list[bytes] = [b""] * count
    empty = [""] * count
    request_ids, applicant_ids, digests = list(empty), list(empty), list(empty)
    assessment_ids, review_ids, recommendations = list(empty), list(empty), list(empty)
    risk_levels, application_ids = list(empty), list(empty)
    payloads: list[bytes] = [b""] * count
    scores = [0] * count
    fast: list[int] = []
    read: list[ApplicationFields] = []
    for index, item in enumerate(items):
        # passes_contract, keeping the values it read for the lane.
        if item.items or not 1 <= len(item.item_id) <= 128 or not item.HasField("application"):
            continue
        request = item.application
        if request.include_explanation:
            continue
        fields = read_application(request)
        if fields is not None:
            fast.append(index)
            read.append(fields)
    slow = sorted(set(range(count)) - set(fast))
    decided = lane.assess_fields(read)
    slow += [index for index, result in zip(fast, decided, strict=True) if result is None]
    wires: dict[int, tuple[bytes, str, str, int]] = {
        index: result for index, result in zip(fast, decided, strict=True) if result is not None
    }
    if slow:  # the domain path: its errors name the fields; an item it decides is encoded like the lane's
        valid: list[int] = []
        applications: list[LoanApplication] = []
        for index in sorted(slow):
            item = items[index]
            try:
                application = checked_application(item)
                if item.application.include_explanation:
                    raise NO_EXPLANATION_IN_BATCH
            except InvalidArgument as error:
                errors[index] = status_for(error).SerializeToString()
                continue
            valid.append(index)
            applications.append(application)
        for index, outcome in zip(valid, lane.engine.assess_batch(applications), strict=True):
            if isinstance(outcome, InvalidArgument):
                errors[index] = status_for(prefixed(outcome, "application.")).SerializeToString()
            else:
                wires[index] = (
                    mapping.assessment_to_proto(outcome).SerializeToString(),
                    outcome.recommendation.value,
                    outcome.risk_level.value,
                    outcome.score,
                )
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMicroseconds(assess_time_us)
    # Appended fields merge into the message (protobuf encoding), so the finished payload is one join.
    finishing = pb.LoanAssessment(
        assess_time=stamp,
        explanation_source=common_pb2.EXPLANATION_SOURCE_NONE,
        provenance=common_pb2.Provenance(validation_outcome=common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE),
    ).SerializeToString()
    ids = os.urandom(32 * len(wires)).hex()
    for slot, (index, (wire, recommendation, risk_level, score)) in enumerate(sorted(wires.items())):
        request = items[index].application
        assessment_ids[index] = ids[64 * slot : 64 * slot + 32]
        if recommendation == "REFER":
            review_ids[index] = ids[64 * slot + 32 : 64 * slot + 64]
            payloads[index] = wire + finishing + _REVIEW_KEY + bytes((32,)) + review_ids[index].encode()
        else:
            payloads[index] = wire + finishing
        request_ids[index] = request.request_id
        applicant_ids[index] = request.applicant.applicant_id
        application_ids[index] = request.application_id
        digests[index] = payload_digest(request)
        recommendations[index] = recommendation
        risk_levels[index] = risk_level
        scores[index] = score
    return BatchDecisions(
        errors=errors,
        item_ids=[item.item_id for item in items],
        request_ids=request_ids,
        applicant_ids=applicant_ids,
        digests=digests,
        assessment_ids=assessment_ids,
        review_ids=review_ids,
        payloads=payloads,
        recommendations=recommendations,
        risk_levels=risk_levels,
        scores=scores,
        application_ids=application_ids,
        engine_version=lane.engine_version,
        rule_set_version=lane.rule_set_version,
        model_id=lane.model_id,
    )


_REVIEW_KEY = bytes((pb.LoanAssessment.DESCRIPTOR.fields_by_name["review_id"].number << 3 | 2,))


_WORKER_ENGINE: RiskEngine | None = None
_WORKER_LANE: DecisionLane | None = None


def start_worker(scorecard_file: str, policy_file: str) -> None:
    """Initializer of a worker process: load the engine once (the artefact's hash is checked)."""
    global _WORKER_ENGINE, _WORKER_LANE
    _WORKER_ENGINE = RiskEngine.from_files(Path(scorecard_file), Path(policy_file))
    _WORKER_LANE = DecisionLane(_WORKER_ENGINE)


def decide_in_worker(items: Sequence[bytes]) -> list[Decision]:
    """:func:`decide` with the engine :func:`start_worker` loaded in this process."""
    if _WORKER_ENGINE is None:
        raise RuntimeError("start_worker was not run in this process")
    return decide(_WORKER_ENGINE, items)


def decide_micro_batch_in_worker(message: bytes, assess_time_us: int) -> BatchDecisions:
    """:func:`decide_micro_batch` with the engine :func:`start_worker` loaded in this process."""
    if _WORKER_LANE is None:
        raise RuntimeError("start_worker was not run in this process")
    return decide_micro_batch(_WORKER_LANE, message, assess_time_us)
