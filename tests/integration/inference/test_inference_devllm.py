"""The real development LLM (llama.cpp via xllamacpp, Gemma 3 270M): the real path, never its wording."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Literal

import httpx
import pydantic
import pytest
from prometheus_client import CollectorRegistry

from inference.devserver import MODEL_ALIAS, DevServer, start_devserver
from inference.generation import generate_structured
from inference.pool import InferencePool
from inference.settings import InferenceSettings
from inference.vllm_metrics import parse_engine_load


class Verdict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    decision: Literal["approve", "decline"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def dev_llm() -> Iterator[DevServer]:
    server = start_devserver(_free_port(), threads=1, parallel=2)
    yield server
    server.stop()
    assert server.process.returncode == 0  # SIGTERM is a clean exit


@pytest.fixture
async def dev_pool(dev_llm: DevServer) -> InferencePool:
    settings = InferenceSettings.model_validate(
        {"groups": [{"name": "dev", "model": MODEL_ALIAS, "endpoints": [{"url": dev_llm.base_url}]}]}
    )
    pool = InferencePool(settings, registry=CollectorRegistry())
    await pool.probe_all()
    yield pool  # type: ignore[misc]
    await pool.close()


async def test_structured_call_validates_against_its_schema(dev_pool: InferencePool) -> None:
    result = await generate_structured(
        dev_pool, Verdict, [{"role": "user", "content": "Decide on loan L-1. Reply in JSON."}], max_tokens=96
    )
    assert isinstance(result.value, Verdict)
    assert Verdict.model_validate_json(result.raw_output) == result.value
    assert result.served_by.model == MODEL_ALIAS and result.usage.completion_tokens > 0


async def test_stream_delivers_deltas(dev_pool: InferencePool) -> None:
    events = [e async for e in dev_pool.stream([{"role": "user", "content": "Say hello."}], max_tokens=12)]
    deltas = [e.delta for e in events if e.delta]
    assert len(deltas) >= 2
    assert events[-1].finish_reason in ("stop", "length") and events[-1].usage is not None
    assert events[-1].usage.completion_tokens >= len(deltas) - 1


async def test_probe_and_metrics_of_llama_cpp(dev_llm: DevServer, dev_pool: InferencePool) -> None:
    assert [s.last_probe_ok for s in dev_pool.status()] == [True]
    async with httpx.AsyncClient(timeout=10) as client:
        page = (await client.get(dev_llm.base_url.removesuffix("/v1") + "/metrics")).text
    load = parse_engine_load(page)
    assert load is not None and load.waiting >= 0 and load.running >= 0
