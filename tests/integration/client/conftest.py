"""A real ``grpc.aio`` server with real mTLS and scriptable test servicers, for the client SDK's tests.

The servicers are the SDK's counterpart, not the platform's: they answer with
whatever status a test asks for (with rich ``google.rpc`` details), fail with
``UNAVAILABLE`` a chosen number of times, and record every attempt (request id,
metadata), so the tests can prove retries, request-id reuse, deadline
bounding and the absence of retries where repeating is unsafe.

Scripting is by request content (an alert id such as ``"unavailable-2-<uuid>"``),
so tests running against the one session server never share state.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from fintech.aml.v1 import aml_service_pb2, aml_service_pb2_grpc
from fintech.customer.v1 import customer_service_pb2, customer_service_pb2_grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from server.runtime.pki import DevPki

DOMAIN = "test.fintech"


@dataclass(frozen=True)
class Attempt:
    """One attempt as the server saw it."""

    request_id: str
    metadata: dict[str, str]


@dataclass
class Recorder:
    """Every attempt per scripted key, and responses stored per request id (AIP-155)."""

    attempts: dict[str, list[Attempt]] = field(default_factory=lambda: defaultdict(list))
    stored: dict[str, Any] = field(default_factory=dict)

    def record(self, key: str, request_id: str, context: grpc.aio.ServicerContext) -> int:
        metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        self.attempts[key].append(Attempt(request_id, metadata))
        return len(self.attempts[key])


def rich_status(
    code: grpc.StatusCode,
    message: str,
    *,
    reason: str,
    metadata: dict[str, str] | None = None,
    violations: tuple[tuple[str, str, str], ...] = (),
    retry_delay_s: float | None = None,
) -> grpc.Status:
    """A status carrying ErrorInfo, and BadRequest and RetryInfo when given."""
    status = status_pb2.Status(code=code.value[0], message=message)
    details: list[Any] = [error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata or {})]
    if violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, description=d, reason=r)
                    for f, d, r in violations
                ]
            )
        )
    if retry_delay_s is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(retry_delay_s * 1e9))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return rpc_status.to_status(status)


def _unavailable_budget(key: str) -> int | None:
    """``"unavailable-N-…"`` fails N times; ``"down-…"`` always; anything else never."""
    if key.startswith("down-"):
        return 10**9
    if key.startswith("unavailable-"):
        return int(key.split("-")[1])
    return None


class ScriptedAml(aml_service_pb2_grpc.AMLServiceServicer):
    """AMLService whose answers the request scripts."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def GetAlert(self, request, context):  # type: ignore[no-untyped-def]
        key = request.alert_id
        attempt = self.recorder.record(key, "", context)
        if key.startswith("code-"):
            name = key.split("-")[1]
            code = grpc.StatusCode[name]
            await context.abort_with_status(
                rich_status(
                    code,
                    f"scripted {name}",
                    reason=f"SCRIPTED_{name}",
                    metadata={"alert_id": key},
                    violations=(
                        ("alert_id", "must name an open alert", "ALERT_ID_OPEN"),
                        ("page_size", "must be at most 100", "PAGE_SIZE_MAX"),
                    )
                    if code is grpc.StatusCode.INVALID_ARGUMENT
                    else (),
                    retry_delay_s=1.5 if code is grpc.StatusCode.RESOURCE_EXHAUSTED else None,
                )
            )
        if key.startswith("plain-"):
            # A bare status without details, as a proxy in the path might send.
            await context.abort(grpc.StatusCode.NOT_FOUND, "no details")
        budget = _unavailable_budget(key)
        if budget is not None and attempt <= budget:
            await context.abort_with_status(
                rich_status(
                    grpc.StatusCode.UNAVAILABLE, "scripted outage", reason="SCRIPTED_OUTAGE", retry_delay_s=0.01
                )
            )
        return aml_service_pb2.GetAlertResponse(alert=aml_service_pb2.Alert(alert_id=key))

    async def UpdateAlert(self, request, context):  # type: ignore[no-untyped-def]
        key = request.alert_id
        attempt = self.recorder.record(key, request.request_id, context)
        budget = _unavailable_budget(key)
        if budget is not None and attempt <= budget:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "scripted outage")
        if key.startswith("conflict-"):
            await context.abort_with_status(
                rich_status(grpc.StatusCode.FAILED_PRECONDITION, "alert is closed", reason="ALERT_CLOSED")
            )
        # Deduplicate on request_id as the platform does: a repeat returns the stored answer.
        if request.request_id not in self.recorder.stored:
            self.recorder.stored[request.request_id] = aml_service_pb2.UpdateAlertResponse(
                alert=aml_service_pb2.Alert(alert_id=key, status=request.status, case_id=f"attempt-{attempt}")
            )
        return self.recorder.stored[request.request_id]

    async def IngestTransactions(self, request_iterator, context):  # type: ignore[no-untyped-def]
        batches = [batch async for batch in request_iterator]
        key = batches[0].batch_id if batches else ""
        self.recorder.record(key, "", context)
        if _unavailable_budget(key) is not None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "scripted outage")
        count = sum(len(batch.transactions) for batch in batches)
        return aml_service_pb2.IngestTransactionsResponse(received_count=count, inserted_count=count)

    async def ScreenTransactions(self, request_iterator, context):  # type: ignore[no-untyped-def]
        async for batch in request_iterator:
            ids = [t.transaction_id for t in batch.transactions]
            self.recorder.record(ids[0] if ids else "", "", context)
            if any(i.startswith("down-") for i in ids):
                await context.abort(grpc.StatusCode.UNAVAILABLE, "scripted outage")
            yield aml_service_pb2.ScreenTransactionsResponse(
                results=[aml_service_pb2.ScreeningResult(transaction_id=i, score=0.5) for i in ids],
                rule_set_version="test-rules",
            )


