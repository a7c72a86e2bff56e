"""Obligations, timeline, impact and risk points on small texts and on the labelled regulations."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from server.compliance.analysis import analyze_regulation
from server.compliance.domain import DocumentFormat, Modality, ProcessTaxonomy, Severity, TimelineEventType
from server.compliance.obligations import extract_obligations
from server.compliance.parsing import parse_document, parse_lines
from server.compliance.timeline import extract_timeline

from .conftest import CORPUS, FORMATS


def _doc(*lines: str) -> Any:
    return parse_lines(["Rule", "", "Article 1 - Test", *lines])


def test_modality_subject_action_condition() -> None:
    document = _doc(
        "1. Where the request is excessive, the controller may charge a reasonable fee.",
        "2. The lender shall not charge default interest, unless a court orders otherwise.",
        "3. The customer shall be informed by the lender within 10 days.",
        "4. Institutions are required to keep a register.",
        "5. This Rule enters into force on 15 May 2026.",
    )
    found = {o.clause_id: o for o in extract_obligations(document)}
    first = found["art1.p1"]
    assert (first.modality, first.subject, first.action) == (Modality.MAY, "the controller", "charge a reasonable fee")
    assert first.condition == "Where the request is excessive"
    second = found["art1.p2"]
    assert second.modality is Modality.SHALL_NOT and second.condition == "unless a court orders otherwise"
    assert found["art1.p3"].subject == "the lender"  # the agent of a passive binds
    assert found["art1.p4"].modality is Modality.MUST
    assert "art1.p5" not in found  # "May" the month is no modal


def test_lead_in_is_distributed_over_items() -> None:
    document = _doc("1. The lender shall:", "(a) disclose the rate;", "(b) keep records.")
    found = [(o.clause_id, o.modality, o.subject, o.action) for o in extract_obligations(document)]
    assert found == [
        ("art1.p1.a", Modality.SHALL, "The lender", "disclose the rate"),
        ("art1.p1.b", Modality.SHALL, "The lender", "keep records"),
    ]


def test_relative_periods_become_dates_from_the_effective_date() -> None:
    document = _doc(
        "1. This Rule enters into force on 31 January 2027.",
        "2. Firms shall comply no later than one month after the date of entry into force.",
        "3. Firms shall report within 5 business days of receiving a complaint.",
        "4. Firms shall review the policy annually.",
        "5. Existing contracts shall be amended by 30 June 2028.",
    )
    events = {(e.clause_id, e.event_type): e for e in extract_timeline(document)}
    assert events[("art1.p1", TimelineEventType.EFFECTIVE)].date == date(2027, 1, 31)
    assert events[("art1.p2", TimelineEventType.TRANSITION_DEADLINE)].date == date(2027, 2, 28)  # clamped
    relative = events[("art1.p3", TimelineEventType.OTHER)]
    assert relative.date is None and relative.period is not None and relative.period.unit == "business_day"
    assert events[("art1.p4", TimelineEventType.RECURRING_DEADLINE)].period is not None
    assert events[("art1.p5", TimelineEventType.TRANSITION_DEADLINE)].date == date(2028, 6, 30)


def test_reference_date_anchors_when_no_effective_date_is_stated() -> None:
    document = _doc("1. Firms shall comply within 6 months of the entry into force.")
    assert [e.date for e in extract_timeline(document)] == [None]
    assert [e.date for e in extract_timeline(document, date(2026, 8, 31))] == [date(2027, 2, 28)]


@pytest.mark.parametrize(
    "name",
    [
        "consumer_credit_disclosure_v1.md",
        "customer_due_diligence_v1.txt",
        "personal_data_protection.md",
        "complaints_handling.txt",
    ],
)
def test_labelled_regulations(name: str, regulation_labels: dict[str, Any], taxonomy: ProcessTaxonomy) -> None:
    path = CORPUS / "regulations" / name
    analysis = analyze_regulation(name, parse_document(path.read_bytes(), FORMATS[path.suffix]), taxonomy)
    label = regulation_labels[name]
    assert sorted((o.clause_id, o.modality.value) for o in analysis.obligations) == sorted(
        (c, m) for c, m, _ in label["obligations"]
    )
    assert {(e.clause_id, e.event_type.value, e.date.isoformat()) for e in analysis.timeline if e.date} == {
        tuple(x) for x in label["dates"]
    }
    clause_ids = {c.clause_id for c in analysis.document.clauses}
    cited = {o.clause_id for o in analysis.obligations} | {e.clause_id for e in analysis.timeline}
    cited |= {cid for i in analysis.impacts for cid in i.clause_ids} | {r.clause_id for r in analysis.risk_points}
    assert cited <= clause_ids  # every item cites a real clause


def test_impact_and_risk_points(taxonomy: ProcessTaxonomy) -> None:
    path = CORPUS / "regulations" / "customer_due_diligence_v1.txt"
    analysis = analyze_regulation("cdd", parse_document(path.read_bytes(), DocumentFormat.PLAIN_TEXT), taxonomy)
    top = analysis.impacts[0]
    assert (top.business_line, top.process) == ("onboarding", "customer_due_diligence") and top.score > 0.9
    assert all(0 <= i.score <= 1 for i in analysis.impacts)
    risks = {r.clause_id: r.severity for r in analysis.risk_points}
    assert risks["ch4.art9"] is Severity.CRITICAL  # sanctions
    assert risks["ch2.art4.p3"] is Severity.HIGH  # a prohibition
    assert risks["ch3.art8.p1"] is Severity.HIGH  # 3 business days
    assert risks["ch4.art10.p3"] is Severity.HIGH  # transition shorter than six months
