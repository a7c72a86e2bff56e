"""Domain errors: what engines raise, and what the error-mapping interceptor turns into a status.

Engines never import ``grpc``. They raise one of these; the interceptor in
:mod:`server.runtime.interceptors` maps :class:`ErrorCode` to the canonical gRPC
code and attaches a ``google.rpc.ErrorInfo`` (and ``BadRequest`` or
``RetryInfo`` where they apply). Messages must never contain customer data:
ids only.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


class ErrorCode(enum.Enum):
    """The canonical codes a domain may use (names match ``grpc.StatusCode``)."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    ABORTED = "ABORTED"
    UNAVAILABLE = "UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    UNIMPLEMENTED = "UNIMPLEMENTED"
    INTERNAL = "INTERNAL"


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request (``google.rpc.BadRequest.FieldViolation``)."""

    field: str
    description: str
    reason: str = ""


@dataclass
class DomainError(Exception):
    """Base of every error a domain raises on purpose.

    Attributes:
        message: Safe, human-readable text (no customer data).
        reason: UPPER_SNAKE reason for ``ErrorInfo``, stable for clients to switch on.
        domain: ``ErrorInfo`` domain, for example ``"aml.fintech"``.
        metadata: Extra ``ErrorInfo`` metadata (ids only).
    """

    message: str
    reason: str = "UNSPECIFIED"
    domain: str = "fintech"
    metadata: Mapping[str, str] = field(default_factory=dict)

    code = ErrorCode.INTERNAL

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code.value} {self.reason}: {self.message}"


@dataclass
class InvalidArgument(DomainError):
    """The request is malformed; ``violations`` names each bad field."""

    violations: Sequence[FieldViolation] = ()
    code = ErrorCode.INVALID_ARGUMENT


class NotFound(DomainError):
    """The resource does not exist, or the caller may not see it (never say which)."""

    code = ErrorCode.NOT_FOUND


class AlreadyExists(DomainError):
    """The resource exists, or a request id was reused with another payload."""

    code = ErrorCode.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    """The system is not in a state where this is allowed (an alert already closed)."""

    code = ErrorCode.FAILED_PRECONDITION


class PermissionDenied(DomainError):
    """The caller's role may not do this."""

    code = ErrorCode.PERMISSION_DENIED


class Unauthenticated(DomainError):
    """No usable identity."""

    code = ErrorCode.UNAUTHENTICATED


@dataclass
class ResourceExhausted(DomainError):
    """A quota or queue is full; ``retry_after_seconds`` says when to come back."""

    retry_after_seconds: float = 0.0
    code = ErrorCode.RESOURCE_EXHAUSTED


class Aborted(DomainError):
    """A concurrency conflict; the caller may retry the whole operation."""

    code = ErrorCode.ABORTED


class Unavailable(DomainError):
    """A dependency (database, Milvus, the LLM pool) is down. Say so; never paper over it."""

    code = ErrorCode.UNAVAILABLE


class DeadlineExceeded(DomainError):
    """The caller's deadline ran out."""

    code = ErrorCode.DEADLINE_EXCEEDED


class Unimplemented(DomainError):
    """The RPC exists in the contract but is not implemented yet."""

    code = ErrorCode.UNIMPLEMENTED


_BY_CODE: dict[ErrorCode, type[DomainError]] = {
    ErrorCode.INVALID_ARGUMENT: InvalidArgument,
    ErrorCode.NOT_FOUND: NotFound,
    ErrorCode.ALREADY_EXISTS: AlreadyExists,
    ErrorCode.FAILED_PRECONDITION: FailedPrecondition,
    ErrorCode.PERMISSION_DENIED: PermissionDenied,
    ErrorCode.UNAUTHENTICATED: Unauthenticated,
    ErrorCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    ErrorCode.ABORTED: Aborted,
    ErrorCode.UNAVAILABLE: Unavailable,
    ErrorCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    ErrorCode.UNIMPLEMENTED: Unimplemented,
}


def from_component_error(exc: BaseException) -> DomainError | None:
    """The domain error for a typed error of a gRPC-agnostic component, or None.

    ``inference`` and ``retrieval`` know nothing about gRPC or this module; their errors carry
    ``status_code`` (an :class:`ErrorCode` name), ``reason``, ``domain`` and optionally
    ``metadata`` and ``retry_after_seconds``. This maps them without special cases per type.
    """
    code_name = getattr(exc, "status_code", None)
    if not isinstance(code_name, str) or code_name not in ErrorCode.__members__:
        return None
    cls = _BY_CODE.get(ErrorCode[code_name])
    message = str(getattr(exc, "message", "") or exc)
    reason = str(getattr(exc, "reason", "UNSPECIFIED"))
    domain = str(getattr(exc, "domain", "fintech"))
    metadata = {str(k): str(v) for k, v in dict(getattr(exc, "metadata", {}) or {}).items()}
    if cls is None:
        return _InternalComponentError(message, reason=reason, domain=domain, metadata=metadata)
    if cls is ResourceExhausted:
        retry = float(getattr(exc, "retry_after_seconds", 0.0) or 0.0)
        return ResourceExhausted(message, reason=reason, domain=domain, metadata=metadata, retry_after_seconds=retry)
    return cls(message, reason=reason, domain=domain, metadata=metadata)


class _InternalComponentError(DomainError):
    code = ErrorCode.INTERNAL
