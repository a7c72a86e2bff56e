"""Contract test of the fast stream-item check: its verdict equals protovalidate's on valid items and on
items breaking each rule of ``AssessLoanApplicationsRequest`` (and of everything under it), one rule at a
time, at and beyond each boundary, and in random combinations."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

import pytest
from fintech.risk.v1 import risk_service_pb2 as pb

from server.risk import samples
from server.risk.validation import passes_contract
from server.runtime.interceptors import violations_of

Mutation = Callable[[pb.AssessLoanApplicationsRequest], None]


def _set(path: str, value: object) -> Mutation:
    def mutate(item: pb.AssessLoanApplicationsRequest) -> None:
        *parents, name = path.split(".")
        target = item
        for parent in parents:
            target = getattr(target, parent)
        setattr(target, name, value)

    mutate.__name__ = f"{path}={value!r}"[:80]
    return mutate


def _clear(path: str) -> Mutation:
    def mutate(item: pb.AssessLoanApplicationsRequest) -> None:
        *parents, name = path.split(".")
        target = item
        for parent in parents:
            target = getattr(target, parent)
        target.ClearField(name)

    mutate.__name__ = f"clear {path}"
    return mutate


def _money_mutations(path: str) -> list[Mutation]:
    return [
        _set(f"{path}.currency_code", ""),
        _set(f"{path}.currency_code", "eur"),
        _set(f"{path}.currency_code", "EURO"),
        _set(f"{path}.currency_code", "EU"),
        _set(f"{path}.currency_code", "EUR\n"),
        _set(f"{path}.nanos", 999_999_999),
        _set(f"{path}.nanos", 1_000_000_000),
        _set(f"{path}.nanos", -999_999_999),
        _set(f"{path}.nanos", -1_000_000_000),
        _set(f"{path}.nanos", -1),  # units > 0: mixed signs
        _set(f"{path}.units", -5),  # nanos 0: same sign
        _set(f"{path}.units", 0),
        _set(f"{path}.units", 2**62),
    ]


def _both(first: Mutation, second: Mutation) -> Mutation:
    def mutate(item: pb.AssessLoanApplicationsRequest) -> None:
        first(item)
        second(item)

    mutate.__name__ = f"{first.__name__} & {second.__name__}"
    return mutate


A = "application"
AP = "application.applicant"
LN = "application.loan"
BU = "application.bureau"
MUTATIONS: list[Mutation] = [
    _set("item_id", ""),
    _set("item_id", "x" * 128),
    _set("item_id", "x" * 129),
    _set("item_id", "é" * 128),
    _clear("application"),
    _set(f"{A}.request_id", ""),
    _set(f"{A}.request_id", "not-a-uuid"),
    _set(f"{A}.request_id", str(uuid.UUID(int=7)).upper()),
    _set(f"{A}.request_id", uuid.UUID(int=9).hex),
    _set(f"{A}.request_id", "{" + str(uuid.UUID(int=9)) + "}"),
    _set(f"{A}.request_id", str(uuid.UUID(int=9)) + "\n"),
    _set(f"{A}.request_id", "g" + str(uuid.UUID(int=9))[1:]),
    _set(f"{A}.application_id", ""),
    _set(f"{A}.application_id", "-abc"),
    _set(f"{A}.application_id", "a" * 128),
    _set(f"{A}.application_id", "a" * 129),
    _set(f"{A}.application_id", "abc\n"),
    _set(f"{A}.application_id", "ab c"),
    _set(f"{A}.application_id", "a.b:c_d-e"),
    _set(f"{A}.application_id", "app/1"),
    _set(f"{A}.include_explanation", True),
    _clear(f"{A}.applicant"),
    _clear(f"{A}.loan"),
    _clear(f"{A}.bureau"),
    _set(f"{AP}.monthly_income.currency_code", "USD"),
    _set(f"{AP}.existing_monthly_debt_payments.currency_code", "USD"),
    _both(
        _set(f"{AP}.monthly_income.currency_code", "USD"),
        _both(
            _set(f"{AP}.existing_monthly_debt_payments.currency_code", "USD"), _set(f"{LN}.amount.currency_code", "USD")
        ),
    ),
    _set(f"{AP}.applicant_id", ""),
    _set(f"{AP}.applicant_id", "_x"),
    _set(f"{AP}.applicant_id", "c" * 128),
    _set(f"{AP}.applicant_id", "c" * 129),
    _set(f"{AP}.age", 13),
    _set(f"{AP}.age", 14),
    _set(f"{AP}.age", 120),
    _set(f"{AP}.age", 121),
    _set(f"{AP}.age", -1),
    _set(f"{AP}.employment_type", 0),
    _set(f"{AP}.employment_type", 6),
    _set(f"{AP}.employment_type", 7),
    _set(f"{AP}.employment_type", 99),
    _set(f"{AP}.employment_tenure_months", -1),
    _set(f"{AP}.employment_tenure_months", 0),
    _set(f"{AP}.employment_tenure_months", 720),
    _set(f"{AP}.employment_tenure_months", 721),
    _clear(f"{AP}.monthly_income"),
    _clear(f"{AP}.existing_monthly_debt_payments"),
    _set(f"{AP}.credit_score", 0),
    _set(f"{AP}.credit_score", 299),
    _set(f"{AP}.credit_score", 300),
    _set(f"{AP}.credit_score", 850),
    _set(f"{AP}.credit_score", 851),
    _set(f"{AP}.dependants", -1),
    _set(f"{AP}.dependants", 20),
    _set(f"{AP}.dependants", 21),
    _set(f"{AP}.housing_status", 0),
    _set(f"{AP}.housing_status", 5),
    _set(f"{AP}.housing_status", 6),
    _clear(f"{AP}.savings_balance"),
    _set(f"{AP}.checking_account_status", 0),
    _set(f"{AP}.checking_account_status", 4),
    _set(f"{AP}.checking_account_status", 5),
    _set(f"{AP}.checking_account_status", -1),
    _set(f"{AP}.existing_credits_count", -1),
    _set(f"{AP}.existing_credits_count", 50),
    _set(f"{AP}.existing_credits_count", 51),
    *_money_mutations(f"{AP}.monthly_income"),
    *_money_mutations(f"{AP}.existing_monthly_debt_payments"),
    *_money_mutations(f"{AP}.savings_balance"),
    *_money_mutations(f"{LN}.amount"),
    _clear(f"{LN}.amount"),
    _both(_set(f"{LN}.amount.units", 0), _set(f"{LN}.amount.nanos", 0)),
    _both(_set(f"{LN}.amount.units", 0), _set(f"{LN}.amount.nanos", 1)),
    _both(_set(f"{LN}.amount.units", 0), _set(f"{LN}.amount.nanos", -1)),
    _set(f"{LN}.amount.units", -1),
    _set(f"{LN}.term_months", 0),
    _set(f"{LN}.term_months", 1),
    _set(f"{LN}.term_months", 480),
    _set(f"{LN}.term_months", 481),
    _set(f"{LN}.purpose", 0),
    _set(f"{LN}.purpose", 11),
    _set(f"{LN}.purpose", 12),
    _set(f"{LN}.product_code", ""),
    _set(f"{LN}.product_code", "Abc"),
    _set(f"{LN}.product_code", "a" * 64),
    _set(f"{LN}.product_code", "a" * 65),
    _set(f"{LN}.product_code", "a b"),
    _set(f"{LN}.product_code", "a:b"),
    _set(f"{LN}.annual_rate_bps", -1),
    _set(f"{LN}.annual_rate_bps", 0),
    _set(f"{LN}.annual_rate_bps", 10_000),
    _set(f"{LN}.annual_rate_bps", 10_001),
    _clear(f"{BU}.open_credit_lines"),
    _clear(f"{BU}.delinquencies_24m"),
    _clear(f"{BU}.revolving_utilisation_percent"),
    *(
        _set(f"{BU}.{name}", value)
        for name, top in (
            ("open_credit_lines", 200),
            ("delinquencies_24m", 200),
            ("revolving_utilisation_percent", 1000),
        )
        for value in (-1, 0, top, top + 1)
    ),
]


def _valid_item(index: int, rng: random.Random) -> pb.AssessLoanApplicationsRequest:
    request = samples.varied_request(rng, index)
    return pb.AssessLoanApplicationsRequest(item_id=f"item-{index}", application=request)


def _agrees(item: pb.AssessLoanApplicationsRequest) -> tuple[bool, bool]:
    return passes_contract(item), not violations_of(item)


def test_valid_items_pass_both() -> None:
    rng = random.Random(1)
    items = [_valid_item(i, rng) for i in range(300)]
    items += [
        pb.AssessLoanApplicationsRequest(item_id=f"s-{i}", application=make())
        for i, make in enumerate((samples.approve_request, samples.refer_request, samples.decline_request))
    ]
    for item in items:
        assert _agrees(item) == (True, True)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
def test_each_rule_gives_the_same_verdict(mutation: Mutation) -> None:
    item = _valid_item(0, random.Random(2))
    mutation(item)
    fast, protovalidate = _agrees(item)
    assert fast == protovalidate


def test_mutations_cover_both_verdicts() -> None:
    verdicts = set()
    for mutation in MUTATIONS:
        item = _valid_item(0, random.Random(2))
        mutation(item)
        verdicts.add(not violations_of(item))
    assert verdicts == {True, False}
    assert sum(1 for m in MUTATIONS if _broken(m)) >= 80, "most mutations must break a rule"


def _broken(mutation: Mutation) -> bool:
    item = _valid_item(0, random.Random(2))
    mutation(item)
    return bool(violations_of(item))


def test_random_combinations_give_the_same_verdict() -> None:
    rng = random.Random(3)
    for index in range(1500):
        item = _valid_item(index, rng)
        for mutation in rng.sample(MUTATIONS, rng.randint(1, 3)):
            mutation(item)
        assert passes_contract(item) == (not violations_of(item)), item


def test_an_item_with_items_is_never_passed() -> None:
    item = _valid_item(0, random.Random(4))
    item.items.add(item_id="nested", application=samples.approve_request())
    assert not passes_contract(item)
