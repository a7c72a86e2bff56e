"""Protobuf <-> domain conversion of the risk contract."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from fintech.common.v1 import common_pb2
from fintech.risk.v1 import risk_service_pb2 as pb

from server.risk import domain
from server.risk.engine import RiskEngine
from server.risk.mapping import (
    application_from_proto,
    assessment_to_proto,
    model_card_to_proto,
    money_from_proto,
    money_to_proto,
)
from server.risk.model_card import build_model_card
from server.runtime.errors import InvalidArgument


def _money(units: int, nanos: int = 0) -> common_pb2.Money:
    return common_pb2.Money(currency_code="EUR", units=units, nanos=nanos)


def request(**applicant_overrides: object) -> pb.AssessLoanApplicationRequest:
    applicant = pb.Applicant(
        applicant_id="cust-1",
        age=40,
        employment_type=pb.EMPLOYMENT_TYPE_EMPLOYED,
        employment_tenure_months=60,
        monthly_income=_money(3500),
        existing_monthly_debt_payments=_money(200),
        credit_score=720,
        dependants=1,
        housing_status=pb.HOUSING_STATUS_OWNER,
        savings_balance=_money(5000),
        checking_account_status=pb.CHECKING_ACCOUNT_STATUS_HEALTHY_BALANCE,
        existing_credits_count=1,
    )
    for name, value in applicant_overrides.items():
        setattr(applicant, name, value)
    return pb.AssessLoanApplicationRequest(
        request_id="5b0e4a4e-8d59-4d8e-9d2c-8b6a1b8f6c11",
        application_id="app-1",
        applicant=applicant,
        loan=pb.Loan(
            amount=_money(8000),
            term_months=24,
            purpose=pb.LOAN_PURPOSE_USED_CAR,
            product_code="personal-loan-std",
            annual_rate_bps=725,
        ),
        bureau=pb.BureauAttributes(open_credit_lines=4, delinquencies_24m=0),
    )


@pytest.mark.parametrize(
    ("units", "nanos", "amount"),
    [(0, 0, "0"), (12, 340_000_000, "12.34"), (-3, -500_000_000, "-3.5"), (0, 1, "0.000000001")],
)
def test_money_round_trips_exactly(units: int, nanos: int, amount: str) -> None:
    value = money_from_proto(_money(units, nanos))
    assert value.amount == Decimal(amount)
    back = money_to_proto(value)
    assert (back.units, back.nanos, back.currency_code) == (units, nanos, "EUR")


def test_mixed_sign_money_is_refused() -> None:
    with pytest.raises(ValueError):
        money_from_proto(_money(1, -1))


def test_request_maps_to_the_domain_with_presence_kept() -> None:
    application = application_from_proto(request())
    assert application.applicant.employment_type is domain.EmploymentType.EMPLOYED
    assert application.applicant.checking_account_status is domain.CheckingAccountStatus.HEALTHY_BALANCE
    assert application.loan.purpose is domain.LoanPurpose.USED_CAR
    assert application.bureau == domain.BureauAttributes(open_credit_lines=4, delinquencies_24m=0)
    unstated = request()
    unstated.applicant.ClearField("savings_balance")
    unstated.applicant.checking_account_status = pb.CHECKING_ACCOUNT_STATUS_UNSPECIFIED
    unstated.ClearField("bureau")
    mapped = application_from_proto(unstated)
    assert mapped.applicant.savings_balance is None
    assert mapped.applicant.checking_account_status is None
    assert mapped.bureau is None


def test_unspecified_required_enums_are_named() -> None:
    bad = request(employment_type=pb.EMPLOYMENT_TYPE_UNSPECIFIED, housing_status=99)
    with pytest.raises(InvalidArgument) as caught:
        application_from_proto(bad)
    assert {v.field for v in caught.value.violations} == {"applicant.employment_type", "applicant.housing_status"}


def test_assessment_and_model_card_map_to_the_contract(engine: RiskEngine) -> None:
    assessment = engine.assess(application_from_proto(request()))
    message = assessment_to_proto(assessment)
    assert message.recommendation == pb.RECOMMENDATION_APPROVE
    assert message.repayment.monthly_instalment.units == 359
    assert message.repayment.monthly_instalment.nanos == 90_000_000
    assert message.repayment.debt_to_income_after == str(assessment.repayment.debt_to_income_after)
    assert message.provenance.model_id == engine.scorecard.model_id
    assert len(message.points) == len(engine.scorecard.feature_names)
    card = model_card_to_proto(build_model_card(engine.scorecard, engine.policy, psi=None))
    assert math.isnan(card.population_stability_index)
    assert card.model_id == engine.scorecard.model_id
    assert card.training_time.seconds > 0
