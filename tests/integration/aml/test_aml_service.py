"""AMLService through a real mTLS server: ingestion, the screening stream, alerts, cases, networks, SARs.

One module-wide history: the first 12,000 transfers of the development sample are ingested, the next
8,000 screened over the bidirectional stream in micro-batches of 1,000; every test reads that history.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import polars as pl
import pytest
from fintech.aml.v1 import aml_service_pb2 as pb
from fintech.common.v1 import common_pb2

from server.aml.mapping import frame_to_transactions
from server.aml.rules import RuleSet
from server.aml.sar import format_amount
from server.aml.screening import screen_all
from server.audit.log import AuditFilter
from tests.integration.aml.conftest import AmlServer

INGESTED = 12_000
INGEST_BATCH = 4_000
STREAM_BATCH = 1_000


@dataclass
class Loaded:
    ingest: pb.IngestTransactionsResponse
    resent: pb.IngestTransactionsResponse
    streamed: list[pb.ScreeningResult]
    expected: pl.DataFrame


def _ingest_requests(txs: list[pb.Transaction], size: int, tag: str) -> Iterator[pb.IngestTransactionsRequest]:
    for start in range(0, len(txs), size):
        yield pb.IngestTransactionsRequest(batch_id=f"{tag}-{start}", transactions=txs[start : start + size])


@pytest.fixture(scope="module")
async def loaded(aml_server: AmlServer, sample: pl.DataFrame, rules: RuleSet) -> Loaded:
    txs = frame_to_transactions(sample, rules)
    async with aml_server.channel("core-banking") as channel:
        stub = aml_server.stub(channel)
        ingest = await stub.IngestTransactions(_ingest_requests(txs[:INGESTED], INGEST_BATCH, "first"))
        resent = await stub.IngestTransactions(_ingest_requests(txs[:INGEST_BATCH], INGEST_BATCH, "again"))
        rest = txs[INGESTED:]
        # 1,000-transfer messages, then 500 one-transfer messages (coalesced by the server while waiting).
        requests = [
            pb.ScreenTransactionsRequest(transactions=rest[i : i + STREAM_BATCH])
            for i in range(0, len(rest) - 1_000, STREAM_BATCH)
        ]
        requests += [pb.ScreenTransactionsRequest(transactions=[tx]) for tx in rest[-1_000:-500]]
        requests += [pb.ScreenTransactionsRequest(transactions=rest[-500:])]
        streamed: list[pb.ScreeningResult] = []
        responses = 0
        async for response in stub.ScreenTransactions(iter(requests)):
            assert response.rule_set_version == rules.version
            streamed.extend(response.results)
            responses += 1
        assert responses == len(requests), "one response per message"
    expected = screen_all(rules, sample).decisions
    return Loaded(ingest, resent, streamed, expected)


async def test_ingestion_acknowledges_counts_and_watermark_and_a_resent_batch_adds_nothing(
    loaded: Loaded, sample: pl.DataFrame
) -> None:
    assert (loaded.ingest.received_count, loaded.ingest.inserted_count, loaded.ingest.duplicate_count) == (
        INGESTED,
        INGESTED,
        0,
    )
    assert loaded.ingest.watermark.ToMicroseconds() == sample.head(INGESTED)["execute_time_us"].max()
    assert (loaded.resent.inserted_count, loaded.resent.duplicate_count) == (0, INGEST_BATCH)


async def test_stream_decides_each_transaction_in_order_identically_to_batch_screening(
    loaded: Loaded, sample: pl.DataFrame
) -> None:
    expected = loaded.expected.slice(INGESTED)
    assert [r.transaction_id for r in loaded.streamed] == expected["transaction_id"].to_list()
    assert [int(r.decision) for r in loaded.streamed] == expected["decision"].to_list()
    assert [round(r.score, 6) for r in loaded.streamed] == [round(s, 6) for s in expected["score"].to_list()]
    flagged = [r for r in loaded.streamed if r.decision != pb.SCREENING_DECISION_CLEAR]
    assert flagged, "the slice has REVIEW/BLOCK decisions"
    assert all(r.rule_hits for r in flagged)
    assert any(r.alert_id for r in flagged)


async def test_a_resent_stream_message_returns_the_stored_decisions(
    aml_server: AmlServer, loaded: Loaded, sample: pl.DataFrame, rules: RuleSet
) -> None:
    again = frame_to_transactions(sample.slice(INGESTED, 50), rules)
    async with aml_server.channel("core-banking") as channel:
        responses = [
            r
            async for r in aml_server.stub(channel).ScreenTransactions(
                iter([pb.ScreenTransactionsRequest(transactions=again)])
            )
        ]
    assert [(r.transaction_id, r.decision) for r in responses[0].results] == [
        (r.transaction_id, r.decision) for r in loaded.streamed[:50]
    ]


async def test_a_bad_stream_item_is_invalid_argument_naming_the_field(
    aml_server: AmlServer, sample: pl.DataFrame, rules: RuleSet
) -> None:
    tx = frame_to_transactions(sample.head(1), rules)[0]
    tx.transaction_id = "bad-currency-1"
    tx.amount.currency_code = "XYZ"
    async with aml_server.channel("core-banking") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for _ in aml_server.stub(channel).ScreenTransactions(
                iter([pb.ScreenTransactionsRequest(transactions=[tx])])
            ):
                pass
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "currency" in (info.value.details() or "") or "UNSUPPORTED_CURRENCY" in str(info.value.trailing_metadata())


async def test_a_rule_broken_mid_stream_answers_earlier_messages_then_names_the_field(
    aml_server: AmlServer, sample: pl.DataFrame, rules: RuleSet
) -> None:
    # The fast stream validator hands a broken message to protovalidate: its field path is the error.
    good, bad = frame_to_transactions(sample.slice(7, 2), rules)
    good.transaction_id, bad.transaction_id = "mid-stream-good-1", "mid stream bad"  # a space breaks the pattern
    answered: list[str] = []
    messages = [pb.ScreenTransactionsRequest(transactions=[tx]) for tx in (good, bad)]
    async with aml_server.channel("core-banking") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for response in aml_server.stub(channel).ScreenTransactions(iter(messages)):
                answered += [r.transaction_id for r in response.results]
    assert answered == ["mid-stream-good-1"]
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "transactions[0].transaction_id" in (info.value.details() or "")


async def test_alerts_are_listed_in_signed_pages_with_evidence(aml_server: AmlServer, loaded: Loaded) -> None:
    async with aml_server.channel("investigator") as channel:
        stub = aml_server.stub(channel)
        seen: list[pb.Alert] = []
        token = ""
        while True:
            page = await stub.ListAlerts(pb.ListAlertsRequest(page_size=7, page_token=token))
            seen.extend(page.alerts)
            token = page.next_page_token
            if not token:
                break
        everything = await stub.ListAlerts(pb.ListAlertsRequest(page_size=500))
        assert [a.alert_id for a in seen] == [a.alert_id for a in everything.alerts]
        assert len(seen) > 7
        assert all(a.rule_hits and a.rule_hits[0].evidence.transaction_ids for a in seen)
        assert all(a.status == pb.ALERT_STATUS_OPEN and a.rule_set_version for a in seen)
        rule = seen[0].rule_hits[0].rule_id
        by_rule = await stub.ListAlerts(pb.ListAlertsRequest(page_size=500, rule_id=rule))
        assert by_rule.alerts and all(rule in {h.rule_id for h in a.rule_hits} for a in by_rule.alerts)
        first = await stub.ListAlerts(pb.ListAlertsRequest(page_size=2))
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.ListAlerts(pb.ListAlertsRequest(page_size=2, page_token=first.next_page_token, min_score=5))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_alert_workflow_requires_legal_transitions_keeps_history_and_is_idempotent(
    aml_server: AmlServer, loaded: Loaded
) -> None:
    async with aml_server.channel("investigator") as channel:
        stub = aml_server.stub(channel)
        alert = (await stub.ListAlerts(pb.ListAlertsRequest(page_size=1, status=pb.ALERT_STATUS_OPEN))).alerts[0]
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.UpdateAlert(
                pb.UpdateAlertRequest(
                    request_id=str(uuid.uuid4()), alert_id=alert.alert_id, status=pb.ALERT_STATUS_SAR_FILED, reason="x"
                )
            )
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.UpdateAlert(
                pb.UpdateAlertRequest(
                    request_id=str(uuid.uuid4()), alert_id=alert.alert_id, status=pb.ALERT_STATUS_INVESTIGATING
                )
            )
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        request = pb.UpdateAlertRequest(
            request_id=str(uuid.uuid4()),
            alert_id=alert.alert_id,
            status=pb.ALERT_STATUS_INVESTIGATING,
            reason="Fan-in from many new counterparties; reviewing statements.",
        )
        first = await stub.UpdateAlert(request)
        again = await stub.UpdateAlert(request)
        assert first == again
        assert len(first.alert.history) == 1
        await stub.UpdateAlert(
            pb.UpdateAlertRequest(
                request_id=str(uuid.uuid4()),
                alert_id=alert.alert_id,
                status=pb.ALERT_STATUS_ESCALATED,
                reason="Pattern confirmed.",
            )
        )
        got = (await stub.GetAlert(pb.GetAlertRequest(alert_id=alert.alert_id))).alert
    assert got.status == pb.ALERT_STATUS_ESCALATED
    assert [(h.from_status, h.to_status, h.reason) for h in got.history] == [
        (pb.ALERT_STATUS_OPEN, pb.ALERT_STATUS_INVESTIGATING, request.reason),
        (pb.ALERT_STATUS_INVESTIGATING, pb.ALERT_STATUS_ESCALATED, "Pattern confirmed."),
    ]
    assert all("investigator" in h.changed_by for h in got.history)
    db = aml_server.ctx.require("database")
    async with db.read() as conn:
        records = await aml_server.ctx.require("audit").list_records(
            conn, AuditFilter(subject_type="account", subject_id=alert.account_id), limit=100, after_seq=0
        )
    decisions = [r.decision for r in records]
    assert decisions.count("ALERT:OPEN->INVESTIGATING") == 1
    assert "ALERT:INVESTIGATING->ESCALATED" in decisions
    assert "ALERT_RAISED" in decisions


async def test_unknown_alert_is_not_found(aml_server: AmlServer) -> None:
    async with aml_server.channel("investigator") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await aml_server.stub(channel).GetAlert(pb.GetAlertRequest(alert_id="AL-NOPE"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_account_transactions_are_paginated_and_filtered(
    aml_server: AmlServer, loaded: Loaded, sample: pl.DataFrame
) -> None:
    account = sample["source_account_id"].value_counts(sort=True)["source_account_id"][0]
    mine = sample.filter((pl.col("source_account_id") == account) | (pl.col("target_account_id") == account))
    async with aml_server.channel("investigator") as channel:
        stub = aml_server.stub(channel)
        ids: list[str] = []
        token = ""
        while True:
            page = await stub.ListAccountTransactions(
                pb.ListAccountTransactionsRequest(account_id=account, page_size=3, page_token=token)
            )
            ids.extend(t.transaction_id for t in page.transactions)
            token = page.next_page_token
            if not token:
                break
        counterparty = (
            mine["target_account_id"][0] if mine["source_account_id"][0] == account else mine["source_account_id"][0]
        )
        filtered = await stub.ListAccountTransactions(
            pb.ListAccountTransactionsRequest(account_id=account, counterparty_account_id=counterparty, page_size=100)
        )
    assert sorted(ids) == sorted(mine["transaction_id"].to_list())
    assert filtered.transactions
    assert all({t.source_account_id, t.target_account_id} == {account, counterparty} for t in filtered.transactions)


async def _investigate(aml_server: AmlServer, alert_id: str) -> pb.InvestigateNetworkResponse:
    async with aml_server.channel("investigator") as channel:
        return await aml_server.stub(channel).InvestigateNetwork(
            pb.InvestigateNetworkRequest(request_id=str(uuid.uuid4()), alert_id=alert_id, max_hops=2, max_accounts=200)
        )


async def test_investigating_an_alert_opens_a_case_grouping_its_alerts(aml_server: AmlServer, loaded: Loaded) -> None:
    async with aml_server.channel("investigator") as channel:
        stub = aml_server.stub(channel)
        alert = (await stub.ListAlerts(pb.ListAlertsRequest(page_size=500))).alerts[-1]
        network = await _investigate(aml_server, alert.alert_id)
        assert network.case_id and network.accounts
        assert alert.account_id in {a.account_id for a in network.accounts}
        assert network.provenance.audit_record_id
        case = await stub.GetCase(pb.GetCaseRequest(case_id=network.case_id))
        assert alert.alert_id in case.case.alert_ids
        assert alert.alert_id in {a.alert_id for a in case.alerts}
        assert set(case.case.account_ids) == {a.account_id for a in network.accounts}
        listed = await stub.ListCases(pb.ListCasesRequest(page_size=500))
        assert network.case_id in {c.case_id for c in listed.cases}
        again = await _investigate(aml_server, alert.alert_id)
        assert again.case_id == network.case_id, "a second investigation of the alert updates its case"


async def test_sar_draft_is_grounded_against_the_case(aml_server: AmlServer, loaded: Loaded) -> None:
    async with aml_server.channel("investigator") as channel:
        stub = aml_server.stub(channel)
        alert = (await stub.ListAlerts(pb.ListAlertsRequest(page_size=500))).alerts[-2]
        network = await _investigate(aml_server, alert.alert_id)
        case = (await stub.GetCase(pb.GetCaseRequest(case_id=network.case_id))).case
        total = case.total_amount
        minor = total.units * 100 + total.nanos // 10_000_000
        right = format_amount(minor, total.currency_code)
        wrong = format_amount(minor + 12_345, total.currency_code)
        text = (
            f"Case {case.case_id} concerns {len(case.account_ids)} accounts, among them {case.account_ids[0]}. "
            f"In total {right} moved within the network."
        )
        aml_server.llm.script({"kind": "ok", "content": json.dumps({"narrative": text})})
        good = (
            await stub.DraftSuspiciousActivityReport(
                pb.DraftSuspiciousActivityReportRequest(request_id=str(uuid.uuid4()), case_id=case.case_id)
            )
        ).draft
        aml_server.llm.script({"kind": "ok", "content": json.dumps({"narrative": text.replace(right, wrong)})})
        bad = (
            await stub.DraftSuspiciousActivityReport(
                pb.DraftSuspiciousActivityReportRequest(request_id=str(uuid.uuid4()), case_id=case.case_id)
            )
        ).draft
        # Text with nothing to refute is not a report: the development model once drafted a children's story.
        drafts = {}
        for name, narrative in (
            ("story", "A story about a young girl who goes to see the doctor,"),
            ("contact", f"{text} Questions to aml-desk@bank.example."),
        ):
            aml_server.llm.script({"kind": "ok", "content": json.dumps({"narrative": narrative})})
            drafts[name] = (
                await stub.DraftSuspiciousActivityReport(
                    pb.DraftSuspiciousActivityReportRequest(request_id=str(uuid.uuid4()), case_id=case.case_id)
                )
            ).draft
    assert drafts["story"].validation_outcome == common_pb2.VALIDATION_OUTCOME_FAILED
    assert [s.reason for s in drafts["story"].unsupported_spans] == ["names none of the case's accounts"]
    assert drafts["contact"].validation_outcome == common_pb2.VALIDATION_OUTCOME_FAILED
    assert [s.text for s in drafts["contact"].unsupported_spans] == ["aml-desk@bank.example"]
    assert good.validation_outcome == common_pb2.VALIDATION_OUTCOME_PASSED, list(good.unsupported_spans)
    assert not good.unsupported_spans and good.provenance.audit_record_id
    assert bad.validation_outcome == common_pb2.VALIDATION_OUTCOME_FAILED
    assert len(bad.unsupported_spans) == 1
    span = bad.unsupported_spans[0]
    assert wrong.split(" ")[1] in span.text
    assert bad.narrative[span.start : span.end] == span.text


async def test_walkthrough_steps_run_against_the_server(
    aml_server: AmlServer,
    loaded: Loaded,
    tmp_path,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    import asyncio

    from server.aml import demo
    from server.devrun import Platform

    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "certs").symlink_to(aml_server.pki.root)
    platform = Platform(var=tmp_path / "var", grpc_port=aml_server.port)
    aml_server.llm.script(
        {"kind": "ok", "content": json.dumps({"narrative": "The accounts in this case moved funds in a network."})}
    )
    for step in demo.STEPS:
        await asyncio.to_thread(step, platform)
    shown = capsys.readouterr().out
    assert "10,000 new" in shown  # the first 20,000 of the 30,000 were already stored
    assert "CLEAR" in shown and "InvestigateNetwork" in shown
    # The scripted draft names no account of the case: shown as FAILED, never as a valid report.
    assert "validation FAILED" in shown and "[unsupported]" in shown
