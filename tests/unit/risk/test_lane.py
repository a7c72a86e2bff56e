"""The columnar lane decides exactly like the engine: its encoded result equals
``assessment_to_proto(engine.assess(...))`` on wide random applications (every rule fires somewhere), on each
rule's boundaries, and it leaves to the domain path exactly the applications the engine refuses."""

from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest
from fintech.common.v1 import common_pb2
from fintech.risk.v1 import risk_service_pb2 as pb

from server.risk import mapping, samples
from server.risk.deciding import decide_micro_batch
from server.risk.engine import RiskEngine
from server.risk.lane import DecisionLane
from server.runtime.errors import InvalidArgument


def _money(rng: random.Random, low: int, high: int, *, cents: bool = True) -> common_pb2.Money:
    units = rng.randint(low, high)
    nanos = 0
    if cents and units and rng.random() < 0.5:
        nanos = rng.randint(0, 99) * 10_000_000
    elif units and rng.random() < 0.1:
        nanos = rng.randint(0, 999_999_999)  # sub-cent amounts: rounding paths
    return common_pb2.Money(currency_code="EUR", units=units, nanos=nanos)


def wide_request(rng: random.Random, index: int) -> pb.AssessLoanApplicationRequest:
    """A contract-valid application drawn wide enough to reach every rule and rounding path."""
    request = samples.approve_request(f"app-{index}", f"cust-{index}")
    request.request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    applicant, loan = request.applicant, request.loan
    applicant.age = rng.choice([14, 17, 18, 19, rng.randint(18, 120), 120])
    applicant.employment_type = rng.randint(1, 6)
    applicant.employment_tenure_months = rng.choice([0, 11, 12, 47, 48, 83, 84, rng.randint(0, 720)])
    applicant.monthly_income.CopyFrom(
        rng.choice([_money(rng, 0, 0), _money(rng, 500, 3_000), _money(rng, 2_000, 20_000)])
    )
    applicant.existing_monthly_debt_payments.CopyFrom(rng.choice([_money(rng, 0, 0), _money(rng, 0, 2_500)]))
    applicant.credit_score = rng.choice([300, 579, 580, rng.randint(300, 850), 850])
    applicant.dependants = rng.choice([0, 0, 1, 2, 5, 20])
    applicant.housing_status = rng.randint(1, 5)
    applicant.checking_account_status = rng.randint(0, 4)
    applicant.existing_credits_count = rng.randint(0, 50)
    if rng.random() < 0.3:
        applicant.ClearField("savings_balance")
    else:
        applicant.savings_balance.CopyFrom(rng.choice([_money(rng, 0, 200), _money(rng, 0, 100_000)]))
    loan.amount.CopyFrom(rng.choice([_money(rng, 1, 1_000), _money(rng, 500, 60_000), _money(rng, 50_000, 900_000)]))
    if loan.amount.units == 0 and loan.amount.nanos == 0:
        loan.amount.units = 1
    loan.term_months = rng.choice([1, 6, 12, 24, 36, 60, 84, rng.randint(1, 480)])
    loan.purpose = rng.randint(1, 11)
    loan.annual_rate_bps = rng.choice([0, 1, 399, 725, 1499, rng.randint(0, 10_000)])
    choice = rng.random()
    if choice < 0.2:
        request.ClearField("bureau")
    else:
        bureau = request.bureau
        bureau.Clear()
        if rng.random() < 0.8:
            bureau.open_credit_lines = rng.randint(0, 10)
        if rng.random() < 0.8:
            bureau.delinquencies_24m = rng.choice([0, 0, 1, 3])
        if rng.random() < 0.5:
            bureau.revolving_utilisation_percent = rng.randint(0, 1000)
    return request


@pytest.fixture(scope="module")
def lane(engine: RiskEngine) -> DecisionLane:
    return DecisionLane(engine)


def _expected(engine: RiskEngine, request: pb.AssessLoanApplicationRequest) -> pb.LoanAssessment:
    message = mapping.assessment_to_proto(engine.assess(mapping.application_from_proto(request)))
    message.explanation_source = common_pb2.EXPLANATION_SOURCE_NONE
    message.provenance.validation_outcome = common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE
    return message


