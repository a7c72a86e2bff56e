"""Mapping between the ``fintech.compliance.v1`` protobuf messages and the domain types.

The servicer calls only these functions to cross the boundary; engines never
see protobuf. Enum tables are explicit dictionaries (checked complete by a
unit test), so a value added to the contract without a mapping fails loudly.
"""

from __future__ import annotations

from datetime import date

from fintech.common.v1 import common_pb2
from fintech.compliance.v1 import compliance_service_pb2 as pb
from google.type import date_pb2

from server.compliance.domain import (
    Clause,
    ClauseChange,
    ClauseChangeType,
    ClauseLevel,
    ContractReviewResult,
    ContractType,
    DocumentFormat,
    Finding,
    FindingType,
    Modality,
    Obligation,
    ObligationChange,
    Playbook,
    ProcessImpact,
    RegulationAnalysis,
    RiskPoint,
    Severity,
    StrictnessChange,
    TimelineChange,
    TimelineEvent,
    TimelineEventType,
    VersionComparison,
)
from server.runtime.errors import FieldViolation, InvalidArgument

DOMAIN = "compliance.fintech"

FORMAT_FROM_PB: dict[int, DocumentFormat] = {
    pb.DOCUMENT_FORMAT_PLAIN_TEXT: DocumentFormat.PLAIN_TEXT,
    pb.DOCUMENT_FORMAT_MARKDOWN: DocumentFormat.MARKDOWN,
    pb.DOCUMENT_FORMAT_PDF: DocumentFormat.PDF,
    pb.DOCUMENT_FORMAT_DOCX: DocumentFormat.DOCX,
}
LEVEL_TO_PB = {
    ClauseLevel.CHAPTER: pb.CLAUSE_LEVEL_CHAPTER,
    ClauseLevel.ARTICLE: pb.CLAUSE_LEVEL_ARTICLE,
    ClauseLevel.PARAGRAPH: pb.CLAUSE_LEVEL_PARAGRAPH,
    ClauseLevel.ITEM: pb.CLAUSE_LEVEL_ITEM,
    ClauseLevel.SECTION: pb.CLAUSE_LEVEL_SECTION,
}
MODALITY_TO_PB = {
    Modality.SHALL: pb.MODALITY_SHALL,
    Modality.MUST: pb.MODALITY_MUST,
    Modality.SHALL_NOT: pb.MODALITY_SHALL_NOT,
    Modality.MAY: pb.MODALITY_MAY,
}
EVENT_TO_PB = {
    TimelineEventType.EFFECTIVE: pb.TIMELINE_EVENT_TYPE_EFFECTIVE,
    TimelineEventType.TRANSITION_DEADLINE: pb.TIMELINE_EVENT_TYPE_TRANSITION_DEADLINE,
    TimelineEventType.RECURRING_DEADLINE: pb.TIMELINE_EVENT_TYPE_RECURRING_DEADLINE,
    TimelineEventType.OTHER: pb.TIMELINE_EVENT_TYPE_OTHER,
}
SEVERITY_TO_PB = {
    Severity.LOW: common_pb2.SEVERITY_LOW,
    Severity.MEDIUM: common_pb2.SEVERITY_MEDIUM,
    Severity.HIGH: common_pb2.SEVERITY_HIGH,
    Severity.CRITICAL: common_pb2.SEVERITY_CRITICAL,
}
SEVERITY_FROM_PB = {value: key for key, value in SEVERITY_TO_PB.items()}
CHANGE_TO_PB = {
    ClauseChangeType.ADDED: pb.CLAUSE_CHANGE_TYPE_ADDED,
    ClauseChangeType.REMOVED: pb.CLAUSE_CHANGE_TYPE_REMOVED,
    ClauseChangeType.MODIFIED: pb.CLAUSE_CHANGE_TYPE_MODIFIED,
    ClauseChangeType.MOVED: pb.CLAUSE_CHANGE_TYPE_MOVED,
}
STRICTNESS_TO_PB = {
    StrictnessChange.STRICTER: pb.STRICTNESS_CHANGE_STRICTER,
    StrictnessChange.LOOSER: pb.STRICTNESS_CHANGE_LOOSER,
    StrictnessChange.CHANGED: pb.STRICTNESS_CHANGE_CHANGED,
}
CONTRACT_TYPE_TO_PB = {
    ContractType.LOAN: pb.CONTRACT_TYPE_LOAN,
    ContractType.GUARANTEE: pb.CONTRACT_TYPE_GUARANTEE,
    ContractType.WEALTH_MANAGEMENT: pb.CONTRACT_TYPE_WEALTH_MANAGEMENT,
    ContractType.INVESTMENT: pb.CONTRACT_TYPE_INVESTMENT,
    ContractType.OUTSOURCING: pb.CONTRACT_TYPE_OUTSOURCING,
}
CONTRACT_TYPE_FROM_PB: dict[int, ContractType] = {value: key for key, value in CONTRACT_TYPE_TO_PB.items()}
FINDING_TO_PB = {
    FindingType.MISSING_CLAUSE: pb.FINDING_TYPE_MISSING_CLAUSE,
    FindingType.PROHIBITED_TERM: pb.FINDING_TYPE_PROHIBITED_TERM,
    FindingType.LIMIT_EXCEEDED: pb.FINDING_TYPE_LIMIT_EXCEEDED,
    FindingType.INCONSISTENCY: pb.FINDING_TYPE_INCONSISTENCY,
    FindingType.ADVISORY: pb.FINDING_TYPE_ADVISORY,
}


