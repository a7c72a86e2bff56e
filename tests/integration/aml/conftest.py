"""Fixtures of the AML integration tests: the development sample, one real server with the AML service.

The server is session-wide (keys, migrations and the engine's start-up are paid once); tests use
disjoint slices of the sample or their own ids so they can share its history.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import polars as pl
import pytest
from fintech.aml.v1 import aml_service_pb2_grpc as pb_grpc

from server.aml.amlsim import load_archive
from server.aml.enrichment import enrich
from server.aml.rules import RuleSet, load_rule_set
from server.aml.service import AmlServicer, build
from server.runtime.context import AppContext
from server.runtime.pki import DevPki
from tests.fakes.fixtures import fake_openai, fake_openai_factory  # noqa: F401
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fixtures.runtime import aio_channel, running_server, settings_for, stateful_context

REPO_ROOT = Path(__file__).resolve().parents[3]
DEV_ARCHIVE = REPO_ROOT.parent / "shared" / "data" / "amlsim" / "20K_fanin200.tgz"
SAMPLE_SIZE = 20_000


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rule_set()


@pytest.fixture(scope="session")
def sample() -> pl.DataFrame:
    """The first 20,000 transfers of the development archive, enriched, in arrival order."""
    return enrich(load_archive(DEV_ARCHIVE)).transactions.head(SAMPLE_SIZE).drop("row", "step")


@dataclass
class AmlServer:
    """The running server, its context, the servicer and the scripted LLM."""

    port: int
    ctx: AppContext
    servicer: AmlServicer
    llm: FakeOpenAIServer
    pki: DevPki

    def channel(self, role: str) -> grpc.aio.Channel:
        return aio_channel(self.pki, role, self.port)

    def stub(self, channel: grpc.aio.Channel) -> pb_grpc.AMLServiceStub:
        return pb_grpc.AMLServiceStub(channel)


@pytest.fixture(scope="session")
async def aml_server(
    pki: DevPki,
    tmp_path_factory: pytest.TempPathFactory,
    fake_openai_factory,  # noqa: F811
) -> AsyncIterator[AmlServer]:
    (llm,) = fake_openai_factory(1)
    settings = settings_for(
        pki,
        tmp_path_factory.mktemp("aml"),
        server={"services": ["operations"]},
        inference={
            "groups": [{"name": "deepseek-chat", "model": "fake", "endpoints": [{"url": llm.base_url}]}],
            "budgets": {"enabled": False},
        },
    )
    ctx = await stateful_context(settings)
    binding = await build(ctx)
    async with running_server(settings, ctx=ctx, extra_bindings=[binding]) as running:
        yield AmlServer(running.port, ctx, binding.servicer, llm, pki)
