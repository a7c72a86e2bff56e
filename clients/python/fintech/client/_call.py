"""The call helper every RPC passes through: deadline, metadata, request id, retry, error conversion.

:class:`AsyncCaller` (``grpc.aio``) and :class:`SyncCaller` (``grpc``) differ only
in how they wait and iterate; the decisions (which timeout and retry apply, the
request id, the metadata, whether and how long to pause before another attempt)
are made once, in :class:`_CallPlanner`, so both flavours behave identically.
"""

from __future__ import annotations

import asyncio
import random as _random
import re
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, cast

import grpc

from fintech.client._errors import from_rpc_error
from fintech.client._options import DEFAULT, DefaultType, Metadata, MetadataValue, Retry, validate_timeout
from fintech.client._policy import MethodPolicy, RequestT, ResponseT

REQUEST_ID_HEADER = "x-request-id"
TRACEPARENT_HEADER = "traceparent"
_REQUEST_ID_FIELD = "request_id"
# W3C Trace Context, version 00 layout; later versions may append fields, which we pass through.
_TRACEPARENT = re.compile(
    r"^(?P<version>[0-9a-f]{2})-(?P<trace>[0-9a-f]{32})-(?P<parent>[0-9a-f]{16})-[0-9a-f]{2}(-.*)?$"
)

Clock = Callable[[], float]
RandomSource = Callable[[], float]

# Stub multicallables are untyped (grpc ships no annotations); the policy carries the message types.
StubMethod = Callable[..., Any]


def check_traceparent(value: str) -> str:
    """Return ``value`` if it is a valid W3C ``traceparent`` header, else raise ``ValueError``."""
    match = _TRACEPARENT.match(value)
    if (
        match is None
        or match["version"] == "ff"
        or (match["version"] == "00" and len(value) != 55)
        or set(match["trace"]) == {"0"}
        or set(match["parent"]) == {"0"}
    ):
        raise ValueError(f"traceparent is not a valid W3C trace context header: {value!r}")
    return value


def _normalise_metadata(metadata: Metadata, what: str) -> list[tuple[str, MetadataValue]]:
    items = list(metadata.items()) if hasattr(metadata, "items") else list(metadata)
    result: list[tuple[str, MetadataValue]] = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise TypeError(f"{what} must be a mapping or a sequence of (key, value) pairs, got {item!r}")
        key, value = item
        if not isinstance(value, str | bytes):
            raise TypeError(f"{what}[{key!r}] must be str or bytes, got {type(value).__name__}")
        # HTTP/2 header names are lower case; gRPC rejects anything else at send time with a vaguer error.
        result.append((key.lower(), value))
    return result


@dataclass(frozen=True)
class _Plan(Generic[RequestT]):
    """Everything one call (all of its attempts) sends."""

    request: RequestT
    metadata: tuple[tuple[str, MetadataValue], ...]
    request_id: str
    timeout: float | None
    retry: Retry | None


