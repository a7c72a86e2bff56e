"""The regulation analysis engine: parse, obligations, timeline, impact and risk points.

Deterministic end to end; the LLM summaries (planned by
:mod:`server.compliance.planning`) are added by the service on top.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from server.compliance.domain import (
    Modality,
    Obligation,
    ParsedDocument,
    ProcessTaxonomy,
    RegulationAnalysis,
    RiskPoint,
    Severity,
    TimelineEvent,
    TimelineEventType,
)
from server.compliance.impact import TextEmbedder, map_impact
from server.compliance.obligations import extract_obligations
from server.compliance.timeline import add_period, extract_timeline, find_effective_date

ENGINE = "compliance.regulation"
ENGINE_VERSION = "1.0.0"

_SANCTION = re.compile(
    r"\b(?:penalt(?:y|ies)|fines?|sanctions?|revocation|withdraw(?:al of)?\s+the\s+authori[sz]ation|criminal|"
    r"administrative\s+measures?)\b",
    re.IGNORECASE,
)


def risk_points(
    obligations: Iterable[Obligation],
    timeline: Iterable[TimelineEvent],
    document: ParsedDocument,
    effective_date: date | None,
    *,
    short_transition_days: int = 183,
    tight_deadline_days: int = 10,
) -> tuple[RiskPoint, ...]:
    """Compliance risk points, at most one per clause (its highest severity, reasons joined).

    Rules: sanctions mentioned -> critical; a prohibition -> high; a transition
    deadline under ``short_transition_days`` after the effective date -> high; a
    deadline of at most ``tight_deadline_days`` days -> high; any other
    mandatory obligation with a deadline -> medium; other mandatory obligations -> low.
    """
    found: dict[str, tuple[Severity, list[str]]] = {}

    def add(clause_id: str, severity: Severity, reason: str) -> None:
        current = found.get(clause_id)
        if current is None:
            found[clause_id] = (severity, [reason])
        else:
            if reason not in current[1]:
                current[1].append(reason)
            found[clause_id] = (max(current[0], severity), current[1])

    deadlines: dict[str, TimelineEvent] = {}
    for event in timeline:
        deadlines.setdefault(event.clause_id, event)
        if event.event_type is TimelineEventType.TRANSITION_DEADLINE and event.date and effective_date:
            if (event.date - effective_date).days < short_transition_days:
                add(event.clause_id, Severity.HIGH, f"short transition period ending {event.date.isoformat()}")
        if event.period is not None and event.event_type is TimelineEventType.OTHER:
            end = add_period(date(2000, 1, 3), event.period)
            if (end - date(2000, 1, 3)).days <= tight_deadline_days:
                add(event.clause_id, Severity.HIGH, f"tight deadline of {event.period.amount} {event.period.unit}(s)")
    for clause in document.clauses:
        if clause.text and _SANCTION.search(clause.text):
            add(clause.clause_id, Severity.CRITICAL, "sanctions for non-compliance")
    for obligation in obligations:
        if obligation.modality is Modality.SHALL_NOT:
            add(
                obligation.clause_id,
                Severity.HIGH,
                f"prohibition: {obligation.subject} shall not {obligation.action}"[:200],
            )
        elif obligation.modality in (Modality.SHALL, Modality.MUST):
            if obligation.clause_id in deadlines:
                add(obligation.clause_id, Severity.MEDIUM, f"time-bound obligation of {obligation.subject}"[:200])
            else:
                add(obligation.clause_id, Severity.LOW, f"obligation of {obligation.subject}"[:200])
    return tuple(RiskPoint(cid, sev, "; ".join(reasons)) for cid, (sev, reasons) in found.items())


def analyze_regulation(
    regulation_id: str,
    document: ParsedDocument,
    taxonomy: ProcessTaxonomy,
    *,
    reference_date: date | None = None,
    embedder: TextEmbedder | None = None,
    embedding_weight: float = 0.4,
    min_impact_score: float = 0.15,
) -> RegulationAnalysis:
    """Analyse a parsed regulation deterministically.

    Args:
        regulation_id: The caller's id for the regulation.
        document: The parsed document.
        taxonomy: Process taxonomy for impact mapping.
        reference_date: Anchor for relative periods when no effective date is stated.
        embedder: Optional semantic scorer for impact mapping.
        embedding_weight: Its share in the impact score.
        min_impact_score: Impacts below this are dropped.

    Returns:
        The analysis; every item cites a clause id of ``document``.
    """
    obligations = tuple(extract_obligations(document))
    timeline = tuple(extract_timeline(document, reference_date))
    effective = find_effective_date(document) or reference_date
    impacts = map_impact(
        document, taxonomy, embedder=embedder, embedding_weight=embedding_weight, min_score=min_impact_score
    )
    return RegulationAnalysis(
        regulation_id=regulation_id,
        title=document.title,
        document=document,
        obligations=obligations,
        timeline=timeline,
        impacts=impacts,
        risk_points=risk_points(obligations, timeline, document, effective),
        effective_date=effective,
        engine_version=ENGINE_VERSION,
        rule_set_version=taxonomy.version,
    )
