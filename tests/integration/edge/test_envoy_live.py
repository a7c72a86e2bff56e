"""The real Envoy in front of real gRPC servers: mTLS, RBAC, transcoding, forwarded identity,
ejection of a dead replica, and rate limiting."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import httpx
import pytest
from fintech.customer.v1 import customer_service_pb2, customer_service_pb2_grpc
from fintech.risk.v1 import risk_service_pb2, risk_service_pb2_grpc

from server.edge.model import RateLimit, dev_profile
from server.runtime.app import RunningServer
from server.runtime.context import ServiceBinding
from server.runtime.identity import current_caller
from server.runtime.pki import DevPki
from tests.fixtures.envoy import free_port, healthy_hosts, running_envoy
from tests.fixtures.runtime import client_credentials, running_server, settings_for, stateful_context


@dataclass
class Seen:
    """What the stand-in CustomerService saw, per replica."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)


class AskEcho(customer_service_pb2_grpc.CustomerServiceServicer):
    """Answers Ask by echoing who asked (role, customer) and which replica answered."""

    def __init__(self, replica: str, seen: Seen) -> None:
        self.replica = replica
        self.seen = seen

    async def Ask(self, request, context):  # type: ignore[no-untyped-def]
        caller = current_caller()
        self.seen.calls.append((self.replica, caller.role, caller.customer_id))
        return customer_service_pb2.AskResponse(
            conversation_id=f"{self.replica}:{caller.role}:{caller.customer_id}",
            answer=f"echo: {request.question}",
            answer_source=customer_service_pb2.ANSWER_SOURCE_APPROVED,
            intent_confidence=0.5,
        )


@dataclass
class Edge:
    pki: DevPki
    port: int
    replicas: list[RunningServer]
    seen: Seen
    cfg: object


@pytest.fixture(scope="module")
async def edge(pki: DevPki, repo_root, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Edge]:  # type: ignore[no-untyped-def]
    seen = Seen()
    replicas = []
    stack = []
    for name in ("a", "b"):
        settings = settings_for(pki, tmp_path_factory.mktemp(f"replica-{name}"), server={"services": ["risk"]})
        binding = ServiceBinding(
            "customer",
            "fintech.customer.v1.CustomerService",
            AskEcho(name, seen),
            customer_service_pb2_grpc.add_CustomerServiceServicer_to_server,
        )
        ctx = running_server(settings, ctx=await stateful_context(settings), extra_bindings=[binding])
        replicas.append(await ctx.__aenter__())
        stack.append(ctx)
    ports = {"customer": [r.port for r in replicas], "risk": [replicas[0].port]}
    for other in ("aml", "compliance", "operations"):
        ports[other] = [replicas[0].port]
    cfg = dev_profile(
        repo_root,
        certs=pki.root,
        backend_ports=ports,
        listen_port=free_port(),
        admin_port=free_port(),
        rate_limits={"risk": RateLimit(max_tokens=3, tokens_per_fill=1, fill_interval_seconds=60)},
    )
    workdir = tmp_path_factory.mktemp("envoy")
    try:
        async with running_envoy(cfg, workdir, wait_healthy=("customer", "risk")):
            yield Edge(pki, cfg.listen_port, replicas, seen, cfg)
    finally:
        for ctx in reversed(stack):
            await ctx.__aexit__(None, None, None)


def _https(pki: DevPki, role: str | None) -> httpx.AsyncClient:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if role:
        context.load_cert_chain(str(pki.client(role).cert), str(pki.client(role).key))
    return httpx.AsyncClient(verify=context, timeout=10)


async def test_json_transcoding_round_trip(edge: Edge) -> None:
    async with _https(edge.pki, "mobile-backend") as client:
        reply = await client.post(
            f"https://localhost:{edge.port}/v1/customer/conversations:ask",
            json={"requestId": str(uuid.uuid4()), "customerId": "cust-1", "question": "When will my card arrive?"},
            headers={"x-fintech-customer-id": "cust-1"},
        )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["answer"] == "echo: When will my card arrive?"
    assert body["answerSource"] == "ANSWER_SOURCE_APPROVED"
    # The service saw the mobile backend's certificate identity and the customer, through Envoy.
    assert body["conversationId"].endswith(":mobile-backend:cust-1")


async def test_json_validation_error_is_a_400_naming_the_field(edge: Edge) -> None:
    async with _https(edge.pki, "mobile-backend") as client:
        reply = await client.post(
            f"https://localhost:{edge.port}/v1/customer/conversations:ask",
            json={"requestId": "nope", "customerId": "cust-1", "question": ""},
        )
    assert reply.status_code == 400
    body = reply.json()
    assert body["code"] == 3
    violations = next(d for d in body["details"] if d["@type"].endswith("BadRequest"))["fieldViolations"]
    assert {v["field"] for v in violations} >= {"question", "request_id"}


async def test_grpc_pass_through(edge: Edge) -> None:
    async with grpc.aio.secure_channel(f"localhost:{edge.port}", client_credentials(edge.pki, "core-banking")) as ch:
        reply = await customer_service_pb2_grpc.CustomerServiceStub(ch).Ask(
            customer_service_pb2.AskRequest(request_id=str(uuid.uuid4()), customer_id="c-2", question="hi"), timeout=5
        )
    assert reply.answer == "echo: hi"
    assert ":core-banking:" in reply.conversation_id


