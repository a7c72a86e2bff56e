"""Fixtures: one ComplianceService on a real mTLS server (real SQLite, keyring, audit trail) with an
inference pool pointed at a scripted OpenAI-compatible server, shared by the session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from fintech.compliance.v1 import compliance_service_pb2_grpc as pb_grpc

from server.compliance.service import build
from server.runtime.context import AppContext
from server.runtime.pki import DevPki
from tests.fakes.fixtures import fake_openai, fake_openai_factory  # noqa: F401
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fixtures.runtime import aio_channel, running_server, settings_for, stateful_context

SUMMARY_CONCURRENCY = 3


@dataclass
class ComplianceStack:
    """The running service and what the tests reach it with."""

    port: int
    ctx: AppContext
    llm: FakeOpenAIServer
    officer: pb_grpc.ComplianceServiceStub
    core_banking: pb_grpc.ComplianceServiceStub


@pytest.fixture(scope="session")
async def compliance(  # type: ignore[no-untyped-def]
    pki: DevPki,
    tmp_path_factory: pytest.TempPathFactory,
    fake_openai_factory,  # noqa: F811  (the session fixture imported above)
) -> AsyncIterator[ComplianceStack]:
    llm = fake_openai_factory(1)[0]
    data_dir: Path = tmp_path_factory.mktemp("compliance")
    settings = settings_for(
        pki,
        data_dir,
        server={"services": ["operations"]},
        inference={
            "groups": [{"name": "deepseek-chat", "model": "fake", "endpoints": [{"url": llm.base_url}]}],
            "budgets": {"enabled": False},
        },
        compliance={"summary_concurrency": SUMMARY_CONCURRENCY},
    )
    ctx = await stateful_context(settings)
    binding = await build(ctx)
    async with running_server(settings, ctx=ctx, extra_bindings=[binding]) as running:
        officer = aio_channel(pki, "compliance-officer", running.port)
        banking = aio_channel(pki, "core-banking", running.port)
        try:
            yield ComplianceStack(
                running.port, ctx, llm, pb_grpc.ComplianceServiceStub(officer), pb_grpc.ComplianceServiceStub(banking)
            )
        finally:
            await officer.close()
            await banking.close()
            if binding.close is not None:
                await binding.close()


@pytest.fixture
def llm(compliance: ComplianceStack) -> FakeOpenAIServer:
    """The scripted LLM, reset before the test."""
    compliance.llm.reset()
    return compliance.llm


def channel_for(pki: DevPki, role: str, port: int) -> grpc.aio.Channel:
    """Another role's channel to the service."""
    return aio_channel(pki, role, port)


def field_violations(error: grpc.aio.AioRpcError) -> list[str]:
    """The fields named by the BadRequest detail of a failed call."""
    from google.rpc import error_details_pb2, status_pb2

    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    bad = error_details_pb2.BadRequest()
                    detail.Unpack(bad)
                    return [v.field for v in bad.field_violations]
    return []
