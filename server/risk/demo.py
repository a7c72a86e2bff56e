"""Walkthrough steps of the risk service for ``make run``: an approve, a refer and a decline with their
reason codes and explanations, the loan officer deciding the referral, and the model card.

Each step takes a ``server.devrun.Platform`` and prints rich Panels; the lead lists them in
``server.devrun.STEPS``. The explanation comes from the development LLM when one is running and passes
the checker; otherwise the template is shown and the panel says which one it is.
"""

from __future__ import annotations

import uuid
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

console = Console()


def _client(platform: Any, role: str) -> Any:
    from fintech.client import RiskServiceSyncClient, secure_channel_sync

    certs = platform.certs
    channel = secure_channel_sync(
        f"localhost:{platform.grpc_port}",
        ca_file=certs / "ca.pem",
        cert_file=certs / "clients" / f"{role}.pem",
        key_file=certs / "clients" / f"{role}-key.pem",
    )
    return channel, RiskServiceSyncClient(channel)


def _show(title: str, assessment: Any) -> None:
    from fintech.common.v1 import common_pb2
    from fintech.risk.v1 import risk_service_pb2 as pb

    from server.cli_client import money

    repayment = assessment.repayment
    reasons = Table("rank", "reason code", "value", "points lost")
    for reason in assessment.key_risk_points:
        reasons.add_row(str(reason.rank), reason.code, reason.value, f"{reason.points_lost:.2f}")
    for hit in assessment.rule_hits:
        reasons.add_row("rule", hit.rule_id, hit.value, pb.Recommendation.Name(hit.outcome))
    source = common_pb2.ExplanationSource.Name(assessment.explanation_source).removeprefix("EXPLANATION_SOURCE_")
    validation = common_pb2.ValidationOutcome.Name(assessment.provenance.validation_outcome)
    body = (
        f"[bold]{pb.Recommendation.Name(assessment.recommendation).removeprefix('RECOMMENDATION_')}[/bold]  "
        f"risk {pb.RiskLevel.Name(assessment.risk_level).removeprefix('RISK_LEVEL_')}  "
        f"PD {assessment.probability_of_default:.3f}  score {assessment.score}  "
        f"confidence {assessment.confidence:.2f}\n"
        f"instalment {money(repayment.monthly_instalment)}  DTI {repayment.debt_to_income_before} -> "
        f"{repayment.debt_to_income_after}  LTI {repayment.loan_to_income}  disposable "
        f"{money(repayment.disposable_income)}\n"
        f"[bold]explanation ({source}; {validation})[/bold]: {escape(assessment.explanation)}\n"
        f"model {assessment.provenance.model_id[:23]}...  rules {assessment.provenance.rule_set_version}  "
        f"audit record {assessment.provenance.audit_record_id}"
        + (f"\nreview {assessment.review_id} opened for a loan officer" if assessment.review_id else "")
    )
    console.print(Panel.fit(body, title=title), reasons)


def _assess(platform: Any, request: Any) -> Any:
    request.include_explanation = True
    channel, client = _client(platform, "core-banking")
    with channel:
        return client.assess_loan_application(request=request, timeout=120).assessment


def step_risk_approve(platform: Any) -> None:
    """An application the engine approves."""
    from server.risk.samples import approve_request

    _show("Risk 1. A sound application: APPROVE", _assess(platform, approve_request(f"demo-{uuid.uuid4().hex[:6]}")))


def step_risk_refer(platform: Any) -> None:
    """A referral to the manual-review queue, and a loan officer deciding it with a justification."""
    from fintech.risk.v1 import risk_service_pb2 as pb

    from server.risk.samples import refer_request

    assessment = _assess(platform, refer_request(f"demo-{uuid.uuid4().hex[:6]}"))
    _show("Risk 2. Delinquencies in the bureau file: REFER to a loan officer", assessment)
    channel, officer = _client(platform, "loan-officer")
    with channel:
        review = officer.decide_loan_review(
            request=pb.DecideLoanReviewRequest(
                request_id=str(uuid.uuid4()),
                review_id=assessment.review_id,
                decision=pb.RECOMMENDATION_APPROVE,
                justification="Both delinquencies date from a documented hospital stay; payments current since.",
            )
        ).review
    console.print(
        Panel(
            f"final decision {pb.Recommendation.Name(review.final_decision)} by {review.decided_by}\n"
            f"justification: {review.justification}\nengine's reasons kept: "
            + ", ".join(
                [r.code for r in review.assessment.key_risk_points] + [h.rule_id for h in review.assessment.rule_hits]
            ),
            title="Risk 3. The loan officer decides the review (audited)",
        )
    )


def step_risk_decline(platform: Any) -> None:
    """An application the scorecard declines, with its adverse-action reasons."""
    from server.risk.samples import decline_request

    _show(
        "Risk 4. Overdrawn account, long large loan: DECLINE",
        _assess(platform, decline_request(f"demo-{uuid.uuid4().hex[:6]}")),
    )


def step_risk_model_card(platform: Any) -> None:
    """The scorecard's model card with the drift index of recent assessments."""
    from fintech.risk.v1 import risk_service_pb2 as pb

    from server.risk.cli import print_model_card

    channel, client = _client(platform, "loan-officer")
    with channel:
        card = client.get_model_card(request=pb.GetModelCardRequest()).model_card
    print_model_card(card, console)


STEPS = [step_risk_approve, step_risk_refer, step_risk_decline, step_risk_model_card]
"""In walkthrough order."""
