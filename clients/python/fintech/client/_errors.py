"""The SDK's exceptions and their decoding from a failed gRPC call.

Every failed RPC raises a subclass of :class:`FintechError`, chosen by the
status code's family, raised ``from`` the original ``grpc.RpcError``. The rich
details the server attaches (``google.rpc.Status`` in the
``grpc-status-details-bin`` trailer: ``ErrorInfo``, ``BadRequest``,
``RetryInfo``) are decoded into plain attributes so callers never touch protobuf
``Any`` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

# The trailer that carries a serialized google.rpc.Status.
_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request (``google.rpc.BadRequest.FieldViolation``).

    Attributes:
        field: Path of the field, for example ``"applicant.income.units"``.
        description: Why it is bad.
        reason: Machine-readable rule id, empty when the server gave none.
    """

    field: str
    description: str
    reason: str = ""


class FintechError(Exception):
    """A call to the platform failed.

    Attributes:
        code: The canonical gRPC status code.
        message: The server's status message (never customer data).
        reason: ``ErrorInfo.reason`` (UPPER_SNAKE), empty when the server sent none.
        domain: ``ErrorInfo.domain``, for example ``"aml.fintech"``.
        metadata: ``ErrorInfo.metadata`` (read-only).
        field_violations: Every bad field from ``google.rpc.BadRequest``.
        retry_delay: ``RetryInfo.retry_delay``: how long the server asks the caller to wait.
        method: The full gRPC method name, for example ``"/fintech.aml.v1.AMLService/GetAlert"``.
        request_id: The ``x-request-id`` the call carried (the same on every attempt).
        attempts: How many attempts were made before giving up.
    """

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode,
        reason: str = "",
        domain: str = "",
        metadata: Mapping[str, str] | None = None,
        field_violations: tuple[FieldViolation, ...] = (),
        retry_delay: timedelta | None = None,
        method: str = "",
        request_id: str = "",
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason
        self.domain = domain
        self.metadata: Mapping[str, str] = MappingProxyType(dict(metadata or {}))
        self.field_violations = field_violations
        self.retry_delay = retry_delay
        self.method = method
        self.request_id = request_id
        self.attempts = attempts

    def __str__(self) -> str:
        head = f"{self.code.name}"
        if self.reason:
            head += f" {self.reason}"
        text = f"{head}: {self.message}" if self.message else head
        if self.field_violations:
            text += " [" + "; ".join(f"{v.field}: {v.description}" for v in self.field_violations) + "]"
        return text


class InvalidArgument(FintechError):
    """The request is malformed (``INVALID_ARGUMENT``, ``OUT_OF_RANGE``); see ``field_violations``."""


class NotFound(FintechError):
    """The resource does not exist or the caller may not see it (``NOT_FOUND``)."""


class AlreadyExists(FintechError):
    """The resource already exists (``ALREADY_EXISTS``)."""


class FailedPrecondition(FintechError):
    """The resource is not in a state that allows the operation (``FAILED_PRECONDITION``)."""


class Aborted(FintechError):
    """A concurrent change conflicted; retry the whole read-modify-write (``ABORTED``)."""


class PermissionDenied(FintechError):
    """The caller's identity may not call this RPC (``PERMISSION_DENIED``)."""


class Unauthenticated(FintechError):
    """The caller could not be identified (``UNAUTHENTICATED``)."""


class ResourceExhausted(FintechError):
    """A quota or rate limit was hit (``RESOURCE_EXHAUSTED``); see ``retry_delay``."""


class Unavailable(FintechError):
    """The service could not be reached or is shedding load (``UNAVAILABLE``)."""


class DeadlineExceeded(FintechError):
    """The deadline passed before the call finished (``DEADLINE_EXCEEDED``)."""


class Internal(FintechError):
    """The server failed unexpectedly (``INTERNAL``, ``DATA_LOSS``)."""


class Unimplemented(FintechError):
    """The server does not implement this RPC (yet) (``UNIMPLEMENTED``)."""


class UnknownError(FintechError):
    """Any other status: ``UNKNOWN``, ``CANCELLED`` or a code this SDK does not know."""


_BY_CODE: Mapping[grpc.StatusCode, type[FintechError]] = MappingProxyType(
    {
        grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
        grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
        grpc.StatusCode.NOT_FOUND: NotFound,
        grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
        grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
        grpc.StatusCode.ABORTED: Aborted,
        grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
        grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
        grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
        grpc.StatusCode.UNAVAILABLE: Unavailable,
        grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
        grpc.StatusCode.INTERNAL: Internal,
        grpc.StatusCode.DATA_LOSS: Internal,
        grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    }
)


def error_class_for(code: object) -> type[FintechError]:
    """The exception class for a status code; :class:`UnknownError` for anything unmapped."""
    if isinstance(code, grpc.StatusCode):
        return _BY_CODE.get(code, UnknownError)
    return UnknownError


def _rich_status(error: grpc.RpcError) -> status_pb2.Status | None:
    """The ``google.rpc.Status`` of a failed call, or None when the server attached none."""
    try:
        # Works for both grpc.RpcError (a grpc.Call) and grpc.aio.AioRpcError, whose
        # code()/details()/trailing_metadata() are plain methods on the finished call.
        status: status_pb2.Status | None = rpc_status.from_call(error)
        return status
    except ValueError:
        # The trailer disagrees with the transport status (a proxy rewrote one of them).
        # The transport code stays authoritative; the details are still worth reading.
        for key, value in error.trailing_metadata() or ():
            if key == _DETAILS_KEY and isinstance(value, bytes):
                return status_pb2.Status.FromString(value)
        return None
    except Exception:
        return None


@dataclass
class _Details:
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] | None = None
    field_violations: tuple[FieldViolation, ...] = ()
    retry_delay: timedelta | None = None


def _decode_details(details: list[any_pb2.Any]) -> _Details:
    decoded = _Details()
    violations: list[FieldViolation] = []
    for item in details:
        if item.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            item.Unpack(info)
            decoded.reason, decoded.domain, decoded.metadata = info.reason, info.domain, dict(info.metadata)
        elif item.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            item.Unpack(bad)
            violations += [FieldViolation(v.field, v.description, v.reason) for v in bad.field_violations]
        elif item.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            item.Unpack(retry)
            decoded.retry_delay = retry.retry_delay.ToTimedelta()
    decoded.field_violations = tuple(violations)
    return decoded


def from_rpc_error(error: grpc.RpcError, *, method: str = "", request_id: str = "", attempts: int = 1) -> FintechError:
    """Convert a failed gRPC call into the matching :class:`FintechError` subclass.

    Args:
        error: The ``grpc.RpcError`` (or ``grpc.aio.AioRpcError``) the stub raised.
        method: The full method name, kept on the exception for diagnostics.
        request_id: The ``x-request-id`` the call carried.
        attempts: How many attempts were made.

    Returns:
        The exception to raise (``from error``).
    """
    call: Any = error
    code = call.code() if callable(getattr(call, "code", None)) else None
    message = call.details() if callable(getattr(call, "details", None)) else None
    status = _rich_status(error) if callable(getattr(call, "trailing_metadata", None)) else None
    details = _decode_details(list(status.details)) if status is not None else _Details()
    cls = error_class_for(code)
    return cls(
        message if isinstance(message, str) else (status.message if status is not None else ""),
        code=code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN,
        reason=details.reason,
        domain=details.domain,
        metadata=details.metadata,
        field_violations=details.field_violations,
        retry_delay=details.retry_delay,
        method=method,
        request_id=request_id,
        attempts=attempts,
    )
