"""Batch-file rows -> stream items (each bad column named), and the explanation without an LLM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fintech.risk.v1 import risk_service_pb2 as pb

from server.risk import batchfile, mapping, samples
from server.risk.engine import RiskEngine
from server.risk.explaining import explain
from server.risk.explanation import template_explanation

ROW = {
    "item_id": "a1",
    "applicant_id": "c1",
    "age": "40",
    "employment_type": "employed",
    "employment_tenure_months": "60",
    "monthly_income": "3500.50",
    "existing_monthly_debt_payments": "200",
    "credit_score": "720",
    "dependants": "1",
    "housing_status": "OWNER",
    "loan_amount": "8000",
    "term_months": "24",
    "purpose": "USED_CAR",
    "annual_rate_bps": "725",
    "delinquencies_24m": "0",
}


def test_a_flat_row_becomes_a_request_with_exact_money_and_a_stable_request_id() -> None:
    item = batchfile.request_from_row(ROW, source="f.csv")
    request = item.application
    assert request.applicant.monthly_income.units == 3500 and request.applicant.monthly_income.nanos == 500_000_000
    assert request.applicant.employment_type == pb.EMPLOYMENT_TYPE_EMPLOYED
    assert not request.applicant.HasField("savings_balance")
    assert request.bureau.HasField("delinquencies_24m") and not request.bureau.HasField("open_credit_lines")
    assert request.request_id == batchfile.request_from_row(ROW, source="f.csv").application.request_id
    assert request.request_id != batchfile.request_from_row(ROW, source="g.csv").application.request_id


@pytest.mark.parametrize(
    ("column", "value"),
    [("age", "forty"), ("housing_status", "CASTLE"), ("monthly_income", "lots"), ("purpose", "")],
)
def test_a_bad_column_is_named(column: str, value: str) -> None:
    with pytest.raises(batchfile.RowError) as info:
        batchfile.request_from_row({**ROW, column: value}, source="f.csv")
    assert info.value.field == column


def test_jsonl_rows_may_carry_the_request_as_protobuf_json(tmp_path: Path) -> None:
    from google.protobuf import json_format

    source = tmp_path / "batch.jsonl"
    proto_row = {"item_id": "p1", "application": json_format.MessageToDict(samples.approve_request())}
    source.write_text("\n".join([json.dumps(proto_row), json.dumps(ROW), "not json", ""]), encoding="utf-8")
    rows = list(batchfile.read_rows(source))
    assert [r.item_id for r in rows] == ["p1", "a1", "line-3"]
    assert rows[0].item is not None and rows[0].item.application.loan.amount.units == 8000
    assert rows[2].error is not None and batchfile.count_rows(source) == 3
    assert batchfile.results_path(source).name == "batch.results.jsonl"
    with pytest.raises(ValueError):
        list(batchfile.read_rows(tmp_path / "batch.xlsx"))


async def test_without_an_llm_the_template_is_returned_and_says_why() -> None:
    assessment = RiskEngine.from_files().assess(mapping.application_from_proto(samples.decline_request()))
    outcome = await explain(assessment, None)
    assert outcome.source == "TEMPLATE" and outcome.validation == "NOT_APPLICABLE"
    assert outcome.text == template_explanation(assessment)
    assert "no LLM" in outcome.reason and outcome.raw_outputs == ()
