"""Typed errors of the inference pool: what a service sees when the LLM cannot serve it.

The package knows nothing about gRPC. Every error carries ``status_code`` (the name of the
canonical code the servers map it to, the same spelling as
``server.runtime.errors.ErrorCode``), a stable UPPER_SNAKE ``reason`` for ``ErrorInfo`` and
``domain`` ``inference.fintech``; messages hold ids only, never prompt or customer text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

DOMAIN = "inference.fintech"


@dataclass
class InferenceError(Exception):
    """Base of every error this package raises on purpose.

    Attributes:
        message: Safe text (ids only).
        reason: UPPER_SNAKE reason for ``google.rpc.ErrorInfo``.
        metadata: Extra ``ErrorInfo`` metadata (ids, counts).
    """

    message: str
    reason: str = "INFERENCE_ERROR"
    metadata: Mapping[str, str] = field(default_factory=dict)

    status_code = "INTERNAL"
    domain = DOMAIN

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.status_code} {self.reason}: {self.message}"


@dataclass
class InferenceUnavailable(InferenceError):
    """No endpoint of any allowed model group could serve the request (maps to ``UNAVAILABLE``).

    Attributes:
        attempts: One line per attempt made (``group/endpoint: kind``), for logs and audit.
    """

    reason: str = "LLM_UNAVAILABLE"
    attempts: Sequence[str] = ()
    status_code = "UNAVAILABLE"


@dataclass
class InferenceDeadlineExceeded(InferenceError):
    """The caller's deadline ran out before an answer arrived (maps to ``DEADLINE_EXCEEDED``)."""

    reason: str = "LLM_DEADLINE_EXCEEDED"
    attempts: Sequence[str] = ()
    status_code = "DEADLINE_EXCEEDED"


@dataclass
class InferenceStreamInterrupted(InferenceError):
    """A stream broke after its first token; it is never retried (maps to ``UNAVAILABLE``).

    Attributes:
        delivered_chars: How much text the caller already received.
        endpoint_id: The endpoint that was streaming.
    """

    reason: str = "LLM_STREAM_INTERRUPTED"
    delivered_chars: int = 0
    endpoint_id: str = ""
    status_code = "UNAVAILABLE"


@dataclass
class InferenceRejected(InferenceError):
    """An endpoint refused the request itself (a 4xx other than 429): retrying cannot help (``INTERNAL``)."""

    reason: str = "LLM_REQUEST_REJECTED"
    http_status: int = 0
    status_code = "INTERNAL"


@dataclass
class TokenBudgetExceeded(InferenceError):
    """The caller or end customer used its tokens-per-minute budget (maps to ``RESOURCE_EXHAUSTED``).

    Attributes:
        retry_after_seconds: When the budget window frees up (``RetryInfo``).
        scope: ``caller`` or ``customer``.
    """

    reason: str = "TOKEN_BUDGET_EXCEEDED"
    retry_after_seconds: float = 0.0
    scope: str = "caller"
    status_code = "RESOURCE_EXHAUSTED"


@dataclass
class BatchQueueFull(InferenceError):
    """Batch work was shed because the pool is saturated (maps to ``RESOURCE_EXHAUSTED``).

    Attributes:
        retry_after_seconds: A suggested delay before resubmitting.
    """

    reason: str = "LLM_BATCH_QUEUE_FULL"
    retry_after_seconds: float = 1.0
    status_code = "RESOURCE_EXHAUSTED"


@dataclass
class StructuredOutputInvalid(InferenceError):
    """The model's output failed schema validation twice (maps to ``UNAVAILABLE``: the LLM could not serve).

    Attributes:
        raw_outputs: Every raw output received, for the audit record (never for logs).
        validation_errors: Pydantic's error summary per attempt (locations and messages, no input values).
        served_by: ``group/model/endpoint`` of the last attempt.
        prompt_id: ``id@version#digest`` of the prompt template, when one was used.
    """

    reason: str = "LLM_OUTPUT_INVALID"
    raw_outputs: Sequence[str] = ()
    validation_errors: Sequence[str] = ()
    served_by: str = ""
    prompt_id: str = ""
    status_code = "UNAVAILABLE"
