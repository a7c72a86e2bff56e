"""Protobuf <-> domain mapping: complete enum tables and faithful conversion."""

from __future__ import annotations

from datetime import date

import pytest
from fintech.common.v1 import common_pb2
from fintech.compliance.v1 import compliance_service_pb2 as pb
from google.type import date_pb2

from server.compliance import mapping
from server.compliance.analysis import analyze_regulation
from server.compliance.domain import (
    ClauseChangeType,
    ClauseLevel,
    ContractType,
    DocumentFormat,
    FindingType,
    Modality,
    ProcessTaxonomy,
    Severity,
    StrictnessChange,
    TimelineEventType,
)
from server.compliance.parsing import parse_document
from server.compliance.review import ContractReviewer
from server.runtime.errors import InvalidArgument

from .conftest import CORPUS


@pytest.mark.parametrize(
    ("table", "domain", "enum"),
    [
        (mapping.LEVEL_TO_PB, ClauseLevel, pb.ClauseLevel),
        (mapping.MODALITY_TO_PB, Modality, pb.Modality),
        (mapping.EVENT_TO_PB, TimelineEventType, pb.TimelineEventType),
        (mapping.CHANGE_TO_PB, ClauseChangeType, pb.ClauseChangeType),
        (mapping.STRICTNESS_TO_PB, StrictnessChange, pb.StrictnessChange),
        (mapping.CONTRACT_TYPE_TO_PB, ContractType, pb.ContractType),
        (mapping.FINDING_TO_PB, FindingType, pb.FindingType),
        (mapping.SEVERITY_TO_PB, Severity, common_pb2.Severity),
    ],
)
def test_enum_tables_are_complete_both_ways(table: dict, domain: type, enum: object) -> None:  # type: ignore[type-arg]
    assert set(table) == set(domain)  # type: ignore[call-overload]
    assert set(table.values()) == {v for v in enum.values() if v != 0}  # type: ignore[attr-defined]


def test_formats_and_dates() -> None:
    assert mapping.document_format(pb.DOCUMENT_FORMAT_PDF) is DocumentFormat.PDF
    with pytest.raises(InvalidArgument) as caught:
        mapping.document_format(pb.DOCUMENT_FORMAT_UNSPECIFIED)
    assert caught.value.violations[0].field == "document.format"
    assert mapping.from_pb_date(date_pb2.Date()) is None
    assert mapping.from_pb_date(mapping.to_pb_date(date(2027, 2, 28))) == date(2027, 2, 28)
    with pytest.raises(InvalidArgument):
        mapping.from_pb_date(date_pb2.Date(year=2027, month=2, day=30))
    assert mapping.contract_type(pb.CONTRACT_TYPE_UNSPECIFIED) is None


def test_analysis_and_review_round_trip_through_the_wire(taxonomy: ProcessTaxonomy, reviewer: ContractReviewer) -> None:
    path = CORPUS / "regulations" / "complaints_handling.txt"
    analysis = analyze_regulation("r1", parse_document(path.read_bytes(), DocumentFormat.PLAIN_TEXT), taxonomy)
    message = pb.RegulationAnalysis.FromString(mapping.analysis_to_pb(analysis, analysis_id="a1").SerializeToString())
    assert [c.clause_id for c in message.clauses] == [c.clause_id for c in analysis.document.clauses]
    assert len(message.obligations) == len(analysis.obligations) and message.word_count == analysis.word_count
    effective = [e for e in message.timeline if e.event_type == pb.TIMELINE_EVENT_TYPE_EFFECTIVE]
    assert (effective[0].date.year, effective[0].date.month, effective[0].date.day) == (2026, 5, 15)
    relative = [e for e in message.timeline if e.event_type == pb.TIMELINE_EVENT_TYPE_OTHER]
    assert relative and not relative[0].HasField("date")
    contract = CORPUS / "contracts" / "02_loan.txt"
    review = reviewer.review("k1", parse_document(contract.read_bytes(), DocumentFormat.PLAIN_TEXT))
    wire = mapping.review_to_pb(
        review, review_id="rv1", provenance=mapping.provenance("e", "1", review.playbook_version)
    )
    assert wire.max_severity == common_pb2.SEVERITY_HIGH and wire.contract_type == pb.CONTRACT_TYPE_LOAN
    assert [f.check_id for f in wire.findings] == [f.check_id for f in review.findings]
    assert wire.provenance.validation_outcome == common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE
    playbooks = [mapping.playbook_to_pb(p) for p in reviewer.registry.playbooks]
    assert all(p.checks for p in playbooks)
