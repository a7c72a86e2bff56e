"""The SDK's public surface: the exported names, private modules, and one method per RPC with the right types."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import typing
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

import fintech.client
import pytest
from fintech.client import _policy
from fintech.client._base import AsyncServiceClient, SyncServiceClient
from fintech.client._policy import CallShape
from google.protobuf.descriptor import ServiceDescriptor

EXPECTED_PUBLIC = {
    "AMLServiceClient",
    "AMLServiceSyncClient",
    "Aborted",
    "AuditServiceClient",
    "AuditServiceSyncClient",
    "AlreadyExists",
    "ComplianceServiceClient",
    "ComplianceServiceSyncClient",
    "CustomerServiceClient",
    "CustomerServiceSyncClient",
    "DEFAULT",
    "DEFAULT_KEEPALIVE_TIMEOUT_S",
    "DEFAULT_KEEPALIVE_TIME_S",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DeadlineExceeded",
    "FailedPrecondition",
    "FieldViolation",
    "FintechError",
    "Internal",
    "InvalidArgument",
    "Metadata",
    "NotFound",
    "OperationsServiceClient",
    "OperationsServiceSyncClient",
    "PermissionDenied",
    "ResourceExhausted",
    "Retry",
    "RiskServiceClient",
    "RiskServiceSyncClient",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "UnknownError",
    "secure_channel",
    "secure_channel_sync",
}

SERVICES = {
    "fintech.customer.v1.customer_service_pb2": "CustomerService",
    "fintech.risk.v1.risk_service_pb2": "RiskService",
    "fintech.aml.v1.aml_service_pb2": "AMLService",
    "fintech.compliance.v1.compliance_service_pb2": "ComplianceService",
    "fintech.operations.v1.operations_service_pb2": "OperationsService",
    "fintech.audit.v1.audit_service_pb2": "AuditService",
}


def _services() -> list[ServiceDescriptor]:
    return [importlib.import_module(m).DESCRIPTOR.services_by_name[s] for m, s in SERVICES.items()]


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def test_public_names_are_pinned() -> None:
    assert set(fintech.client.__all__) == EXPECTED_PUBLIC
    assert len(fintech.client.__all__) == len(EXPECTED_PUBLIC)
    for name in fintech.client.__all__:
        assert getattr(fintech.client, name) is not None


def test_every_submodule_is_private() -> None:
    names = [info.name for info in pkgutil.iter_modules(fintech.client.__path__)]
    assert names, "no submodules found"
    assert [n for n in names if not n.startswith("_")] == []


def test_the_policy_table_covers_every_rpc_exactly_once_with_its_shape() -> None:
    expected: dict[str, CallShape] = {}
    for service in _services():
        for method in service.methods:
            shape = {
                (False, False): CallShape.UNARY_UNARY,
                (False, True): CallShape.UNARY_STREAM,
                (True, False): CallShape.STREAM_UNARY,
                (True, True): CallShape.STREAM_STREAM,
            }[(method.client_streaming, method.server_streaming)]
            expected[f"/{service.full_name}/{method.name}"] = shape
    assert {name: p.shape for name, p in _policy.POLICIES.items()} == expected


@pytest.mark.parametrize("policy", list(_policy.POLICIES.values()), ids=list(_policy.POLICIES))
def test_each_policy_is_consistent_with_its_contract(policy: _policy.MethodPolicy[typing.Any, typing.Any]) -> None:
    service_name, method_name = policy.method.strip("/").split("/")
    (service,) = [s for s in _services() if s.full_name == service_name]
    method = service.methods_by_name[method_name]
    assert policy.request_type.DESCRIPTOR is method.input_type
    assert policy.response_type.DESCRIPTOR is method.output_type
    if policy.idempotency is _policy.Idempotency.DEDUPLICATED:
        # Deduplicated means the server can recognise a repeat: the request must carry the id.
        assert "request_id" in method.input_type.fields_by_name
    if policy.idempotency is _policy.Idempotency.READ:
        assert method_name.startswith(("Get", "List", "Search", "Verify")), "a READ must not change state"
    if policy.shape is not CallShape.UNARY_UNARY:
        assert policy.retry is None and not policy.retryable
    else:
        assert policy.retryable == (policy.idempotency is not _policy.Idempotency.UNSAFE)
    assert policy.timeout is None or policy.timeout > 0


def test_a_policy_refuses_a_retry_for_an_unsafe_rpc() -> None:
    with pytest.raises(ValueError, match="not safe to repeat"):
        _policy.MethodPolicy(
            "/x.v1.S/Do",
            CallShape.UNARY_UNARY,
            _policy.Idempotency.UNSAFE,
            _policy.customer.AskRequest,
            _policy.customer.AskResponse,
            1.0,
            _policy.Retry(),
        )


def _client_classes() -> list[tuple[type, ServiceDescriptor, bool]]:
    found = []
    for service in _services():
        found.append((getattr(fintech.client, f"{service.name}Client"), service, True))
        found.append((getattr(fintech.client, f"{service.name}SyncClient"), service, False))
    return found


@pytest.mark.parametrize(
    ("client_class", "service", "is_async"),
    _client_classes(),
    ids=[c.__name__ for c, _, _ in _client_classes()],
)
def test_every_rpc_has_a_typed_keyword_only_method(
    client_class: type, service: ServiceDescriptor, is_async: bool
) -> None:
    assert issubclass(client_class, AsyncServiceClient if is_async else SyncServiceClient)
    public = {n for n, _ in inspect.getmembers(client_class, inspect.isfunction) if not n.startswith("_")}
    expected = {_snake(m.name) for m in service.methods}
    assert public == expected
    for method in service.methods:
        function = getattr(client_class, _snake(method.name))
        signature = inspect.signature(function)
        parameters = list(signature.parameters.values())[1:]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
        streaming = method.client_streaming or method.server_streaming
        expected_names = ["requests" if method.client_streaming else "request", "timeout"]
        expected_names += [] if streaming else ["retry"]
        expected_names += ["metadata", "traceparent"]
        assert [p.name for p in parameters] == expected_names
        hints = typing.get_type_hints(function)
        request_class = _policy.POLICIES[f"/{service.full_name}/{method.name}"].request_type
        response_class = _policy.POLICIES[f"/{service.full_name}/{method.name}"].response_type
        if method.client_streaming:
            accepted = hints["requests"]
            if is_async:
                assert set(typing.get_args(accepted)) == {AsyncIterable[request_class], Iterable[request_class]}
            else:
                assert accepted == Iterable[request_class]
        else:
            assert hints["request"] is request_class
        if method.server_streaming:
            assert typing.get_origin(hints["return"]) is (AsyncIterator if is_async else Iterator)
            assert typing.get_args(hints["return"]) == (response_class,)
        else:
            assert hints["return"] is response_class
            assert inspect.iscoroutinefunction(function) is is_async
        assert function.__doc__, f"{client_class.__name__}.{function.__name__} has no docstring"
