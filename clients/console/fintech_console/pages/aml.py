"""The investigator's pages: alerts, an alert's evidence and workflow, cases, the case's network
drawn as a graph, account transactions and the SAR draft.

Every page reads through ``AMLService`` in the signed-in investigator's name; every change (status,
investigation, SAR draft) is a POST with the session's CSRF token, sent once with a ``request_id``
and answered by a redirect (post/redirect/get). A case's network page re-sends the investigation's
request with the same ``request_id`` (carried in its URL), so the service answers from its
idempotency record: reloading the page neither re-opens the case nor writes another audit record.
The same holds for the SAR draft page. The shaping of responses is in ``fintech_console.views.aml``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fintech.aml.v1 import aml_service_pb2 as aml
from fintech.client import FintechError

from fintech_console.auth.guard import require_role
from fintech_console.auth.sessions import Operator
from fintech_console.views.aml import (
    InvestigationRef,
    alert_evidence,
    alert_filter_from_query,
    alert_rows,
    case_view,
    investigation_ref_from_query,
    network_graph,
    sar_view,
    status_change_from_form,
    transaction_accounts,
    transaction_rows,
    transactions_request,
)
from fintech_console.web import (
    NavLink,
    flash,
    page_urls,
    redirect,
    render,
    render_problem,
    services_for,
    settings_of,
)

router = APIRouter()
NAV = (
    NavLink("Alerts", "/aml/alerts", ("investigator",)),
    NavLink("Cases", "/aml/cases", ("investigator",)),
)
Investigator = Annotated[Operator, Depends(require_role("investigator"))]

# cytoscape is installed by `npm ci` in clients/console and served from there, never copied in.
CYTOSCAPE = Path(__file__).resolve().parents[2] / "node_modules" / "cytoscape" / "dist" / "cytoscape.min.js"
STATUS_CHOICES = ("open", "investigating", "escalated", "closed-false-positive", "sar-filed")


def _form_value(form: object, name: str) -> str:
    value = form.get(name) if hasattr(form, "get") else None  # starlette FormData
    return value if isinstance(value, str) else ""


@router.get("/aml/vendor/cytoscape.min.js", include_in_schema=False)
async def cytoscape_library(operator: Investigator) -> Response:
    """The graph library, from ``node_modules`` (404 with a hint when ``npm ci`` was not run)."""
    if not CYTOSCAPE.is_file():
        return Response("cytoscape is not installed: run `npm ci` in clients/console", status_code=404)
    return FileResponse(CYTOSCAPE, media_type="text/javascript", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/aml/alerts", response_class=HTMLResponse)
async def alerts(request: Request, operator: Investigator) -> Response:
    """The filterable alert list, one page at a time (the service's page tokens)."""
    services = services_for(request, operator)
    filters = alert_filter_from_query(dict(request.query_params), settings_of(request).page_size)
    try:
        reply = await services.aml.list_alerts(request=filters.to_request(), **services.read)
    except FintechError as error:
        return render_problem(request, error, title="Alerts")
    return render(
        request,
        "aml/alerts.html",
        {
            "title": "Alerts",
            "filters": filters,
            "status_choices": STATUS_CHOICES,
            "rows": alert_rows(reply.alerts),
            **page_urls(request, reply.next_page_token),
        },
    )


async def _alert_page(
    request: Request, operator: Operator, alert_id: str, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    services = services_for(request, operator)
    try:
        reply = await services.aml.get_alert(request=aml.GetAlertRequest(alert_id=alert_id), **services.read)
    except FintechError as error:
        return render_problem(request, error, title="Alert")
    view = alert_evidence(reply.alert)
    return render(
        request,
        "aml/alert.html",
        {
            "title": f"Alert {view.alert_id}",
            "alert": view,
            "errors": errors or {},
            # A fresh id per rendered form: a resubmitted form is deduplicated by the service.
            "request_id": str(uuid.uuid4()),
        },
        status_code=status_code,
    )


@router.get("/aml/alerts/{alert_id}", response_class=HTMLResponse)
async def alert(request: Request, alert_id: str, operator: Investigator) -> Response:
    """An alert's evidence: rule hits, window, transactions, score; its history and workflow form."""
    return await _alert_page(request, operator, alert_id)


@router.post("/aml/alerts/{alert_id}/status")
async def update_status(request: Request, alert_id: str, operator: Investigator) -> Response:
    """Move the alert through its workflow (``UpdateAlert``); a reason is required."""
    form = await request.form()
    change = status_change_from_form(alert_id, {k: _form_value(form, k) for k in ("status", "reason", "request_id")})
    if change.request is None:
        return await _alert_page(request, operator, alert_id, errors=dict(change.errors), status_code=400)
    services = services_for(request, operator)
    try:
        reply = await services.aml.update_alert(request=change.request, **services.write)
    except FintechError as error:
        return render_problem(request, error, title="Alert")
    flash(request, f"Alert {alert_id} is now {aml.AlertStatus.Name(reply.alert.status).removeprefix('ALERT_STATUS_')}.")
    return redirect(f"/aml/alerts/{alert_id}")


@router.post("/aml/alerts/{alert_id}/investigate")
async def investigate_alert(request: Request, alert_id: str, operator: Investigator) -> Response:
    """Investigate the network around the alert's account (``InvestigateNetwork``), then show it."""
    form = await request.form()
    params = {k: _form_value(form, k) for k in ("hops", "min", "cur", "max")}
    params.update({"inv": str(uuid.uuid4()), "alert": alert_id})
    return await _investigate(request, operator, params, title="Alert")


async def _investigate(request: Request, operator: Operator, params: dict[str, str], *, title: str) -> Response:
    try:
        ref = investigation_ref_from_query(params)
    except ValueError as error:
        flash(request, f"Investigation not started: {error}")
        return redirect(f"/aml/alerts/{params.get('alert', '')}" if params.get("alert") else "/aml/cases")
    services = services_for(request, operator)
    try:
        reply = await services.aml.investigate_network(request=ref.to_request(), **services.write)
    except FintechError as error:
        return render_problem(request, error, title=title)
    return redirect(f"/aml/cases/{reply.case_id}/network?{ref.query()}")


@router.get("/aml/cases", response_class=HTMLResponse)
async def cases(request: Request, operator: Investigator, page_token: str = "") -> Response:
    """Open and closed cases, newest first."""
    services = services_for(request, operator)
    try:
        reply = await services.aml.list_cases(
            request=aml.ListCasesRequest(page_size=settings_of(request).page_size, page_token=page_token[:2048]),
            **services.read,
        )
    except FintechError as error:
        return render_problem(request, error, title="Cases")
    return render(
        request, "aml/cases.html", {"title": "Cases", "cases": reply.cases, **page_urls(request, reply.next_page_token)}
    )


@router.get("/aml/cases/{case_id}", response_class=HTMLResponse)
async def case(request: Request, case_id: str, operator: Investigator) -> Response:
    """A case: its accounts, total, alerts, and the forms to draw its network and draft the SAR."""
    services = services_for(request, operator)
    try:
        reply = await services.aml.get_case(request=aml.GetCaseRequest(case_id=case_id), **services.read)
    except FintechError as error:
        return render_problem(request, error, title="Case")
    return render(
        request,
        "aml/case.html",
        {
            "title": f"Case {case_id}",
            "case": case_view(reply),
            "account_ids": list(reply.case.account_ids)[:200],
            "first_alert": reply.case.alert_ids[0] if reply.case.alert_ids else "",
        },
    )


@router.get("/aml/cases/{case_id}/network", response_class=HTMLResponse)
async def network(request: Request, case_id: str, operator: Investigator) -> Response:
    """The case's network as a graph (the investigation's request replayed by its ``request_id``)."""
    try:
        ref = investigation_ref_from_query(dict(request.query_params), request.query_params.getlist("seed"))
    except ValueError as error:
        flash(request, f"That network link is incomplete ({error}); investigate again from the case.")
        return redirect(f"/aml/cases/{case_id}")
    services = services_for(request, operator)
    try:
        reply = await services.aml.investigate_network(request=ref.to_request(), **services.write)
    except FintechError as error:
        return render_problem(request, error, title="Network")
    if reply.case_id != case_id:
        flash(request, "That investigation belongs to another case.")
        return redirect(f"/aml/cases/{reply.case_id}/network?{ref.query()}")
    graph = network_graph(reply)
    return render(
        request,
        "aml/network.html",
        {"title": f"Network of case {case_id}", "graph": graph, "ref": ref, "ref_query": ref.query()},
    )


@router.post("/aml/cases/{case_id}/sar")
async def draft_sar(request: Request, case_id: str, operator: Investigator) -> Response:
    """Ask for a SAR draft (``DraftSuspiciousActivityReport``), then show it with its claims checked."""
    form = await request.form()
    services = services_for(request, operator)
    request_id = str(uuid.uuid4())
    try:
        await services.aml.draft_suspicious_activity_report(
            request=aml.DraftSuspiciousActivityReportRequest(request_id=request_id, case_id=case_id), **services.write
        )
    except FintechError as error:
        return render_problem(request, error, title="SAR draft")
    network_query = _form_value(form, "network")
    suffix = f"&{network_query}" if network_query.startswith("inv=") else ""
    return redirect(f"/aml/cases/{case_id}/sar?sar={request_id}{suffix}")


@router.get("/aml/cases/{case_id}/sar", response_class=HTMLResponse)
async def sar(request: Request, case_id: str, operator: Investigator) -> Response:
    """A SAR draft: the narrative with each claim linked to its transactions, unsupported spans marked."""
    try:
        sar_id = str(uuid.UUID(request.query_params.get("sar", "")))
    except ValueError:
        flash(request, "That SAR link is incomplete; draft again from the case.")
        return redirect(f"/aml/cases/{case_id}")
    services = services_for(request, operator)
    try:
        reply = await services.aml.draft_suspicious_activity_report(
            request=aml.DraftSuspiciousActivityReportRequest(request_id=sar_id, case_id=case_id), **services.write
        )
    except FintechError as error:
        return render_problem(request, error, title="SAR draft")
    ref: InvestigationRef | None = None
    accounts: dict[str, tuple[str, str]] = {}
    if request.query_params.get("inv"):
        try:
            ref = investigation_ref_from_query(dict(request.query_params), request.query_params.getlist("seed"))
            network_reply = await services.aml.investigate_network(request=ref.to_request(), **services.write)
            accounts = transaction_accounts(network_reply)
        except (ValueError, FintechError):
            # The draft stands on its own; without the network its claims list ids unlinked (the page says so).
            ref = None
    return render(
        request,
        "aml/sar.html",
        {"title": f"SAR draft for case {case_id}", "sar": sar_view(reply.draft, accounts), "ref": ref},
    )


@router.get("/aml/accounts/{account_id}/transactions", response_class=HTMLResponse)
async def account_transactions(request: Request, account_id: str, operator: Investigator) -> Response:
    """An account's transfers (``ListAccountTransactions``), in a window or with one counterparty."""
    query, errors = transactions_request(account_id, dict(request.query_params), settings_of(request).page_size)
    highlight = [t for t in request.query_params.get("highlight", "").split(",") if t]
    services = services_for(request, operator)
    try:
        reply = await services.aml.list_account_transactions(request=query, **services.read)
    except FintechError as error:
        return render_problem(request, error, title="Transactions")
    return render(
        request,
        "aml/transactions.html",
        {
            "title": f"Transactions of {account_id}",
            "account_id": account_id,
            "rows": transaction_rows(account_id, reply.transactions, highlight),
            "errors": errors,
            "counterparty": query.counterparty_account_id,
            "params": request.query_params,
            **page_urls(request, reply.next_page_token),
        },
    )
