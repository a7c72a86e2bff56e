"""Repayment ability: annuity, zero rate, rounding, ratios, allowance; exact decimals throughout."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.risk.domain import Money
from server.risk.repayment import annuity_factor, monthly_instalment, ratio, repayment_ability


def test_annuity_matches_a_known_schedule() -> None:
    # 10,000 at 12 % nominal for 12 months: the textbook instalment is 888.49.
    assert monthly_instalment(Decimal("10000"), 1200, 12, 2) == Decimal("888.49")
    # 200,000 at 6 % over 30 years: 1,199.10 (standard mortgage table).
    assert monthly_instalment(Decimal("200000"), 600, 360, 2) == Decimal("1199.10")


def test_zero_rate_divides_the_principal_and_rounds_half_up() -> None:
    assert monthly_instalment(Decimal("1000"), 0, 3, 2) == Decimal("333.33")
    assert monthly_instalment(Decimal("1000.02"), 0, 4, 2) == Decimal("250.01")  # 250.005 rounds up
    assert annuity_factor(0, 4) == Decimal("0.25")


def test_rounding_is_to_the_currency_minor_unit() -> None:
    assert monthly_instalment(Decimal("10000"), 1200, 12, 0) == Decimal("888")
    assert monthly_instalment(Decimal("10000"), 1200, 12, 3).as_tuple().exponent == -3


@pytest.mark.parametrize(("rate", "term"), [(-1, 12), (100, 0)])
def test_impossible_terms_are_refused(rate: int, term: int) -> None:
    with pytest.raises(ValueError):
        annuity_factor(rate, term)


def test_ratio_rounds_half_even_to_four_places_and_is_undefined_without_income() -> None:
    assert ratio(Decimal("1"), Decimal("3")) == Decimal("0.3333")
    assert ratio(Decimal("0.00005"), Decimal("1")) == Decimal("0.0000")  # half-even: 0.00005 -> 0.0000
    assert ratio(Decimal("0.00015"), Decimal("1")) == Decimal("0.0002")
    assert ratio(Decimal("5"), Decimal("0")) is None


def test_repayment_ability_figures() -> None:
    result = repayment_ability(
        principal=Money(Decimal("10000.00"), "EUR"),
        annual_rate_bps=1200,
        term_months=12,
        monthly_income=Decimal("3000.00"),
        existing_monthly_debt=Decimal("300.00"),
        dependants=2,
        applicant_allowance=Decimal("1100.00"),
        per_dependant_allowance=Decimal("400.00"),
        minor_units=2,
    )
    assert result.monthly_instalment == Money(Decimal("888.49"), "EUR")
    assert result.total_repayable == Money(Decimal("10661.88"), "EUR")
    assert result.living_cost_allowance == Money(Decimal("1900.00"), "EUR")
    # 3000 - 300 - 888.49 - 1900 = -88.49: negative is reported, not clamped.
    assert result.disposable_income == Money(Decimal("-88.49"), "EUR")
    assert result.debt_to_income_before == Decimal("0.1000")
    assert result.debt_to_income_after == Decimal("0.3962")  # 1188.49 / 3000 = 0.396163...
    assert result.loan_to_income == Decimal("0.2778")  # 10000 / 36000
    for value in (result.debt_to_income_before, result.debt_to_income_after, result.loan_to_income):
        assert isinstance(value, Decimal)


def test_zero_income_leaves_ratios_undefined() -> None:
    result = repayment_ability(
        principal=Money(Decimal("1000"), "EUR"),
        annual_rate_bps=500,
        term_months=10,
        monthly_income=Decimal("0"),
        existing_monthly_debt=Decimal("0"),
        dependants=0,
        applicant_allowance=Decimal("1100"),
        per_dependant_allowance=Decimal("400"),
        minor_units=2,
    )
    assert result.debt_to_income_before is None
    assert result.debt_to_income_after is None
    assert result.loan_to_income is None
    assert result.disposable_income.amount < 0
