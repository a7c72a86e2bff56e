"""Each fault of the scripted server: what the caller sees and what the metrics say."""

from __future__ import annotations

import time

import pytest

from inference.errors import (
    InferenceDeadlineExceeded,
    InferenceRejected,
    InferenceStreamInterrupted,
    InferenceUnavailable,
)
from inference.health import EndpointState
from tests.fakes.openai_server import FakeOpenAIServer, closed_port_url
from tests.integration.inference.conftest import PoolFactory, sample

MESSAGES = [{"role": "user", "content": "What is the status of transfer TX-1?"}]


def eid(group: str, url: str) -> str:
    return f"{group}/{url.split('//', 1)[1].split('/', 1)[0]}"


async def test_good_answer_is_served_with_who_served_it(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    a = fakes[0]
    a.script({"kind": "ok", "content": "The transfer is settled.", "prompt_tokens": 12, "completion_tokens": 5})
    pool = make_pool([("primary", [a.base_url])])
    result = await pool.chat(MESSAGES, max_tokens=50)
    assert result.text == "The transfer is settled."
    assert result.served_by.group == "primary" and result.served_by.model == "primary-model"
    assert result.served_by.endpoint_id == eid("primary", a.base_url) and not result.served_by.fallback
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.attempts) == (12, 5, 1)
    body = a.requests()[0]["body"]
    assert body["model"] == "primary-model" and body["max_tokens"] == 50 and body["messages"] == MESSAGES
    endpoint = result.served_by.endpoint_id
    assert sample(pool, "fintech_inference_requests_total", group="primary", endpoint=endpoint, outcome="ok") == 1
    assert sample(pool, "fintech_inference_tokens_total", group="primary", endpoint=endpoint, direction="in") == 12
    assert sample(pool, "fintech_inference_tokens_total", group="primary", endpoint=endpoint, direction="out") == 5
    assert sample(pool, "fintech_inference_latency_seconds_count", group="primary", endpoint=endpoint) == 1


