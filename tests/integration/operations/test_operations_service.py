"""OperationsService through a real server: platform status with the pool's endpoints, the switching
drill against scripted OpenAI-compatible servers, and honest refusals when a component is not wired."""

from __future__ import annotations

import grpc
import pytest
from fintech.client import FailedPrecondition, InvalidArgument, NotFound, OperationsServiceClient, secure_channel
from fintech.common.v1 import common_pb2
from fintech.operations.v1 import operations_service_pb2 as ops
from google.type import date_pb2

from server.runtime.pki import DevPki
from tests.fixtures.runtime import running_server, settings_for, stateful_context


def _channel(pki: DevPki, port: int, role: str = "sre") -> grpc.aio.Channel:
    issued = pki.client(role)
    return secure_channel(f"localhost:{port}", ca_file=pki.ca, cert_file=issued.cert, key_file=issued.key)


@pytest.fixture
async def with_pool(pki: DevPki, tmp_path, fake_openai_factory):  # type: ignore[no-untyped-def]
    primary, fallback = fake_openai_factory(2)
    settings = settings_for(
        pki,
        tmp_path,
        server={"services": ["operations", "risk"]},
        inference={
            "groups": [
                {"name": "deepseek-chat", "model": "fake", "endpoints": [{"url": primary.base_url}]},
                {"name": "deepseek-fallback", "model": "fake", "endpoints": [{"url": fallback.base_url}]},
            ],
            "budgets": {"enabled": False},
        },
    )
    ctx = await stateful_context(settings)
    async with running_server(settings, ctx=ctx) as running:
        yield running, primary, fallback


async def test_platform_status_lists_services_and_every_endpoint(with_pool, pki: DevPki) -> None:  # type: ignore[no-untyped-def]
    running, primary, _fallback = with_pool
    async with _channel(pki, running.port) as channel:
        status = await OperationsServiceClient(channel).get_platform_status(request=ops.GetPlatformStatusRequest())
    services = {s.service: s.state for s in status.services}
    assert services["fintech.risk.v1.RiskService"] == common_pb2.SERVING_STATE_SERVING
    assert services["fintech.operations.v1.OperationsService"] == common_pb2.SERVING_STATE_SERVING
    endpoints = {e.model_group: e for e in status.endpoints}
    assert set(endpoints) == {"deepseek-chat", "deepseek-fallback"}
    assert endpoints["deepseek-chat"].url.startswith(primary.root_url)
    assert all(e.state == ops.ENDPOINT_STATE_HEALTHY for e in status.endpoints)
    assert status.status_time.seconds > 0


async def test_drill_moves_traffic_to_the_fallback_and_back_without_failures(with_pool, pki: DevPki) -> None:  # type: ignore[no-untyped-def]
    running, _primary, fallback = with_pool
    async with _channel(pki, running.port) as channel:
        report = await OperationsServiceClient(channel).run_inference_drill(
            request=ops.RunInferenceDrillRequest(outage_seconds=2, requests_per_second=20), timeout=60
        )
    assert report.requests_sent >= 40
    assert report.requests_failed == 0
    assert [p.name for p in report.phases] == ["before", "outage", "after"]
    assert "deepseek-fallback" in [g.reason for g in report.phases[1].served_by_group]
    assert report.HasField("switch_over_duration") and report.HasField("switch_back_duration")
    assert report.switch_over_duration.ToTimedelta().total_seconds() < 1.0
    assert fallback.requests(), "the fallback never saw a request"


async def test_drill_of_an_unknown_group_is_not_found(with_pool, pki: DevPki) -> None:  # type: ignore[no-untyped-def]
    running, _, _ = with_pool
    async with _channel(pki, running.port) as channel:
        with pytest.raises(NotFound) as info:
            await OperationsServiceClient(channel).run_inference_drill(
                request=ops.RunInferenceDrillRequest(primary_group="gpt-9")
            )
    assert info.value.reason == "MODEL_GROUP_NOT_FOUND"


