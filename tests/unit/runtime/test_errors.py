"""Domain errors become google.rpc.Status with the canonical code and details."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2

from server.runtime import errors
from server.runtime.interceptors import status_for

CASES = [
    (errors.InvalidArgument("bad", reason="R"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound("gone", reason="R"), grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists("dup", reason="REQUEST_ID_REUSED"), grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition("closed", reason="R"), grpc.StatusCode.FAILED_PRECONDITION),
    (errors.PermissionDenied("no", reason="R"), grpc.StatusCode.PERMISSION_DENIED),
    (errors.Unauthenticated("who", reason="R"), grpc.StatusCode.UNAUTHENTICATED),
    (errors.ResourceExhausted("slow down", reason="R"), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Aborted("conflict", reason="R"), grpc.StatusCode.ABORTED),
    (errors.Unavailable("down", reason="R"), grpc.StatusCode.UNAVAILABLE),
    (errors.DeadlineExceeded("late", reason="R"), grpc.StatusCode.DEADLINE_EXCEEDED),
    (errors.Unimplemented("later", reason="R"), grpc.StatusCode.UNIMPLEMENTED),
]


@pytest.mark.parametrize(("error", "code"), CASES, ids=[c.name for _, c in CASES])
def test_each_domain_error_maps_to_its_canonical_code(error: errors.DomainError, code: grpc.StatusCode) -> None:
    status = status_for(error)
    assert status.code == code.value[0]
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.reason == error.reason


def test_invalid_argument_carries_field_violations() -> None:
    error = errors.InvalidArgument(
        "bad", reason="INVALID_REQUEST", violations=[errors.FieldViolation("loan.amount", "must be positive")]
    )
    bad = error_details_pb2.BadRequest()
    assert status_for(error).details[1].Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [("loan.amount", "must be positive")]


def test_resource_exhausted_carries_retry_delay() -> None:
    error = errors.ResourceExhausted("budget", reason="TOKEN_BUDGET_EXCEEDED", retry_after_seconds=12.5)
    retry = error_details_pb2.RetryInfo()
    assert status_for(error).details[1].Unpack(retry)
    assert retry.retry_delay.seconds == 12 and retry.retry_delay.nanos == 500_000_000


def test_component_errors_map_by_their_status_code() -> None:
    from inference.errors import InferenceUnavailable, TokenBudgetExceeded
    from server.runtime.errors import from_component_error

    unavailable = from_component_error(InferenceUnavailable("no endpoint could serve"))
    assert unavailable is not None and unavailable.code == errors.ErrorCode.UNAVAILABLE
    assert unavailable.reason == "LLM_UNAVAILABLE" and unavailable.domain == "inference.fintech"
    budget = TokenBudgetExceeded("over budget", retry_after_seconds=7.5, scope="caller")
    mapped = from_component_error(budget)
    assert isinstance(mapped, errors.ResourceExhausted) and mapped.retry_after_seconds == 7.5
    assert from_component_error(ValueError("not ours")) is None
