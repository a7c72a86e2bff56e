"""Routing, membership, probes, scraping, fallback, priority, TLS and the drill, against real fake-server processes."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from inference.drill import run_drill
from inference.errors import BatchQueueFull, InferenceUnavailable
from inference.health import EndpointState
from inference.pool import Priority, resolve_addresses
from server.runtime.pki import DevPki
from tests.fakes.openai_server import FakeOpenAIServer, closed_port_url
from tests.integration.inference.conftest import PoolFactory, sample

MESSAGES = [{"role": "user", "content": "hello"}]


def eid(group: str, url: str) -> str:
    return f"{group}/{url.split('//', 1)[1].split('/', 1)[0]}"


async def test_fallback_group_serves_and_says_so(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    backup = fakes[0]
    backup.script(default={"kind": "ok", "content": "from backup"})
    pool = make_pool([("deepseek-chat", [closed_port_url(), closed_port_url()]), ("backup", [backup.base_url])])
    result = await pool.chat(MESSAGES)
    assert result.text == "from backup"
    assert result.served_by.group == "backup" and result.served_by.requested_group == "deepseek-chat"
    assert result.served_by.model == "backup-model" and result.served_by.fallback
    assert (
        sample(pool, "fintech_inference_fallbacks_total", requested_group="deepseek-chat", served_group="backup") == 1
    )
    with pytest.raises(InferenceUnavailable):
        await pool.chat(MESSAGES, fallback=False)


async def test_least_outstanding_spreads_concurrent_load(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    for server in fakes:
        server.script(default={"kind": "ok", "content": "x", "delay": 0.2})
    pool = make_pool([("primary", [s.base_url for s in fakes])])
    results = await asyncio.gather(*(pool.chat(MESSAGES) for _ in range(9)))
    counts = Counter(r.served_by.endpoint_id for r in results)
    assert sorted(counts.values()) == [3, 3, 3]


async def test_concurrency_limit_queues_instead_of_overloading(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a = fakes[0]
    a.script(default={"kind": "ok", "content": "x", "delay": 0.2})
    pool = make_pool([("primary", [a.base_url])])
    pool.remove_endpoint(eid("primary", a.base_url))
    endpoint = pool.add_endpoint("primary", a.base_url, max_concurrency=2)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        for _ in range(40):
            peak = max(peak, *(s.outstanding for s in pool.status() if s.endpoint_id == endpoint))
            await asyncio.sleep(0.01)

    results = await asyncio.gather(watch(), *(pool.chat(MESSAGES) for _ in range(6)))
    assert len(results) == 7 and peak == 2


async def test_endpoints_can_be_added_and_drained_at_run_time(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a, b = fakes[0], fakes[1]
    pool = make_pool([("primary", [a.base_url])])
    added = pool.add_endpoint("primary", b.base_url, weight=2.0, max_concurrency=4)
    assert {s.endpoint_id for s in pool.status()} == {eid("primary", a.base_url), added}
    pool.remove_endpoint(eid("primary", a.base_url))
    served = {(await pool.chat(MESSAGES)).served_by.endpoint_id for _ in range(3)}
    assert served == {added}
    assert [s.endpoint_id for s in pool.status()] == [added]
    with pytest.raises(ValueError, match="already exists"):
        pool.add_endpoint("primary", b.base_url)
    with pytest.raises(KeyError, match="unknown model group"):
        pool.add_endpoint("nope", b.base_url)


async def test_dns_re_resolution_adds_and_drains_endpoints(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a = fakes[0]
    answers: list[list[str]] = [["127.0.0.1"]]

    async def resolver(name: str) -> list[str]:
        assert name == "vllm-headless.llm.svc"
        return answers[-1]

    # A group found only through DNS; the fake listens on 127.0.0.1:<port>.
    dns_pool = make_pool(
        [],
        groups=[
            {"name": "dns", "model": "m", "dns_name": "vllm-headless.llm.svc", "dns_port": a.port, "dns_scheme": "http"}
        ],
        resolver=resolver,
    )
    await dns_pool.resolve_dns()
    assert [(s.endpoint_id, s.source) for s in dns_pool.status()] == [(f"dns/127.0.0.1:{a.port}", "dns")]
    assert (await dns_pool.chat(MESSAGES)).served_by.endpoint_id == f"dns/127.0.0.1:{a.port}"
    answers.append([])
    await dns_pool.resolve_dns()
    assert dns_pool.status() == []
    with pytest.raises(InferenceUnavailable):
        await dns_pool.chat(MESSAGES)


async def test_real_resolver_resolves_loopback() -> None:
    assert "127.0.0.1" in await resolve_addresses("localhost")


async def test_probes_fall_back_to_models_and_eject_unhealthy(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a, b = fakes[0], fakes[1]
    a.set_health("missing")  # /health is 404: the prober must use /v1/models
    b.set_health("fail")
    pool = make_pool([("primary", [a.base_url, b.base_url])])
    for _ in range(3):
        await pool.probe_all()
    status = {s.endpoint_id: s for s in pool.status()}
    assert status[eid("primary", a.base_url)].state is EndpointState.HEALTHY
    assert status[eid("primary", a.base_url)].last_probe_ok is True
    assert status[eid("primary", b.base_url)].state is EndpointState.EJECTED
    assert status[eid("primary", b.base_url)].last_probe_ok is False
    assert sample(pool, "fintech_inference_ejections_total", group="primary", endpoint=eid("primary", b.base_url)) == 1


async def test_scraped_vllm_metrics_steer_the_queue_aware_picker(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    busy, idle = fakes[0], fakes[1]
    busy.set_metrics(waiting=12, running=30, kv=0.97)
    idle.set_metrics(waiting=0, running=2, kv=0.1)
    pool = make_pool([("primary", [busy.base_url, idle.base_url])], picker="queue_aware")
    await pool.scrape_all()
    status = {s.endpoint_id: s for s in pool.status()}
    assert (status[eid("primary", busy.base_url)].waiting, status[eid("primary", busy.base_url)].kv_cache_usage) == (
        12,
        0.97,
    )
    served = Counter([(await pool.chat(MESSAGES)).served_by.endpoint_id for _ in range(6)])
    assert served == {eid("primary", idle.base_url): 6}


async def test_conversation_affinity_sticks_to_one_replica(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    pool = make_pool([("primary", [s.base_url for s in fakes])], affinity={"enabled": True})
    for conversation in ("c-1", "c-2", "c-3"):
        served = {(await pool.chat(MESSAGES, conversation_id=conversation)).served_by.endpoint_id for _ in range(4)}
        assert len(served) == 1


async def test_interactive_goes_first_and_batch_is_shed_when_full(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a = fakes[0]
    a.script(default={"kind": "ok", "content": "x", "delay": 0.4})
    pool = make_pool([("primary", [a.base_url])], max_in_flight=2, interactive_reserve=1, batch_queue_size=1)
    first_batch = asyncio.create_task(pool.chat(MESSAGES, priority=Priority.BATCH))
    await asyncio.sleep(0.05)
    queued_batch = asyncio.create_task(pool.chat(MESSAGES, priority=Priority.BATCH))
    await asyncio.sleep(0.05)
    with pytest.raises(BatchQueueFull) as caught:
        await pool.chat(MESSAGES, priority=Priority.BATCH)
    assert caught.value.status_code == "RESOURCE_EXHAUSTED" and caught.value.retry_after_seconds > 0
    # The reserved slot still admits interactive work at once.
    loop = asyncio.get_running_loop()
    started = loop.time()
    await pool.chat(MESSAGES, priority=Priority.INTERACTIVE)
    assert loop.time() - started < 0.55
    await asyncio.gather(first_batch, queued_batch)
    assert sample(pool, "fintech_inference_shed_total", priority="batch", reason="queue") == 1


async def test_tls_endpoint_is_verified_and_sees_the_client_certificate(pki: DevPki, make_pool: PoolFactory) -> None:
    client = pki.client("core-banking")
    server = FakeOpenAIServer.start(
        certfile=pki.server.cert, keyfile=pki.server.key, cafile=pki.ca, control_cert=(client.cert, client.key)
    )
    try:
        server.script(default={"kind": "ok", "content": "over tls"})
        url = server.base_url  # https://127.0.0.1:<port>/v1
        good = make_pool(
            [("primary", [url])],
            tls={"ca_file": str(pki.ca), "cert_file": str(client.cert), "key_file": str(client.key)},
        )
        assert (await good.chat(MESSAGES)).text == "over tls"
        no_client_cert = make_pool([("primary", [url])], tls={"ca_file": str(pki.ca)})
        with pytest.raises(InferenceUnavailable):
            await no_client_cert.chat(MESSAGES)
        untrusted = make_pool([("primary", [url])], tls={"cert_file": str(client.cert), "key_file": str(client.key)})
        with pytest.raises(InferenceUnavailable):
            await untrusted.chat(MESSAGES)
    finally:
        server.stop()


async def test_drill_switches_over_and_back_without_failures(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    primary, backup = fakes[0], fakes[1]
    for server in (primary, backup):
        server.script(default={"kind": "ok", "content": "OK", "delay": 0.02})
    pool = make_pool([("deepseek-chat", [primary.base_url]), ("backup", [backup.base_url])])
    report = await run_drill(pool, rate_per_second=40, warmup_seconds=0.5, out_seconds=1.0, back_seconds=0.5)
    assert report.failures == 0 and report.requests >= 70
    assert report.fallback_groups == ("backup",)
    assert report.switch_over_seconds is not None and report.switch_over_seconds < 0.5
    assert report.switch_back_seconds is not None and report.switch_back_seconds < 0.5
    assert {s.state for s in pool.status()} == {EndpointState.HEALTHY}


async def test_a_stream_abandoned_by_its_reader_frees_its_slot(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a = fakes[0]
    a.script(default={"kind": "ok", "content": "one two three four five", "token_delay": 0.05})
    pool = make_pool([("primary", [a.base_url])])
    stream = pool.stream(MESSAGES)
    async for event in stream:
        assert event.delta == "one "
        break
    await stream.aclose()
    assert [s.outstanding for s in pool.status()] == [0]
    assert (await pool.chat(MESSAGES)).text  # the pool still serves


async def test_draining_endpoint_finishes_in_flight_work_then_leaves(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a, b = fakes[0], fakes[1]
    a.script(default={"kind": "ok", "content": "slow", "delay": 0.3})
    pool = make_pool([("primary", [a.base_url])])
    pool.add_endpoint("primary", b.base_url)
    pool.remove_endpoint(eid("primary", b.base_url))  # idle: leaves at once
    in_flight = asyncio.create_task(pool.chat(MESSAGES))
    await asyncio.sleep(0.1)
    pool.remove_endpoint(eid("primary", a.base_url))
    assert [s.state for s in pool.status()] == [EndpointState.DRAINING]
    assert (await in_flight).text == "slow"
    assert pool.status() == []


async def test_background_loops_probe_and_scrape(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    a = fakes[0]
    a.set_metrics(waiting=1, running=2, kv=0.5)
    pool = make_pool(
        [("primary", [a.base_url])], health={"probe_interval_seconds": 0.1, "metrics_scrape_interval_seconds": 0.1}
    )
    await pool.start()
    await asyncio.sleep(0.5)
    row = pool.status()[0]
    assert row.last_probe_ok is True and row.last_probe_age_seconds is not None and row.last_probe_age_seconds < 0.4
    assert (row.waiting, row.running, row.kv_cache_usage) == (1, 2, 0.5)
    await pool.close()
