"""Repayment ability with exact decimal arithmetic.

Rounding rules (stated once, applied everywhere):

* Arithmetic runs in a private decimal context of 34 significant digits
  (IEEE decimal128), so nothing depends on the caller's context.
* The monthly instalment is the annuity ``P * r / (1 - (1 + r) ** -n)`` with
  ``r = annual_rate_bps / 120000`` (nominal rate, monthly compounding), or
  ``P / n`` at a zero rate, rounded once to the currency's minor unit,
  half-up (the amount the customer pays).
* Total repayable is that rounded instalment times the term (exact); it can
  differ from a bank's final-instalment-adjusted schedule by under ``n / 2``
  minor units.
* Living-cost allowance = applicant allowance + dependants x per-dependant
  allowance (exact). Disposable income = income - existing debt payments -
  rounded instalment - allowance, rounded to the minor unit half-even; it may be
  negative.
* Ratios (DTI before and after, loan-to-income on annual income) are computed
  from the exact operands and rounded once to four decimals, half-even. Policy
  rules compare these rounded ratios, so what is shown is what was decided.
  With zero income the ratios are undefined (None).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext
from functools import lru_cache

from server.risk.domain import Money, RepaymentAbility

RATIO_QUANTUM = Decimal("0.0001")
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)
_MONTHS_PER_YEAR = Decimal(12)
_BPS_PER_MONTHLY_UNIT = Decimal(120_000)


@lru_cache(maxsize=65_536)
def annuity_factor(annual_rate_bps: int, term_months: int) -> Decimal:
    """Instalment per unit of principal, unrounded (34 significant digits).

    Cached: a batch shares few (rate, term) pairs, and this is the costly part.

    Args:
        annual_rate_bps: Nominal annual rate in basis points (>= 0).
        term_months: Number of monthly instalments (>= 1).

    Returns:
        ``r / (1 - (1 + r) ** -n)``, or ``1 / n`` when the rate is zero.

    Raises:
        ValueError: A negative rate or a term below one month.
    """
    if term_months < 1:
        raise ValueError("term_months must be at least 1")
    if annual_rate_bps < 0:
        raise ValueError("annual_rate_bps must not be negative")
    if annual_rate_bps == 0:
        return _CONTEXT.divide(Decimal(1), Decimal(term_months))
    rate = _CONTEXT.divide(Decimal(annual_rate_bps), _BPS_PER_MONTHLY_UNIT)
    growth = _CONTEXT.power(_CONTEXT.add(Decimal(1), rate), term_months)
    return _CONTEXT.divide(_CONTEXT.multiply(rate, growth), _CONTEXT.subtract(growth, Decimal(1)))


@lru_cache(maxsize=8)
def money_quantum(minor_units: int) -> Decimal:
    """The smallest amount of a currency with ``minor_units`` decimals (2 -> 0.01)."""
    return Decimal(1).scaleb(-minor_units)


def monthly_instalment(principal: Decimal, annual_rate_bps: int, term_months: int, minor_units: int) -> Decimal:
    """The annuity instalment rounded half-up to the currency's minor unit.

    Args:
        principal: Loan amount (> 0).
        annual_rate_bps: Nominal annual rate in basis points.
        term_months: Term in months.
        minor_units: Decimals of the currency.

    Returns:
        The monthly instalment.
    """
    exact = _CONTEXT.multiply(principal, annuity_factor(annual_rate_bps, term_months))
    return exact.quantize(money_quantum(minor_units), rounding=ROUND_HALF_UP, context=_CONTEXT)


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """``numerator / denominator`` rounded half-even to four decimals; None when the denominator is zero."""
    if denominator == 0:
        return None
    return _CONTEXT.divide(numerator, denominator).quantize(RATIO_QUANTUM, rounding=ROUND_HALF_EVEN, context=_CONTEXT)


def living_cost_allowance(dependants: int, applicant_allowance: Decimal, per_dependant: Decimal) -> Decimal:
    """Monthly living costs of a household of the applicant plus ``dependants``."""
    return _CONTEXT.add(applicant_allowance, _CONTEXT.multiply(Decimal(dependants), per_dependant))


def repayment_ability(
    *,
    principal: Money,
    annual_rate_bps: int,
    term_months: int,
    monthly_income: Decimal,
    existing_monthly_debt: Decimal,
    dependants: int,
    applicant_allowance: Decimal,
    per_dependant_allowance: Decimal,
    minor_units: int,
) -> RepaymentAbility:
    """All repayment figures for one application (rounding rules in the module docstring).

    Args:
        principal: The loan amount; its currency is the currency of every result.
        annual_rate_bps: Nominal annual rate in basis points.
        term_months: Term in months.
        monthly_income: Net monthly income, same currency.
        existing_monthly_debt: Existing monthly debt payments, same currency.
        dependants: Number of financial dependants.
        applicant_allowance: Living-cost allowance for the applicant.
        per_dependant_allowance: Living-cost allowance per dependant.
        minor_units: Decimals of the currency.

    Returns:
        The repayment ability.
    """
    currency = principal.currency
    quantum = money_quantum(minor_units)
    factor = annuity_factor(annual_rate_bps, term_months)
    # One private context for the whole computation: operators are several times cheaper than
    # Context methods, and the results are identical (same precision and rounding).
    with localcontext(_CONTEXT):
        instalment = (principal.amount * factor).quantize(quantum, ROUND_HALF_UP)
        allowance = (applicant_allowance + dependants * per_dependant_allowance).quantize(quantum, ROUND_HALF_EVEN)
        debt_after = existing_monthly_debt + instalment
        disposable = (monthly_income - debt_after - allowance).quantize(quantum, ROUND_HALF_EVEN)
        total = instalment * term_months
        if monthly_income == 0:
            dti_before = dti_after = lti = None
        else:
            dti_before = (existing_monthly_debt / monthly_income).quantize(RATIO_QUANTUM, ROUND_HALF_EVEN)
            dti_after = (debt_after / monthly_income).quantize(RATIO_QUANTUM, ROUND_HALF_EVEN)
            lti = (principal.amount / (monthly_income * _MONTHS_PER_YEAR)).quantize(RATIO_QUANTUM, ROUND_HALF_EVEN)
    return RepaymentAbility(
        monthly_instalment=Money(instalment, currency),
        debt_to_income_before=dti_before,
        debt_to_income_after=dti_after,
        disposable_income=Money(disposable, currency),
        loan_to_income=lti,
        living_cost_allowance=Money(allowance, currency),
        total_repayable=Money(total, currency),
    )
