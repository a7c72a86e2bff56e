"""Fixtures of the inference integration tests: scripted fake servers (real processes) and pool builders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from inference.pool import InferencePool
from inference.settings import InferenceSettings
from tests.fakes.fixtures import FakeFactory, fake_openai, fake_openai_factory  # noqa: F401
from tests.fakes.openai_server import FakeOpenAIServer

PoolFactory = Callable[..., InferencePool]


@pytest.fixture(scope="session")
def fake_trio(fake_openai_factory: FakeFactory) -> list[FakeOpenAIServer]:  # noqa: F811
    """Three fake servers shared by the session (reset before each test that uses them)."""
    return fake_openai_factory(3)


@pytest.fixture
def fakes(fake_trio: list[FakeOpenAIServer]) -> Iterator[list[FakeOpenAIServer]]:
    for server in fake_trio:
        server.reset()
    yield fake_trio


def settings_for(group_urls: list[tuple[str, list[str]]], **overrides: Any) -> InferenceSettings:
    """Settings with fast health timings; ``group_urls`` is ``[(name, [url, ...]), ...]`` in fallback order.

    ``overrides`` replace top-level fields (``groups=[...]`` replaces the generated groups); dicts merge.
    """
    data: dict[str, Any] = {
        "groups": [
            {"name": name, "model": f"{name}-model", "endpoints": [{"url": u, "max_concurrency": 8} for u in urls]}
            for name, urls in group_urls
        ],
        "health": {
            "probe_interval_seconds": 60,
            "eject_after_failures": 3,
            "eject_base_seconds": 30,
            "breaker_min_requests": 50,
            "breaker_window": 50,
        },
        "retry": {"max_attempts": 3, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.05},
        "request_timeout_seconds": 10,
        "first_token_timeout_seconds": 2,
        "connect_timeout_seconds": 1,
        "affinity": {"enabled": False},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return InferenceSettings.model_validate(data)


@pytest.fixture
async def make_pool() -> AsyncIterator[PoolFactory]:
    """Build pools on a fresh Prometheus registry each; closed after the test."""
    pools: list[InferencePool] = []

    def factory(group_urls: list[tuple[str, list[str]]], **kwargs: Any) -> InferencePool:
        pool_kwargs = {k: kwargs.pop(k) for k in ("budget_store", "resolver", "clock") if k in kwargs}
        pool = InferencePool(settings_for(group_urls, **kwargs), registry=CollectorRegistry(), **pool_kwargs)
        pools.append(pool)
        return pool

    yield factory
    for pool in pools:
        await pool.close()


def sample(pool: InferencePool, name: str, **labels: str) -> float:
    """A metric sample of ``pool``'s registry (0 when absent)."""
    value = pool.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else float(value)
