"""Validation from the .proto rules, health per service, reflection, metrics and tracing."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
import uuid

import grpc
import pytest
from fintech.risk.v1 import risk_service_pb2, risk_service_pb2_grpc
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from server.runtime.observability import JsonFormatter
from server.runtime.pki import DevPki
from tests.fixtures.runtime import aio_channel


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return str(reply.read().decode())


def _bad_request(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            return {v.field: v.description for v in bad.field_violations}
    raise AssertionError("no BadRequest detail")


async def test_invalid_request_names_every_bad_field(server, pki: DevPki) -> None:
    request = risk_service_pb2.AssessLoanApplicationRequest(
        request_id="not-a-uuid",
        application_id="app-1",
        applicant=risk_service_pb2.Applicant(
            applicant_id="a-1",
            age=200,
            employment_type=risk_service_pb2.EMPLOYMENT_TYPE_EMPLOYED,
            credit_score=100,
            housing_status=risk_service_pb2.HOUSING_STATUS_RENTING,
            monthly_income={"currency_code": "eur", "units": 3000},
            existing_monthly_debt_payments={"currency_code": "EUR", "units": 0},
        ),
        loan=risk_service_pb2.Loan(
            amount={"currency_code": "EUR", "units": -5},
            term_months=0,
            purpose=risk_service_pb2.LOAN_PURPOSE_USED_CAR,
            product_code="p",
            annual_rate_bps=700,
        ),
    )
    async with aio_channel(pki, "loan-officer", server.port) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await risk_service_pb2_grpc.RiskServiceStub(channel).AssessLoanApplication(request, timeout=5)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = _bad_request(info.value)
    for name in (
        "request_id",
        "applicant.age",
        "applicant.credit_score",
        "applicant.monthly_income.currency_code",
        "loan.amount",
        "loan.term_months",
    ):
        assert name in fields, (name, fields)


async def test_missing_required_message_is_named(server, pki: DevPki) -> None:
    request = risk_service_pb2.AssessLoanApplicationRequest(request_id=str(uuid.uuid4()), application_id="app-2")
    async with aio_channel(pki, "loan-officer", server.port) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await risk_service_pb2_grpc.RiskServiceStub(channel).AssessLoanApplication(request, timeout=5)
    fields = _bad_request(info.value)
    assert {"applicant", "loan"} <= set(fields)


async def test_health_answers_per_service(server, pki: DevPki) -> None:
    async with aio_channel(pki, "auditor", server.port) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "fintech.aml.v1.AMLService", "fintech.customer.v1.CustomerService"):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_the_services(server, pki: DevPki) -> None:
    async with aio_channel(pki, "core-banking", server.port) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def requests():  # type: ignore[no-untyped-def]
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        names = []
        async for reply in stub.ServerReflectionInfo(requests(), timeout=5):
            names = [s.name for s in reply.list_services_response.service]
    assert {"fintech.risk.v1.RiskService", "fintech.aml.v1.AMLService", "grpc.health.v1.Health"} <= set(names)


async def test_metrics_count_rpcs_by_method_and_code(server, pki: DevPki) -> None:
    async with aio_channel(pki, "mobile-backend", server.port) as channel:
        with pytest.raises(grpc.aio.AioRpcError):
            await risk_service_pb2_grpc.RiskServiceStub(channel).GetModelCard(risk_service_pb2.GetModelCardRequest())
    body = await asyncio.to_thread(_get, f"http://127.0.0.1:{server.metrics_port}/metrics")
    from prometheus_client.parser import text_string_to_metric_families

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    method = "/fintech.risk.v1.RiskService/GetModelCard"
    denied = (("code", "PERMISSION_DENIED"), ("method", method))
    assert samples.get(("fintech_rpc_requests_total", denied), 0) >= 1, body
    assert any(name == "fintech_rpc_duration_seconds_bucket" for name, _ in samples)
    assert samples.get(("fintech_rpc_auth_failures_total", (("reason", "ROLE_NOT_ALLOWED"),)), 0) >= 1


async def test_traceparent_and_request_id_reach_the_log(server, pki: DevPki) -> None:
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(JsonFormatter().format(record))

    handler = Capture()
    logger = logging.getLogger("fintech.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    trace_id = uuid.uuid4().hex
    try:
        async with aio_channel(pki, "sre", server.port) as channel:
            await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(),
                metadata=(("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01"), ("x-request-id", "req-abc-123")),
                timeout=5,
            )
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(r) for r in records]
    mine = [line for line in lines if line["request_id"] == "req-abc-123"]
    assert mine and mine[0]["trace_id"] == trace_id
    assert mine[0]["code"] == "OK" and mine[0]["role"] == "sre"
