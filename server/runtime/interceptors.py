"""The server's interceptor chain, outermost first.

request id → tracing → access log → metrics → authentication and authorisation
→ validation → error mapping. Each is small and tested on its own; they share
per-call state through context variables (one asyncio task per RPC).

gRPC's asyncio interceptors can only wrap method handlers, so every
interceptor here implements two hooks, ``unary`` (one response) and
``stream`` (an async generator of responses), and :class:`ChainInterceptor`
wraps each handler once per method and caches the result: the per-call cost is
the hooks themselves, not re-wrapping.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import protovalidate
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from server.runtime import identity
from server.runtime.errors import (
    DomainError,
    ErrorCode,
    FieldViolation,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    from_component_error,
)
from server.runtime.identity import Caller
from server.runtime.observability import RpcMetrics, request_id_var
from server.runtime.policy import RolePolicy
from server.runtime.security import RevocationList, peer_certificate

log = logging.getLogger("fintech.rpc")
access_log = logging.getLogger("fintech.access")

CallNext = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]
StreamNext = Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[Any]]

# Invocation metadata of the current call as a dict (first value per key), read once.
_NO_METADATA: dict[str, str] = {}
metadata_var: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar(
    "fintech_metadata",
    default=_NO_METADATA,  # never mutated: a fresh dict is set per call
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STATUS_DETAILS = "grpc-status-details-bin"


# ---------------------------------------------------------------------------
# Turning domain errors into statuses.


def status_for(error: DomainError) -> status_pb2.Status:
    """The ``google.rpc.Status`` for a domain error (ErrorInfo, BadRequest, RetryInfo)."""
    code = grpc.StatusCode[error.code.name]
    status = status_pb2.Status(code=code.value[0], message=error.message)
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=error.domain, metadata=dict(error.metadata))
    status.details.add().Pack(info)
    if isinstance(error, InvalidArgument) and error.violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description, reason=v.reason)
                for v in error.violations
            ]
        )
        status.details.add().Pack(bad)
    if isinstance(error, ResourceExhausted) and error.retry_after_seconds > 0:
        seconds = int(error.retry_after_seconds)
        nanos = int((error.retry_after_seconds - seconds) * 1e9)
        status.details.add().Pack(
            error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=seconds, nanos=nanos))
        )
    return status


async def abort_with(context: grpc.aio.ServicerContext, error: DomainError) -> None:
    """Abort the call with ``error`` as a rich status; never returns."""
    status = status_for(error)
    trailing: list[tuple[str, str | bytes]] = [(_STATUS_DETAILS, status.SerializeToString())]
    rid = request_id_var.get()
    if rid:
        trailing.append(("x-request-id", rid))
    await context.abort(grpc.StatusCode[error.code.name], error.message, trailing_metadata=tuple(trailing))


def call_code(context: grpc.aio.ServicerContext) -> str:
    """The status code name a finished call ended with."""
    code = context.code()
    if code is None:
        return "OK"
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    try:
        return str(code_pb2.Code.Name(int(code)))
    except ValueError:
        return str(code)


# ---------------------------------------------------------------------------
# The wrapping machinery.


class ChainInterceptor(grpc.aio.ServerInterceptor):
    """Base class: implement ``unary`` and ``stream``; wrapping and caching are done here."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], grpc.RpcMethodHandler] = {}

    async def unary(self, call_next: CallNext, request: Any, context: grpc.aio.ServicerContext, method: str) -> Any:
        """Around a call with one response (unary-unary and stream-unary)."""
        return await call_next(request, context)

    async def stream(
        self, call_next: StreamNext, request: Any, context: grpc.aio.ServicerContext, method: str
    ) -> AsyncIterator[Any]:
        """Around a call with a stream of responses (unary-stream and stream-stream)."""
        async for response in call_next(request, context):
            yield response

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        key = (handler_call_details.method, id(handler))
        wrapped = self._cache.get(key)
        if wrapped is None:
            wrapped = self._wrap(handler, handler_call_details.method)
            self._cache[key] = wrapped
        return wrapped

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        if handler.unary_unary or handler.stream_unary:
            inner = handler.unary_unary or handler.stream_unary
            call_next = _as_unary(inner)

            async def unary_behavior(request: Any, context: grpc.aio.ServicerContext) -> Any:
                return await self.unary(call_next, request, context, method)

            factory = (
                grpc.unary_unary_rpc_method_handler if handler.unary_unary else grpc.stream_unary_rpc_method_handler
            )
            return factory(
                unary_behavior,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        inner = handler.unary_stream or handler.stream_stream
        stream_next = _as_stream(inner)

        async def stream_behavior(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async for response in self.stream(stream_next, request, context, method):
                yield response

        factory = (
            grpc.unary_stream_rpc_method_handler if handler.unary_stream else grpc.stream_stream_rpc_method_handler
        )
        return factory(
            stream_behavior,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _as_unary(behavior: Callable[..., Any]) -> CallNext:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        result = behavior(request, context)
        if inspect.isawaitable(result):
            result = await result
        return result

    return call


def _as_stream(behavior: Callable[..., Any]) -> StreamNext:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        result = behavior(request, context)
        if inspect.isawaitable(result):
            # A servicer that writes with context.write() returns nothing.
            result = await result
        if result is None:
            return
        if hasattr(result, "__aiter__"):
            async for item in result:
                yield item
        else:
            for item in result:
                yield item

    return call


# ---------------------------------------------------------------------------
# The chain.


class RequestIdInterceptor(ChainInterceptor):
    """Takes the caller's ``x-request-id`` (or makes one) and reads the metadata once."""

    def _begin(self, context: grpc.aio.ServicerContext) -> None:
        metadata: dict[str, str] = {}
        for key, value in context.invocation_metadata() or ():
            if key not in metadata and isinstance(value, str):
                metadata[key] = value
        metadata_var.set(metadata)
        rid = metadata.get("x-request-id", "")
        request_id_var.set(rid if _REQUEST_ID.match(rid) else uuid.uuid4().hex)

    async def unary(self, call_next: CallNext, request: Any, context: grpc.aio.ServicerContext, method: str) -> Any:
        self._begin(context)
        return await call_next(request, context)

    async def stream(
        self, call_next: StreamNext, request: Any, context: grpc.aio.ServicerContext, method: str
    ) -> AsyncIterator[Any]:
        self._begin(context)
        async for response in call_next(request, context):
            yield response


class TracingInterceptor(ChainInterceptor):
    """One OpenTelemetry server span per RPC, continuing the caller's ``traceparent``."""

    def __init__(self) -> None:
        super().__init__()
        self._tracer = trace.get_tracer("fintech.server")

    def _start(self, method: str) -> Any:
        parent = propagate.extract(metadata_var.get())
        service, _, rpc = method.lstrip("/").partition("/")
        return self._tracer.start_as_current_span(
            method.lstrip("/"),
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": rpc},
            record_exception=False,
            set_status_on_exception=False,
        )

    @staticmethod
    def _finish(span: trace.Span, context: grpc.aio.ServicerContext) -> None:
        code = call_code(context)
        span.set_attribute("rpc.grpc.status_code", code)
        if code not in ("OK", "CANCELLED", "INVALID_ARGUMENT", "NOT_FOUND", "PERMISSION_DENIED", "ALREADY_EXISTS"):
            span.set_status(Status(StatusCode.ERROR, code))

    async def unary(self, call_next: CallNext, request: Any, context: grpc.aio.ServicerContext, method: str) -> Any:
        with self._start(method) as span:
            try:
                return await call_next(request, context)
            finally:
                self._finish(span, context)

    async def stream(
        self, call_next: StreamNext, request: Any, context: grpc.aio.ServicerContext, method: str
    ) -> AsyncIterator[Any]:
        with self._start(method) as span:
            try:
                async for response in call_next(request, context):
                    yield response
            finally:
                self._finish(span, context)


class AccessLogInterceptor(ChainInterceptor):
    """One JSON line per RPC: method, status code, duration, caller role. No payloads."""

    def __init__(self, enabled: bool = True) -> None:
        super().__init__()
        self._enabled = enabled

    def _log(self, method: str, context: grpc.aio.ServicerContext, started: float) -> None:
        if not self._enabled:
            return
        caller = identity._current.get()
        access_log.info(
            "rpc",
            extra={
                "rpc": method,
                "code": call_code(context),
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "caller": caller.principal if caller else "",
                "role": caller.role if caller else "",
            },
        )

    async def unary(self, call_next: CallNext, request: Any, context: grpc.aio.ServicerContext, method: str) -> Any:
        started = time.perf_counter()
        try:
            return await call_next(request, context)
        finally:
            self._log(method, context, started)

    async def stream(
        self, call_next: StreamNext, request: Any, context: grpc.aio.ServicerContext, method: str
    ) -> AsyncIterator[Any]:
        started = time.perf_counter()
        try:
            async for response in call_next(request, context):
                yield response
        finally:
            self._log(method, context, started)


class MetricsInterceptor(ChainInterceptor):
    """Counts RPCs by method and status code and times them."""

    def __init__(self, metrics: RpcMetrics) -> None:
        super().__init__()
        self._metrics = metrics

    def _done(self, method: str, context: grpc.aio.ServicerContext, started: float) -> None:
        self._metrics.requests.labels(method, call_code(context)).inc()
        self._metrics.latency.labels(method).observe(time.perf_counter() - started)
        self._metrics.in_flight.labels(method).dec()

    async def unary(self, call_next: CallNext, request: Any, context: grpc.aio.ServicerContext, method: str) -> Any:
        started = time.perf_counter()
        self._metrics.in_flight.labels(method).inc()
        try:
            return await call_next(request, context)
        finally:
            self._done(method, context, started)

    async def stream(
        self, call_next: StreamNext, request: Any, context: grpc.aio.ServicerContext, method: str
    ) -> AsyncIterator[Any]:
        started = time.perf_counter()
        self._metrics.in_flight.labels(method).inc()
        try:
            async for response in call_next(request, context):
                yield response
        finally:
            self._done(method, context, started)


def _xfcc_uri(header: str) -> str:
    """The URI of the last element of an ``x-forwarded-client-cert`` header (Envoy's format)."""
    last = header.split(",")[-1]
    for part in last.split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "uri":
            return value.strip().strip('"')
    return ""


class AuthInterceptor(ChainInterceptor):
    """Authenticates the peer certificate, applies forwarded identity, checks the role policy."""

    def __init__(
        self,
        policy: RolePolicy,
        *,
        trust_domain: str,
        envoy_identity: str,
        console_identity: str,
        revocations: RevocationList | None = None,
        metrics: RpcMetrics | None = None,
    ) -> None:
        super().__init__()
        self._policy = policy
        self._trust_domain = trust_domain
        self._envoy = envoy_identity
        self._console = console_identity
        self._revocations = revocations
        self._metrics = metrics

    def _refuse(self, error: DomainError) -> DomainError:
        if self._metrics is not None:
            self._metrics.auth_failures.labels(error.reason).inc()
        return error

    def authenticate(self, context: grpc.aio.ServicerContext, method: str) -> Caller:
        """Work out the caller and check that it may call ``method``.

        Raises:
            Unauthenticated: no usable certificate, a foreign or revoked one.
            PermissionDenied: the role may not call ``method``.
        """
        cert = peer_certificate(context)
        if cert is None:
            raise self._refuse(Unauthenticated("a client certificate is required", reason="NO_CLIENT_CERTIFICATE"))
        if self._revocations is not None and self._revocations.is_revoked(cert.serial):
            raise self._refuse(Unauthenticated("the client certificate is revoked", reason="CERTIFICATE_REVOKED"))
        peer = next((u for u in cert.uris if identity.role_of(u, self._trust_domain)), "")
        peer_role = identity.role_of(peer, self._trust_domain) if peer else None
        if not peer_role:
            raise self._refuse(
                Unauthenticated("the client certificate has no identity in this trust domain", reason="NO_IDENTITY")
            )
        caller = Caller(peer=peer, peer_role=peer_role, role=peer_role, principal=peer)
        if self._policy.is_public(method):
            # Health and reflection: any authenticated peer in its own name (Envoy's health checks too).
            identity.set_caller(caller)
            return caller
        metadata = metadata_var.get()
        # Forwarded identity is honoured only from the two trusted forwarders; ignored from anyone else.
        if peer == self._envoy:
            downstream = _xfcc_uri(metadata.get(identity.FORWARDED_CLIENT_CERT, ""))
            downstream_role = identity.role_of(downstream, self._trust_domain) if downstream else None
            if not downstream_role:
                raise self._refuse(
                    Unauthenticated("no downstream identity forwarded by the edge", reason="NO_FORWARDED_IDENTITY")
                )
            customer = metadata.get(identity.ON_BEHALF_OF_CUSTOMER, "")
            caller = Caller(
                peer=peer,
                peer_role=peer_role,
                role=downstream_role,
                principal=f"customer:{customer}" if customer else downstream,
                customer_id=customer,
                forwarded_by="envoy",
            )
        elif peer == self._console:
            staff = metadata.get(identity.ON_BEHALF_OF_STAFF, "")
            staff_role = metadata.get(identity.ON_BEHALF_OF_STAFF_ROLE, "")
            if staff and staff_role in identity.STAFF_ROLES:
                caller = Caller(
                    peer=peer,
                    peer_role=peer_role,
                    role=staff_role,
                    principal=f"staff:{staff}",
                    staff_id=staff,
                    forwarded_by="console",
                )
        # Bound before the policy check so that a refusal is logged with who was refused.
        identity.set_caller(caller)
        if not self._policy.allows(caller.role, method):
            raise self._refuse(
                PermissionDenied(
                    f"role {caller.role!r} may not call {method.lstrip('/')}",
                    reason="ROLE_NOT_ALLOWED",
                    metadata={"role": caller.role, "rpc": method.lstrip("/")},
                )
            )
        return caller

    async def unary(self, call_next: CallNext, request: Any, context: grpc.aio.ServicerContext, method: str) -> Any:
        try:
            caller = self.authenticate(context, method)
        except DomainError as error:
            await abort_with(context, error)
        identity.set_caller(caller)
        return await call_next(request, context)

    async def stream(
        self, call_next: StreamNext, request: Any, context: grpc.aio.ServicerContext, method: str
    ) -> AsyncIterator[Any]:
        try:
            caller = self.authenticate(context, method)
        except DomainError as error:
            await abort_with(context, error)
        identity.set_caller(caller)
        async for response in call_next(request, context):
            yield response


def field_path(violation: Any) -> str:
    """``applicant.monthly_income.currency_code`` / ``transactions[3].amount`` from a protovalidate violation."""
    parts: list[str] = []
    path = violation.proto.field
    if path is None:  # a message-level rule (CEL on the message itself)
        return ""
    for element in path.elements:
        name = element.field_name
        subscript = getattr(element, "subscript", None)
        if subscript is not None and getattr(subscript, "field", None):
            value = subscript.value
            name += f"[{value!r}]" if subscript.field == "string_key" else f"[{value}]"
        parts.append(name)
    return ".".join(parts)


def violations_of(message: Any) -> list[FieldViolation]:
    """Every rule in the ``.proto`` that ``message`` breaks, as field violations."""
    result = []
    for violation in protovalidate.collect_violations(message):
        proto = violation.proto
        path = field_path(violation)
        result.append(
            FieldViolation(
                field=path or proto.rule_id, description=proto.message or proto.rule_id, reason=proto.rule_id
            )
        )
    return result


def check_message(message: Any) -> None:
    """Raise InvalidArgument naming every bad field of ``message`` (for servicers validating stream items)."""
    violations = violations_of(message)
    if violations:
        names = ", ".join(v.field for v in violations)
        raise InvalidArgument(
            f"invalid request: {names}", reason="INVALID_REQUEST", violations=violations, domain="fintech"
        )


class ValidationInterceptor(ChainInterceptor):
    """Enforces the rules written in the ``.proto`` on every unary request.

    Streamed requests are validated item by item by their servicers with
    :func:`check_message`, because a bad item of a batch gets a per-item error
    while the stream goes on.
    """

    async def unary(self, call_next: CallNext, request: Any, context: grpc.aio.ServicerContext, method: str) -> Any:
        if not hasattr(request, "__aiter__"):
            try:
                check_message(request)
            except InvalidArgument as error:
                await abort_with(context, error)
        return await call_next(request, context)

    async def stream(
        self, call_next: StreamNext, request: Any, context: grpc.aio.ServicerContext, method: str
    ) -> AsyncIterator[Any]:
        if not hasattr(request, "__aiter__"):
            try:
                check_message(request)
            except InvalidArgument as error:
                await abort_with(context, error)
        async for response in call_next(request, context):
            yield response


class ErrorMappingInterceptor(ChainInterceptor):
    """Domain errors become their canonical code with ErrorInfo; anything unexpected becomes INTERNAL."""

    async def _map(self, context: grpc.aio.ServicerContext, exc: BaseException, method: str) -> None:
        if isinstance(exc, DomainError):
            await abort_with(context, exc)
        component = from_component_error(exc)
        if component is not None:
            await abort_with(context, component)
        if isinstance(exc, NotImplementedError):
            await abort_with(
                context,
                _Unimplemented(f"{method.lstrip('/')} is not implemented yet", reason="NOT_IMPLEMENTED"),
            )
        log.exception("unexpected error in %s", method.lstrip("/"), exc_info=exc)
        await abort_with(
            context, _Internal(f"internal error (request id {request_id_var.get()})", reason="INTERNAL_ERROR")
        )

    async def unary(self, call_next: CallNext, request: Any, context: grpc.aio.ServicerContext, method: str) -> Any:
        try:
            return await call_next(request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await self._map(context, exc, method)

    async def stream(
        self, call_next: StreamNext, request: Any, context: grpc.aio.ServicerContext, method: str
    ) -> AsyncIterator[Any]:
        try:
            async for response in call_next(request, context):
                yield response
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await self._map(context, exc, method)


class _Unimplemented(DomainError):
    code = ErrorCode.UNIMPLEMENTED


class _Internal(DomainError):
    code = ErrorCode.INTERNAL
