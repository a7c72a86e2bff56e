"""AssessLoanApplications with micro-batch messages (``items``): one result per item in order, per-item
errors, every assessment stored and named by the batch's audit record, the same decisions as the unary
RPC, malformed batch messages, and single items mixed in on the same stream."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator

import sqlalchemy as sa
from fintech.client import RiskServiceClient
from fintech.risk.v1 import risk_service_pb2 as pb
from google.rpc import code_pb2, error_details_pb2

from server.risk import samples
from server.risk.desk import row_digest
from server.risk.tables import assessments
from tests.integration.risk.conftest import RiskStack

STREAM_RPC = "/fintech.risk.v1.RiskService/AssessLoanApplications"


async def _messages(
    messages: list[pb.AssessLoanApplicationsRequest],
) -> AsyncIterator[pb.AssessLoanApplicationsRequest]:
    for message in messages:
        yield message


def _violations(status) -> list[str]:  # type: ignore[no-untyped-def]
    fields = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    return fields


def _batch(tag: str, number: int, count: int, rng: random.Random) -> pb.AssessLoanApplicationsRequest:
    message = pb.AssessLoanApplicationsRequest(item_id=f"{tag}-batch-{number}")
    for i in range(count):
        request = samples.varied_request(rng, number * 10_000 + i)
        request.applicant.applicant_id = f"cust-{tag}-{number}-{i}"
        message.items.add(item_id=f"{tag}-{number}-{i}", application=request)
    return message


async def test_micro_batches_answer_every_item_in_order_and_store_and_audit_each(
    risk_stack: RiskStack, core_banking: RiskServiceClient
) -> None:
    rng = random.Random(11)
    tag = uuid.uuid4().hex[:6]
    first, second = _batch(tag, 1, 300, rng), _batch(tag, 2, 200, rng)
    first.items[3].application.applicant.age = 10  # the contract's range
    first.items[40].ClearField("application")
    for money in (  # one currency, but none the policy knows: the engine's own check
        first.items[41].application.applicant.monthly_income,
        first.items[41].application.applicant.existing_monthly_debt_payments,
        first.items[41].application.loan.amount,
    ):
        money.currency_code = "CHF"
    first.items[42].application.loan.product_code = "Not A Code"
    first.items[43].application.include_explanation = True  # never in a micro-batch
    # A repeated request id later in the same batch: answered from the first, stored once.
    first.items[299].application.CopyFrom(first.items[298].application)
    single = pb.AssessLoanApplicationsRequest(item_id=f"{tag}-single", application=samples.approve_request())
    responses = [r async for r in core_banking.assess_loan_applications(requests=_messages([first, single, second]))]

    assert [r.item_id for r in responses] == [first.item_id, single.item_id, second.item_id]
    assert responses[1].WhichOneof("result") == "assessment", "a single item between batches keeps its form"
    for message, response in ((first, responses[0]), (second, responses[2])):
        assert response.WhichOneof("result") is None
        assert [r.item_id for r in response.results] == [i.item_id for i in message.items]
    results = {r.item_id: r for r in responses[0].results}
    errors = {k: r.error for k, r in results.items() if r.WhichOneof("result") == "error"}
    assert set(errors) == {f"{tag}-1-{i}" for i in (3, 40, 41, 42, 43)}
    assert all(e.code == code_pb2.INVALID_ARGUMENT for e in errors.values())
    assert _violations(errors[f"{tag}-1-3"]) == ["application.applicant.age"]
    assert _violations(errors[f"{tag}-1-40"]) == ["application"]
    assert "application.loan.amount.currency_code" in _violations(errors[f"{tag}-1-41"])
    assert _violations(errors[f"{tag}-1-42"]) == ["application.loan.product_code"]
    assert _violations(errors[f"{tag}-1-43"]) == ["application.include_explanation"]
    assert results[f"{tag}-1-299"].assessment == results[f"{tag}-1-298"].assessment

    assessed = [r.assessment for r in (*responses[0].results, *responses[2].results) if r.HasField("assessment")]
    assert len(assessed) == 300 - 5 + 200
    record_ids = {a.provenance.audit_record_id for a in assessed}
    assert len(record_ids) == 2 and "" not in record_ids, "one audit record per micro-batch message"
    assert all(bool(a.review_id) is (a.recommendation == pb.RECOMMENDATION_REFER) for a in assessed)

    # Every new assessment is a stored row, and its batch's audit record names it with its decision and
    # the digest of the row as stored.
    audit = risk_stack.ctx.require("audit")
    database = risk_stack.ctx.require("database")
    request_ids = [i.application.request_id for m in (first, second) for i in m.items if i.HasField("application")]
    async with database.read() as conn:
        rows = (
            await conn.execute(
                sa.select(
                    assessments.c.assessment_id,
                    assessments.c.request_id,
                    assessments.c.input_digest,
                    assessments.c.recommendation,
                    assessments.c.score,
                    assessments.c.payload,
                ).where(assessments.c.request_id.in_(request_ids))
            )
        ).all()
        listed: dict[str, list[str]] = {}
        for record_id in record_ids:
            record = await audit.get(conn, record_id, open_payload=True)
            assert record.rpc == STREAM_RPC and record.decision.startswith("BATCH:")
            for assessment_id, request_id, decision, digest in record.opened["details"]["assessments"]:
                listed[assessment_id] = [request_id, decision, digest]
            counts = dict(part.split("=") for part in record.decision.removeprefix("BATCH:").split(","))
            assert sum(int(v) for v in counts.values()) == len(record.opened["details"]["assessments"])
    assert len(rows) == 300 - 5 - 1 + 200, "one row per new assessment; none for errors or the repeat"
    assert {row.assessment_id for row in rows} == set(listed)
    for row in rows:
        assert listed[row.assessment_id] == [
            row.request_id,
            row.recommendation,
            row_digest(row.assessment_id, row.request_id, row.input_digest, row.recommendation, row.score, row.payload),
        ]
    assert risk_stack.servicer.gauge.peak <= 512, "items held never exceed the stream's bound"
    report = None
    async for step in audit.verify(database):
        report = step
    assert report is not None and report.ok  # type: ignore[attr-defined]


async def test_micro_batch_decisions_equal_the_unary_rpc(core_banking: RiskServiceClient) -> None:
    rng = random.Random(12)
    tag = uuid.uuid4().hex[:6]
    message = _batch(tag, 3, 40, rng)
    message.items.add(item_id=f"{tag}-approve", application=samples.approve_request())
    message.items.add(item_id=f"{tag}-refer", application=samples.refer_request())
    message.items.add(item_id=f"{tag}-decline", application=samples.decline_request())
    [response] = [r async for r in core_banking.assess_loan_applications(requests=_messages([message]))]
    for item, result in zip(message.items, response.results, strict=True):
        unary = pb.AssessLoanApplicationRequest()
        unary.CopyFrom(item.application)
        unary.request_id = str(uuid.uuid4())
        alone = (await core_banking.assess_loan_application(request=unary)).assessment
        batched = result.assessment
        for varying in ("review_id", "assess_time", "provenance"):
            alone.ClearField(varying)
            batched.ClearField(varying)
        assert batched == alone, item.item_id
    decisions = {r.assessment.recommendation for r in response.results}
    assert decisions == {pb.RECOMMENDATION_APPROVE, pb.RECOMMENDATION_REFER, pb.RECOMMENDATION_DECLINE}


async def test_a_malformed_micro_batch_message_gets_its_own_error_and_the_stream_goes_on(
    core_banking: RiskServiceClient,
) -> None:
    tag = uuid.uuid4().hex[:6]
    too_many = pb.AssessLoanApplicationsRequest(item_id=f"{tag}-big")
    for i in range(1001):
        too_many.items.add(item_id=str(i), application=samples.approve_request())
    both = pb.AssessLoanApplicationsRequest(item_id=f"{tag}-both", application=samples.approve_request())
    both.items.add(item_id="x", application=samples.approve_request())
    no_id = pb.AssessLoanApplicationsRequest()
    no_id.items.add(item_id="y", application=samples.approve_request())
    nested = pb.AssessLoanApplicationsRequest(item_id=f"{tag}-nested")
    inner = nested.items.add(item_id="n")
    inner.items.add(item_id="deeper", application=samples.approve_request())
    fine = pb.AssessLoanApplicationsRequest(item_id=f"{tag}-fine")
    fine.items.add(item_id="z", application=samples.approve_request())
    messages = [too_many, both, no_id, nested, fine]
    responses = [r async for r in core_banking.assess_loan_applications(requests=_messages(messages))]
    assert [r.item_id for r in responses] == [m.item_id for m in messages]
    assert _violations(responses[0].error) == ["items"] and not responses[0].results
    assert _violations(responses[1].error) == ["application"]
    assert _violations(responses[2].error) == ["item_id"]
    assert _violations(responses[3].results[0].error) == ["items"], "a batch item cannot nest a batch"
    assert responses[4].results[0].WhichOneof("result") == "assessment"
    assert all(r.error.code == code_pb2.INVALID_ARGUMENT for r in responses[:3])
