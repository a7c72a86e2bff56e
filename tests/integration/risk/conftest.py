"""Fixtures of the RiskService tests: one real server (mTLS, SQLite, migrations, audit trail) per session,
with the inference pool pointed at the scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from fintech.client import RiskServiceClient, secure_channel
from prometheus_client import CollectorRegistry

from server.risk.service import RiskServicer, build
from server.runtime.context import AppContext
from server.runtime.pki import DevPki
from tests.fakes.fixtures import fake_openai, fake_openai_factory  # noqa: F401
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fixtures.runtime import running_server, settings_for, stateful_context


@dataclass
class RiskStack:
    """The running server, its context and the scripted LLM."""

    port: int
    ctx: AppContext
    llm: FakeOpenAIServer
    pki: DevPki
    servicer: RiskServicer
    metrics: CollectorRegistry

    def channel(self, role: str) -> grpc.aio.Channel:
        issued = self.pki.client(role)
        return secure_channel(f"localhost:{self.port}", ca_file=self.pki.ca, cert_file=issued.cert, key_file=issued.key)


@pytest.fixture(scope="session")
async def risk_stack(
    pki: DevPki,
    tmp_path_factory: pytest.TempPathFactory,
    fake_openai_factory,  # noqa: F811
) -> AsyncIterator[RiskStack]:
    llm = fake_openai_factory.shared()
    data_dir: Path = tmp_path_factory.mktemp("risk")
    settings = settings_for(
        pki,
        data_dir,
        server={"services": ["audit"]},
        # A small in-flight bound so the flow-control test reaches it quickly.
        risk={"drift_min_scores": 10, "drift_window": 1000, "stream_max_in_flight": 512, "stream_micro_batch": 128},
        inference={
            "groups": [{"name": "deepseek-chat", "model": "fake", "endpoints": [{"url": llm.base_url}]}],
            "budgets": {"enabled": False},
        },
    )
    ctx = await stateful_context(settings)
    registry = CollectorRegistry()
    ctx.resources["metrics_registry"] = registry
    binding = await build(ctx)
    assert isinstance(binding.servicer, RiskServicer)
    async with running_server(settings, ctx=ctx, extra_bindings=[binding]) as running:
        yield RiskStack(running.port, ctx, llm, pki, binding.servicer, registry)
    if binding.close is not None:
        await binding.close()
    for closer in reversed(ctx.closers):
        await closer()


@pytest.fixture
async def officer(risk_stack: RiskStack) -> AsyncIterator[RiskServiceClient]:
    """A RiskService client as a loan officer."""
    async with risk_stack.channel("loan-officer") as channel:
        yield RiskServiceClient(channel)


@pytest.fixture
async def core_banking(risk_stack: RiskStack) -> AsyncIterator[RiskServiceClient]:
    """A RiskService client as core banking (assessments, batches)."""
    async with risk_stack.channel("core-banking") as channel:
        yield RiskServiceClient(channel)
