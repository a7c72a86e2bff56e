"""Start-up, serving and graceful shutdown of one server process.

One process hosts any subset of the services (``server.services``), so each
can be scaled on its own. It listens only with mTLS, runs the interceptor
chain, serves ``grpc.health.v1`` per service plus reflection, exposes
Prometheus metrics on a separate port, and on SIGTERM marks everything
NOT_SERVING, stops accepting calls and lets in-flight calls finish within the
grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from server.runtime.config import Settings
from server.runtime.context import AppContext, ServiceBinding
from server.runtime.interceptors import (
    AccessLogInterceptor,
    AuthInterceptor,
    ErrorMappingInterceptor,
    MetricsInterceptor,
    RequestIdInterceptor,
    TracingInterceptor,
    ValidationInterceptor,
)
from server.runtime.observability import RpcMetrics, configure_tracing
from server.runtime.policy import load_policy
from server.runtime.registry import SERVICES, build_service
from server.runtime.security import ReloadingServerCredentials, RevocationList

log = logging.getLogger(__name__)

HEALTH_SERVICE = "grpc.health.v1.Health"
EXTERNAL_RPCS = (
    f"{HEALTH_SERVICE}/Check",
    f"{HEALTH_SERVICE}/Watch",
    "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
)


def server_options(settings: Settings) -> list[tuple[str, int]]:
    """Channel arguments: message size limits and keepalive."""
    s = settings.server
    return [
        ("grpc.max_receive_message_length", s.max_message_bytes),
        ("grpc.max_send_message_length", s.max_message_bytes),
        ("grpc.keepalive_time_ms", s.keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", s.keepalive_timeout_ms),
        ("grpc.http2.min_ping_interval_without_data_ms", s.min_client_ping_interval_ms),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.max_concurrent_streams", s.max_concurrent_streams),
        ("grpc.so_reuseport", 0),
    ]


def build_interceptors(
    settings: Settings, metrics: RpcMetrics, revocations: RevocationList | None
) -> list[grpc.aio.ServerInterceptor]:
    """The chain, outermost first."""
    policy = load_policy(settings.auth.policy_file, known_external=EXTERNAL_RPCS)
    return [
        RequestIdInterceptor(),
        TracingInterceptor(),
        AccessLogInterceptor(enabled=settings.logging.access_log),
        MetricsInterceptor(metrics),
        AuthInterceptor(
            policy,
            trust_domain=settings.auth.trust_domain,
            envoy_identity=settings.auth.envoy_identity,
            console_identity=settings.auth.console_identity,
            revocations=revocations,
            metrics=metrics,
        ),
        ValidationInterceptor(),
        ErrorMappingInterceptor(),
    ]


class HealthBoard:
    """The serving state of every service in this process: ``grpc.health.v1`` plus why, for OperationsService."""

    def __init__(self, servicer: health.aio.HealthServicer) -> None:
        self.servicer = servicer
        self._states: dict[str, tuple[bool, str]] = {}

    async def set(self, service: str, serving: bool, detail: str = "") -> None:
        """Record and publish one service's state."""
        self._states[service] = (serving, detail)
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        await self.servicer.set(service, status)

    def states(self) -> dict[str, tuple[bool, str]]:
        """Service name → (serving, detail)."""
        return dict(self._states)


@dataclass
class RunningServer:
    """A started server and what it needs for shutdown."""

    server: grpc.aio.Server
    port: int
    metrics_port: int
    health: health.aio.HealthServicer
    board: HealthBoard
    bindings: list[ServiceBinding]
    context: AppContext
    credentials: ReloadingServerCredentials
    _readiness_task: asyncio.Task[None] | None = None
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING first, then stop accepting, then let in-flight calls finish within ``grace``."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._readiness_task is not None:
            self._readiness_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._readiness_task
        await self.health.enter_graceful_shutdown()
        grace = self.context.settings.server.grace_seconds if grace is None else grace
        log.info("shutting down", extra={"grace_seconds": grace})
        await self.server.stop(grace)
        for binding in self.bindings:
            if binding.close is not None:
                await binding.close()
        for closer in reversed(self.context.closers):
            await closer()

    async def wait(self) -> None:
        """Until the server has stopped."""
        await self.server.wait_for_termination()


async def _watch_readiness(running: RunningServer, interval: float = 5.0) -> None:
    """Turn a service NOT_SERVING while its dependencies fail, and back when they recover."""
    while True:
        for binding in running.bindings:
            if binding.readiness is None:
                continue
            try:
                problem = await binding.readiness()
            except Exception as exc:  # a probe that raises is a failing dependency
                problem = f"readiness probe failed: {type(exc).__name__}"
            await running.board.set(binding.full_name, problem is None, problem or "")
        await running.context.clock.sleep(interval)


async def start_server(
    ctx: AppContext,
    *,
    extra_bindings: Sequence[ServiceBinding] = (),
    metrics: RpcMetrics | None = None,
) -> RunningServer:
    """Build and start a server hosting ``ctx.settings.server.services``.

    Args:
        ctx: Settings and shared resources.
        extra_bindings: Additional services (used by tests to host a slow servicer).
        metrics: The RPC metrics (default: on the context's ``metrics_registry``, where the inference pool
            and the domains register theirs, or a fresh registry).
    """
    settings = ctx.settings
    configure_tracing(settings)
    metrics = metrics or RpcMetrics(ctx.resources.get("metrics_registry"))
    revocations = (
        RevocationList(settings.tls.crl_file, settings.tls.ca_file, settings.tls.reload_interval_seconds)
        if settings.tls.crl_file
        else None
    )
    server = grpc.aio.server(
        interceptors=build_interceptors(settings, metrics, revocations),
        options=server_options(settings),
        maximum_concurrent_rpcs=None,
    )
    health_servicer = health.aio.HealthServicer()
    board = HealthBoard(health_servicer)
    # OperationsService reports the health of the services hosted beside it.
    ctx.resources["health"] = board
    bindings = [await build_service(SERVICES[name], ctx) for name in settings.server.services]
    bindings += list(extra_bindings)
    for binding in bindings:
        binding.add_to_server(binding.servicer, server)

    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for binding in bindings:
        await board.set(binding.full_name, True)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        [b.full_name for b in bindings] + [HEALTH_SERVICE, reflection.SERVICE_NAME], server
    )

    credentials = ReloadingServerCredentials(settings.tls)
    port = server.add_secure_port(f"{settings.server.host}:{settings.server.port}", credentials.credentials())
    if port == 0:
        raise OSError(f"cannot listen on {settings.server.host}:{settings.server.port}")
    metrics_port = metrics.serve(settings.server.metrics_host, settings.server.metrics_port)
    await server.start()
    running = RunningServer(server, port, metrics_port, health_servicer, board, bindings, ctx, credentials)
    if any(b.readiness for b in bindings):
        running._readiness_task = asyncio.create_task(_watch_readiness(running))
    log.info(
        "serving",
        extra={"port": port, "metrics_port": metrics_port, "services": [b.full_name for b in bindings]},
    )
    return running


async def serve_forever(
    ctx: AppContext, *, ready_file: str | None = None, extra_bindings: Sequence[ServiceBinding] = ()
) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully."""
    running = await start_server(ctx, extra_bindings=extra_bindings)
    if ready_file:
        # Tests and `make run` read the bound ports from here.
        await asyncio.to_thread(Path(ready_file).write_text, f"{running.port} {running.metrics_port}\n")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.stop()
