"""The CPU half of the stream (``server.risk.deciding``): per-item errors naming fields, and decisions that
match the engine's own result and survive the trip to and from a worker process."""

from __future__ import annotations

import pickle
import random

from fintech.risk.v1 import risk_service_pb2 as pb
from google.rpc import code_pb2, error_details_pb2, status_pb2

from server.risk import mapping, samples
from server.risk.deciding import Decision, decide
from server.risk.engine import RiskEngine
from server.storage.idempotency import payload_digest


def _fields(status: status_pb2.Status) -> list[str]:
    fields = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    return fields


def test_decide_gives_the_engines_result_or_an_error_naming_the_field(engine: RiskEngine) -> None:
    rng = random.Random(3)
    items = [
        pb.AssessLoanApplicationsRequest(item_id=str(i), application=samples.varied_request(rng, i)) for i in range(40)
    ]
    items[1].application.applicant.age = 10  # the contract's range
    items[2].ClearField("application")
    items[3].application.applicant.employment_type = pb.EMPLOYMENT_TYPE_UNSPECIFIED  # the mapping's check
    for money in (
        items[4].application.applicant.monthly_income,
        items[4].application.applicant.existing_monthly_debt_payments,
        items[4].application.loan.amount,
    ):
        money.currency_code = "CHF"  # a currency the policy does not know: the engine's check

    decisions = decide(engine, [item.SerializeToString() for item in items])

    assert len(decisions) == len(items)
    errors = {i: status_pb2.Status.FromString(d.error) for i, d in enumerate(decisions) if d.error}
    assert set(errors) == {1, 2, 3, 4}
    assert all(e.code == code_pb2.INVALID_ARGUMENT for e in errors.values())
    assert _fields(errors[1]) == ["application.applicant.age"]
    assert _fields(errors[2]) == ["application"]
    assert "application.applicant.employment_type" in _fields(errors[3])
    assert "application.loan.amount.currency_code" in _fields(errors[4])
    for index in (0, 5, 39):
        request = items[index].application
        expected = Decision.of(payload_digest(request), engine.assess(mapping.application_from_proto(request)))
        assert decisions[index] == expected
        assert pb.LoanAssessment.FromString(decisions[index].message).application_id == request.application_id
    assert {d.recommendation for d in decisions if not d.error} <= {"APPROVE", "REFER", "DECLINE"}


def test_a_decision_survives_pickling_unchanged(engine: RiskEngine) -> None:
    request = samples.refer_request()
    decision = Decision.of(payload_digest(request), engine.assess(mapping.application_from_proto(request)))
    assert pickle.loads(pickle.dumps(decision)) == decision
    assert decision.recommendation == "REFER"
