"""AMLService on PostgreSQL: the AML repositories (history, state row lock, alerts, status history,
account transactions) through a real mTLS server on a real PostgreSQL database (asyncpg).

SQLite is covered by ``test_aml_service.py``; this module runs the same flow on the other backend:
ingest (resend adds nothing), screen over the stream (decisions equal batch screening), a second
replica continuing the one history, and the alert workflow with its audited history.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import polars as pl
import pytest
from fintech.aml.v1 import aml_service_pb2 as pb
from fintech.aml.v1 import aml_service_pb2_grpc as pb_grpc

from server.aml import repository as repo
from server.aml.mapping import frame_to_transactions
from server.aml.monitor import TransactionMonitor
from server.aml.rules import RuleSet
from server.aml.screening import screen_all
from server.aml.service import SCREEN_RPC, UPDATE_RPC, AmlServicer, build
from server.aml.state import ScreeningState
from server.audit.log import AuditFilter
from server.runtime.context import AppContext
from server.runtime.pki import DevPki
from tests.fixtures.postgres import shared_server
from tests.fixtures.runtime import aio_channel, running_server, settings_for, stateful_context

INGESTED = 3_000
STREAMED = 2_000
REPLICA = 1_000


@dataclass
class PgServer:
    port: int
    ctx: AppContext
    servicer: AmlServicer
    pki: DevPki
    url: str


@pytest.fixture(scope="module")
async def pg_server(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PgServer]:
    url = shared_server().create_database("aml")
    settings = settings_for(
        pki,
        tmp_path_factory.mktemp("aml-pg"),
        server={"services": ["operations"]},
        database={"url": url},
    )
    ctx = await stateful_context(settings)
    assert ctx.require("database").dialect == "postgresql"
    binding = await build(ctx)
    async with running_server(settings, ctx=ctx, extra_bindings=[binding]) as running:
        yield PgServer(running.port, ctx, binding.servicer, pki, url)


def _stub(channel: object) -> pb_grpc.AMLServiceStub:
    return pb_grpc.AMLServiceStub(channel)  # type: ignore[arg-type]


async def test_ingest_screen_replicas_and_alert_workflow_on_postgresql(
    pg_server: PgServer, sample: pl.DataFrame, rules: RuleSet
) -> None:
    data = sample.head(INGESTED + STREAMED + REPLICA)
    txs = frame_to_transactions(data, rules)
    expected = screen_all(rules, data).decisions

    async with aio_channel(pg_server.pki, "core-banking", pg_server.port) as channel:
        stub = _stub(channel)
        batches = [
            pb.IngestTransactionsRequest(batch_id=f"pg-{i}", transactions=txs[i : i + 1_000])
            for i in range(0, INGESTED, 1_000)
        ]
        ingest = await stub.IngestTransactions(iter(batches))
        assert (ingest.inserted_count, ingest.duplicate_count) == (INGESTED, 0)
        resent = await stub.IngestTransactions(iter(batches[:1]))
        assert (resent.inserted_count, resent.duplicate_count) == (0, 1_000), "a resent batch adds nothing"

        streamed = txs[INGESTED : INGESTED + STREAMED]
        requests = [pb.ScreenTransactionsRequest(transactions=streamed[i : i + 500]) for i in range(0, STREAMED, 500)]
        results = [r async for response in stub.ScreenTransactions(iter(requests)) for r in response.results]
    want = expected.slice(INGESTED, STREAMED)
    assert [r.transaction_id for r in results] == want["transaction_id"].to_list()
    assert [int(r.decision) for r in results] == want["decision"].to_list()
    assert [round(r.score, 6) for r in results] == [round(s, 6) for s in want["score"].to_list()]

    # A second replica (its own engine, same database) continues the one history: it replays what
    # the server committed (under the state row's FOR UPDATE lock) and decides like batch screening.
    ctx = pg_server.ctx
    replica = TransactionMonitor(ctx.require("database"), ctx.require("audit"), ctx.require("keyring"), rules)
    outcome = await replica.process(
        data.slice(INGESTED + STREAMED, REPLICA), None, rpc="test", caller="spiffe://test/replica"
    )
    assert replica.replayed == INGESTED + STREAMED
    assert outcome.result.decisions.equals(expected.slice(INGESTED + STREAMED, REPLICA))
    # Its checkpoint is written in the background, in parts (no lock taken on PostgreSQL), and published
    # under the state row's lock; it loads whole (parts assembled, length and digest checked) and names
    # everything committed so far as its watermark.
    await replica.wait_checkpoint()
    assert (replica.checkpoints_written, replica.checkpoint_failures) == (1, 0), replica.last_checkpoint_error
    async with ctx.require("database").read() as conn:
        checkpoint = await repo.load_state(conn)
        assert checkpoint is not None and checkpoint.version == replica.state_version
        assert checkpoint.covered_seq == await repo.last_transaction_seq(conn)
    assert ScreeningState.from_bytes(checkpoint.blob, rule_set_version=rules.version).n_accounts > 0
    async with ctx.require("database").read() as conn:
        assert await repo.last_transaction_seq(conn) >= INGESTED + STREAMED + REPLICA
        stored = await repo.known_transactions(conn, data["transaction_id"].to_list())
    assert len(stored) == data.height
    assert stored[want["transaction_id"][0]] == (int(want["decision"][0]), pytest.approx(float(want["score"][0])))

    async with aio_channel(pg_server.pki, "investigator", pg_server.port) as channel:
        stub = _stub(channel)
        alerts = (await stub.ListAlerts(pb.ListAlertsRequest(page_size=500))).alerts
        assert alerts, "the screened slice raises alerts"
        assert all(a.rule_hits and a.rule_set_version == rules.version for a in alerts)
        alert = next(a for a in alerts if a.status == pb.ALERT_STATUS_OPEN)
        evidence = {tx for hit in alert.rule_hits for tx in hit.evidence.transaction_ids}
        listed = await stub.ListAccountTransactions(
            pb.ListAccountTransactionsRequest(account_id=alert.account_id, page_size=1_000)
        )
        assert evidence <= {t.transaction_id for t in listed.transactions}, "the history backs the evidence"
        for status, reason in (
            (pb.ALERT_STATUS_INVESTIGATING, "Reviewing the counterparties."),
            (pb.ALERT_STATUS_CLOSED_FALSE_POSITIVE, "Payroll of a known employer."),
        ):
            await stub.UpdateAlert(
                pb.UpdateAlertRequest(
                    request_id=str(uuid.uuid4()), alert_id=alert.alert_id, status=status, reason=reason
                )
            )
        got = (await stub.GetAlert(pb.GetAlertRequest(alert_id=alert.alert_id))).alert
        closed = await stub.ListAlerts(
            pb.ListAlertsRequest(page_size=500, status=pb.ALERT_STATUS_CLOSED_FALSE_POSITIVE)
        )
    assert got.status == pb.ALERT_STATUS_CLOSED_FALSE_POSITIVE
    assert [(h.from_status, h.to_status, h.reason) for h in got.history] == [
        (pb.ALERT_STATUS_OPEN, pb.ALERT_STATUS_INVESTIGATING, "Reviewing the counterparties."),
        (pb.ALERT_STATUS_INVESTIGATING, pb.ALERT_STATUS_CLOSED_FALSE_POSITIVE, "Payroll of a known employer."),
    ]
    assert [a.alert_id for a in closed.alerts] == [alert.alert_id]
    audit = ctx.require("audit")
    async with ctx.require("database").read() as conn:
        updates = await audit.list_records(conn, AuditFilter(rpc=UPDATE_RPC), limit=100, after_seq=0)
        screened = await audit.list_records(conn, AuditFilter(rpc=SCREEN_RPC), limit=1_000, after_seq=0)
    assert {r.decision for r in updates} >= {"ALERT:OPEN->INVESTIGATING", "ALERT:INVESTIGATING->CLOSED_FALSE_POSITIVE"}
    # Audited per micro-batch (its digest and counts) and per alert, not per transaction.
    assert any(r.decision == "SCREENED" for r in screened)
    assert any(r.decision == "ALERT_RAISED" for r in screened)
    assert len(screened) < STREAMED
