"""Platform (role ``sre``): service health and the inference pool (``GetPlatformStatus``) and the daily
figures the seed reports (``GetDailyFigures``: answers, escalation rate, alerts per day).

Each half is fetched on its own, so one failing call leaves the other half on the page, with the
failure named where the missing half would be.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fintech.client import FintechError
from fintech.common.v1 import common_pb2 as common
from fintech.operations.v1 import operations_service_pb2 as operations
from google.type import date_pb2

from fintech_console.auth.guard import require_role
from fintech_console.auth.sessions import Operator
from fintech_console.services import ServiceProblem, describe_problem
from fintech_console.web import NavLink, enum_label, now_seconds, render, services_for

router = APIRouter()
NAV: tuple[NavLink, ...] = (NavLink("Platform", "/platform", ("sre",)),)
Sre = Annotated[Operator, Depends(require_role("sre"))]
MAX_DAYS = 92

_ENDPOINT_BADGE = {
    operations.ENDPOINT_STATE_HEALTHY: "ok",
    operations.ENDPOINT_STATE_EJECTED: "bad",
    operations.ENDPOINT_STATE_CIRCUIT_OPEN: "bad",
    operations.ENDPOINT_STATE_HALF_OPEN: "warn",
    operations.ENDPOINT_STATE_DRAINING: "warn",
}
_SERVING_BADGE = {
    common.SERVING_STATE_SERVING: "ok",
    common.SERVING_STATE_DEGRADED: "warn",
    common.SERVING_STATE_NOT_SERVING: "bad",
}


def _day(value: str, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _proto_date(day: date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _figures_row(day: operations.DailyFigures) -> dict[str, Any]:
    answered = day.answers
    return {
        "date": f"{day.date.year:04d}-{day.date.month:02d}-{day.date.day:02d}",
        "answers": day.answers,
        "escalations": day.escalations,
        "escalation_rate": (day.escalations / answered) if answered else None,
        "by_reason": ", ".join(f"{r.reason} {r.count}" for r in day.escalations_by_reason),
        "feedback_helpful": day.feedback_helpful,
        "feedback_not_helpful": day.feedback_not_helpful,
        "loan_assessments": day.loan_assessments,
        "loan_referrals": day.loan_referrals,
        "aml_alerts": day.aml_alerts,
        "contract_reviews": day.contract_reviews,
        "regulation_analyses": day.regulation_analyses,
    }


@router.get("/platform", response_class=HTMLResponse)
async def platform(request: Request, operator: Sre, start: str = "", end: str = "") -> Response:
    """Health, the inference pool and the daily figures for a date range (default: the last 7 days)."""
    today = datetime.fromtimestamp(now_seconds(request), tz=UTC).date()
    last = _day(end, today)
    first = _day(start, last - timedelta(days=6))
    error = ""
    if first > last:
        first, error = last, "The first day was after the last; showing the last day only."
    if (last - first).days >= MAX_DAYS:
        first, error = (
            last - timedelta(days=MAX_DAYS - 1),
            f"At most {MAX_DAYS} days at once; showing the last {MAX_DAYS}.",
        )
    services = services_for(request, operator)

    async def status() -> tuple[operations.GetPlatformStatusResponse | None, ServiceProblem | None]:
        try:
            reply = await services.operations.get_platform_status(
                request=operations.GetPlatformStatusRequest(), **services.read
            )
        except FintechError as error:
            return None, describe_problem(error)
        return reply, None

    async def figures() -> tuple[operations.GetDailyFiguresResponse | None, ServiceProblem | None]:
        try:
            reply = await services.operations.get_daily_figures(
                request=operations.GetDailyFiguresRequest(start_date=_proto_date(first), end_date=_proto_date(last)),
                **services.read,
            )
        except FintechError as error:
            return None, describe_problem(error)
        return reply, None

    (status_reply, status_problem), (figures_reply, figures_problem) = await asyncio.gather(status(), figures())
    health: list[dict[str, Any]] = []
    endpoints: list[dict[str, Any]] = []
    status_time: Any = None
    if status_reply is not None:
        status_time = status_reply.status_time
        health = [
            {
                "service": s.service.rsplit(".", 1)[-1],
                "full": s.service,
                "state": enum_label(common.ServingState, s.state),
                "badge": _SERVING_BADGE.get(s.state, "warn"),
                "detail": s.detail,
            }
            for s in status_reply.services
        ]
        endpoints = [
            {
                "id": e.endpoint_id,
                "group": e.model_group,
                "url": e.url,
                "state": enum_label(operations.EndpointState, e.state),
                "badge": _ENDPOINT_BADGE.get(e.state, "warn"),
                "outstanding": e.outstanding_requests,
                "limit": e.concurrency_limit,
                "weight": e.weight,
                "ejections": e.ejections,
                "waiting": e.requests_waiting,
                "running": e.requests_running,
                "kv": e.kv_cache_usage,
                "requests": e.requests_total,
                "errors": e.errors_total,
                "probe": e.last_probe_time,
            }
            for e in status_reply.endpoints
        ]
    days = [_figures_row(day) for day in figures_reply.days] if figures_reply is not None else []
    worst = next((p for p in (status_problem, figures_problem) if p is not None), None)
    return render(
        request,
        "platform/status.html",
        {
            "title": "Platform",
            "health": health,
            "endpoints": endpoints,
            "status_time": status_time,
            "status_problem": status_problem,
            "days": days,
            "figures_problem": figures_problem,
            "start": first.isoformat(),
            "end": last.isoformat(),
            "error": error,
        },
        status_code=worst.status_code if worst is not None and status_problem and figures_problem else 200,
    )
