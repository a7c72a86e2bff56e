"""The seed's daily figures, counted from the audit trail (every decision is one record).

A read model over ``audit_records``: decision records per UTC day, by RPC and decision. The
services follow one convention for ``decision`` so these counts mean what they say:

| figure | records |
|---|---|
| answers | ``CustomerService/Ask`` and ``StreamAsk`` |
| escalations (by reason) | those whose decision names a reason: ``<SOURCE>:<REASON>`` (``HANDOFF:SENSITIVE_INTENT``) |
| feedback helpful / not helpful | ``CustomerService/SubmitFeedback`` with ``HELPFUL`` / ``NOT_HELPFUL`` |
| loan assessments, referrals | ``RiskService/AssessLoanApplication(s)``; referrals decide ``REFER`` |
| AML alerts | AMLService records whose decision starts with ``ALERT`` |
| contract reviews, regulation analyses | ``ComplianceService/ReviewContract(s)``, ``AnalyzeRegulation`` |
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.audit.tables import audit_records

DAY_US = 86_400_000_000
_ANSWER_RPCS = {"/fintech.customer.v1.CustomerService/Ask", "/fintech.customer.v1.CustomerService/StreamAsk"}
_FEEDBACK_RPC = "/fintech.customer.v1.CustomerService/SubmitFeedback"
_ASSESS_RPCS = {
    "/fintech.risk.v1.RiskService/AssessLoanApplication",
    "/fintech.risk.v1.RiskService/AssessLoanApplications",
}
_REVIEW_RPCS = {
    "/fintech.compliance.v1.ComplianceService/ReviewContract",
    "/fintech.compliance.v1.ComplianceService/ReviewContracts",
}
_ANALYSIS_RPC = "/fintech.compliance.v1.ComplianceService/AnalyzeRegulation"


def _us(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp() * 1_000_000)


async def decision_counts(conn: AsyncConnection, start: date, end: date) -> list[tuple[int, str, str, int]]:
    """(day index since the epoch, rpc, decision, count) of DECISION records from ``start`` to ``end`` inclusive."""
    day = sa.cast(audit_records.c.time_us / DAY_US, sa.BigInteger).label("day")
    query = (
        sa.select(day, audit_records.c.rpc, audit_records.c.decision, sa.func.count().label("n"))
        .where(audit_records.c.kind == "DECISION")
        .where(audit_records.c.time_us >= _us(start))
        .where(audit_records.c.time_us < _us(end + timedelta(days=1)))
        .group_by(day, audit_records.c.rpc, audit_records.c.decision)
    )
    return [(int(r.day), str(r.rpc), str(r.decision), int(r.n)) for r in (await conn.execute(query)).all()]


def _assessments_in(decision: str) -> tuple[int, int]:
    """(assessments, referrals) one risk audit record stands for.

    A single assessment decides APPROVE, REFER or DECLINE; a micro-batch message of the stream writes one
    record deciding ``BATCH:APPROVE=a,REFER=r,DECLINE=d`` (server/risk/desk.py).
    """
    if not decision.startswith("BATCH:"):
        return 1, int(decision == "REFER")
    counts: dict[str, int] = {}
    for part in decision[len("BATCH:") :].split(","):
        name, _, value = part.partition("=")
        counts[name.strip()] = int(value) if value.strip().isdigit() else 0
    return sum(counts.values()), counts.get("REFER", 0)


def fold(rows: list[tuple[int, str, str, int]], start: date, end: date) -> list[dict[str, Any]]:
    """Turn raw counts into one figure row per day (every day of the range, zeros included)."""
    epoch = date(1970, 1, 1)
    days: dict[date, dict[str, Any]] = {}
    current = start
    while current <= end:
        days[current] = {"date": current, "escalations_by_reason": defaultdict(int)}
        current += timedelta(days=1)
    for index, rpc, decision, count in rows:
        row = days.get(epoch + timedelta(days=index))
        if row is None:
            continue
        if rpc in _ANSWER_RPCS:
            row["answers"] = row.get("answers", 0) + count
            # CustomerService decides ``<SOURCE>`` (APPROVED, GENERATED, HANDOFF), or ``<SOURCE>:<REASON>``
            # when it hands the customer to a person.
            if ":" in decision:
                row["escalations"] = row.get("escalations", 0) + count
                row["escalations_by_reason"][decision.partition(":")[2] or "UNSPECIFIED"] += count
        elif rpc == _FEEDBACK_RPC:
            key = "feedback_helpful" if decision == "HELPFUL" else "feedback_not_helpful"
            row[key] = row.get(key, 0) + count
        elif rpc in _ASSESS_RPCS:
            assessed, referred = _assessments_in(decision)
            row["loan_assessments"] = row.get("loan_assessments", 0) + assessed * count
            row["loan_referrals"] = row.get("loan_referrals", 0) + referred * count
        elif rpc.startswith("/fintech.aml.v1.AMLService/") and decision.startswith("ALERT"):
            row["aml_alerts"] = row.get("aml_alerts", 0) + count
        elif rpc in _REVIEW_RPCS:
            row["contract_reviews"] = row.get("contract_reviews", 0) + count
        elif rpc == _ANALYSIS_RPC:
            row["regulation_analyses"] = row.get("regulation_analyses", 0) + count
    return [{**row, "escalations_by_reason": dict(row["escalations_by_reason"])} for row in days.values()]


def daily_figures(database: Any):  # type: ignore[no-untyped-def]
    """The ``resources["daily_figures"]`` callable OperationsService uses."""

    async def figures(start: date, end: date) -> list[dict[str, Any]]:
        async with database.read() as conn:
            rows = await decision_counts(conn, start, end)
        return fold(rows, start, end)

    return figures
