"""AssessLoanApplications (per-item results and errors, stored and audited per micro-batch), the model card
with drift, and the review queue (pagination, decisions, refusals) through a real server."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from fintech.client import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, RiskServiceClient
from fintech.risk.v1 import risk_service_pb2 as pb
from google.rpc import code_pb2, error_details_pb2

from server.audit.tables import audit_records
from server.risk import samples
from tests.integration.risk.conftest import RiskStack

STREAM_RPC = "/fintech.risk.v1.RiskService/AssessLoanApplications"


async def _items(items: list[pb.AssessLoanApplicationsRequest]) -> AsyncIterator[pb.AssessLoanApplicationsRequest]:
    for item in items:
        yield item


def _violations(status) -> list[str]:  # type: ignore[no-untyped-def]
    fields = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    return fields


async def test_a_batch_gives_one_result_per_item_and_bad_items_do_not_stop_it(
    risk_stack: RiskStack, core_banking: RiskServiceClient
) -> None:
    rng = random.Random(7)
    tag = uuid.uuid4().hex[:6]
    items = [
        pb.AssessLoanApplicationsRequest(item_id=f"{tag}-{i}", application=samples.varied_request(rng, i))
        for i in range(600)
    ]
    items[5].application.applicant.age = 10  # the contract's range
    items[77].ClearField("application")
    for money in (  # one currency, but none the policy knows: the engine's own check
        items[300].application.applicant.monthly_income,
        items[300].application.applicant.existing_monthly_debt_payments,
        items[300].application.loan.amount,
    ):
        money.currency_code = "CHF"
    items[301].application.applicant.employment_type = pb.EMPLOYMENT_TYPE_UNSPECIFIED
    items[450] = pb.AssessLoanApplicationsRequest(item_id=f"{tag}-dup", application=items[449].application)
    results = [r async for r in core_banking.assess_loan_applications(requests=_items(items))]
    assert [r.item_id for r in results] == [i.item_id for i in items]
    errors = {r.item_id: r.error for r in results if r.WhichOneof("result") == "error"}
    assert set(errors) == {f"{tag}-5", f"{tag}-77", f"{tag}-300", f"{tag}-301"}
    assert all(e.code == code_pb2.INVALID_ARGUMENT for e in errors.values())
    assert _violations(errors[f"{tag}-5"]) == ["application.applicant.age"]
    assert _violations(errors[f"{tag}-77"]) == ["application"]
    assert "application.loan.amount.currency_code" in _violations(errors[f"{tag}-300"])
    assert "application.applicant.employment_type" in _violations(errors[f"{tag}-301"])
    by_id = {r.item_id: r.assessment for r in results if r.WhichOneof("result") == "assessment"}
    assert by_id[f"{tag}-dup"] == by_id[f"{tag}-449"], "a repeated request_id is answered from the first"
    decisions = {a.recommendation for a in by_id.values()}
    assert decisions == {pb.RECOMMENDATION_APPROVE, pb.RECOMMENDATION_REFER, pb.RECOMMENDATION_DECLINE}
    assert all(a.provenance.audit_record_id for a in by_id.values())
    assert all(bool(a.review_id) is (a.recommendation == pb.RECOMMENDATION_REFER) for a in by_id.values())
    database = risk_stack.ctx.require("database")
    request_ids = [i.application.request_id for i in items if i.HasField("application")]
    async with database.read() as conn:
        audited = (
            await conn.execute(
                sa.select(sa.func.count()).where(
                    audit_records.c.rpc == STREAM_RPC, audit_records.c.request_id.in_(request_ids)
                )
            )
        ).scalar_one()
    assert audited == len(items) - 4 - 1, "one record per new decision; none for errors or the repeat"
    card = (await core_banking.get_model_card(request=pb.GetModelCardRequest())).model_card
    assert math.isfinite(card.population_stability_index) and card.population_stability_index >= 0


async def test_the_model_card_documents_the_model(core_banking: RiskServiceClient) -> None:
    card = (await core_banking.get_model_card(request=pb.GetModelCardRequest())).model_card
    assert card.model_id.startswith("sha256:")
    assert {m.name for m in card.metrics} >= {"AUC", "GINI", "KS"}
    assert card.features and card.limitations and card.intended_use and card.rule_set_version
    assert any("foreign_worker" in e for e in card.excluded_attributes)


async def _refer(client: RiskServiceClient) -> pb.LoanAssessment:
    request = samples.refer_request(f"app-{uuid.uuid4().hex[:8]}", f"cust-{uuid.uuid4().hex[:8]}")
    return (await client.assess_loan_application(request=request)).assessment


async def test_the_review_queue_pages_with_signed_tokens_and_filters(
    officer: RiskServiceClient,
) -> None:
    created = {(await _refer(officer)).review_id for _ in range(5)}
    seen: list[str] = []
    token = ""
    while True:
        page = await officer.list_loan_reviews(
            request=pb.ListLoanReviewsRequest(page_size=2, page_token=token, status=pb.LOAN_REVIEW_STATUS_PENDING)
        )
        assert len(page.reviews) <= 2
        assert all(r.status == pb.LOAN_REVIEW_STATUS_PENDING for r in page.reviews)
        seen += [r.review_id for r in page.reviews]
        token = page.next_page_token
        if not token:
            break
    assert created <= set(seen) and len(seen) == len(set(seen))
    first = await officer.list_loan_reviews(request=pb.ListLoanReviewsRequest(page_size=1))
    review = first.reviews[0]
    assert review.assessment.recommendation == pb.RECOMMENDATION_REFER and review.assessment.key_risk_points
    with pytest.raises(InvalidArgument) as info:  # a token of another filter
        await officer.list_loan_reviews(
            request=pb.ListLoanReviewsRequest(page_token=first.next_page_token, status=pb.LOAN_REVIEW_STATUS_DECIDED)
        )
    assert [v.field for v in info.value.field_violations] == ["page_token"]


async def test_an_officer_decides_a_review_once_with_a_justification(
    risk_stack: RiskStack, officer: RiskServiceClient, core_banking: RiskServiceClient
) -> None:
    assessment = await _refer(officer)
    decide = pb.DecideLoanReviewRequest(
        request_id=str(uuid.uuid4()),
        review_id=assessment.review_id,
        decision=pb.RECOMMENDATION_APPROVE,
        justification="Delinquencies explained by a documented hospital stay; payments current since.",
    )
    with pytest.raises(PermissionDenied):
        await core_banking.decide_loan_review(request=decide)
    review = (await officer.decide_loan_review(request=decide)).review
    assert review.status == pb.LOAN_REVIEW_STATUS_DECIDED
    assert review.final_decision == pb.RECOMMENDATION_APPROVE
    assert review.justification == decide.justification
    assert "loan-officer" in review.decided_by
    assert review.assessment.rule_hits[0].rule_id == "BUREAU_DELINQUENCIES", "the engine's reasons are kept"
    assert (await officer.decide_loan_review(request=decide)).review == review, "a retry is answered, not refused"
    again = pb.DecideLoanReviewRequest()
    again.CopyFrom(decide)
    again.request_id = str(uuid.uuid4())
    again.decision = pb.RECOMMENDATION_DECLINE
    with pytest.raises(FailedPrecondition) as info:
        await officer.decide_loan_review(request=again)
    assert info.value.reason == "REVIEW_ALREADY_DECIDED"
    again.request_id, again.review_id = str(uuid.uuid4()), "no-such-review"
    with pytest.raises(NotFound):
        await officer.decide_loan_review(request=again)
    short = pb.DecideLoanReviewRequest()
    short.CopyFrom(decide)
    short.request_id, short.justification = str(uuid.uuid4()), "ok"
    with pytest.raises(InvalidArgument) as bad:
        await officer.decide_loan_review(request=short)
    assert [v.field for v in bad.value.field_violations] == ["justification"]
    audit, database = risk_stack.ctx.require("audit"), risk_stack.ctx.require("database")
    async with database.read() as conn:
        (record_id,) = (
            await conn.execute(
                sa.select(audit_records.c.record_id).where(audit_records.c.request_id == decide.request_id)
            )
        ).one()
        record = await audit.get(conn, record_id, open_payload=True)
    assert record.decision == "REVIEW:REFER->APPROVE"
    assert record.opened is not None
    details = record.opened["details"]
    assert details["engine_reasons"] and details["justification"] == decide.justification
    decided = await officer.list_loan_reviews(
        request=pb.ListLoanReviewsRequest(status=pb.LOAN_REVIEW_STATUS_DECIDED, page_size=500)
    )
    assert review.review_id in {r.review_id for r in decided.reviews}