def _invalid(field_name: str, description: str) -> InvalidArgument:
    return InvalidArgument(
        message=description,
        reason="INVALID_ARGUMENT",
        domain=DOMAIN,
        violations=(FieldViolation(field_name, description, "INVALID_ARGUMENT"),),
    )


def document_format(value: int, field_name: str = "document.format") -> DocumentFormat:
    """The domain format for a protobuf ``DocumentFormat``.

    Raises:
        InvalidArgument: unspecified or unknown (naming ``field_name``).
    """
    try:
        return FORMAT_FROM_PB[value]
    except KeyError:
        raise _invalid(field_name, "document format must be PLAIN_TEXT, MARKDOWN, PDF or DOCX") from None


def contract_type(value: int) -> ContractType | None:
    """The domain contract type; ``None`` for UNSPECIFIED (the engine then infers it)."""
    if value == pb.CONTRACT_TYPE_UNSPECIFIED:
        return None
    try:
        return CONTRACT_TYPE_FROM_PB[value]
    except KeyError:
        raise _invalid("contract_type", "unknown contract type") from None


def from_pb_date(value: date_pb2.Date) -> date | None:
    """A ``google.type.Date`` as a date; ``None`` when unset (all zero).

    Raises:
        InvalidArgument: a partial or impossible date (field ``reference_date``).
    """
    if value.year == 0 and value.month == 0 and value.day == 0:
        return None
    try:
        return date(value.year, value.month, value.day)
    except ValueError:
        raise _invalid("reference_date", "reference_date must be a full, valid calendar date") from None


def to_pb_date(value: date) -> date_pb2.Date:
    """A date as ``google.type.Date``."""
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def clause_to_pb(clause: Clause) -> pb.Clause:
    """A clause as protobuf."""
    return pb.Clause(
        clause_id=clause.clause_id,
        level=LEVEL_TO_PB[clause.level],
        number=clause.number,
        heading=clause.heading,
        text=clause.text,
        parent_clause_id=clause.parent_clause_id,
    )


def obligation_to_pb(obligation: Obligation) -> pb.Obligation:
    """An obligation as protobuf."""
    return pb.Obligation(
        obligation_id=obligation.obligation_id,
        clause_id=obligation.clause_id,
        modality=MODALITY_TO_PB[obligation.modality],
        subject=obligation.subject,
        action=obligation.action,
        condition=obligation.condition,
        source_text=obligation.source_text,
    )


def event_to_pb(event: TimelineEvent) -> pb.TimelineEvent:
    """A timeline event as protobuf (``date`` unset when the event has none)."""
    message = pb.TimelineEvent(
        clause_id=event.clause_id,
        event_type=EVENT_TO_PB[event.event_type],
        description=event.description,
        source_text=event.source_text,
    )
    if event.date is not None:
        message.date.CopyFrom(to_pb_date(event.date))
    return message


def impact_to_pb(impact: ProcessImpact) -> pb.ProcessImpact:
    """A process impact as protobuf."""
    return pb.ProcessImpact(
        business_line=impact.business_line,
        process=impact.process,
        score=impact.score,
        clause_ids=list(impact.clause_ids),
    )


def risk_to_pb(risk: RiskPoint) -> pb.RiskPoint:
    """A risk point as protobuf."""
    return pb.RiskPoint(clause_id=risk.clause_id, severity=SEVERITY_TO_PB[risk.severity], description=risk.description)


