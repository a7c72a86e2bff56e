"""AssessLoanApplication through a real server: decisions stored and audited in one transaction, REFER
opens a review, idempotency by request_id, and the LLM explanation served only when it passes the checker
(scripted OpenAI-compatible server); a defective one is replaced by the template."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa
from fintech.client import AlreadyExists, InvalidArgument, RiskServiceClient
from fintech.common.v1 import common_pb2
from fintech.risk.v1 import risk_service_pb2 as pb

from server.audit.records import AuditRecord
from server.audit.tables import audit_records
from server.risk import mapping, samples
from server.risk.domain import LoanAssessment
from server.risk.engine import RiskEngine
from server.risk.explanation import check_explanation, explanation_facts, template_explanation
from server.storage.idempotency import payload_digest
from tests.integration.risk.conftest import RiskStack

RPC = "/fintech.risk.v1.RiskService/AssessLoanApplication"


async def audit_records_for(stack: RiskStack, request_id: str) -> list[AuditRecord]:
    """The audit records of one request, payloads opened."""
    audit, database = stack.ctx.require("audit"), stack.ctx.require("database")
    async with database.read() as conn:
        rows = (
            await conn.execute(sa.select(audit_records.c.record_id).where(audit_records.c.request_id == request_id))
        ).all()
        return [await audit.get(conn, row.record_id, open_payload=True) for row in rows]


def engine_view(request: pb.AssessLoanApplicationRequest) -> LoanAssessment:
    """What the engine decides for ``request`` (the test's own oracle)."""
    return RiskEngine.from_files().assess(mapping.application_from_proto(request))


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (samples.approve_request, pb.RECOMMENDATION_APPROVE),
        (samples.refer_request, pb.RECOMMENDATION_REFER),
        (samples.decline_request, pb.RECOMMENDATION_DECLINE),
    ],
)
async def test_each_decision_is_returned_stored_and_audited(
    risk_stack: RiskStack,
    core_banking: RiskServiceClient,
    make,
    expected,  # type: ignore[no-untyped-def]
) -> None:
    request = make(f"app-{uuid.uuid4().hex[:8]}", f"cust-{uuid.uuid4().hex[:8]}")
    assessment = (await core_banking.assess_loan_application(request=request)).assessment
    assert assessment.recommendation == expected
    assert assessment.key_risk_points, "reason codes are returned"
    assert assessment.explanation_source == common_pb2.EXPLANATION_SOURCE_NONE
    assert assessment.explanation == ""
    assert assessment.assess_time.seconds > 0
    engine = RiskEngine.from_files()
    assert assessment.provenance.model_id == engine.scorecard.model_id
    assert assessment.provenance.rule_set_version == engine.policy.version
    assert (assessment.review_id != "") is (expected == pb.RECOMMENDATION_REFER)
    [record] = await audit_records_for(risk_stack, request.request_id)
    assert record.record_id == assessment.provenance.audit_record_id
    assert record.kind == "DECISION"
    assert record.rpc == RPC
    assert record.decision == pb.Recommendation.Name(expected).removeprefix("RECOMMENDATION_")
    assert record.engine == "risk.scorecard" and record.engine_version
    assert record.model_id == engine.scorecard.model_id
    assert record.rule_set_version == engine.policy.version
    assert record.input_digest == payload_digest(request)
    assert record.subject_type == "applicant" and record.subject_id == request.applicant.applicant_id
    assert record.caller.endswith("core-banking") or "core-banking" in record.caller
    assert record.validation_outcome == "NOT_APPLICABLE"
    assert record.opened is not None and record.opened["details"]["application_id"] == request.application_id


async def test_a_retry_returns_the_stored_response_and_writes_nothing(
    risk_stack: RiskStack, core_banking: RiskServiceClient
) -> None:
    request = samples.refer_request(f"app-{uuid.uuid4().hex[:8]}")
    first = await core_banking.assess_loan_application(request=request)
    second = await core_banking.assess_loan_application(request=request)
    assert second == first
    assert len(await audit_records_for(risk_stack, request.request_id)) == 1
    changed = pb.AssessLoanApplicationRequest()
    changed.CopyFrom(request)
    changed.loan.amount.units += 1
    with pytest.raises(AlreadyExists) as info:
        await core_banking.assess_loan_application(request=changed)
    assert info.value.reason == "REQUEST_ID_REUSED"


async def test_an_application_the_engine_refuses_names_the_field(core_banking: RiskServiceClient) -> None:
    request = samples.approve_request()
    for money in (
        request.applicant.monthly_income,
        request.applicant.existing_monthly_debt_payments,
        request.loan.amount,
    ):
        money.currency_code = "USD"  # consistent for the contract, but no policy for USD
    with pytest.raises(InvalidArgument) as info:
        await core_banking.assess_loan_application(request=request)
    assert "loan.amount.currency_code" in [v.field for v in info.value.field_violations]


def _llm_answer(text: str) -> dict[str, object]:
    return {"kind": "ok", "content": json.dumps({"explanation": text})}


def correct_explanation(assessment: LoanAssessment) -> str:
    """A plausible LLM explanation of the approve case, stated from the facts only."""
    instalment = assessment.repayment.monthly_instalment.amount
    reasons = assessment.key_risk_points
    text = (
        f"We recommend to approve this application: the estimated probability of default is "
        f"{assessment.probability_of_default * 100:.1f} %, a low risk. The monthly instalment would be EUR "
        f"{instalment:,} and the debt-to-income ratio after the loan is {assessment.repayment.debt_to_income_after}. "
        f"The points that cost the most score were the {reasons[0].description.lower()} ({reasons[0].value}) "
        f"and the {reasons[1].description.lower()} ({reasons[1].value})."
    )
    assert check_explanation(text, explanation_facts(assessment)) == [], "the test's own text must pass"
    return text