def test_the_lane_equals_the_engine_on_wide_random_applications(engine: RiskEngine, lane: DecisionLane) -> None:
    rng = random.Random(5)
    requests = [wide_request(rng, i) for i in range(4000)]
    rules: Counter[str] = Counter()
    decisions: Counter[int] = Counter()
    for start in range(0, len(requests), 500):
        chunk = requests[start : start + 500]
        for request, result in zip(chunk, lane.assess(chunk), strict=True):
            assert result is not None
            wire, recommendation, risk_level, score = result
            got = pb.LoanAssessment.FromString(wire)
            expected = _expected(engine, request)
            assert got == expected, request
            assert (recommendation, risk_level, score) == (
                pb.Recommendation.Name(expected.recommendation).removeprefix("RECOMMENDATION_"),
                pb.RiskLevel.Name(expected.risk_level).removeprefix("RISK_LEVEL_"),
                expected.score,
            )
            rules.update(h.rule_id for h in got.rule_hits)
            decisions[got.recommendation] += 1
    # Every rule fired and every decision was taken somewhere in the sample (the comparison covered them).
    assert set(rules) == {
        "AGE_BELOW_LEGAL_MINIMUM",
        "NO_INCOME",
        "DTI_ABOVE_CAP",
        "RESIDUAL_INCOME_BELOW_MINIMUM",
        "THIN_FILE",
        "LOAN_TO_INCOME_HIGH",
        "BUREAU_DELINQUENCIES",
        "BUREAU_SCORE_LOW",
        "SCORE_NEAR_CUTOFF",
    }
    assert set(decisions) == {pb.RECOMMENDATION_APPROVE, pb.RECOMMENDATION_REFER, pb.RECOMMENDATION_DECLINE}


def test_the_samples_decide_as_documented(engine: RiskEngine, lane: DecisionLane) -> None:
    requests = [samples.approve_request(), samples.refer_request(), samples.decline_request()]
    results = lane.assess(requests)
    assert [r[1] for r in results if r is not None] == ["APPROVE", "REFER", "DECLINE"]
    for request, result in zip(requests, results, strict=True):
        assert result is not None and pb.LoanAssessment.FromString(result[0]) == _expected(engine, request)


def test_the_lane_leaves_what_the_engine_refuses_to_the_domain_path(engine: RiskEngine, lane: DecisionLane) -> None:
    base = samples.approve_request()
    refused = []
    for change in (
        lambda r: [
            m.__setattr__("currency_code", "CHF")
            for m in (r.applicant.monthly_income, r.applicant.existing_monthly_debt_payments, r.loan.amount)
        ],
        lambda r: r.applicant.savings_balance.__setattr__("currency_code", "USD"),
        lambda r: r.applicant.savings_balance.__setattr__("units", -5),
        lambda r: r.applicant.monthly_income.__setattr__("units", -5),
        lambda r: r.applicant.existing_monthly_debt_payments.__setattr__("units", -1),
    ):
        request = pb.AssessLoanApplicationRequest()
        request.CopyFrom(base)
        change(request)
        refused.append(request)
    assert lane.assess(refused) == [None] * len(refused)
    for request in refused:
        with pytest.raises(InvalidArgument):
            engine.assess(mapping.application_from_proto(request))


def test_a_micro_batch_through_the_lane_equals_the_domain_path(lane: DecisionLane, engine: RiskEngine) -> None:
    rng = random.Random(6)
    message = pb.AssessLoanApplicationsRequest(item_id="b")
    for i in range(200):
        message.items.add(item_id=str(i), application=wide_request(rng, i))
    message.items[7].application.applicant.savings_balance.currency_code = "USD"  # the engine's error
    message.items[8].application.applicant.age = 3  # the contract's error
    decided = decide_micro_batch(lane, message.SerializeToString(), 1_764_000_000_000_000)
    assert [bool(e) for e in decided.errors] == [i in (7, 8) for i in range(200)]
    for index, item in enumerate(message.items):
        if index in (7, 8):
            continue
        stored = pb.LoanAssessment.FromString(decided.payloads[index])
        expected = _expected(engine, item.application)
        expected.assess_time.FromMicroseconds(1_764_000_000_000_000)
        expected.review_id = decided.review_ids[index]
        assert bool(stored.review_id) is (stored.recommendation == pb.RECOMMENDATION_REFER)
        assert stored == expected