async def test_mobile_backend_calling_risk_through_envoy_is_denied(edge: Edge) -> None:
    async with grpc.aio.secure_channel(f"localhost:{edge.port}", client_credentials(edge.pki, "mobile-backend")) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await risk_service_pb2_grpc.RiskServiceStub(ch).GetModelCard(
                risk_service_pb2.GetModelCardRequest(), timeout=5
            )
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_no_client_certificate_fails_the_handshake(edge: Edge) -> None:
    async with _https(edge.pki, None) as client:
        with pytest.raises((httpx.HTTPError, ssl.SSLError)):
            await client.post(f"https://localhost:{edge.port}/v1/customer/conversations:ask", json={})
    credentials = grpc.ssl_channel_credentials(edge.pki.ca.read_bytes())
    async with grpc.aio.secure_channel(f"localhost:{edge.port}", credentials) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await customer_service_pb2_grpc.CustomerServiceStub(ch).Ask(customer_service_pb2.AskRequest(), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_forged_identity_header_is_replaced_by_envoy(edge: Edge) -> None:
    # The mobile backend claims to be an SRE; Envoy overwrites the header with the verified certificate.
    async with grpc.aio.secure_channel(f"localhost:{edge.port}", client_credentials(edge.pki, "mobile-backend")) as ch:
        reply = await customer_service_pb2_grpc.CustomerServiceStub(ch).Ask(
            customer_service_pb2.AskRequest(request_id=str(uuid.uuid4()), customer_id="c-3", question="hi"),
            metadata=(("x-forwarded-client-cert", "By=spiffe://fintech.local/envoy;URI=spiffe://fintech.local/sre"),),
            timeout=5,
        )
    assert ":mobile-backend:" in reply.conversation_id


async def test_rate_limit_answers_resource_exhausted(edge: Edge) -> None:
    codes = []
    async with grpc.aio.secure_channel(f"localhost:{edge.port}", client_credentials(edge.pki, "loan-officer")) as ch:
        stub = risk_service_pb2_grpc.RiskServiceStub(ch)
        for _ in range(6):
            try:
                await stub.GetModelCard(risk_service_pb2.GetModelCardRequest(), timeout=5)
                codes.append(grpc.StatusCode.OK)
            except grpc.aio.AioRpcError as error:
                codes.append(error.code())
    # The bucket holds 3 (earlier tests may have spent some): calls reach the service until it is
    # empty, then the edge says RESOURCE_EXHAUSTED to every later call.
    first_limited = codes.index(grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert first_limited in (1, 2, 3)
    assert set(codes[:first_limited]) == {grpc.StatusCode.OK}
    assert set(codes[first_limited:]) == {grpc.StatusCode.RESOURCE_EXHAUSTED}


async def test_killed_replica_is_ejected_and_traffic_moves(edge: Edge) -> None:
    async def ask(ch: grpc.aio.Channel) -> str:
        reply = await customer_service_pb2_grpc.CustomerServiceStub(ch).Ask(
            customer_service_pb2.AskRequest(request_id=str(uuid.uuid4()), customer_id="c-4", question="hi"), timeout=5
        )
        return reply.conversation_id.split(":")[0]

    async with grpc.aio.secure_channel(f"localhost:{edge.port}", client_credentials(edge.pki, "core-banking")) as ch:
        before = {await ask(ch) for _ in range(20)}
        assert before == {"a", "b"}
        await edge.replicas[1].stop(grace=0)  # replica b dies
        failures = 0
        after = []
        for _ in range(40):
            try:
                after.append(await ask(ch))
            except grpc.aio.AioRpcError:
                failures += 1
        # Retries on `unavailable` hide the dead replica from callers, and it is taken out of rotation.
        assert failures == 0
        assert set(after) == {"a"}
        for _ in range(50):
            if healthy_hosts(edge.cfg, "customer") == 1:  # type: ignore[arg-type]
                break
            await asyncio.sleep(0.1)
        assert healthy_hosts(edge.cfg, "customer") == 1  # type: ignore[arg-type]


async def test_json_rate_limit_is_429(edge: Edge, repo_root, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A second edge whose customer routes allow two requests a minute.
    ports = {name: [edge.replicas[0].port] for name in ("customer", "risk", "aml", "compliance", "operations")}
    cfg = dev_profile(
        repo_root,
        certs=edge.pki.root,
        backend_ports=ports,
        listen_port=free_port(),
        admin_port=free_port(),
        rate_limits={"customer": RateLimit(max_tokens=2, tokens_per_fill=1, fill_interval_seconds=60)},
    )
    async with running_envoy(cfg, tmp_path, wait_healthy=("customer",)):
        statuses = []
        async with _https(edge.pki, "mobile-backend") as client:
            for _ in range(4):
                reply = await client.post(
                    f"https://localhost:{cfg.listen_port}/v1/customer/conversations:ask",
                    json={"requestId": str(uuid.uuid4()), "customerId": "c-9", "question": "fees?"},
                )
                statuses.append(reply.status_code)
    assert statuses == [200, 200, 429, 429]
