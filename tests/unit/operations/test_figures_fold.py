"""Daily figures from audit decision counts: one risk record may stand for a whole stream micro-batch."""

from __future__ import annotations

from datetime import date

from server.operations.figures import fold

STREAM = "/fintech.risk.v1.RiskService/AssessLoanApplications"
UNARY = "/fintech.risk.v1.RiskService/AssessLoanApplication"


def test_batch_records_count_every_assessment_and_referral() -> None:
    day = date(2026, 11, 25)
    index = (day - date(1970, 1, 1)).days
    rows = [
        (index, UNARY, "APPROVE", 3),
        (index, UNARY, "REFER", 2),
        (index, STREAM, "BATCH:APPROVE=400,REFER=70,DECLINE=30", 2),
        (index, STREAM, "DECLINE", 1),
    ]
    (figures,) = fold(rows, day, day)
    assert figures["loan_assessments"] == 3 + 2 + 2 * 500 + 1
    assert figures["loan_referrals"] == 2 + 2 * 70
