"""A real server with every service, for the runtime's tests, started once per module."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fintech.customer.v1 import customer_service_pb2, customer_service_pb2_grpc

from server.runtime.app import RunningServer
from server.runtime.context import ServiceBinding
from server.runtime.pki import DevPki
from tests.fixtures.runtime import running_server, settings_for, stateful_context


class SlowKnowledge(customer_service_pb2_grpc.CustomerServiceServicer):
    """A stand-in servicer whose SearchKnowledge takes ``delay`` seconds (shutdown and load tests)."""

    def __init__(self, delay: float = 1.5) -> None:
        self.delay = delay

    async def SearchKnowledge(self, request, context):  # type: ignore[no-untyped-def]
        await asyncio.sleep(self.delay)
        return customer_service_pb2.SearchKnowledgeResponse(
            hits=[customer_service_pb2.KnowledgeHit(chunk_id="c1", text=request.query)]
        )


def slow_binding(delay: float = 1.5) -> ServiceBinding:
    return ServiceBinding(
        name="customer",
        full_name="fintech.customer.v1.CustomerService",
        servicer=SlowKnowledge(delay),
        add_to_server=customer_service_pb2_grpc.add_CustomerServiceServicer_to_server,
    )


@pytest.fixture(scope="module")
async def server(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    """Every service but customer from the registry, plus a slow CustomerService stand-in."""
    settings = settings_for(
        pki,
        tmp_path_factory.mktemp("data"),
        server={"services": ["risk", "aml", "compliance", "operations"]},
    )
    ctx = await stateful_context(settings)
    async with running_server(settings, ctx=ctx, extra_bindings=[slow_binding(0.2)]) as running:
        yield running


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runtime")
