"""Decoding a failed call into the SDK's exceptions: every code, unknown codes, rich and missing details."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import fintech.client as sdk
import grpc
import pytest
from fintech.client._errors import error_class_for, from_rpc_error
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

FAMILIES = {
    grpc.StatusCode.INVALID_ARGUMENT: sdk.InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: sdk.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: sdk.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: sdk.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: sdk.FailedPrecondition,
    grpc.StatusCode.ABORTED: sdk.Aborted,
    grpc.StatusCode.PERMISSION_DENIED: sdk.PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: sdk.Unauthenticated,
    grpc.StatusCode.RESOURCE_EXHAUSTED: sdk.ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: sdk.Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: sdk.DeadlineExceeded,
    grpc.StatusCode.INTERNAL: sdk.Internal,
    grpc.StatusCode.DATA_LOSS: sdk.Internal,
    grpc.StatusCode.UNIMPLEMENTED: sdk.Unimplemented,
    grpc.StatusCode.UNKNOWN: sdk.UnknownError,
    grpc.StatusCode.CANCELLED: sdk.UnknownError,
    grpc.StatusCode.OK: sdk.UnknownError,
}


class FinishedCall(grpc.RpcError):
    """The data of a finished, failed call, shaped as grpc hands it to the SDK (code, details, trailers)."""

    def __init__(self, code: Any, details: str | None, trailers: tuple[tuple[str, Any], ...] | None = ()) -> None:
        self._code, self._details, self._trailers = code, details, trailers

    def code(self) -> Any:
        return self._code

    def details(self) -> str | None:
        return self._details

    def trailing_metadata(self) -> tuple[tuple[str, Any], ...] | None:
        return self._trailers


def _packed(*messages: Any) -> list[any_pb2.Any]:
    result = []
    for message in messages:
        item = any_pb2.Any()
        item.Pack(message)
        result.append(item)
    return result


def _trailers(code: int, message: str, *details: Any) -> tuple[tuple[str, bytes], ...]:
    status = status_pb2.Status(code=code, message=message, details=_packed(*details))
    return (("grpc-status-details-bin", status.SerializeToString()),)


def test_every_status_code_has_a_family() -> None:
    assert set(FAMILIES) == set(grpc.StatusCode)
    for code, family in FAMILIES.items():
        assert error_class_for(code) is family
        assert issubclass(family, sdk.FintechError)


@pytest.mark.parametrize("code", [42, None, "UNAVAILABLE", -1])
def test_unknown_codes_are_the_generic_error(code: object) -> None:
    assert error_class_for(code) is sdk.UnknownError
    error = from_rpc_error(FinishedCall(code, "odd"))
    assert type(error) is sdk.UnknownError
    assert error.code is grpc.StatusCode.UNKNOWN
    assert error.message == "odd"


@pytest.mark.parametrize("code", [c for c in grpc.StatusCode if c is not grpc.StatusCode.OK], ids=lambda c: c.name)
def test_rich_details_are_decoded_for_every_code(code: grpc.StatusCode) -> None:
    delay = duration_pb2.Duration(seconds=2, nanos=500_000_000)
    trailers = _trailers(
        code.value[0],
        "boom",
        error_details_pb2.ErrorInfo(reason="ALERT_CLOSED", domain="aml.fintech", metadata={"alert_id": "a1"}),
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field="alert_id", description="too long", reason="MAX_LEN")
            ]
        ),
        error_details_pb2.BadRequest(
            field_violations=[error_details_pb2.BadRequest.FieldViolation(field="status", description="unknown")]
        ),
        error_details_pb2.RetryInfo(retry_delay=delay),
        error_details_pb2.DebugInfo(detail="ignored"),
    )
    error = from_rpc_error(
        FinishedCall(code, "boom", trailers),
        method="/fintech.aml.v1.AMLService/UpdateAlert",
        request_id="r1",
        attempts=3,
    )
    assert type(error) is FAMILIES[code]
    assert (error.code, error.message, error.reason, error.domain) == (code, "boom", "ALERT_CLOSED", "aml.fintech")
    assert dict(error.metadata) == {"alert_id": "a1"}
    assert error.field_violations == (
        sdk.FieldViolation("alert_id", "too long", "MAX_LEN"),
        sdk.FieldViolation("status", "unknown", ""),
    )
    assert error.retry_delay == timedelta(seconds=2.5)
    assert (error.method, error.request_id, error.attempts) == ("/fintech.aml.v1.AMLService/UpdateAlert", "r1", 3)
    assert str(error) == f"{code.name} ALERT_CLOSED: boom [alert_id: too long; status: unknown]"
    with pytest.raises(TypeError):
        error.metadata["x"] = "y"  # type: ignore[index]


def test_no_details_leave_the_fields_empty() -> None:
    error = from_rpc_error(FinishedCall(grpc.StatusCode.NOT_FOUND, "gone", None))
    assert type(error) is sdk.NotFound
    assert (error.reason, error.domain, dict(error.metadata), error.field_violations, error.retry_delay) == (
        "",
        "",
        {},
        (),
        None,
    )
    assert str(error) == "NOT_FOUND: gone"


def test_a_trailer_disagreeing_with_the_transport_keeps_the_transport_code_and_still_reads_details() -> None:
    trailers = _trailers(
        grpc.StatusCode.INTERNAL.value[0], "other text", error_details_pb2.ErrorInfo(reason="R", domain="d")
    )
    error = from_rpc_error(FinishedCall(grpc.StatusCode.UNAVAILABLE, "proxy said so", trailers))
    assert type(error) is sdk.Unavailable
    assert (error.message, error.reason) == ("proxy said so", "R")


def test_a_garbled_trailer_does_not_hide_the_error() -> None:
    error = from_rpc_error(
        FinishedCall(grpc.StatusCode.INTERNAL, "x", (("grpc-status-details-bin", b"\xff\xff not a proto"),))
    )
    assert type(error) is sdk.Internal
    assert error.reason == ""