class _CallPlanner:
    """Decisions shared by the async and sync callers."""

    def __init__(self, *, metadata: Metadata, clock: Clock, random: RandomSource) -> None:
        self._metadata = tuple(_normalise_metadata(metadata, "metadata"))
        self.clock = clock
        self._random = random

    def plan(
        self,
        policy: MethodPolicy[RequestT, ResponseT],
        request: RequestT | None,
        *,
        timeout: float | DefaultType | None,
        retry: Retry | DefaultType | None,
        metadata: Metadata,
        traceparent: str | None,
    ) -> _Plan[RequestT]:
        if timeout is DEFAULT:
            resolved_timeout = policy.timeout
        else:
            validate_timeout(timeout)
            resolved_timeout = timeout
        if retry is DEFAULT:
            resolved_retry = policy.retry
        elif retry is None or isinstance(retry, Retry):
            if retry is not None and not policy.retryable:
                raise ValueError(
                    f"{policy.method} is not safe to retry ({policy.shape.value}, {policy.idempotency.value})"
                )
            resolved_retry = retry
        else:
            raise TypeError(f"retry must be a Retry, None or DEFAULT, got {type(retry).__name__}")

        call_metadata = [*self._metadata, *_normalise_metadata(metadata, "metadata")]
        if traceparent is not None:
            if any(key == TRACEPARENT_HEADER for key, _ in call_metadata):
                raise ValueError("traceparent given both as an argument and in metadata")
            call_metadata.append((TRACEPARENT_HEADER, check_traceparent(traceparent)))

        if request is not None and _REQUEST_ID_FIELD in request.DESCRIPTOR.fields_by_name:
            if not getattr(request, _REQUEST_ID_FIELD):
                # Copy rather than mutate: a caller reusing one message as a template must
                # not have two different operations deduplicated into one.
                filled = type(request)()
                filled.CopyFrom(request)
                setattr(filled, _REQUEST_ID_FIELD, str(uuid.uuid4()))
                request = filled
            header_id = str(getattr(request, _REQUEST_ID_FIELD))
        else:
            header_id = str(uuid.uuid4())
        given = [value for key, value in call_metadata if key == REQUEST_ID_HEADER]
        if given:
            header_id = given[0] if isinstance(given[0], str) else given[0].decode("ascii", "replace")
        else:
            call_metadata.append((REQUEST_ID_HEADER, header_id))
        return _Plan(
            request=cast(RequestT, request),
            metadata=tuple(call_metadata),
            request_id=header_id,
            timeout=resolved_timeout,
            retry=resolved_retry,
        )

    def check_request(self, policy: MethodPolicy[RequestT, ResponseT], request: object) -> RequestT:
        if not isinstance(request, policy.request_type):
            raise TypeError(
                f"{policy.name} takes a {policy.request_type.DESCRIPTOR.full_name}, got {type(request).__name__}"
            )
        return request

    def deadline(self, plan: _Plan[Any]) -> float | None:
        return None if plan.timeout is None else self.clock() + plan.timeout

    def remaining(self, deadline: float | None) -> float | None:
        return None if deadline is None else max(deadline - self.clock(), 0.0)

    def pause_before_retry(
        self, error: grpc.RpcError, retry: Retry | None, attempt: int, deadline: float | None
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up now."""
        if retry is None or attempt >= retry.max_attempts:
            return None
        code = error.code() if callable(getattr(error, "code", None)) else None
        if code != grpc.StatusCode.UNAVAILABLE:
            return None
        pause = self._random() * retry.backoff_ceiling(attempt)  # full jitter
        if deadline is not None and self.clock() + pause >= deadline:
            # Another attempt could not start before the overall deadline: report the real failure now.
            return None
        return pause


def _error(error: grpc.RpcError, policy: MethodPolicy[Any, Any], plan: _Plan[Any], attempts: int) -> Exception:
    return from_rpc_error(error, method=policy.method, request_id=plan.request_id, attempts=attempts)


class AsyncCaller:
    """Runs calls on ``grpc.aio`` stubs."""

    def __init__(
        self,
        *,
        metadata: Metadata = (),
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: RandomSource = _random.random,
    ) -> None:
        self._planner = _CallPlanner(metadata=metadata, clock=clock, random=random)
        self._sleep = sleep

    async def unary_unary(
        self,
        policy: MethodPolicy[RequestT, ResponseT],
        stub_method: StubMethod,
        request: RequestT,
        *,
        timeout: float | DefaultType | None,
        retry: Retry | DefaultType | None,
        metadata: Metadata,
        traceparent: str | None,
    ) -> ResponseT:
        request = self._planner.check_request(policy, request)
        plan = self._planner.plan(
            policy, request, timeout=timeout, retry=retry, metadata=metadata, traceparent=traceparent
        )
        deadline = self._planner.deadline(plan)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await stub_method(
                    plan.request, timeout=self._planner.remaining(deadline), metadata=plan.metadata
                )
            except grpc.RpcError as error:
                pause = self._planner.pause_before_retry(error, plan.retry, attempt, deadline)
                if pause is None:
                    raise _error(error, policy, plan, attempt) from error
                await self._sleep(pause)
            else:
                return cast(ResponseT, response)

    def unary_stream(
        self,
        policy: MethodPolicy[RequestT, ResponseT],
        stub_method: StubMethod,
        request: RequestT,
        *,
        timeout: float | DefaultType | None,
        retry: Retry | DefaultType | None,
        metadata: Metadata,
        traceparent: str | None,
    ) -> AsyncIterator[ResponseT]:
        request = self._planner.check_request(policy, request)
        plan = self._planner.plan(
            policy, request, timeout=timeout, retry=retry, metadata=metadata, traceparent=traceparent
        )
        return self._responses(policy, plan, stub_method(plan.request, timeout=plan.timeout, metadata=plan.metadata))

    async def stream_unary(
        self,
        policy: MethodPolicy[RequestT, ResponseT],
        stub_method: StubMethod,
        requests: AsyncIterable[RequestT] | Iterable[RequestT],
        *,
        timeout: float | DefaultType | None,
        retry: Retry | DefaultType | None,
        metadata: Metadata,
        traceparent: str | None,
    ) -> ResponseT:
        plan = self._planner.plan(
            policy, None, timeout=timeout, retry=retry, metadata=metadata, traceparent=traceparent
        )
        try:
            response = await stub_method(requests, timeout=plan.timeout, metadata=plan.metadata)
        except grpc.RpcError as error:
            raise _error(error, policy, plan, 1) from error
        return cast(ResponseT, response)

    def stream_stream(
        self,
        policy: MethodPolicy[RequestT, ResponseT],
        stub_method: StubMethod,
        requests: AsyncIterable[RequestT] | Iterable[RequestT],
        *,
        timeout: float | DefaultType | None,
        retry: Retry | DefaultType | None,
        metadata: Metadata,
        traceparent: str | None,
    ) -> AsyncIterator[ResponseT]:
        plan = self._planner.plan(
            policy, None, timeout=timeout, retry=retry, metadata=metadata, traceparent=traceparent
        )
        return self._responses(policy, plan, stub_method(requests, timeout=plan.timeout, metadata=plan.metadata))

    async def _responses(
        self, policy: MethodPolicy[Any, ResponseT], plan: _Plan[Any], call: Any
    ) -> AsyncIterator[ResponseT]:
        try:
            async for response in call:
                yield cast(ResponseT, response)
        except grpc.RpcError as error:
            raise _error(error, policy, plan, 1) from error
        finally:
            # A no-op once the stream ended; stops the server's work when the caller stops early.
            call.cancel()


class SyncCaller:
    """Runs calls on blocking ``grpc`` stubs."""

    def __init__(
        self,
        *,
        metadata: Metadata = (),
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random: RandomSource = _random.random,
    ) -> None:
        self._planner = _CallPlanner(metadata=metadata, clock=clock, random=random)
        self._sleep = sleep

    def unary_unary(
        self,
        policy: MethodPolicy[RequestT, ResponseT],
        stub_method: StubMethod,
        request: RequestT,
        *,
        timeout: float | DefaultType | None,
        retry: Retry | DefaultType | None,
        metadata: Metadata,
        traceparent: str | None,
    ) -> ResponseT:
        request = self._planner.check_request(policy, request)
        plan = self._planner.plan(
            policy, request, timeout=timeout, retry=retry, metadata=metadata, traceparent=traceparent
        )
        deadline = self._planner.deadline(plan)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = stub_method(plan.request, timeout=self._planner.remaining(deadline), metadata=plan.metadata)
            except grpc.RpcError as error:
                pause = self._planner.pause_before_retry(error, plan.retry, attempt, deadline)
                if pause is None:
                    raise _error(error, policy, plan, attempt) from error
                self._sleep(pause)
            else:
                return cast(ResponseT, response)

    def unary_stream(
        self,
        policy: MethodPolicy[RequestT, ResponseT],
        stub_method: StubMethod,
        request: RequestT,
        *,
        timeout: float | DefaultType | None,
        retry: Retry | DefaultType | None,
        metadata: Metadata,
        traceparent: str | None,
    ) -> Iterator[ResponseT]:
        request = self._planner.check_request(policy, request)
        plan = self._planner.plan(
            policy, request, timeout=timeout, retry=retry, metadata=metadata, traceparent=traceparent
        )
        return self._responses(policy, plan, stub_method(plan.request, timeout=plan.timeout, metadata=plan.metadata))

    def stream_unary(
        self,
        policy: MethodPolicy[RequestT, ResponseT],
        stub_method: StubMethod,
        requests: Iterable[RequestT],
        *,
        timeout: float | DefaultType | None,
        retry: Retry | DefaultType | None,
        metadata: Metadata,
        traceparent: str | None,
    ) -> ResponseT:
        plan = self._planner.plan(
            policy, None, timeout=timeout, retry=retry, metadata=metadata, traceparent=traceparent
        )
        try:
            response = stub_method(iter(requests), timeout=plan.timeout, metadata=plan.metadata)
        except grpc.RpcError as error:
            raise _error(error, policy, plan, 1) from error
        return cast(ResponseT, response)

    def stream_stream(
        self,
        policy: MethodPolicy[RequestT, ResponseT],
        stub_method: StubMethod,
        requests: Iterable[RequestT],
        *,
        timeout: float | DefaultType | None,
        retry: Retry | DefaultType | None,
        metadata: Metadata,
        traceparent: str | None,
    ) -> Iterator[ResponseT]:
        plan = self._planner.plan(
            policy, None, timeout=timeout, retry=retry, metadata=metadata, traceparent=traceparent
        )
        return self._responses(policy, plan, stub_method(iter(requests), timeout=plan.timeout, metadata=plan.metadata))

    def _responses(self, policy: MethodPolicy[Any, ResponseT], plan: _Plan[Any], call: Any) -> Iterator[ResponseT]:
        try:
            for response in call:
                yield cast(ResponseT, response)
        except grpc.RpcError as error:
            raise _error(error, policy, plan, 1) from error
        finally:
            call.cancel()
