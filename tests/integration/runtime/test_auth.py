"""Authorisation RPC by RPC, and forwarded identity honoured only from Envoy and the console."""

from __future__ import annotations

import uuid

import grpc
import pytest
from fintech.customer.v1 import customer_service_pb2, customer_service_pb2_grpc
from fintech.operations.v1 import operations_service_pb2, operations_service_pb2_grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from server.runtime.pki import DevPki
from tests.fixtures.runtime import aio_channel


def _error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)
    assert status is not None, "no rich status details"
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    raise AssertionError("no ErrorInfo in status details")


async def _platform_status(pki: DevPki, port: int, role: str, metadata=()) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    async with aio_channel(pki, role, port) as channel:
        stub = operations_service_pb2_grpc.OperationsServiceStub(channel)
        try:
            await stub.GetPlatformStatus(
                operations_service_pb2.GetPlatformStatusRequest(), metadata=metadata, timeout=5
            )
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


async def test_mobile_backend_may_ask_but_not_read_operations(server, pki: DevPki) -> None:
    async with aio_channel(pki, "mobile-backend", server.port) as channel:
        stub = operations_service_pb2_grpc.OperationsServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.GetPlatformStatus(operations_service_pb2.GetPlatformStatusRequest(), timeout=5)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert _error_info(info.value).reason == "ROLE_NOT_ALLOWED"


async def test_policy_is_per_rpc_not_per_service(server, pki: DevPki) -> None:
    # The mobile backend may call Ask on CustomerService, but not SearchKnowledge on the same service.
    async with aio_channel(pki, "mobile-backend", server.port) as channel:
        stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.SearchKnowledge(customer_service_pb2.SearchKnowledgeRequest(query="fees"), timeout=5)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Ask(
                customer_service_pb2.AskRequest(request_id=str(uuid.uuid4()), customer_id="c-1", question="hi"),
                timeout=5,
            )
        # Allowed through the door; the stand-in servicer does not implement Ask.
        assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_sre_passes_the_policy(server, pki: DevPki) -> None:
    assert await _platform_status(pki, server.port, "sre") == grpc.StatusCode.OK


@pytest.mark.parametrize(
    "metadata",
    [
        (("x-fintech-staff-id", "mallory"), ("x-fintech-staff-role", "sre")),
        (("x-forwarded-client-cert", "By=spiffe://fintech.local/envoy;URI=spiffe://fintech.local/sre"),),
    ],
    ids=["staff-headers", "xfcc-header"],
)
async def test_forwarded_identity_from_a_direct_caller_is_ignored(server, pki: DevPki, metadata) -> None:  # type: ignore[no-untyped-def]
    # core-banking is not a trusted forwarder: claiming to act as an SRE changes nothing.
    assert await _platform_status(pki, server.port, "core-banking", metadata) == grpc.StatusCode.PERMISSION_DENIED


async def test_console_forwards_the_signed_in_operator_and_role(server, pki: DevPki) -> None:
    ok = (("x-fintech-staff-id", "s-42"), ("x-fintech-staff-role", "sre"))
    assert await _platform_status(pki, server.port, "console", ok) == grpc.StatusCode.OK
    wrong_role = (("x-fintech-staff-id", "s-42"), ("x-fintech-staff-role", "agent"))
    assert await _platform_status(pki, server.port, "console", wrong_role) == grpc.StatusCode.PERMISSION_DENIED
    # Without an operator the console may do nothing in its own name.
    assert await _platform_status(pki, server.port, "console") == grpc.StatusCode.PERMISSION_DENIED
    made_up_role = (("x-fintech-staff-id", "s-42"), ("x-fintech-staff-role", "root"))
    assert await _platform_status(pki, server.port, "console", made_up_role) == grpc.StatusCode.PERMISSION_DENIED


async def test_envoy_forwards_the_downstream_certificate_identity(server, pki: DevPki) -> None:
    as_sre = (("x-forwarded-client-cert", "By=spiffe://fintech.local/envoy;URI=spiffe://fintech.local/sre"),)
    assert await _platform_status(pki, server.port, "envoy", as_sre) == grpc.StatusCode.OK
    as_mobile = (("x-forwarded-client-cert", "URI=spiffe://fintech.local/mobile-backend"),)
    assert await _platform_status(pki, server.port, "envoy", as_mobile) == grpc.StatusCode.PERMISSION_DENIED
    # Envoy without a forwarded identity is refused outright.
    assert await _platform_status(pki, server.port, "envoy") == grpc.StatusCode.UNAUTHENTICATED
    foreign = (("x-forwarded-client-cert", "URI=spiffe://evil.example/sre"),)
    assert await _platform_status(pki, server.port, "envoy", foreign) == grpc.StatusCode.UNAUTHENTICATED


async def test_forwarded_customer_is_visible_to_the_servicer(pki: DevPki, tmp_path) -> None:
    from server.runtime.context import ServiceBinding
    from server.runtime.identity import current_caller
    from tests.fixtures.runtime import running_server, settings_for

    seen = {}

    class Echo(customer_service_pb2_grpc.CustomerServiceServicer):
        async def Ask(self, request, context):  # type: ignore[no-untyped-def]
            caller = current_caller()
            seen.update(customer=caller.customer_id, role=caller.role, by=caller.forwarded_by)
            return customer_service_pb2.AskResponse(conversation_id="c")

    binding = ServiceBinding(
        "customer",
        "fintech.customer.v1.CustomerService",
        Echo(),
        customer_service_pb2_grpc.add_CustomerServiceServicer_to_server,
    )
    settings = settings_for(pki, tmp_path, server={"services": ["operations"]})
    async with running_server(settings, extra_bindings=[binding]) as running:
        async with aio_channel(pki, "envoy", running.port) as channel:
            await customer_service_pb2_grpc.CustomerServiceStub(channel).Ask(
                customer_service_pb2.AskRequest(request_id=str(uuid.uuid4()), customer_id="cust-7", question="hi"),
                metadata=(
                    ("x-forwarded-client-cert", "URI=spiffe://fintech.local/mobile-backend"),
                    ("x-fintech-customer-id", "cust-7"),
                ),
                timeout=5,
            )
        assert seen == {"customer": "cust-7", "role": "mobile-backend", "by": "envoy"}
        seen.clear()
        # The same header from core banking is ignored.
        async with aio_channel(pki, "core-banking", running.port) as channel:
            await customer_service_pb2_grpc.CustomerServiceStub(channel).Ask(
                customer_service_pb2.AskRequest(request_id=str(uuid.uuid4()), customer_id="cust-8", question="hi"),
                metadata=(("x-fintech-customer-id", "cust-7"),),
                timeout=5,
            )
        assert seen == {"customer": "", "role": "core-banking", "by": ""}