class ScriptedCustomer(customer_service_pb2_grpc.CustomerServiceServicer):
    """CustomerService whose StreamAsk streams two deltas, then breaks or finishes as scripted."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def StreamAsk(self, request, context):  # type: ignore[no-untyped-def]
        self.recorder.record(request.conversation_id, request.request_id, context)
        for index, text in enumerate(("First sentence.", "Second sentence.")):
            yield customer_service_pb2.StreamAskResponse(
                delta=customer_service_pb2.AnswerDelta(text=text, sentence_index=index)
            )
        if request.question == "break":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "scripted outage mid-stream")
        if request.question == "hang":
            await asyncio.sleep(30)
        yield customer_service_pb2.StreamAskResponse(
            final_result=customer_service_pb2.AskResponse(conversation_id=request.conversation_id)
        )


@dataclass(frozen=True)
class ScriptedServer:
    """Where the scripted server listens and what it recorded."""

    target: str
    recorder: Recorder
    pki: DevPki

    def channel_args(self, role: str = "investigator") -> dict[str, Any]:
        client = self.pki.client(role)
        return {"ca_file": self.pki.ca, "cert_file": client.cert, "key_file": client.key}


@pytest.fixture(scope="session")
async def scripted_server(pki: DevPki) -> AsyncIterator[ScriptedServer]:
    """The scripted services on an ephemeral loopback port, mTLS with client certificates required."""
    recorder = Recorder()
    server = grpc.aio.server()
    aml_service_pb2_grpc.add_AMLServiceServicer_to_server(ScriptedAml(recorder), server)
    customer_service_pb2_grpc.add_CustomerServiceServicer_to_server(ScriptedCustomer(recorder), server)
    credentials = grpc.ssl_server_credentials(
        [(pki.server.key.read_bytes(), pki.server.cert.read_bytes())],
        root_certificates=pki.ca.read_bytes(),
        require_client_auth=True,
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    try:
        yield ScriptedServer(f"localhost:{port}", recorder, pki)
    finally:
        await server.stop(grace=None)


@pytest.fixture
def unique() -> Iterator[str]:
    """A fresh suffix for scripted keys, so tests never see each other's attempts."""
    import uuid

    yield uuid.uuid4().hex[:12]
