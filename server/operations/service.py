"""The OperationsService servicer: converts between protobuf and what the runtime and the pool report.

``GetPlatformStatus`` reports the health of the services hosted in this process (from the health
board the runtime keeps) and every endpoint of the inference pool. ``RunInferenceDrill`` runs the
pool's switching drill. ``GetDailyFigures`` counts the day's decisions from the audit trail when
it is wired in this process, and says so (``FAILED_PRECONDITION``) when it is not.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import grpc
from fintech.common.v1 import common_pb2
from fintech.operations.v1 import operations_service_pb2 as ops
from fintech.operations.v1 import operations_service_pb2_grpc as ops_grpc
from google.protobuf import duration_pb2, timestamp_pb2
from google.type import date_pb2

from server.runtime.context import AppContext, ServiceBinding
from server.runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from server.runtime.errors import FieldViolation as Violation

DOMAIN = "operations.fintech"
_STATE = {
    "HEALTHY": ops.ENDPOINT_STATE_HEALTHY,
    "EJECTED": ops.ENDPOINT_STATE_EJECTED,
    "CIRCUIT_OPEN": ops.ENDPOINT_STATE_CIRCUIT_OPEN,
    "HALF_OPEN": ops.ENDPOINT_STATE_HALF_OPEN,
    "DRAINING": ops.ENDPOINT_STATE_DRAINING,
}
# Longest range GetDailyFigures answers in one call.
MAX_DAYS = 366


def _duration(seconds: float | None) -> duration_pb2.Duration | None:
    if seconds is None:
        return None
    result = duration_pb2.Duration()
    result.FromNanoseconds(int(seconds * 1e9))
    return result


def _date(value: date_pb2.Date, field: str) -> date:
    try:
        return date(value.year, value.month, value.day)
    except ValueError:
        raise InvalidArgument(
            f"{field} is not a calendar date",
            reason="INVALID_DATE",
            domain=DOMAIN,
            violations=[Violation(field, "not a calendar date")],
        ) from None


class OperationsServicer(ops_grpc.OperationsServiceServicer):
    """Adapts the runtime's health board, the inference pool and the audit trail to the contract."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    async def GetPlatformStatus(
        self, request: ops.GetPlatformStatusRequest, context: grpc.aio.ServicerContext
    ) -> ops.GetPlatformStatusResponse:
        response = ops.GetPlatformStatusResponse()
        board = self._ctx.resources.get("health")
        for service, (serving, detail) in sorted((board.states() if board else {}).items()):
            response.services.add(
                service=service,
                state=common_pb2.SERVING_STATE_SERVING if serving else common_pb2.SERVING_STATE_NOT_SERVING,
                detail=detail,
            )
        pool = self._ctx.resources.get("inference")
        if pool is None:
            response.services.add(
                service="inference-pool", state=common_pb2.SERVING_STATE_NOT_SERVING, detail="no model group configured"
            )
        else:
            now = self._ctx.clock.now()
            for endpoint in pool.status():
                row = response.endpoints.add(
                    endpoint_id=endpoint.endpoint_id,
                    model_group=endpoint.group,
                    url=endpoint.url,
                    state=_STATE.get(endpoint.state.name, ops.ENDPOINT_STATE_UNSPECIFIED),
                    outstanding_requests=endpoint.outstanding,
                    concurrency_limit=endpoint.limit,
                    weight=max(1, round(endpoint.weight)),
                    ejections=endpoint.ejections,
                    requests_waiting=round(endpoint.waiting or 0),
                    requests_running=round(endpoint.running or 0),
                    kv_cache_usage=endpoint.kv_cache_usage or 0.0,
                    requests_total=endpoint.requests_total,
                    errors_total=endpoint.failures_total,
                )
                if endpoint.last_probe_age_seconds is not None:
                    probed = timestamp_pb2.Timestamp()
                    probed.FromDatetime(now - timedelta(seconds=endpoint.last_probe_age_seconds))
                    row.last_probe_time.CopyFrom(probed)
        response.status_time.FromDatetime(self._ctx.clock.now())
        return response

    async def RunInferenceDrill(
        self, request: ops.RunInferenceDrillRequest, context: grpc.aio.ServicerContext
    ) -> ops.RunInferenceDrillResponse:
        from inference.drill import run_drill

        pool = self._ctx.resources.get("inference")
        if pool is None:
            raise FailedPrecondition(
                "no inference pool is configured in this process", reason="LLM_NOT_CONFIGURED", domain=DOMAIN
            )
        if request.primary_group and request.primary_group not in pool.group_names:
            raise NotFound(
                f"model group {request.primary_group!r} does not exist", reason="MODEL_GROUP_NOT_FOUND", domain=DOMAIN
            )
        report = await run_drill(
            pool,
            group=request.primary_group or None,
            rate_per_second=float(request.requests_per_second or 5),
            out_seconds=float(request.outage_seconds or 10),
            warmup_seconds=2.0,
            back_seconds=3.0,
        )
        response = ops.RunInferenceDrillResponse(requests_sent=report.requests, requests_failed=report.failures)
        for name, failed in (
            ("before", report.failures_before),
            ("outage", report.failures_during),
            ("after", report.failures_after),
        ):
            response.phases.add(name=name, requests_failed=failed)
        outage = response.phases[1]
        for group in report.fallback_groups:
            outage.served_by_group.add(reason=group)
        if report.served_by_group_while_out:
            outage.served_by_group.add(reason=report.group, count=report.served_by_group_while_out)
        switch_over = _duration(report.switch_over_seconds)
        if switch_over is not None:
            response.switch_over_duration.CopyFrom(switch_over)
        switch_back = _duration(report.switch_back_seconds)
        if switch_back is not None:
            response.switch_back_duration.CopyFrom(switch_back)
        return response

    async def GetDailyFigures(
        self, request: ops.GetDailyFiguresRequest, context: grpc.aio.ServicerContext
    ) -> ops.GetDailyFiguresResponse:
        start = _date(request.start_date, "start_date")
        end = _date(request.end_date, "end_date")
        if end < start:
            raise InvalidArgument(
                "end_date is before start_date",
                reason="INVALID_RANGE",
                domain=DOMAIN,
                violations=[Violation("end_date", "must not be before start_date")],
            )
        if (end - start).days + 1 > MAX_DAYS:
            raise InvalidArgument(
                f"at most {MAX_DAYS} days per call",
                reason="RANGE_TOO_LONG",
                domain=DOMAIN,
                violations=[Violation("end_date", f"at most {MAX_DAYS} days after start_date")],
            )
        figures = self._ctx.resources.get("daily_figures")
        if figures is None:
            raise FailedPrecondition(
                "daily figures need the audit trail, which is not wired in this process",
                reason="AUDIT_NOT_CONFIGURED",
                domain=DOMAIN,
            )
        days: list[dict[str, Any]] = await figures(start, end)
        response = ops.GetDailyFiguresResponse()
        for day in days:
            row = response.days.add(
                date=date_pb2.Date(year=day["date"].year, month=day["date"].month, day=day["date"].day),
                answers=day.get("answers", 0),
                escalations=day.get("escalations", 0),
                feedback_helpful=day.get("feedback_helpful", 0),
                feedback_not_helpful=day.get("feedback_not_helpful", 0),
                loan_assessments=day.get("loan_assessments", 0),
                loan_referrals=day.get("loan_referrals", 0),
                aml_alerts=day.get("aml_alerts", 0),
                contract_reviews=day.get("contract_reviews", 0),
                regulation_analyses=day.get("regulation_analyses", 0),
            )
            for reason, count in sorted(day.get("escalations_by_reason", {}).items()):
                row.escalations_by_reason.add(reason=reason, count=count)
        return response


async def build(ctx: AppContext) -> ServiceBinding:
    """The OperationsService of this process."""
    return ServiceBinding(
        name="operations",
        full_name=ops.DESCRIPTOR.services_by_name["OperationsService"].full_name,
        servicer=OperationsServicer(ctx),
        add_to_server=ops_grpc.add_OperationsServiceServicer_to_server,
    )
