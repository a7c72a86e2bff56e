"""The engine's decisions: hard declines, refer triggers, cut-offs, reasons, confidence, bad input."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from server.risk.domain import (
    BureauAttributes,
    CheckingAccountStatus,
    EmploymentType,
    LoanPurpose,
    Money,
    Recommendation,
    RiskLevel,
)
from server.risk.engine import MAX_REASONS, RiskEngine
from server.runtime.errors import InvalidArgument

from .conftest import ApplicationFactory, eur

RISKY_LOAN = {"term_months": 48, "amount": eur("15000.00"), "purpose": LoanPurpose.NEW_CAR}
RISKY_APPLICANT = {"checking_account_status": CheckingAccountStatus.OVERDRAWN, "age": 22, "savings_balance": None}


def rule_ids(assessment: object) -> set[str]:
    return {hit.rule_id for hit in assessment.rule_hits}  # type: ignore[attr-defined]


def test_a_sound_application_is_approved_with_its_figures(
    engine: RiskEngine, make_application: ApplicationFactory
) -> None:
    result = engine.assess(make_application())
    assert result.recommendation is Recommendation.APPROVE
    assert result.risk_level is RiskLevel.LOW
    assert result.rule_hits == ()
    assert result.repayment.monthly_instalment == eur("359.09")
    assert result.repayment.living_cost_allowance == eur("1500.00")
    assert 0 < result.probability_of_default < 0.15
    assert result.score > engine.approve_cutoff_score
    assert result.model_id == engine.scorecard.model_id
    assert result.rule_set_version == engine.policy.version
    assert 0.0 <= result.confidence <= 1.0


def test_a_weak_scorecard_profile_is_declined_by_the_model(
    engine: RiskEngine, make_application: ApplicationFactory
) -> None:
    result = engine.assess(make_application(applicant=RISKY_APPLICANT, loan=RISKY_LOAN))
    assert result.recommendation is Recommendation.DECLINE
    assert result.risk_level is RiskLevel.HIGH
    assert result.rule_hits == ()  # the score decided, no rule
    assert result.score <= engine.decline_cutoff_score


def test_below_legal_minimum_age_is_a_hard_decline(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    result = engine.assess(make_application(applicant={"age": 17}))
    assert result.recommendation is Recommendation.DECLINE
    assert rule_ids(result) == {"AGE_BELOW_LEGAL_MINIMUM"}
    assert result.confidence == 1.0
    assert result.rule_hits[0].value == "17 years"


@pytest.mark.parametrize("age", [18, 70, 95, 120])
def test_there_is_no_upper_age_limit(engine: RiskEngine, make_application: ApplicationFactory, age: int) -> None:
    result = engine.assess(make_application(applicant={"age": age}))
    assert "AGE_BELOW_LEGAL_MINIMUM" not in rule_ids(result)
    assert result.recommendation is Recommendation.APPROVE


def test_older_applicants_never_get_fewer_points(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    scores = [engine.assess(make_application(applicant={"age": age})).score for age in range(18, 121)]
    assert scores == sorted(scores)
    # Age is currently not a feature at all: it cannot move the score either way.
    assert len(set(scores)) == 1


def test_dti_above_cap_is_a_hard_decline(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    # 3500 income, 1500 existing debts + 359.09 instalment: DTI after 0.5312 > 0.45.
    result = engine.assess(make_application(applicant={"existing_monthly_debt_payments": eur("1500.00")}))
    assert result.recommendation is Recommendation.DECLINE
    assert "DTI_ABOVE_CAP" in rule_ids(result)
    assert result.repayment.debt_to_income_after == Decimal("0.5312")


def test_dti_exactly_at_cap_is_not_declined(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    # existing 1215.91 + 359.09 = 1575.00 = 0.45 x 3500 exactly.
    result = engine.assess(make_application(applicant={"existing_monthly_debt_payments": eur("1215.91")}))
    assert result.repayment.debt_to_income_after == Decimal("0.4500")
    assert "DTI_ABOVE_CAP" not in rule_ids(result)


def test_income_below_living_costs_is_a_hard_decline(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    result = engine.assess(make_application(applicant={"monthly_income": eur("1500.00")}))
    assert result.recommendation is Recommendation.DECLINE
    assert "RESIDUAL_INCOME_BELOW_MINIMUM" in rule_ids(result)
    assert result.repayment.disposable_income == eur("-559.09")


def test_zero_income_declines_with_undefined_ratios(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    result = engine.assess(
        make_application(applicant={"monthly_income": eur("0"), "existing_monthly_debt_payments": eur("0")})
    )
    assert result.recommendation is Recommendation.DECLINE
    assert {"NO_INCOME", "RESIDUAL_INCOME_BELOW_MINIMUM"} <= rule_ids(result)
    assert result.repayment.debt_to_income_after is None


@pytest.mark.parametrize(
    ("bureau", "rule"),
    [
        (None, "THIN_FILE"),
        (BureauAttributes(open_credit_lines=0), "THIN_FILE"),
        (BureauAttributes(open_credit_lines=3, delinquencies_24m=2), "BUREAU_DELINQUENCIES"),
    ],
)
def test_bureau_triggers_refer_an_approval(
    engine: RiskEngine, make_application: ApplicationFactory, bureau: BureauAttributes | None, rule: str
) -> None:
    result = engine.assess(make_application(bureau=bureau))
    assert result.recommendation is Recommendation.REFER
    assert rule in rule_ids(result)
    assert result.confidence == 1.0


def test_low_bureau_score_and_high_loan_to_income_refer(
    engine: RiskEngine, make_application: ApplicationFactory
) -> None:
    low_score = engine.assess(make_application(applicant={"credit_score": 550}))
    assert low_score.recommendation is Recommendation.REFER
    assert "BUREAU_SCORE_LOW" in rule_ids(low_score)
    # 34,000 over 120 months at 7.25 %: affordable (DTI 0.17) but 0.81 times annual income.
    high_lti = engine.assess(make_application(loan={"amount": eur("34000.00"), "term_months": 120}))
    assert high_lti.repayment.loan_to_income == Decimal("0.8095")
    assert "LOAN_TO_INCOME_HIGH" in rule_ids(high_lti)
    assert "DTI_ABOVE_CAP" not in rule_ids(high_lti)
    assert high_lti.recommendation in (Recommendation.REFER, Recommendation.DECLINE)


def test_refer_triggers_never_soften_a_hard_decline(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    result = engine.assess(make_application(applicant={"age": 16}, bureau=None))
    assert result.recommendation is Recommendation.DECLINE
    assert rule_ids(result) == {"AGE_BELOW_LEGAL_MINIMUM", "THIN_FILE"}  # both listed, the decline wins
    assert result.confidence == 1.0


def test_score_near_a_cutoff_is_referred(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    # Search a (deterministic) grid of profiles for scores just either side of the approve cut-off.
    near = [
        engine.assess(
            make_application(
                loan={"term_months": term, "purpose": purpose}, applicant={"checking_account_status": status}
            )
        )
        for term in (6, 12, 24, 36, 48)
        for status in CheckingAccountStatus
        for purpose in LoanPurpose
    ]
    margin = engine.policy.refer.near_cutoff_points
    hits = [a for a in near if abs(a.score - engine.approve_cutoff_score) < margin - 1]
    assert hits, "the grid should reach the approve cut-off"
    for assessment in hits:
        assert assessment.recommendation is Recommendation.REFER
        assert "SCORE_NEAR_CUTOFF" in rule_ids(assessment)
        assert assessment.confidence < 0.35


def test_reasons_are_the_top_four_by_points_lost_with_values(
    engine: RiskEngine, make_application: ApplicationFactory
) -> None:
    result = engine.assess(make_application(applicant=RISKY_APPLICANT, loan=RISKY_LOAN))
    reasons = result.key_risk_points
    assert len(reasons) == MAX_REASONS
    assert [r.rank for r in reasons] == [1, 2, 3, 4]
    assert [r.points_lost for r in reasons] == sorted((r.points_lost for r in reasons), reverse=True)
    lost = sorted((p.max_points - p.points for p in result.points), reverse=True)
    assert [r.points_lost for r in reasons] == pytest.approx(lost[:MAX_REASONS])
    by_code = {r.code: r.value for r in reasons}
    assert by_code["LOAN_TERM"] == "48 months"
    assert by_code["CHECKING_ACCOUNT"] == "overdrawn"
    assert sum(p.points for p in result.points) == pytest.approx(result.score, abs=0.5)


def test_retired_applicants_are_not_penalised_for_employment(
    engine: RiskEngine, make_application: ApplicationFactory
) -> None:
    result = engine.assess(
        make_application(
            applicant={"employment_type": EmploymentType.RETIRED, "employment_tenure_months": 0, "age": 70}
        )
    )
    assert "EMPLOYMENT_TENURE" not in {r.code for r in result.key_risk_points}


def test_bad_input_names_every_field(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    application = make_application(
        applicant={"monthly_income": Money(Decimal("-1"), "EUR"), "savings_balance": Money(Decimal("10"), "USD")},
    )
    with pytest.raises(InvalidArgument) as caught:
        engine.assess(application)
    fields = {v.field for v in caught.value.violations}
    assert fields == {"applicant.monthly_income", "applicant.savings_balance.currency_code"}
    assert caught.value.domain == "risk.fintech"


def test_an_unconfigured_currency_is_refused(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    chf = make_application(loan={"amount": Money(Decimal("1000"), "CHF")})
    chf = replace(
        chf,
        applicant=replace(
            chf.applicant,
            monthly_income=Money(Decimal("3000"), "CHF"),
            existing_monthly_debt_payments=Money(Decimal("0"), "CHF"),
            savings_balance=None,
        ),
    )
    with pytest.raises(InvalidArgument) as caught:
        engine.assess(chf)
    assert [v.field for v in caught.value.violations] == ["loan.amount.currency_code"]
    assert "EUR" in caught.value.violations[0].description
