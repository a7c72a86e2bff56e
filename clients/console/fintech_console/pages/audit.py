"""Audit (roles ``auditor`` and ``sre``): search the audit trail, read a record, verify a range, export.

Search is ``ListAuditRecords`` with its filters and page tokens; a record is ``GetAuditRecord`` (the
service audits that read); verification is the ``VerifyAuditChain`` stream, relayed to the browser
as Server-Sent Events for a live progress bar (without JavaScript the form runs it to the end and
shows the result); export pages through ``ListAuditRecords`` and streams JSON Lines.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fintech.audit.v1 import audit_service_pb2 as audit
from fintech.client import FintechError
from fintech.common.v1 import common_pb2 as common
from google.protobuf.json_format import MessageToDict
from google.protobuf.timestamp_pb2 import Timestamp

from fintech_console.auth.guard import require_role
from fintech_console.auth.sessions import Operator
from fintech_console.services import describe_problem
from fintech_console.web import (
    NavLink,
    enum_label,
    enum_options,
    enum_value,
    page_urls,
    render,
    render_problem,
    services_for,
    settings_of,
)

router = APIRouter()
NAV: tuple[NavLink, ...] = (NavLink("Audit", "/audit", ("auditor", "sre")),)
AuditReader = Annotated[Operator, Depends(require_role("auditor", "sre"))]

_FILTERS = ("kind", "rpc", "caller", "subject_type", "subject_id", "decision", "since", "until")
EXPORT_PAGE_SIZE = 500


class FilterError(ValueError):
    """A filter of the search form is not valid (the message names it)."""


def _timestamp(value: str, name: str) -> Timestamp | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise FilterError(f"{name}: not a date and time (YYYY-MM-DDTHH:MM), got {value[:40]!r}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the form's times are UTC, as the trail's
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def _search_request(filters: dict[str, str], page_size: int, page_token: str = "") -> audit.ListAuditRecordsRequest:
    rpc = filters["rpc"]
    if rpc and not rpc.startswith("/"):
        rpc = "/" + rpc  # records name the gRPC method path; people type it without the slash
    request = audit.ListAuditRecordsRequest(
        page_size=page_size,
        page_token=page_token,
        rpc=rpc,
        caller=filters["caller"],
        subject_type=filters["subject_type"],
        subject_id=filters["subject_id"],
        decision=filters["decision"],
        kind=enum_value(audit.AuditRecordKind, filters["kind"]),
    )
    since, until = _timestamp(filters["since"], "since"), _timestamp(filters["until"], "until")
    if since is not None or until is not None:
        if since is not None and until is not None and until.ToDatetime() <= since.ToDatetime():
            raise FilterError("until: must be after since")
        if since is not None:
            request.time_range.start_time.CopyFrom(since)
        if until is not None:
            request.time_range.end_time.CopyFrom(until)
    return request


def _filters(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip() for name in _FILTERS}


def _record_row(record: audit.AuditRecord) -> dict[str, Any]:
    return {
        "id": record.record_id,
        "seq": record.sequence_number,
        "time": record.record_time,
        "kind": enum_label(audit.AuditRecordKind, record.kind),
        "rpc": record.rpc.rsplit("/", 1)[-1] if "/" in record.rpc else record.rpc,
        "rpc_full": record.rpc,
        "caller": record.caller,
        "subject": f"{record.subject_type}:{record.subject_id}" if record.subject_type else record.subject_id,
        "decision": record.decision,
    }


@router.get("/audit", response_class=HTMLResponse)
async def search(request: Request, operator: AuditReader, page_token: str = "") -> Response:
    """Search the audit trail (oldest first), with filters and pages."""
    filters = _filters(request)
    context: dict[str, Any] = {
        "title": "Audit trail",
        "filters": filters,
        "kinds": enum_options(audit.AuditRecordKind),
        "export_url": "/audit/export?" + urlencode({k: v for k, v in filters.items() if v}),
    }
    try:
        call = _search_request(filters, settings_of(request).page_size, page_token)
    except FilterError as error:
        return render(request, "audit/search.html", {**context, "rows": [], "error": str(error)}, status_code=400)
    services = services_for(request, operator)
    try:
        reply = await services.audit.list_audit_records(request=call, **services.read)
    except FintechError as error:
        return render_problem(request, error, title="Audit trail")
    rows = [_record_row(record) for record in reply.audit_records]
    return render(request, "audit/search.html", {**context, "rows": rows, **page_urls(request, reply.next_page_token)})


@router.get("/audit/records/{record_id}", response_class=HTMLResponse)
async def record(request: Request, record_id: str, operator: AuditReader) -> Response:
    """One record with its decrypted inputs, details and raw LLM output (the read is itself audited)."""
    services = services_for(request, operator)
    try:
        reply = await services.audit.get_audit_record(
            request=audit.GetAuditRecordRequest(record_id=record_id), **services.read
        )
    except FintechError as error:
        return render_problem(request, error, title="Audit record")
    found = reply.audit_record

    def pretty(text: str) -> str:
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True)
        except ValueError:
            return text

    return render(
        request,
        "audit/record.html",
        {
            "title": f"Audit record {found.sequence_number}",
            "record": found,
            "row": _record_row(found),
            "payload_state": enum_label(audit.PayloadState, found.payload_state),
            "validation": enum_label(common.ValidationOutcome, found.validation_outcome),
            "inputs": pretty(found.inputs_json) if found.inputs_json else "",
            "details": pretty(found.details_json) if found.details_json else "",
        },
    )


def _range(start: str, end: str) -> tuple[int, int]:
    try:
        first = int(start) if start.strip() else 0
        last = int(end) if end.strip() else 0
    except ValueError as error:
        raise FilterError("from and to: whole sequence numbers (empty: the whole chain)") from error
    if first < 0 or last < 0:
        raise FilterError("from and to: must not be negative")
    if last and last < first:
        raise FilterError("to: must not be before from")
    return first, last


def _result_text(result: audit.VerifyAuditChainResult, checked: int) -> tuple[bool, str]:
    if result.ok:
        return True, (
            f"Chain verified: {checked} records up to #{result.last_sequence_number}, "
            f"{result.checkpoints_checked} signed checkpoints checked; head {result.last_hash[:16]}…"
        )
    return False, (
        f"Chain broken: {enum_label(audit.ChainProblem, result.problem)} at record #{result.first_bad_sequence_number} "
        f"({result.first_bad_record_id}). {result.detail}"
    )


@router.get("/audit/verify", response_class=HTMLResponse)
async def verify_page(
    request: Request, operator: AuditReader, start: str = "", end: str = "", run: str = ""
) -> Response:
    """The verification form; with ``run`` (no JavaScript) the verification runs to the end here."""
    context: dict[str, Any] = {"title": "Verify the audit chain", "start": start, "end": end}
    if not run:
        return render(request, "audit/verify.html", context)
    try:
        first, last = _range(start, end)
    except FilterError as error:
        return render(request, "audit/verify.html", {**context, "error": str(error)}, status_code=400)
    services = services_for(request, operator)
    checked = total = 0
    outcome: audit.VerifyAuditChainResult | None = None
    try:
        async for message in services.audit.verify_audit_chain(
            request=audit.VerifyAuditChainRequest(start_sequence_number=first, end_sequence_number=last),
            **services.stream,
        ):
            checked, total = message.checked_count, message.total_count
            if message.HasField("result"):
                outcome = message.result
    except FintechError as error:
        return render_problem(request, error, title="Verify the audit chain")
    if outcome is None:
        return render(
            request,
            "audit/verify.html",
            {**context, "error": "AuditService ended the stream without a result."},
            status_code=502,
        )
    ok, text = _result_text(outcome, checked)
    return render(
        request,
        "audit/verify.html",
        {**context, "done": True, "ok": ok, "result_text": text, "checked": checked, "total": total},
    )


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


@router.get("/audit/verify/events")
async def verify_events(request: Request, operator: AuditReader, start: str = "", end: str = "") -> Response:
    """The verification as Server-Sent Events: ``progress`` per streamed message, then ``result`` or ``failure``."""
    services = services_for(request, operator)

    async def events() -> AsyncIterator[bytes]:
        try:
            first, last = _range(start, end)
        except FilterError as error:
            yield _event("failure", {"text": str(error)})
            return
        checked = 0
        try:
            async for message in services.audit.verify_audit_chain(
                request=audit.VerifyAuditChainRequest(start_sequence_number=first, end_sequence_number=last),
                **services.stream,
            ):
                checked = message.checked_count
                yield _event(
                    "progress",
                    {
                        "done": message.checked_count,
                        "total": message.total_count,
                        "text": f"{message.checked_count} of {message.total_count} records checked",
                    },
                )
                if message.HasField("result"):
                    ok, text = _result_text(message.result, checked)
                    yield _event("result", {"ok": ok, "text": text})
                    return
        except FintechError as error:
            problem = describe_problem(error)
            yield _event("failure", {"text": f"{problem.headline}. {problem.detail}".strip()})
            return
        yield _event("failure", {"text": "AuditService ended the stream without a result."})

    # Retry for EventSource: never (the verification would run again); the page offers a button instead.
    return StreamingResponse(events(), media_type="text/event-stream", headers={"x-accel-buffering": "no"})


@router.get("/audit/export")
async def export(request: Request, operator: AuditReader) -> Response:
    """The records matching the filters as JSON Lines (one record per line, metadata only), paged through."""
    filters = _filters(request)
    try:
        first_call = _search_request(filters, EXPORT_PAGE_SIZE)
    except FilterError as error:
        return render(request, "refused.html", {"title": "Export", "reason": str(error)}, status_code=400)
    services = services_for(request, operator)
    # The first page is fetched before answering, so a service that is down gets a proper error page.
    try:
        first = await services.audit.list_audit_records(request=first_call, **services.read)
    except FintechError as error:
        return render_problem(request, error, title="Export")

    async def lines() -> AsyncIterator[bytes]:
        reply = first
        while True:
            for found in reply.audit_records:
                yield (
                    json.dumps(MessageToDict(found, preserving_proto_field_name=True), sort_keys=True) + "\n"
                ).encode()
            if not reply.next_page_token:
                return
            try:
                reply = await services.audit.list_audit_records(
                    request=_search_request(filters, EXPORT_PAGE_SIZE, reply.next_page_token), **services.read
                )
            except FintechError as error:
                # Headers are sent: say in the file itself that it is incomplete.
                problem = describe_problem(error)
                yield (
                    json.dumps({"export_incomplete": True, "error": problem.headline, "code": problem.code}) + "\n"
                ).encode()
                return

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"content-disposition": f'attachment; filename="audit-{stamp}.jsonl"'},
    )
