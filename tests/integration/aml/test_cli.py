"""``fintech aml ingest`` and ``fintech aml alerts`` against the running server (CSV with names).

The file is in EUR and dated before the sample, so it changes neither the USD peers nor the
watermark the other tests' decisions depend on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fintech.aml.v1 import aml_service_pb2 as pb
from typer.testing import CliRunner

from server.aml.cli import app
from tests.integration.aml.conftest import AmlServer


async def test_cli_ingests_a_csv_and_names_come_back_decrypted(aml_server: AmlServer, tmp_path: Path) -> None:
    lines = [
        "transaction_id,source_account_id,target_account_id,amount,currency,execute_time,channel,counterparty_name"
    ]
    lines += [
        f"CLI-{i},CLI-SRC,CLI-DST{i % 3},{100 + i}.25,EUR,2024-12-01T10:{i:02d}:00Z,2,Globex Trading {i}"
        for i in range(30)
    ]
    source = tmp_path / "payments.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = CliRunner()
    args = [
        "ingest",
        str(source),
        "--target",
        f"localhost:{aml_server.port}",
        "--certs",
        str(aml_server.pki.root),
        "--batch-size",
        "12",
    ]
    first = await asyncio.to_thread(runner.invoke, app, args)
    assert first.exit_code == 0, first.output
    assert "30 sent, 30 new, 0 already stored" in first.output
    again = await asyncio.to_thread(runner.invoke, app, args)
    assert "30 sent, 0 new, 30 already stored" in again.output
    async with aml_server.channel("investigator") as channel:
        page = await aml_server.stub(channel).ListAccountTransactions(
            pb.ListAccountTransactionsRequest(account_id="CLI-SRC", counterparty_account_id="CLI-DST1", page_size=100)
        )
    assert [t.transaction_id for t in page.transactions] == [f"CLI-{i}" for i in range(1, 30, 3)]
    assert page.transactions[0].counterparty_name == "Globex Trading 1"
    assert page.transactions[0].amount.units == 101 and page.transactions[0].amount.nanos == 250_000_000
    listed = await asyncio.to_thread(
        runner.invoke, app, ["alerts", "--target", f"localhost:{aml_server.port}", "--certs", str(aml_server.pki.root)]
    )
    assert listed.exit_code == 0, listed.output
    bad = tmp_path / "bad.csv"
    bad.write_text("transaction_id,amount\nX1,5\n", encoding="utf-8")
    refused = await asyncio.to_thread(runner.invoke, app, ["ingest", str(bad), "--certs", str(aml_server.pki.root)])
    assert refused.exit_code == 2 and "missing columns" in refused.output
