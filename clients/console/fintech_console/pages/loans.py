"""Loan reviews (role ``loan-officer``): REFER decisions waiting for a person, and deciding one.

The queue and each review come from ``ListLoanReviews`` (there is no single-review RPC: a review's
page is found again with the page token it was listed on, else by paging from the start); the model
card from ``GetModelCard``. Approving or declining calls ``DecideLoanReview`` with a mandatory
justification; RiskService writes the audit record naming the officer and the console.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from fintech.client import FintechError
from fintech.common.v1 import common_pb2 as common
from fintech.risk.v1 import risk_service_pb2 as risk

from fintech_console.auth.guard import require_role
from fintech_console.auth.sessions import Operator
from fintech_console.services import OperatorServices, ServiceProblem, describe_problem
from fintech_console.web import (
    NavLink,
    enum_label,
    flash,
    now_seconds,
    page_urls,
    redirect,
    render,
    render_problem,
    services_for,
    settings_of,
)

router = APIRouter()
NAV: tuple[NavLink, ...] = (NavLink("Loan reviews", "/loans", ("loan-officer",)),)
LoanOfficer = Annotated[Operator, Depends(require_role("loan-officer"))]

_STATUS = {"pending": risk.LOAN_REVIEW_STATUS_PENDING, "decided": risk.LOAN_REVIEW_STATUS_DECIDED, "all": 0}
_DECISIONS = {"approve": risk.RECOMMENDATION_APPROVE, "decline": risk.RECOMMENDATION_DECLINE}
MIN_JUSTIFICATION = 10  # the contract's rule (DecideLoanReviewRequest.justification min_len)
MAX_JUSTIFICATION = 4000
# How far the console pages through the queue to find a review whose page token went stale.
_FIND_MAX_PAGES = 40


def _row(review: risk.LoanReview, now: float) -> dict[str, Any]:
    assessment = review.assessment
    decided = review.status == risk.LOAN_REVIEW_STATUS_DECIDED
    ended = review.decide_time.seconds if decided else now
    return {
        "id": review.review_id,
        "application_id": review.application_id,
        "score": assessment.score,
        "risk_level": enum_label(risk.RiskLevel, assessment.risk_level),
        "probability_of_default": assessment.probability_of_default,
        "reasons": [reason.code for reason in assessment.key_risk_points],
        "rules": [hit.rule_id for hit in assessment.rule_hits],
        "instalment": assessment.repayment.monthly_instalment,
        "status": enum_label(risk.LoanReviewStatus, review.status),
        "pending": not decided,
        "final_decision": enum_label(risk.Recommendation, review.final_decision) if decided else "",
        "waited_seconds": max(0.0, ended - review.create_time.seconds) if review.create_time.seconds else 0.0,
    }


@router.get("/loans", response_class=HTMLResponse)
async def queue(request: Request, operator: LoanOfficer, status: str = "pending", page_token: str = "") -> Response:
    """REFER decisions waiting for (or decided by) a loan officer."""
    status = status if status in _STATUS else "pending"
    services = services_for(request, operator)
    call = risk.ListLoanReviewsRequest(
        page_size=settings_of(request).page_size, page_token=page_token, status=_STATUS[status]
    )
    try:
        reply = await services.risk.list_loan_reviews(request=call, **services.read)
    except FintechError as error:
        return render_problem(request, error, title="Loan reviews")
    now = now_seconds(request)
    return render(
        request,
        "loans/queue.html",
        {
            "title": "Loan reviews",
            "rows": [_row(review, now) for review in reply.reviews],
            "status": status,
            "page_token": page_token,
            **page_urls(request, reply.next_page_token),
        },
    )


async def _find_review(
    services: OperatorServices, review_id: str, page_token: str, page_size: int
) -> risk.LoanReview | None:
    tokens = [page_token, ""] if page_token else [""]
    for start in tokens:
        token, pages = start, 0
        while pages < _FIND_MAX_PAGES:
            reply = await services.risk.list_loan_reviews(
                request=risk.ListLoanReviewsRequest(page_size=page_size, page_token=token), **services.read
            )
            for review in reply.reviews:
                if review.review_id == review_id:
                    return review
            pages += 1
            token = reply.next_page_token
            if not token or start:
                break
    return None


async def _detail(
    request: Request,
    operator: Operator,
    review_id: str,
    page_token: str,
    *,
    form: dict[str, str] | None = None,
    error: str = "",
    problem: ServiceProblem | None = None,
    status_code: int = 200,
) -> Response:
    services = services_for(request, operator)
    try:
        review = await _find_review(services, review_id, page_token, settings_of(request).page_size)
    except FintechError as failure:
        return render_problem(request, failure, title="Loan review")
    if review is None:
        return render(
            request,
            "refused.html",
            {"title": "Loan review not found", "reason": f"RiskService lists no review {review_id}."},
            status_code=404,
        )
    card: risk.ModelCard | None = None
    card_problem: ServiceProblem | None = None
    try:
        card = (await services.risk.get_model_card(request=risk.GetModelCardRequest(), **services.read)).model_card
    except FintechError as failure:
        card_problem = describe_problem(failure)  # the review is still worth showing without its model card
    assessment = review.assessment
    return render(
        request,
        "loans/detail.html",
        {
            "title": f"Loan review {review.review_id}",
            "review": review,
            "row": _row(review, now_seconds(request)),
            "assessment": assessment,
            "recommendation": enum_label(risk.Recommendation, assessment.recommendation),
            "rule_hits": [
                {
                    "rule_id": h.rule_id,
                    "outcome": enum_label(risk.Recommendation, h.outcome),
                    "description": h.description,
                    "value": h.value,
                }
                for h in assessment.rule_hits
            ],
            "explanation_source": enum_label(common.ExplanationSource, assessment.explanation_source),
            "validation": enum_label(common.ValidationOutcome, assessment.provenance.validation_outcome),
            "card": card,
            "card_problem": card_problem,
            "page_token": page_token,
            "request_id": str(uuid.uuid4()),
            "form": form or {},
            "error": error,
            "problem": problem,
            "min_justification": MIN_JUSTIFICATION,
            "max_justification": MAX_JUSTIFICATION,
        },
        status_code=status_code,
    )


@router.get("/loans/{review_id}", response_class=HTMLResponse)
async def detail(request: Request, review_id: str, operator: LoanOfficer, page_token: str = "") -> Response:
    """One REFER decision: reason codes, repayment figures, scorecard points, model card, the decision form."""
    return await _detail(request, operator, review_id, page_token)


@router.post("/loans/{review_id}/decide")
async def decide(
    request: Request,
    review_id: str,
    operator: LoanOfficer,
    decision: Annotated[str, Form()] = "",
    justification: Annotated[str, Form()] = "",
    request_id: Annotated[str, Form()] = "",
    page_token: Annotated[str, Form()] = "",
) -> Response:
    """Approve or decline with a justification (``DecideLoanReview``), then back to the queue."""
    text = justification.strip()
    form = {"decision": decision, "justification": text}
    error = ""
    if decision not in _DECISIONS:
        error = "Choose Approve or Decline."
    elif len(text) < MIN_JUSTIFICATION:
        error = (
            f"A justification of at least {MIN_JUSTIFICATION} characters is required; "
            "it is recorded in the audit trail."
        )
    elif len(text) > MAX_JUSTIFICATION:
        error = f"The justification is too long ({len(text)} of {MAX_JUSTIFICATION} characters)."
    if error:
        return await _detail(request, operator, review_id, page_token, form=form, error=error, status_code=400)
    try:
        uuid.UUID(request_id)
    except ValueError:
        request_id = str(uuid.uuid4())
    services = services_for(request, operator)
    try:
        await services.risk.decide_loan_review(
            request=risk.DecideLoanReviewRequest(
                request_id=request_id, review_id=review_id, decision=_DECISIONS[decision], justification=text
            ),
            **services.write,
        )
    except FintechError as failure:
        problem = describe_problem(failure)
        return await _detail(
            request, operator, review_id, page_token, form=form, problem=problem, status_code=problem.status_code
        )
    flash(request, f"Review {review_id}: {decision} recorded.")
    return redirect("/loans")
