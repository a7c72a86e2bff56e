"""A fast pre-check of the contract's rules for one stream item (``AssessLoanApplicationsRequest``).

Owns :func:`passes_contract` and :func:`read_application` (which returns the values it checked, so the
engine's lane never reads the message twice): the rules written in ``risk_service.proto`` and ``common.proto`` for a
stream item and everything under it, hand-written as plain comparisons. protovalidate's
``check_message`` costs about 90 µs for this message here; this costs a few. It is only ever used as a
fast path for the verdict *valid*: an item it refuses is handed to ``check_message``, which produces
the error (the same field violations as everywhere else). A contract test
(``tests/unit/risk/test_validation.py``) holds its verdict equal to protovalidate's over valid items and
over items breaking each rule of the message, so a rule added to the ``.proto`` and not here fails it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from fintech.risk.v1 import risk_service_pb2 as pb

# RE2 anchors match only at the ends of the text; Python's `$` would accept a trailing newline, so the
# patterns are applied with fullmatch and no anchors.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_PRODUCT = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_CURRENCY = re.compile(r"[A-Z]{3}")
# protovalidate's `string.uuid`: 8-4-4-4-12 hex digits with hyphens, either case.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

_EMPLOYMENT = frozenset(v for v in pb.EmploymentType.values() if v != 0)
_HOUSING = frozenset(v for v in pb.HousingStatus.values() if v != 0)
_PURPOSE = frozenset(v for v in pb.LoanPurpose.values() if v != 0)
_CHECKING = frozenset(pb.CheckingAccountStatus.values())


class ApplicationFields(NamedTuple):
    """The values of a request that passed the contract, read once (what the engine's lane needs)."""

    request_id: str
    application_id: str
    applicant_id: str
    age: int
    employment_type: int
    employment_tenure_months: int
    income_units: int
    income_nanos: int
    debt_units: int
    debt_nanos: int
    credit_score: int
    dependants: int
    housing_status: int
    savings: tuple[int, int, str] | None
    """``(units, nanos, currency_code)`` when stated."""
    checking_account_status: int
    existing_credits_count: int
    amount_units: int
    amount_nanos: int
    currency: str
    term_months: int
    purpose: int
    annual_rate_bps: int
    open_credit_lines: int | None
    delinquencies_24m: int | None


def _money_ok(units: int, nanos: int, currency: str) -> bool:
    return (
        -999_999_999 <= nanos <= 999_999_999
        and ((units >= 0 and nanos >= 0) or (units <= 0 and nanos <= 0))
        and _CURRENCY.fullmatch(currency) is not None
    )


def read_application(request: pb.AssessLoanApplicationRequest) -> ApplicationFields | None:
    """The request's values when it satisfies every rule of ``AssessLoanApplicationRequest`` (and of its
    fields, ``Applicant``, ``Loan``, ``BureauAttributes``, ``Money``), else None.
    """
    if not (request.HasField("applicant") and request.HasField("loan")):
        return None
    applicant = request.applicant
    loan = request.loan
    if not (
        applicant.HasField("monthly_income")
        and applicant.HasField("existing_monthly_debt_payments")
        and loan.HasField("amount")
    ):
        return None
    income = applicant.monthly_income
    debts = applicant.existing_monthly_debt_payments
    amount = loan.amount
    currency = amount.currency_code
    iu, inn, icur = income.units, income.nanos, income.currency_code
    du, dn, dcur = debts.units, debts.nanos, debts.currency_code
    au, an = amount.units, amount.nanos
    age = applicant.age
    employment = applicant.employment_type
    tenure = applicant.employment_tenure_months
    credit_score = applicant.credit_score
    dependants = applicant.dependants
    housing = applicant.housing_status
    checking = applicant.checking_account_status
    credits = applicant.existing_credits_count
    term = loan.term_months
    rate = loan.annual_rate_bps
    purpose = loan.purpose
    if not (
        14 <= age <= 120
        and 0 <= tenure <= 720
        and 300 <= credit_score <= 850
        and 0 <= dependants <= 20
        and 0 <= credits <= 50
        and 1 <= term <= 480
        and 0 <= rate <= 10_000
        and employment in _EMPLOYMENT
        and housing in _HOUSING
        and checking in _CHECKING
        and purpose in _PURPOSE
        and icur == currency
        and dcur == currency
        and (au > 0 or (au == 0 and an > 0))
        and _money_ok(au, an, currency)
        and _money_ok(iu, inn, icur)
        and _money_ok(du, dn, dcur)
    ):
        return None
    savings: tuple[int, int, str] | None = None
    if applicant.HasField("savings_balance"):
        balance = applicant.savings_balance
        savings = (balance.units, balance.nanos, balance.currency_code)
        if not _money_ok(*savings):
            return None
    open_lines: int | None = None
    delinquencies: int | None = None
    if request.HasField("bureau"):
        bureau = request.bureau
        if bureau.HasField("open_credit_lines"):
            open_lines = bureau.open_credit_lines
            if not 0 <= open_lines <= 200:
                return None
        if bureau.HasField("delinquencies_24m"):
            delinquencies = bureau.delinquencies_24m
            if not 0 <= delinquencies <= 200:
                return None
        if bureau.HasField("revolving_utilisation_percent") and not 0 <= bureau.revolving_utilisation_percent <= 1000:
            return None
    request_id = request.request_id
    application_id = request.application_id
    applicant_id = applicant.applicant_id
    if (
        _UUID.fullmatch(request_id) is None
        or _ID.fullmatch(application_id) is None
        or _ID.fullmatch(applicant_id) is None
        or _PRODUCT.fullmatch(loan.product_code) is None
    ):
        return None
    return ApplicationFields(
        request_id,
        application_id,
        applicant_id,
        age,
        employment,
        tenure,
        iu,
        inn,
        du,
        dn,
        credit_score,
        dependants,
        housing,
        savings,
        checking,
        credits,
        au,
        an,
        currency,
        term,
        purpose,
        rate,
        open_lines,
        delinquencies,
    )


def passes_contract(item: pb.AssessLoanApplicationsRequest) -> bool:
    """Whether protovalidate would find no violation in ``item``, a stream item that carries no ``items``.

    True only when every rule holds; False sends the item to ``check_message`` for the exact error. An
    item with ``items`` of its own is never passed here (a batch item cannot nest a batch): False.
    """
    return (
        not item.items
        and 1 <= len(item.item_id) <= 128
        and (not item.HasField("application") or read_application(item.application) is not None)
    )