async def test_a_correct_llm_explanation_is_served_as_is(
    risk_stack: RiskStack, core_banking: RiskServiceClient
) -> None:
    request = samples.approve_request(f"app-{uuid.uuid4().hex[:8]}")
    request.include_explanation = True
    text = correct_explanation(engine_view(request))
    risk_stack.llm.reset()
    risk_stack.llm.script(_llm_answer(text))
    assessment = (await core_banking.assess_loan_application(request=request)).assessment
    assert assessment.explanation == text
    assert assessment.explanation_source == common_pb2.EXPLANATION_SOURCE_LLM
    assert assessment.provenance.validation_outcome == common_pb2.VALIDATION_OUTCOME_PASSED
    assert assessment.provenance.prompt_template_id == "explain_decision"
    sent = risk_stack.llm.requests()
    assert len(sent) == 1
    prompt = json.dumps(sent[0]["body"]["messages"])
    assert str(engine_view(request).repayment.monthly_instalment.amount) in prompt, "the facts are in the prompt"
    [record] = await audit_records_for(risk_stack, request.request_id)
    assert record.validation_outcome == "PASSED"
    assert record.prompt_template_id.startswith("explain_decision@1#") and len(record.prompt_template_digest) == 64
    assert record.opened is not None and text in json.loads(record.opened["llm_output"])[0]


def _defects(assessment: LoanAssessment) -> dict[str, str]:
    good = correct_explanation(assessment)
    instalment = f"{assessment.repayment.monthly_instalment.amount:,}"
    wrong = f"{assessment.repayment.monthly_instalment.amount + 37:,}"
    return {
        "wrong number": good.replace(instalment, wrong),
        "reason the engine did not give": good + " Your savings were also taken into account.",
        "contradicted recommendation": good.replace("approve this application", "decline this application"),
    }


@pytest.mark.parametrize("defect", ["wrong number", "reason the engine did not give", "contradicted recommendation"])
async def test_an_explanation_with_one_defect_is_replaced_by_the_template(
    risk_stack: RiskStack, core_banking: RiskServiceClient, defect: str
) -> None:
    request = samples.approve_request(f"app-{uuid.uuid4().hex[:8]}")
    request.include_explanation = True
    expected = engine_view(request)
    bad = _defects(expected)[defect]
    assert check_explanation(bad, explanation_facts(expected)), "the defect must be one the checker sees"
    risk_stack.llm.reset()
    risk_stack.llm.script(_llm_answer(bad), _llm_answer(bad))
    assessment = (await core_banking.assess_loan_application(request=request)).assessment
    assert assessment.explanation_source == common_pb2.EXPLANATION_SOURCE_TEMPLATE
    assert assessment.provenance.validation_outcome == common_pb2.VALIDATION_OUTCOME_FAILED
    assert assessment.explanation == template_explanation(expected)
    assert bad not in assessment.explanation
    assert len(risk_stack.llm.requests()) == 2, "asked twice, then the template"
    [record] = await audit_records_for(risk_stack, request.request_id)
    assert record.validation_outcome == "FAILED"
    assert record.opened is not None
    assert len(json.loads(record.opened["llm_output"])) == 2
    assert record.opened["details"]["explanation_source"] == "TEMPLATE"
    assert record.opened["details"]["unsupported"][0], "the unsupported spans are kept"


async def test_a_defect_fixed_on_the_second_answer_is_served(
    risk_stack: RiskStack, core_banking: RiskServiceClient
) -> None:
    request = samples.approve_request(f"app-{uuid.uuid4().hex[:8]}")
    request.include_explanation = True
    expected = engine_view(request)
    good = correct_explanation(expected)
    risk_stack.llm.reset()
    risk_stack.llm.script(_llm_answer(_defects(expected)["wrong number"]), _llm_answer(good))
    assessment = (await core_banking.assess_loan_application(request=request)).assessment
    assert assessment.explanation == good
    assert assessment.explanation_source == common_pb2.EXPLANATION_SOURCE_LLM
    second = risk_stack.llm.requests()[1]["body"]["messages"]
    assert "not supported" in second[-1]["content"], "the retry says what was wrong"


async def test_an_unavailable_llm_gives_the_template_and_says_so(
    risk_stack: RiskStack, core_banking: RiskServiceClient
) -> None:
    request = samples.decline_request(f"app-{uuid.uuid4().hex[:8]}")
    request.include_explanation = True
    risk_stack.llm.reset()
    risk_stack.llm.script(*[{"kind": "status", "status": 500}] * 6, default={"kind": "status", "status": 500})
    assessment = (await core_banking.assess_loan_application(request=request)).assessment
    assert assessment.recommendation == pb.RECOMMENDATION_DECLINE
    assert assessment.explanation_source == common_pb2.EXPLANATION_SOURCE_TEMPLATE
    assert assessment.explanation == template_explanation(engine_view(request))
    [record] = await audit_records_for(risk_stack, request.request_id)
    assert record.opened is not None and "unavailable" in record.opened["details"]["template_reason"]
    risk_stack.llm.reset()
