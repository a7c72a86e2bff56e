"""Escalations (role ``agent``): the queue of conversations handed to a person, one conversation, resolve it.

Everything shown comes from CustomerService as it returns it; the conversation's PII is masked by the
service before it leaves it, and the console shows it as given. Resolving calls ``ResolveEscalation``
with a ``request_id`` minted when the form was rendered, so a double submit is deduplicated.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from fintech.client import FintechError
from fintech.customer.v1 import customer_service_pb2 as customer

from fintech_console.auth.guard import require_role
from fintech_console.auth.sessions import Operator
from fintech_console.services import describe_problem
from fintech_console.web import (
    NavLink,
    enum_label,
    enum_options,
    enum_value,
    flash,
    now_seconds,
    page_urls,
    redirect,
    render,
    render_problem,
    services_for,
    settings_of,
)

router = APIRouter()
NAV: tuple[NavLink, ...] = (NavLink("Escalations", "/escalations", ("agent",)),)
Agent = Annotated[Operator, Depends(require_role("agent"))]

_STATUS = {"open": customer.ESCALATION_STATUS_OPEN, "resolved": customer.ESCALATION_STATUS_RESOLVED, "all": 0}
MAX_NOTE = 4000


def _row(escalation: customer.Escalation, now: float) -> dict[str, object]:
    created = escalation.create_time.seconds
    ended = escalation.resolve_time.seconds if escalation.status == customer.ESCALATION_STATUS_RESOLVED else now
    return {
        "id": escalation.escalation_id,
        "customer_id": escalation.customer_id,
        "reason": enum_label(customer.EscalationReason, escalation.reason),
        "status": enum_label(customer.EscalationStatus, escalation.status),
        "open": escalation.status == customer.ESCALATION_STATUS_OPEN,
        "intent": escalation.intent,
        "create_time": escalation.create_time,
        "waited_seconds": max(0.0, ended - created) if created else 0.0,
        "turns": len(escalation.turns),
    }


@router.get("/escalations", response_class=HTMLResponse)
async def queue(
    request: Request, operator: Agent, status: str = "open", reason: str = "", page_token: str = ""
) -> Response:
    """The queue, oldest first as the service orders it, filtered by status and reason."""
    status = status if status in _STATUS else "open"
    services = services_for(request, operator)
    call = customer.ListEscalationsRequest(
        page_size=settings_of(request).page_size,
        page_token=page_token,
        status=_STATUS[status],
        reason=enum_value(customer.EscalationReason, reason),
    )
    try:
        reply = await services.customer.list_escalations(request=call, **services.read)
    except FintechError as error:
        return render_problem(request, error, title="Escalations")
    now = now_seconds(request)
    return render(
        request,
        "escalations/queue.html",
        {
            "title": "Escalations",
            "rows": [_row(e, now) for e in reply.escalations],
            "status": status,
            "reason": reason,
            "reasons": enum_options(customer.EscalationReason),
            **page_urls(request, reply.next_page_token),
        },
    )


async def _detail(
    request: Request,
    operator: Operator,
    escalation_id: str,
    *,
    note: str = "",
    error: str = "",
    problem: FintechError | None = None,
    status_code: int = 200,
) -> Response:
    services = services_for(request, operator)
    try:
        reply = await services.customer.get_escalation(
            request=customer.GetEscalationRequest(escalation_id=escalation_id), **services.read
        )
    except FintechError as failure:
        return render_problem(request, failure, title="Escalation")
    escalation = reply.escalation
    turns = [
        {
            "speaker": enum_label(customer.Speaker, turn.speaker),
            "text": turn.text,
            "time": turn.create_time,
            "intent": turn.intent,
        }
        for turn in escalation.turns
    ]
    return render(
        request,
        "escalations/detail.html",
        {
            "title": f"Escalation {escalation.escalation_id}",
            "escalation": escalation,
            "row": _row(escalation, now_seconds(request)),
            "turns": turns,
            "articles": list(escalation.retrieved_articles),
            "request_id": str(uuid.uuid4()),
            "note": note,
            "error": error,
            "problem": describe_problem(problem) if problem is not None else None,
            "max_note": MAX_NOTE,
        },
        status_code=status_code,
    )


@router.get("/escalations/{escalation_id}", response_class=HTMLResponse)
async def detail(request: Request, escalation_id: str, operator: Agent) -> Response:
    """One escalation: the masked conversation, the retrieved articles, the resolve form."""
    return await _detail(request, operator, escalation_id)


@router.post("/escalations/{escalation_id}/resolve")
async def resolve(
    request: Request,
    escalation_id: str,
    operator: Agent,
    resolution_note: Annotated[str, Form()] = "",
    request_id: Annotated[str, Form()] = "",
) -> Response:
    """Resolve with a note (``ResolveEscalation``), then back to the queue."""
    note = resolution_note.strip()
    if not note:
        return await _detail(
            request, operator, escalation_id, error="Write what you did: the note is required.", status_code=400
        )
    if len(note) > MAX_NOTE:
        return await _detail(
            request,
            operator,
            escalation_id,
            note=note,
            error=f"The note is too long ({len(note)} of {MAX_NOTE} characters).",
            status_code=400,
        )
    try:
        uuid.UUID(request_id)
    except ValueError:
        request_id = str(uuid.uuid4())
    services = services_for(request, operator)
    try:
        await services.customer.resolve_escalation(
            request=customer.ResolveEscalationRequest(
                request_id=request_id, escalation_id=escalation_id, resolution_note=note
            ),
            **services.write,
        )
    except FintechError as failure:
        return await _detail(
            request,
            operator,
            escalation_id,
            note=note,
            problem=failure,
            status_code=describe_problem(failure).status_code,
        )
    flash(request, f"Escalation {escalation_id} resolved.")
    return redirect("/escalations")
