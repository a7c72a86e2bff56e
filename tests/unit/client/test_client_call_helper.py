"""The call helper's decisions with a scripted clock, sleep and random source: no wall-clock waits.

The stub method here is a recording callable standing in for a generated stub's
multicallable (the seam the helper calls through); the integration tests run
the same paths against a real mTLS server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from fintech.aml.v1 import aml_service_pb2 as aml
from fintech.client import DEFAULT, Retry, Unavailable
from fintech.client._call import AsyncCaller, SyncCaller, _CallPlanner, check_traceparent
from fintech.client._options import validate_timeout
from fintech.client._policy import GET_ALERT, INGEST_TRANSACTIONS, SCREEN_TRANSACTIONS, STREAM_ASK, UPDATE_ALERT

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Failed(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "scripted"

    def trailing_metadata(self) -> tuple[()]:
        return ()


@dataclass
class FakeTime:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def sleep_sync(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class ScriptedStub:
    """Fails with ``codes`` in order, then answers; each attempt costs ``cost`` seconds of fake time."""

    time: FakeTime
    codes: list[grpc.StatusCode]
    cost: float = 0.0
    calls: list[tuple[Any, float | None, dict[str, Any]]] = field(default_factory=list)

    def _attempt(self, request: Any, timeout: float | None, metadata: Any) -> Any:
        self.calls.append((request, timeout, dict(metadata)))
        self.time.now += self.cost
        if self.codes:
            raise Failed(self.codes.pop(0))
        return aml.GetAlertResponse(alert=aml.Alert(alert_id="ok"))

    async def __call__(self, request: Any, *, timeout: float | None, metadata: Any) -> Any:  # noqa: ASYNC109
        return self._attempt(request, timeout, metadata)

    def sync(self, request: Any, *, timeout: float | None, metadata: Any) -> Any:
        return self._attempt(request, timeout, metadata)


def _caller(time: FakeTime, random: float = 1.0) -> AsyncCaller:
    return AsyncCaller(clock=time.clock, sleep=time.sleep, random=lambda: random)


async def _get(caller: AsyncCaller, stub: ScriptedStub, **options: Any) -> aml.GetAlertResponse:
    defaults: dict[str, Any] = {"timeout": DEFAULT, "retry": DEFAULT, "metadata": (), "traceparent": None}
    return await caller.unary_unary(GET_ALERT, stub, aml.GetAlertRequest(alert_id="a"), **(defaults | options))


def test_retry_validates_its_fields_and_grows_exponentially_to_a_cap() -> None:
    retry = Retry(max_attempts=6, initial_backoff=0.1, max_backoff=1.0, multiplier=3.0)
    assert [round(retry.backoff_ceiling(n), 6) for n in range(1, 6)] == [0.1, 0.3, 0.9, 1.0, 1.0]
    assert Retry().backoff_ceiling(10_000) == Retry().max_backoff
    for bad in ({"max_attempts": 0}, {"initial_backoff": -1}, {"max_backoff": float("inf")}, {"multiplier": 0.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Retry(**bad)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_a_timeout_must_be_positive_and_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        validate_timeout(bad)
    with pytest.raises(TypeError, match="timeout"):
        validate_timeout("5")  # type: ignore[arg-type]
    validate_timeout(None)


async def test_unavailable_is_retried_with_full_jitter_exponential_pauses() -> None:
    time = FakeTime()
    stub = ScriptedStub(time, [grpc.StatusCode.UNAVAILABLE] * 3)
    retry = Retry(max_attempts=5, initial_backoff=0.1, max_backoff=10, multiplier=2)
    response = await _get(_caller(time, random=0.5), stub, retry=retry, timeout=60)
    assert response.alert.alert_id == "ok"
    # Full jitter: uniform in [0, ceiling]; with random() = 0.5 it is half of 0.1, 0.2, 0.4.
    assert time.sleeps == pytest.approx([0.05, 0.1, 0.2])
    # Each attempt gets what is left of the one overall deadline.
    assert [timeout for _, timeout, _ in stub.calls] == pytest.approx([60, 59.95, 59.85, 59.65])
    assert len({metadata["x-request-id"] for _, _, metadata in stub.calls}) == 1


async def test_jitter_can_be_zero() -> None:
    time = FakeTime()
    stub = ScriptedStub(time, [grpc.StatusCode.UNAVAILABLE])
    await _get(_caller(time, random=0.0), stub, retry=Retry(initial_backoff=5))
    assert time.sleeps == [0.0]


@pytest.mark.parametrize(
    "code",
    [c for c in grpc.StatusCode if c not in (grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE)],
    ids=lambda c: c.name,
)
async def test_only_unavailable_is_retried(code: grpc.StatusCode) -> None:
    time = FakeTime()
    stub = ScriptedStub(time, [code])
    with pytest.raises(Exception) as caught:
        await _get(_caller(time), stub)
    assert caught.value.code is code  # type: ignore[attr-defined]
    assert len(stub.calls) == 1 and time.sleeps == []


async def test_the_deadline_stops_retrying_before_a_pause_would_cross_it() -> None:
    time = FakeTime()
    stub = ScriptedStub(time, [grpc.StatusCode.UNAVAILABLE] * 100, cost=0.3)
    with pytest.raises(Unavailable) as caught:
        await _get(
            _caller(time), stub, timeout=2.0, retry=Retry(max_attempts=100, initial_backoff=0.2, max_backoff=0.2)
        )
    # Attempts at t=0, 0.5, 1.0, 1.5: after the 4th (t=1.8) a 0.2 s pause would reach the deadline.
    assert caught.value.attempts == 4
    assert time.now - 1000.0 <= 2.0


async def test_not_given_uses_the_table_and_none_disables() -> None:
    time = FakeTime()
    stub = ScriptedStub(time, [grpc.StatusCode.UNAVAILABLE] * 10)
    with pytest.raises(Unavailable) as caught:
        await _get(_caller(time, random=0.0), stub)
    assert caught.value.attempts == GET_ALERT.retry.max_attempts  # type: ignore[union-attr]
    assert stub.calls[0][1] == GET_ALERT.timeout

    stub = ScriptedStub(time, [grpc.StatusCode.UNAVAILABLE] * 10)
    with pytest.raises(Unavailable) as caught:
        await _get(_caller(time), stub, retry=None, timeout=None)
    assert caught.value.attempts == 1
    assert stub.calls[0][1] is None


async def test_sync_caller_makes_the_same_decisions() -> None:
    time = FakeTime()
    stub = ScriptedStub(time, [grpc.StatusCode.UNAVAILABLE] * 2)
    caller = SyncCaller(clock=time.clock, sleep=time.sleep_sync, random=lambda: 0.5)
    request = aml.UpdateAlertRequest(alert_id="a")
    caller.unary_unary(
        UPDATE_ALERT, stub.sync, request, timeout=10, retry=Retry(initial_backoff=1), metadata=(), traceparent=None
    )
    assert time.sleeps == pytest.approx([0.5, 1.0])
    sent = {r.request_id for r, _, _ in stub.calls}
    assert len(sent) == 1 and uuid.UUID(sent.pop()).version == 4


def _planner() -> _CallPlanner:
    return _CallPlanner(metadata={"X-Default": "d"}, clock=lambda: 0.0, random=lambda: 0.0)


def _plan(request: Any = None, policy: Any = UPDATE_ALERT, **options: Any) -> Any:
    defaults: dict[str, Any] = {"timeout": DEFAULT, "retry": DEFAULT, "metadata": (), "traceparent": None}
    return _planner().plan(policy, request, **(defaults | options))


def test_an_empty_request_id_is_filled_on_a_copy_and_sent_as_x_request_id() -> None:
    request = aml.UpdateAlertRequest(alert_id="a")
    plan = _plan(request)
    assert request.request_id == ""
    assert uuid.UUID(plan.request.request_id).version == 4
    assert plan.request.alert_id == "a"
    assert dict(plan.metadata)["x-request-id"] == plan.request.request_id == plan.request_id
    assert dict(plan.metadata)["x-default"] == "d"
    assert _plan(request).request.request_id != plan.request.request_id


def test_a_given_request_id_is_kept() -> None:
    given = str(uuid.uuid4())
    plan = _plan(aml.UpdateAlertRequest(request_id=given))
    assert plan.request.request_id == given
    assert dict(plan.metadata)["x-request-id"] == given


def test_requests_without_a_request_id_field_get_a_header_id_only() -> None:
    request = aml.GetAlertRequest(alert_id="a")
    plan = _plan(request, GET_ALERT)
    assert uuid.UUID(plan.request_id).version == 4
    assert plan.request is request
    assert dict(plan.metadata)["x-request-id"] == plan.request_id


def test_a_retry_for_a_streaming_or_unsafe_rpc_is_refused() -> None:
    for policy in (INGEST_TRANSACTIONS, SCREEN_TRANSACTIONS, STREAM_ASK):
        with pytest.raises(ValueError, match="not safe to retry"):
            _plan(None, policy, retry=Retry())
        assert _plan(None, policy).retry is None
        assert _plan(None, policy, retry=None).retry is None


def test_wrong_option_types_are_refused() -> None:
    with pytest.raises(TypeError, match="retry"):
        _plan(None, GET_ALERT, retry=3)
    with pytest.raises(TypeError, match="metadata"):
        _plan(None, GET_ALERT, metadata=[("k", 1)])
    with pytest.raises(TypeError, match=r"GetAlert takes a fintech\.aml\.v1\.GetAlertRequest"):
        _planner().check_request(GET_ALERT, aml.UpdateAlertRequest())


def test_traceparent_is_validated_and_sent_once() -> None:
    plan = _plan(None, GET_ALERT, traceparent=TRACEPARENT, metadata={"tracestate": "x=1"})
    assert dict(plan.metadata)["traceparent"] == TRACEPARENT
    assert dict(plan.metadata)["tracestate"] == "x=1"
    with pytest.raises(ValueError, match="both"):
        _plan(None, GET_ALERT, traceparent=TRACEPARENT, metadata={"traceparent": TRACEPARENT})
    for bad in (
        "not-a-trace",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        TRACEPARENT + "-extra",
    ):
        with pytest.raises(ValueError, match="traceparent"):
            check_traceparent(bad)
    # A future version may append fields.
    assert check_traceparent("01" + TRACEPARENT[2:] + "-extra")