async def test_refused_connection_is_retried_on_another_endpoint(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    dead = closed_port_url()
    good = fakes[0]
    good.script({"kind": "ok", "content": "fine"})
    pool = make_pool([("primary", [dead, good.base_url])], picker="round_robin")
    # Round robin starting at the second candidate would skip the dead one; force both orders.
    results = [await pool.chat(MESSAGES) for _ in range(2)]
    assert all(r.text in ("fine", "ok") for r in results)
    assert {r.served_by.endpoint_id for r in results} == {eid("primary", good.base_url)}
    assert any(r.attempts == 2 for r in results)
    assert (
        sample(pool, "fintech_inference_errors_total", group="primary", endpoint=eid("primary", dead), kind="connect")
        >= 1
    )
    assert sample(pool, "fintech_inference_retries_total", group="primary", kind="connect") >= 1


async def test_nothing_can_serve_raises_unavailable_never_a_canned_answer(make_pool: PoolFactory) -> None:
    pool = make_pool([("primary", [closed_port_url(), closed_port_url()]), ("backup", [closed_port_url()])])
    with pytest.raises(InferenceUnavailable) as caught:
        await pool.chat(MESSAGES)
    assert caught.value.status_code == "UNAVAILABLE" and caught.value.reason == "LLM_UNAVAILABLE"
    assert len(caught.value.attempts) == 3 and all("connect" in a for a in caught.value.attempts)
    assert sample(pool, "fintech_inference_unavailable_total", group="primary", reason="retries_exhausted") == 1


async def test_http_500_is_retried_elsewhere(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    a, b = fakes[0], fakes[1]
    a.script(default={"kind": "status", "status": 500})
    b.script({"kind": "ok", "content": "from b"})
    pool = make_pool([("primary", [a.base_url, b.base_url])])
    result = await pool.chat(MESSAGES)
    assert result.text == "from b" and result.served_by.endpoint_id == eid("primary", b.base_url)
    assert sample(
        pool, "fintech_inference_errors_total", group="primary", endpoint=eid("primary", a.base_url), kind="http_5xx"
    ) == (1 if result.attempts == 2 else 0)
    # However the picker ordered them, three more calls all land on b or fail over to it.
    for _ in range(3):
        assert (await pool.chat(MESSAGES)).served_by.endpoint_id == eid("primary", b.base_url)


async def test_429_honours_retry_after_and_moves_to_another_endpoint(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a, b = fakes[0], fakes[1]
    a.script(default={"kind": "status", "status": 429, "retry_after": "30"})
    pool = make_pool([("primary", [a.base_url, b.base_url])])
    served = [await pool.chat(MESSAGES) for _ in range(4)]
    assert {r.served_by.endpoint_id for r in served} == {eid("primary", b.base_url)}
    # After the first 429 the endpoint is throttled for its Retry-After: it gets exactly one request.
    assert len(a.requests()) == 1
    assert (
        sample(
            pool,
            "fintech_inference_errors_total",
            group="primary",
            endpoint=eid("primary", a.base_url),
            kind="http_429",
        )
        == 1
    )
    # A 429 is back-pressure, not a fault: it never ejects.
    states = {s.endpoint_id: s.state for s in pool.status()}
    assert states[eid("primary", a.base_url)] is EndpointState.HEALTHY


async def test_429_on_the_only_endpoint_waits_retry_after_then_succeeds(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a = fakes[0]
    a.script({"kind": "status", "status": 429, "retry_after": "0.4"}, {"kind": "ok", "content": "later"})
    pool = make_pool([("primary", [a.base_url])])
    started = time.monotonic()
    result = await pool.chat(MESSAGES)
    assert result.text == "later" and result.attempts == 2
    assert time.monotonic() - started >= 0.4


async def test_429_with_retry_after_beyond_the_deadline_fails_fast(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a = fakes[0]
    a.script(default={"kind": "status", "status": 429, "retry_after": "30"})
    pool = make_pool([("primary", [a.base_url])])
    started = time.monotonic()
    with pytest.raises(InferenceUnavailable) as caught:
        await pool.chat(MESSAGES, time_remaining=5)
    assert time.monotonic() - started < 2
    assert "http_429" in caught.value.attempts[0]


async def test_slow_first_token_is_abandoned_and_the_stream_served_elsewhere(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a, b = fakes[0], fakes[1]
    a.script(default={"kind": "slow_first_token", "delay": 5, "content": "too late"})
    b.script(default={"kind": "ok", "content": "quick answer here"})
    pool = make_pool([("primary", [a.base_url, b.base_url])], first_token_timeout_seconds=0.5)
    for _ in range(2):  # one of the two calls starts on the slow endpoint
        events = [e async for e in pool.stream(MESSAGES)]
        assert "".join(e.delta for e in events) == "quick answer here"
        assert events[-1].finish_reason == "stop" and events[-1].usage is not None
        assert events[0].served_by.endpoint_id == eid("primary", b.base_url)
    assert (
        sample(
            pool,
            "fintech_inference_errors_total",
            group="primary",
            endpoint=eid("primary", a.base_url),
            kind="first_token_timeout",
        )
        >= 1
    )
    assert (
        sample(
            pool,
            "fintech_inference_time_to_first_token_seconds_count",
            group="primary",
            endpoint=eid("primary", b.base_url),
        )
        == 2
    )


async def test_mid_stream_disconnect_is_reported_and_never_retried(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a, b = fakes[0], fakes[1]
    a.script(default={"kind": "midstream_disconnect", "content": "one two three four", "after_chunks": 2})
    b.script(default={"kind": "midstream_disconnect", "content": "one two three four", "after_chunks": 2})
    pool = make_pool([("primary", [a.base_url, b.base_url])])
    received: list[str] = []
    with pytest.raises(InferenceStreamInterrupted) as caught:
        async for event in pool.stream(MESSAGES):
            received.append(event.delta)
    assert "".join(received) == "one two "
    assert caught.value.delivered_chars == len("one two ")
    # Exactly one request across both endpoints: no retry after the first token.
    assert len(a.requests()) + len(b.requests()) == 1
    endpoint = caught.value.endpoint_id
    assert sample(pool, "fintech_inference_errors_total", group="primary", endpoint=endpoint, kind="stream_cut") == 1
    assert sample(pool, "fintech_inference_retries_total", group="primary", kind="stream_cut") == 0


async def test_malformed_json_is_retried_elsewhere(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    a, b = fakes[0], fakes[1]
    a.script(default={"kind": "malformed"})
    b.script(default={"kind": "ok", "content": "valid"})
    pool = make_pool([("primary", [a.base_url, b.base_url])])
    results = [await pool.chat(MESSAGES) for _ in range(2)]
    assert [r.text for r in results] == ["valid", "valid"]
    assert (
        sample(
            pool,
            "fintech_inference_errors_total",
            group="primary",
            endpoint=eid("primary", a.base_url),
            kind="malformed",
        )
        >= 1
    )


async def test_malformed_stream_before_first_token_is_retried(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a, b = fakes[0], fakes[1]
    a.script(default={"kind": "malformed"})
    b.script(default={"kind": "ok", "content": "streamed fine"})
    pool = make_pool([("primary", [a.base_url, b.base_url])])
    for _ in range(2):
        text = "".join([e.delta async for e in pool.stream(MESSAGES)])
        assert text == "streamed fine"
    assert (
        sample(
            pool,
            "fintech_inference_errors_total",
            group="primary",
            endpoint=eid("primary", a.base_url),
            kind="malformed",
        )
        >= 1
    )


async def test_hang_past_the_deadline_raises_deadline_exceeded_on_time(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a = fakes[0]
    a.script(default={"kind": "hang", "seconds": 30})
    pool = make_pool([("primary", [a.base_url])])
    started = time.monotonic()
    with pytest.raises(InferenceDeadlineExceeded) as caught:
        await pool.chat(MESSAGES, time_remaining=0.6)
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 1.5
    assert caught.value.status_code == "DEADLINE_EXCEEDED"
    assert (
        sample(
            pool, "fintech_inference_errors_total", group="primary", endpoint=eid("primary", a.base_url), kind="timeout"
        )
        == 1
    )
    assert sample(pool, "fintech_inference_unavailable_total", group="primary", reason="deadline") == 1


async def test_absolute_deadline_is_honoured_too(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    a = fakes[0]
    a.script(default={"kind": "hang", "seconds": 30})
    pool = make_pool([("primary", [a.base_url])])
    started = time.monotonic()
    with pytest.raises(InferenceDeadlineExceeded):
        await pool.chat(MESSAGES, deadline=time.monotonic() + 0.4)
    assert time.monotonic() - started < 1.2


async def test_a_4xx_is_not_retried(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    a, b = fakes[0], fakes[1]
    a.script(default={"kind": "status", "status": 400})
    b.script(default={"kind": "status", "status": 400})
    pool = make_pool([("primary", [a.base_url, b.base_url])])
    with pytest.raises(InferenceRejected) as caught:
        await pool.chat(MESSAGES)
    assert caught.value.http_status == 400
    assert len(a.requests()) + len(b.requests()) == 1


async def test_consecutive_failures_eject_the_endpoint(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    a, b = fakes[0], fakes[1]
    a.script(default={"kind": "status", "status": 503})
    pool = make_pool([("primary", [a.base_url, b.base_url])], retry={"max_attempts": 1})
    outcomes = []
    for _ in range(10):
        try:
            outcomes.append((await pool.chat(MESSAGES)).served_by.endpoint_id)
        except InferenceUnavailable:
            outcomes.append("failed")
    # Three failures eject a; after that every request goes to b.
    assert outcomes.count("failed") == 3
    assert len(a.requests()) == 3
    status = {s.endpoint_id: s for s in pool.status()}
    ejected = status[eid("primary", a.base_url)]
    assert ejected.state is EndpointState.EJECTED and ejected.ejections == 1
    assert sample(pool, "fintech_inference_ejections_total", group="primary", endpoint=eid("primary", a.base_url)) == 1
    assert status[eid("primary", b.base_url)].state is EndpointState.HEALTHY


async def test_the_reusable_fixture_serves_a_reset_server(
    fake_openai: FakeOpenAIServer, make_pool: PoolFactory
) -> None:
    assert fake_openai.requests() == []
    fake_openai.script({"kind": "status", "status": 502}, {"kind": "ok", "content": "second"})
    pool = make_pool([("primary", [fake_openai.base_url])])
    result = await pool.chat(MESSAGES)
    assert result.text == "second" and result.attempts == 2 and len(fake_openai.requests()) == 2
