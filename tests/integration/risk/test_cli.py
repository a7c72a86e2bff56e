"""``fintech risk assess`` and ``fintech risk model-card`` against the real server (the CLI runs in a thread:
it is a blocking gRPC client and the server shares this event loop)."""

from __future__ import annotations

import asyncio
import csv
import json
import uuid
from pathlib import Path

from typer.testing import CliRunner

from server.risk.cli import app
from tests.integration.risk.conftest import RiskStack

COLUMNS = (
    "item_id,application_id,applicant_id,age,employment_type,employment_tenure_months,monthly_income,"
    "existing_monthly_debt_payments,currency,credit_score,dependants,housing_status,savings_balance,"
    "checking_account_status,existing_credits_count,loan_amount,term_months,purpose,product_code,annual_rate_bps,"
    "open_credit_lines,delinquencies_24m,revolving_utilisation_percent"
).split(",")


def _row(item_id: str, **changes: str) -> dict[str, str]:
    row = dict(
        zip(
            COLUMNS,
            f"{item_id},app-{item_id},cust-{item_id},40,EMPLOYED,60,3500.00,200.00,EUR,720,1,OWNER,5000,HEALTHY_BALANCE,"
            "1,8000.00,24,USED_CAR,personal-loan-std,725,4,0,20".split(","),
            strict=True,
        )
    )
    row.update(changes)
    return row


async def test_a_csv_file_is_assessed_over_the_stream_and_results_land_beside_it(
    risk_stack: RiskStack, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    source = tmp_path / "applications.csv"
    rows = [_row(f"{tag}-{i}") for i in range(40)]
    rows[3] = _row(f"{tag}-3", delinquencies_24m="2")  # REFER
    rows[7] = _row(f"{tag}-7", age="twelve")  # unreadable row
    rows[9] = _row(f"{tag}-9", age="12")  # readable, refused by the contract
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    args = ["assess", str(source), "--target", f"localhost:{risk_stack.port}", "--certs", str(risk_stack.pki.root)]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (tmp_path / "applications.results.jsonl").read_text().splitlines()]
    by_id = {line["item_id"]: line for line in lines}
    assert set(by_id) == {row["item_id"] for row in rows}
    assert by_id[f"{tag}-3"]["assessment"]["recommendation"] == "RECOMMENDATION_REFER"
    assert by_id[f"{tag}-0"]["assessment"]["recommendation"] == "RECOMMENDATION_APPROVE"
    assert by_id[f"{tag}-7"]["error"]["fields"][0]["field"] == "age"
    assert by_id[f"{tag}-9"]["error"]["fields"][0]["field"] == "application.applicant.age"
    assert "written to" in result.output
    again = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert again.exit_code == 0
    rerun = {
        json.loads(x)["item_id"]: json.loads(x)
        for x in (tmp_path / "applications.results.jsonl").read_text().splitlines()
    }
    # Request ids derive from the file and the item: a rerun is answered from the stored results.
    assert rerun[f"{tag}-0"]["assessment"]["assessTime"] == by_id[f"{tag}-0"]["assessment"]["assessTime"]


async def test_the_model_card_command_prints_the_card(risk_stack: RiskStack) -> None:
    args = ["model-card", "--target", f"localhost:{risk_stack.port}", "--certs", str(risk_stack.pki.root)]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    assert "sha256:" in result.output and "AUC" in result.output


async def test_a_role_without_access_is_reported(risk_stack: RiskStack, tmp_path: Path) -> None:
    args = [
        "model-card",
        "--target",
        f"localhost:{risk_stack.port}",
        "--certs",
        str(risk_stack.pki.root),
        "--role",
        "mobile-backend",
    ]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 1
    assert "PERMISSION_DENIED" in result.output
