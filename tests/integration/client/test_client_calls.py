"""The async and sync clients against a real mTLS server: errors, retries, request ids, deadlines, streams."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import grpc
import pytest
from fintech.aml.v1 import aml_service_pb2 as aml
from fintech.client import (
    AMLServiceClient,
    AMLServiceSyncClient,
    CustomerServiceClient,
    CustomerServiceSyncClient,
    DeadlineExceeded,
    FailedPrecondition,
    FintechError,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Retry,
    Unavailable,
    secure_channel,
    secure_channel_sync,
)
from fintech.client._errors import error_class_for
from fintech.customer.v1 import customer_service_pb2 as customer

from server.runtime.pki import init_dev_pki
from tests.integration.client.conftest import ScriptedServer

FAST = Retry(max_attempts=5, initial_backoff=0.01, max_backoff=0.05)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
async def aml_client(scripted_server: ScriptedServer) -> AsyncIterator[AMLServiceClient]:
    async with secure_channel(scripted_server.target, **scripted_server.channel_args()) as channel:
        yield AMLServiceClient(channel)


@pytest.fixture
def aml_sync(scripted_server: ScriptedServer) -> Iterator[AMLServiceSyncClient]:
    with secure_channel_sync(scripted_server.target, **scripted_server.channel_args()) as channel:
        yield AMLServiceSyncClient(channel)


CODES = [code for code in grpc.StatusCode if code is not grpc.StatusCode.OK]


@pytest.mark.parametrize("code", CODES, ids=[c.name for c in CODES])
async def test_every_status_code_raises_its_family_with_rich_details(
    aml_client: AMLServiceClient, scripted_server: ScriptedServer, code: grpc.StatusCode, unique: str
) -> None:
    alert_id = f"code-{code.name}-{unique}"
    with pytest.raises(FintechError) as caught:
        await aml_client.get_alert(request=aml.GetAlertRequest(alert_id=alert_id), retry=None)
    error = caught.value
    assert type(error) is error_class_for(code)
    assert error.code is code
    assert error.message == f"scripted {code.name}"
    assert error.reason == f"SCRIPTED_{code.name}"
    assert error.domain == "test.fintech"
    assert dict(error.metadata) == {"alert_id": alert_id}
    assert error.method == "/fintech.aml.v1.AMLService/GetAlert"
    assert isinstance(error.__cause__, grpc.aio.AioRpcError)
    assert error.attempts == 1
    assert error.request_id == scripted_server.recorder.attempts[alert_id][0].metadata["x-request-id"]
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        assert isinstance(error, InvalidArgument)
        assert [(v.field, v.reason) for v in error.field_violations] == [
            ("alert_id", "ALERT_ID_OPEN"),
            ("page_size", "PAGE_SIZE_MAX"),
        ]
        assert "alert_id: must name an open alert" in str(error)
    else:
        assert error.field_violations == ()
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        assert isinstance(error, ResourceExhausted)
        assert error.retry_delay == timedelta(seconds=1.5)


async def test_a_status_without_details_still_maps_by_code(aml_client: AMLServiceClient, unique: str) -> None:
    with pytest.raises(NotFound) as caught:
        await aml_client.get_alert(request=aml.GetAlertRequest(alert_id=f"plain-{unique}"))
    assert caught.value.reason == ""
    assert caught.value.message == "no details"


async def test_a_read_is_retried_on_unavailable_until_it_succeeds(
    aml_client: AMLServiceClient, scripted_server: ScriptedServer, unique: str
) -> None:
    alert_id = f"unavailable-2-{unique}"
    response = await aml_client.get_alert(request=aml.GetAlertRequest(alert_id=alert_id), retry=FAST)
    assert response.alert.alert_id == alert_id
    attempts = scripted_server.recorder.attempts[alert_id]
    assert len(attempts) == 3
    # One call, one x-request-id, on every attempt.
    assert len({a.metadata["x-request-id"] for a in attempts}) == 1


async def test_a_deduplicated_mutation_reuses_one_generated_request_id_on_every_retry(
    aml_client: AMLServiceClient, scripted_server: ScriptedServer, unique: str
) -> None:
    alert_id = f"unavailable-3-{unique}"
    request = aml.UpdateAlertRequest(alert_id=alert_id, status=aml.ALERT_STATUS_CLOSED_FALSE_POSITIVE)
    response = await aml_client.update_alert(request=request, retry=FAST)
    attempts = scripted_server.recorder.attempts[alert_id]
    assert len(attempts) == 4
    ids = {a.request_id for a in attempts}
    assert len(ids) == 1
    (request_id,) = ids
    assert uuid.UUID(request_id).version == 4
    assert {a.metadata["x-request-id"] for a in attempts} == {request_id}
    assert response.alert.case_id == "attempt-4"
    # The caller's message was not changed: reusing it as a template starts a new operation.
    assert request.request_id == ""
    await aml_client.update_alert(request=request, retry=FAST)
    assert scripted_server.recorder.attempts[alert_id][-1].request_id != request_id


async def test_a_caller_chosen_request_id_is_kept_and_the_server_deduplicates(
    aml_client: AMLServiceClient, scripted_server: ScriptedServer, unique: str
) -> None:
    request_id = str(uuid.uuid4())
    alert_id = f"fine-{unique}"
    request = aml.UpdateAlertRequest(request_id=request_id, alert_id=alert_id, status=aml.ALERT_STATUS_ESCALATED)
    first = await aml_client.update_alert(request=request)
    again = await aml_client.update_alert(request=request)
    assert first == again
    assert [a.request_id for a in scripted_server.recorder.attempts[alert_id]] == [request_id, request_id]


async def test_retries_stop_at_max_attempts_with_the_last_error(
    aml_client: AMLServiceClient, scripted_server: ScriptedServer, unique: str
) -> None:
    alert_id = f"down-{unique}"
    with pytest.raises(Unavailable) as caught:
        await aml_client.get_alert(request=aml.GetAlertRequest(alert_id=alert_id), retry=FAST, timeout=30)
    assert caught.value.attempts == FAST.max_attempts
    assert caught.value.reason == "SCRIPTED_OUTAGE"
    assert len(scripted_server.recorder.attempts[alert_id]) == FAST.max_attempts


async def test_one_overall_deadline_bounds_every_attempt_and_pause(
    aml_client: AMLServiceClient, scripted_server: ScriptedServer, unique: str
) -> None:
    alert_id = f"down-{unique}"
    patient = Retry(max_attempts=1000, initial_backoff=0.02, max_backoff=0.05)
    started = time.monotonic()
    # The last attempt ends either with the server's UNAVAILABLE or, when the deadline runs out during
    # that attempt (a loaded machine), with DEADLINE_EXCEEDED: both are the call's honest outcome.
    with pytest.raises((Unavailable, DeadlineExceeded)) as caught:
        await aml_client.get_alert(request=aml.GetAlertRequest(alert_id=alert_id), retry=patient, timeout=0.8)
    elapsed = time.monotonic() - started
    # Unbounded, 1000 attempts would take well over 10 s; the margin absorbs a loaded machine.
    assert elapsed < 0.8 + 1.0
    assert 2 <= caught.value.attempts < patient.max_attempts
    # An attempt cut off by the deadline may never have reached the server.
    assert caught.value.attempts - 1 <= len(scripted_server.recorder.attempts[alert_id]) <= caught.value.attempts


async def test_retry_none_disables_retries_for_one_call(
    aml_client: AMLServiceClient, scripted_server: ScriptedServer, unique: str
) -> None:
    alert_id = f"unavailable-1-{unique}"
    with pytest.raises(Unavailable):
        await aml_client.get_alert(request=aml.GetAlertRequest(alert_id=alert_id), retry=None)
    assert len(scripted_server.recorder.attempts[alert_id]) == 1


async def test_other_codes_are_never_retried(
    aml_client: AMLServiceClient, scripted_server: ScriptedServer, unique: str
) -> None:
    alert_id = f"conflict-{unique}"
    with pytest.raises(FailedPrecondition) as caught:
        await aml_client.update_alert(request=aml.UpdateAlertRequest(alert_id=alert_id), retry=FAST)
    assert caught.value.reason == "ALERT_CLOSED"
    assert len(scripted_server.recorder.attempts[alert_id]) == 1


async def test_client_streaming_is_not_retried(
    aml_client: AMLServiceClient, scripted_server: ScriptedServer, unique: str
) -> None:
    batch_id = f"down-{unique}"
    batches = [aml.IngestTransactionsRequest(batch_id=batch_id, transactions=[aml.Transaction(transaction_id="t1")])]
    with pytest.raises(Unavailable) as caught:
        await aml_client.ingest_transactions(requests=batches)
    assert caught.value.attempts == 1
    assert len(scripted_server.recorder.attempts[batch_id]) == 1


async def test_client_streaming_sends_an_async_iterable(aml_client: AMLServiceClient, unique: str) -> None:
    async def batches() -> AsyncIterator[aml.IngestTransactionsRequest]:
        for n in range(3):
            yield aml.IngestTransactionsRequest(
                batch_id=f"ok-{unique}", transactions=[aml.Transaction(transaction_id=f"t{n}-{i}") for i in range(2)]
            )

    response = await aml_client.ingest_transactions(requests=batches())
    assert response.received_count == 6


async def test_bidi_stream_yields_a_response_per_request_and_converts_a_mid_stream_error(
    aml_client: AMLServiceClient, scripted_server: ScriptedServer, unique: str
) -> None:
    async def feed(ids: list[str]) -> AsyncIterator[aml.ScreenTransactionsRequest]:
        for transaction_id in ids:
            yield aml.ScreenTransactionsRequest(transactions=[aml.Transaction(transaction_id=transaction_id)])

    ids = [f"a-{unique}", f"b-{unique}"]
    seen = [r.results[0].transaction_id async for r in aml_client.screen_transactions(requests=feed(ids))]
    assert seen == ids

    received: list[str] = []
    with pytest.raises(Unavailable) as caught:
        async for response in aml_client.screen_transactions(requests=feed([f"c-{unique}", f"down-{unique}"])):
            received.append(response.results[0].transaction_id)
    assert received == [f"c-{unique}"]
    assert isinstance(caught.value.__cause__, grpc.RpcError)
    assert len(scripted_server.recorder.attempts[f"down-{unique}"]) == 1


async def test_server_stream_breaking_mid_stream_is_raised_not_retried(
    scripted_server: ScriptedServer, unique: str
) -> None:
    async with secure_channel(scripted_server.target, **scripted_server.channel_args("mobile-backend")) as channel:
        client = CustomerServiceClient(channel)
        request = customer.StreamAskRequest(customer_id="c1", conversation_id=f"conv-{unique}", question="break")
        deltas: list[str] = []
        with pytest.raises(Unavailable):
            async for event in client.stream_ask(request=request):
                deltas.append(event.delta.text)
        assert deltas == ["First sentence.", "Second sentence."]
        attempts = scripted_server.recorder.attempts[f"conv-{unique}"]
        assert len(attempts) == 1
        # The streaming request's request_id was filled too, and matches the header.
        assert uuid.UUID(attempts[0].request_id).version == 4
        assert attempts[0].metadata["x-request-id"] == attempts[0].request_id

        done = [
            event.WhichOneof("event")
            async for event in client.stream_ask(
                request=customer.StreamAskRequest(conversation_id=f"ok-{unique}", question="fine")
            )
        ]
        assert done == ["delta", "delta", "final_result"]


async def test_a_stream_deadline_ends_a_hanging_stream(scripted_server: ScriptedServer, unique: str) -> None:
    async with secure_channel(scripted_server.target, **scripted_server.channel_args("mobile-backend")) as channel:
        client = CustomerServiceClient(channel)
        request = customer.StreamAskRequest(conversation_id=f"hang-{unique}", question="hang")
        with pytest.raises(DeadlineExceeded):
            async for _ in client.stream_ask(request=request, timeout=0.5):
                pass


async def test_metadata_and_traceparent_reach_the_server(scripted_server: ScriptedServer, unique: str) -> None:
    async with secure_channel(scripted_server.target, **scripted_server.channel_args()) as channel:
        client = AMLServiceClient(channel, metadata={"x-tenant": "retail"})
        alert_id = f"meta-{unique}"
        await client.get_alert(
            request=aml.GetAlertRequest(alert_id=alert_id),
            metadata=[("X-Caller-Note", "ticket-17"), ("x-request-id", "req-from-caller")],
            traceparent=TRACEPARENT,
        )
    (attempt,) = scripted_server.recorder.attempts[alert_id]
    assert attempt.metadata["x-tenant"] == "retail"
    assert attempt.metadata["x-caller-note"] == "ticket-17"
    assert attempt.metadata["x-request-id"] == "req-from-caller"
    assert attempt.metadata["traceparent"] == TRACEPARENT


async def test_a_client_certificate_from_another_ca_is_refused(
    scripted_server: ScriptedServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stranger = init_dev_pki(tmp_path_factory.mktemp("stranger"), roles=("investigator",))
    client_cert = stranger.client("investigator")
    async with secure_channel(
        scripted_server.target, ca_file=scripted_server.pki.ca, cert_file=client_cert.cert, key_file=client_cert.key
    ) as channel:
        with pytest.raises(Unavailable):
            await AMLServiceClient(channel).get_alert(request=aml.GetAlertRequest(alert_id="x"), retry=None, timeout=5)


async def test_sync_client_retries_decodes_errors_and_streams(
    aml_sync: AMLServiceSyncClient, scripted_server: ScriptedServer, unique: str
) -> None:
    # Blocking calls run in a thread: this test's event loop also runs the server.
    await asyncio.to_thread(_sync_client_checks, aml_sync, scripted_server, unique)


def _sync_client_checks(aml_sync: AMLServiceSyncClient, scripted_server: ScriptedServer, unique: str) -> None:
    alert_id = f"unavailable-2-{unique}"
    request = aml.UpdateAlertRequest(alert_id=alert_id, status=aml.ALERT_STATUS_ESCALATED)
    response = aml_sync.update_alert(request=request, retry=FAST)
    assert response.alert.alert_id == alert_id
    assert len({a.request_id for a in scripted_server.recorder.attempts[alert_id]}) == 1
    assert len(scripted_server.recorder.attempts[alert_id]) == 3

    with pytest.raises(InvalidArgument) as caught:
        aml_sync.get_alert(request=aml.GetAlertRequest(alert_id=f"code-INVALID_ARGUMENT-{unique}"))
    assert [v.field for v in caught.value.field_violations] == ["alert_id", "page_size"]
    assert isinstance(caught.value.__cause__, grpc.RpcError)

    ids = [f"s1-{unique}", f"s2-{unique}"]
    feed = (aml.ScreenTransactionsRequest(transactions=[aml.Transaction(transaction_id=i)]) for i in ids)
    assert [r.results[0].transaction_id for r in aml_sync.screen_transactions(requests=feed)] == ids

    with pytest.raises(Unavailable):
        aml_sync.ingest_transactions(requests=[aml.IngestTransactionsRequest(batch_id=f"down-s-{unique}")])
    assert len(scripted_server.recorder.attempts[f"down-s-{unique}"]) == 1


async def test_sync_server_stream(scripted_server: ScriptedServer, unique: str) -> None:
    await asyncio.to_thread(_sync_server_stream_checks, scripted_server, unique)


def _sync_server_stream_checks(scripted_server: ScriptedServer, unique: str) -> None:
    with secure_channel_sync(scripted_server.target, **scripted_server.channel_args("mobile-backend")) as channel:
        client = CustomerServiceSyncClient(channel)
        events = list(client.stream_ask(request=customer.StreamAskRequest(conversation_id=f"s-{unique}", question="q")))
        assert [e.WhichOneof("event") for e in events] == ["delta", "delta", "final_result"]
        with pytest.raises(Unavailable):
            list(client.stream_ask(request=customer.StreamAskRequest(conversation_id=f"sb-{unique}", question="break")))


async def test_sync_deadline_bounds_retries(scripted_server: ScriptedServer, unique: str) -> None:
    # Run the blocking client in a thread: this test's event loop also runs the server.
    def call() -> tuple[FintechError, float]:
        with secure_channel_sync(scripted_server.target, **scripted_server.channel_args()) as channel:
            client = AMLServiceSyncClient(channel)
            client.get_alert(request=aml.GetAlertRequest(alert_id=f"warm-{unique}"))  # handshake outside the timing
            started = time.monotonic()
            try:
                client.get_alert(
                    request=aml.GetAlertRequest(alert_id=f"down-sync-{unique}"),
                    retry=Retry(max_attempts=1000, initial_backoff=0.02, max_backoff=0.05),
                    timeout=0.8,
                )
            except FintechError as error:
                return error, time.monotonic() - started
        raise AssertionError("the call succeeded against a server that is down")

    error, elapsed = await asyncio.to_thread(call)
    assert isinstance(error, Unavailable | DeadlineExceeded)
    assert elapsed < 0.8 + 1.0
    assert error.attempts >= 2


async def test_server_name_override_verifies_the_certificate_against_that_name(
    scripted_server: ScriptedServer, unique: str
) -> None:
    port = scripted_server.target.rsplit(":", 1)[1]
    args = scripted_server.channel_args()
    async with secure_channel(f"127.0.0.1:{port}", server_name_override="fintech-aml", **args) as channel:
        response = await AMLServiceClient(channel).get_alert(request=aml.GetAlertRequest(alert_id=f"name-{unique}"))
    assert response.alert.alert_id == f"name-{unique}"
    async with secure_channel(f"127.0.0.1:{port}", server_name_override="elsewhere.example", **args) as channel:
        with pytest.raises(Unavailable):
            await AMLServiceClient(channel).get_alert(request=aml.GetAlertRequest(alert_id="x"), retry=None, timeout=5)
