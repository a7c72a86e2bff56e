"""The template explanation and the checker the LLM path relies on."""

from __future__ import annotations

import pytest

from server.risk.domain import CheckingAccountStatus, LoanAssessment, LoanPurpose, Recommendation
from server.risk.engine import RiskEngine
from server.risk.explanation import check_explanation, explanation_facts, facts_payload, template_explanation

from .conftest import ApplicationFactory, eur


@pytest.fixture(scope="module")
def declined(engine: RiskEngine) -> LoanAssessment:
    from .conftest import _application

    return engine.assess(
        _application(
            applicant={"checking_account_status": CheckingAccountStatus.OVERDRAWN, "age": 22, "savings_balance": None},
            loan={"term_months": 48, "amount": eur("15000.00"), "purpose": LoanPurpose.NEW_CAR},
        )
    )


def good_explanation(assessment: LoanAssessment) -> str:
    """A free-text explanation an LLM might write, stating only computed facts."""
    pd_percent = f"{assessment.probability_of_default * 100:.1f} %"
    instalment = f"EUR {assessment.repayment.monthly_instalment.amount}"
    return (
        f"We cannot approve this loan. The risk is high: the estimated probability of default is {pd_percent}, "
        f"with a score of {assessment.score}. The main reasons are the loan term of 48 months and the overdrawn "
        f"current account; the monthly instalment would be {instalment}."
    )


def test_the_template_passes_its_own_check(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    cases = [
        make_application(),
        make_application(applicant={"age": 17}),
        make_application(bureau=None, applicant={"credit_score": 500}),
        make_application(applicant={"monthly_income": make_application().applicant.existing_monthly_debt_payments}),
        make_application(applicant={"monthly_income": eur("0"), "existing_monthly_debt_payments": eur("0")}),
    ]
    for application in cases:
        assessment = engine.assess(application)
        text = template_explanation(assessment)
        assert check_explanation(text, explanation_facts(assessment)) == [], text
        assert assessment.recommendation.value in text


def test_a_grounded_free_text_explanation_passes(declined: LoanAssessment) -> None:
    assert declined.recommendation is Recommendation.DECLINE
    assert {r.code for r in declined.key_risk_points} >= {"LOAN_TERM", "CHECKING_ACCOUNT"}
    assert check_explanation(good_explanation(declined), explanation_facts(declined)) == []


@pytest.mark.parametrize(
    ("defect", "flagged", "reason"),
    [
        (("{pd}", "{wrong_pd}"), "{wrong_pd}", "number not in the computed facts"),
        (("{instalment}", "{wrong_instalment}"), "{wrong_instalment}", "number not in the computed facts"),
        (("overdrawn current account", "overdrawn current account and your savings"), "savings", "did not give"),
        (("We cannot approve", "We approve"), "approve", "contradicts the recommendation"),
        (("The risk is high", "The risk is low-risk"), "low-risk", "contradicts the risk level"),
        (("loan term of 48 months", "loan term of 48 months and your marital status"), "marital", "prohibited"),
        (("The main reasons are", "The main reasons (DTI_HIGH) are"), "DTI_HIGH", "reason code"),
        (("and the overdrawn", "and your revolving utilisation and the overdrawn"), "utilisation", "did not give"),
    ],
)
def test_each_single_defect_is_flagged(
    declined: LoanAssessment, defect: tuple[str, str], flagged: str, reason: str
) -> None:
    good = good_explanation(declined)
    pd_percent = declined.probability_of_default * 100
    values = {
        "pd": f"{pd_percent:.1f} %",
        "wrong_pd": f"{pd_percent - 7.3:.1f} %",
        "instalment": f"{declined.repayment.monthly_instalment.amount}",
        "wrong_instalment": f"{declined.repayment.monthly_instalment.amount + 54}",
    }
    old, new = (part.format(**values) for part in defect)
    flagged = flagged.format(**values)
    text = good.replace(old, new)
    assert text != good
    spans = check_explanation(text, explanation_facts(declined))
    assert len(spans) == 1, spans
    span = spans[0]
    assert flagged.lower() in span.text.lower()
    assert text[span.start : span.end] == span.text
    assert reason in span.reason


def test_numbers_may_be_rounded_but_not_changed(declined: LoanAssessment) -> None:
    facts = explanation_facts(declined)
    pd_whole = round(declined.probability_of_default * 100)
    instalment = declined.repayment.monthly_instalment.amount

    def numbers(text: str) -> list[str]:  # these sentences state no recommendation: only numbers are under test
        return [span.text for span in check_explanation(text, facts) if "number" in span.reason]

    assert numbers(f"The default probability is about {pd_whole} %.") == []
    assert numbers(f"The instalment is EUR {round(instalment)}.") == []
    assert len(numbers(f"The instalment is EUR {round(instalment) + 1}.")) == 1


def test_the_facts_payload_is_what_the_engine_computed(declined: LoanAssessment) -> None:
    payload = facts_payload(declined)
    assert payload["recommendation"] == "DECLINE"
    assert payload["monthly_instalment"] == str(declined.repayment.monthly_instalment.amount)
    assert [r["code"] for r in payload["key_risk_points"]] == [r.code for r in declined.key_risk_points]


def test_the_template_passes_for_every_kind_of_decision(
    engine: RiskEngine, make_application: ApplicationFactory
) -> None:
    import random

    from server.runtime.errors import InvalidArgument

    from .test_scorecard import _random_application

    rng = random.Random(7)
    base = make_application()
    seen_rules: set[str] = set()
    for result in engine.assess_batch([_random_application(rng, base) for _ in range(600)]):
        if isinstance(result, InvalidArgument):
            continue
        seen_rules |= {hit.rule_id for hit in result.rule_hits}
        text = template_explanation(result)
        assert check_explanation(text, explanation_facts(result)) == [], text
    assert {"DTI_ABOVE_CAP", "THIN_FILE", "SCORE_NEAR_CUTOFF", "LOAN_TO_INCOME_HIGH"} <= seen_rules


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("extrplanation@gmail.com", "contact details"),  # what the development model once produced
        ("For details see https://example.com/loans before you decide.", "contact details"),
        (
            "The loan term of 48 months and the overdrawn current account weigh most.",
            "does not state the recommendation",
        ),
        ("We cannot approve this application at this time.", "names none of the engine's reasons"),
    ],
)
def test_text_that_says_nothing_checkable_does_not_pass(declined: LoanAssessment, text: str, reason: str) -> None:
    spans = check_explanation(text, explanation_facts(declined))
    assert any(reason in span.reason for span in spans), spans


def test_a_good_explanation_with_a_link_added_is_blocked(declined: LoanAssessment) -> None:
    text = good_explanation(declined) + " Questions? Write to loans@bank.example."
    spans = check_explanation(text, explanation_facts(declined))
    assert [span.text for span in spans] == ["loans@bank.example"]
