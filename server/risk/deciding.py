"""Deciding a micro-batch of stream items: validation, mapping and the engine, in plain data.

Owns :func:`decide`, the CPU half of ``AssessLoanApplications`` (everything before storage), written so
that it can run in another process: it takes serialized stream items and returns :class:`Decision`
values made of bytes, strings and numbers (a per-item ``google.rpc.Status`` or the engine's part of the
``LoanAssessment``), which cross a process boundary cheaply. The servicer runs it in a worker process
(:func:`start_worker` / :func:`decide_in_worker`, ``risk.stream_decide_processes``) so that the engine
uses another core than gRPC and storage, or in the engine thread when that setting is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fintech.risk.v1 import risk_service_pb2 as pb

from server.risk import mapping
from server.risk.domain import LoanAssessment
from server.risk.engine import ERROR_DOMAIN, RiskEngine
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
    from server.runtime.interceptors import check_message, status_for  # the contract's validator, the error mapping

    decisions: list[Decision | None] = []
    valid: list[tuple[int, pb.AssessLoanApplicationRequest]] = []
    applications = []
    for raw in items:
        item = pb.AssessLoanApplicationsRequest.FromString(raw)
        try:
            check_message(item)
            if not item.HasField("application"):
                raise InvalidArgument(
                    "the item carries no application",
                    reason="INVALID_REQUEST",
                    domain=ERROR_DOMAIN,
                    violations=(FieldViolation("application", "required", "REQUIRED"),),
                )
            try:
                application = mapping.application_from_proto(item.application)
            except InvalidArgument as error:
                raise prefixed(error, "application.") from None
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


_WORKER_ENGINE: RiskEngine | None = None


def start_worker(scorecard_file: str, policy_file: str) -> None:
    """Initializer of a worker process: load the engine once (the artefact's hash is checked)."""
    global _WORKER_ENGINE
    _WORKER_ENGINE = RiskEngine.from_files(Path(scorecard_file), Path(policy_file))


def decide_in_worker(items: Sequence[bytes]) -> list[Decision]:
    """:func:`decide` with the engine :func:`start_worker` loaded in this process."""
    if _WORKER_ENGINE is None:
        raise RuntimeError("start_worker was not run in this process")
    return decide(_WORKER_ENGINE, items)