def analysis_to_pb(
    analysis: RegulationAnalysis, *, analysis_id: str = "", provenance: common_pb2.Provenance | None = None
) -> pb.RegulationAnalysis:
    """A regulation analysis as protobuf (summaries are added by the service)."""
    message = pb.RegulationAnalysis(
        analysis_id=analysis_id,
        regulation_id=analysis.regulation_id,
        title=analysis.title,
        clauses=[clause_to_pb(c) for c in analysis.document.clauses],
        obligations=[obligation_to_pb(o) for o in analysis.obligations],
        timeline=[event_to_pb(e) for e in analysis.timeline],
        impacts=[impact_to_pb(i) for i in analysis.impacts],
        risk_points=[risk_to_pb(r) for r in analysis.risk_points],
        word_count=analysis.word_count,
    )
    if provenance is not None:
        message.provenance.CopyFrom(provenance)
    return message


def comparison_to_pb(
    comparison: VersionComparison, provenance: common_pb2.Provenance | None = None
) -> pb.CompareRegulationVersionsResponse:
    """A version comparison as the RPC's response."""
    message = pb.CompareRegulationVersionsResponse(
        clause_changes=[_clause_change(c) for c in comparison.clause_changes],
        obligation_changes=[_obligation_change(c) for c in comparison.obligation_changes],
        timeline_changes=[_timeline_change(c) for c in comparison.timeline_changes],
    )
    if provenance is not None:
        message.provenance.CopyFrom(provenance)
    return message


def _clause_change(change: ClauseChange) -> pb.ClauseChange:
    return pb.ClauseChange(
        change_type=CHANGE_TO_PB[change.change_type],
        old_clause_id=change.old_clause_id,
        new_clause_id=change.new_clause_id,
        old_text=change.old_text,
        new_text=change.new_text,
        similarity=change.similarity,
    )


def _obligation_change(change: ObligationChange) -> pb.ObligationChange:
    message = pb.ObligationChange(strictness=STRICTNESS_TO_PB[change.strictness], explanation=change.explanation)
    if change.old_obligation is not None:
        message.old_obligation.CopyFrom(obligation_to_pb(change.old_obligation))
    if change.new_obligation is not None:
        message.new_obligation.CopyFrom(obligation_to_pb(change.new_obligation))
    return message


def _timeline_change(change: TimelineChange) -> pb.TimelineChange:
    message = pb.TimelineChange(explanation=change.explanation)
    if change.old_event is not None:
        message.old_event.CopyFrom(event_to_pb(change.old_event))
    if change.new_event is not None:
        message.new_event.CopyFrom(event_to_pb(change.new_event))
    return message


def finding_to_pb(finding: Finding) -> pb.Finding:
    """A finding as protobuf."""
    return pb.Finding(
        finding_id=finding.finding_id,
        check_id=finding.check_id,
        finding_type=FINDING_TO_PB[finding.finding_type],
        severity=SEVERITY_TO_PB[finding.severity],
        clause_id=finding.clause_id,
        evidence=finding.evidence,
        suggested_fix=finding.suggested_fix,
        advisory=finding.advisory,
        start=finding.start,
        end=finding.end,
    )


def review_to_pb(
    review: ContractReviewResult, *, review_id: str = "", provenance: common_pb2.Provenance | None = None
) -> pb.ContractReview:
    """A review result as protobuf (``create_time`` is set by the storage layer)."""
    message = pb.ContractReview(
        review_id=review_id,
        contract_id=review.contract_id,
        contract_type=CONTRACT_TYPE_TO_PB[review.contract_type],
        playbook_id=review.playbook_id,
        playbook_version=review.playbook_version,
        findings=[finding_to_pb(f) for f in review.findings],
        clauses=[clause_to_pb(c) for c in review.document.clauses],
    )
    highest = review.max_severity
    if highest is not None:
        message.max_severity = SEVERITY_TO_PB[highest]
    if provenance is not None:
        message.provenance.CopyFrom(provenance)
    return message


def playbook_to_pb(playbook: Playbook) -> pb.Playbook:
    """A playbook as protobuf."""
    return pb.Playbook(
        playbook_id=playbook.playbook_id,
        version=playbook.version,
        title=playbook.title,
        contract_types=[CONTRACT_TYPE_TO_PB[t] for t in playbook.contract_types],
        checks=[
            pb.PlaybookCheck(
                check_id=c.check_id,
                finding_type=FINDING_TO_PB[c.finding_type],
                severity=SEVERITY_TO_PB[c.severity],
                description=c.description,
            )
            for c in playbook.checks
        ],
    )


def provenance(engine: str, engine_version: str, rule_set_version: str) -> common_pb2.Provenance:
    """Provenance of a deterministic decision (no LLM involved)."""
    return common_pb2.Provenance(
        engine=engine,
        engine_version=engine_version,
        rule_set_version=rule_set_version,
        validation_outcome=common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE,
    )