async def test_without_a_pool_the_status_says_so_and_the_drill_is_refused(pki: DevPki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(pki, tmp_path, server={"services": ["operations"]})
    async with running_server(settings, ctx=await stateful_context(settings)) as running:
        async with _channel(pki, running.port) as channel:
            client = OperationsServiceClient(channel)
            status = await client.get_platform_status(request=ops.GetPlatformStatusRequest())
            pool_rows = [s for s in status.services if s.service == "inference-pool"]
            assert pool_rows and pool_rows[0].state == common_pb2.SERVING_STATE_NOT_SERVING
            assert not status.endpoints
            with pytest.raises(FailedPrecondition) as info:
                await client.run_inference_drill(request=ops.RunInferenceDrillRequest())
            assert info.value.reason == "LLM_NOT_CONFIGURED"


async def test_daily_figures_validate_dates(pki: DevPki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(pki, tmp_path, server={"services": ["operations"]})
    async with running_server(settings, ctx=await stateful_context(settings)) as running:
        async with _channel(pki, running.port) as channel:
            client = OperationsServiceClient(channel)
            with pytest.raises(InvalidArgument) as info:
                await client.get_daily_figures(
                    request=ops.GetDailyFiguresRequest(
                        start_date=date_pb2.Date(year=2026, month=2, day=30),
                        end_date=date_pb2.Date(year=2026, month=3, day=1),
                    )
                )
            assert [v.field for v in info.value.field_violations] == ["start_date"]
            with pytest.raises(InvalidArgument):
                await client.get_daily_figures(
                    request=ops.GetDailyFiguresRequest(
                        start_date=date_pb2.Date(year=2026, month=3, day=2),
                        end_date=date_pb2.Date(year=2026, month=3, day=1),
                    )
                )


async def test_daily_figures_count_the_audited_decisions(pki: DevPki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from server.audit.records import AuditEntry, AuditKind
    from server.runtime.clock import FakeClock

    settings = settings_for(pki, tmp_path, server={"services": ["operations"]})
    ctx = await stateful_context(settings)
    audit, database = ctx.require("audit"), ctx.require("database")
    ask = "/fintech.customer.v1.CustomerService/Ask"
    entries = [
        # The decisions CustomerService writes: the answer's source, and the reason when it hands over.
        AuditEntry(kind=AuditKind.DECISION, rpc=ask, decision="GENERATED", caller="test"),
        AuditEntry(kind=AuditKind.DECISION, rpc=ask, decision="HANDOFF:SENSITIVE_INTENT", caller="test"),
        AuditEntry(kind=AuditKind.DECISION, rpc=ask, decision="APPROVED:SENSITIVE_INTENT", caller="test"),
        AuditEntry(kind=AuditKind.DECISION, rpc="/fintech.risk.v1.RiskService/AssessLoanApplication",
                   decision="REFER", caller="test"),
        AuditEntry(kind=AuditKind.SIGN_IN, rpc="console/sign-in", decision="OK", caller="test"),
    ]
    async with database.transaction() as conn:
        await audit.append_batch(conn, entries)
    today = datetime.now(UTC).date()
    async with running_server(settings, ctx=ctx) as running:
        async with _channel(pki, running.port) as channel:
            reply = await OperationsServiceClient(channel).get_daily_figures(
                request=ops.GetDailyFiguresRequest(
                    start_date=date_pb2.Date(year=today.year, month=today.month, day=today.day),
                    end_date=date_pb2.Date(year=today.year, month=today.month, day=today.day),
                )
            )
    assert len(reply.days) == 1
    day = reply.days[0]
    assert (day.answers, day.escalations, day.loan_assessments, day.loan_referrals) == (3, 2, 1, 1)
    assert [(r.reason, r.count) for r in day.escalations_by_reason] == [("SENSITIVE_INTENT", 2)]
    del FakeClock


async def test_inference_cli_shows_the_pool_and_runs_the_drill(with_pool, pki: DevPki) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from typer.testing import CliRunner

    from server.cli import app

    running, _, _ = with_pool
    common = ["--target", f"localhost:{running.port}", "--certs", str(pki.root)]
    runner = CliRunner(env={"COLUMNS": "200"})
    status = await asyncio.to_thread(runner.invoke, app, ["inference", "status", *common])
    assert status.exit_code == 0, status.output
    assert "deepseek-chat" in status.output and "HEALTHY" in status.output
    arguments = ["inference", "drill", "--outage", "2", "--rate", "10", *common]
    drill = await asyncio.to_thread(runner.invoke, app, arguments)
    assert drill.exit_code == 0, drill.output
    assert "failed 0" in drill.output and "deepseek-fallback" in drill.output
    denied = await asyncio.to_thread(runner.invoke, app, ["inference", "status", "--role", "agent", *common])
    assert denied.exit_code == 1 and "PERMISSION_DENIED" in denied.output
