"""Logs, metrics and traces of the server process.

- Logs are JSON lines; every line carries the request id and W3C trace id of
  the RPC it was written in (a logging filter reads them from context).
- Metrics are Prometheus, served on their own HTTP port; labels hold RPC
  names and status codes, never customer data.
- Every RPC is an OpenTelemetry span; a caller's ``traceparent`` is honoured.
  Spans are exported over OTLP only when an endpoint is configured.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from server.runtime.config import Settings

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("fintech_request_id", default="")

# Attributes a log record has by default; anything else was passed in ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def current_trace_id() -> str:
    """Hex trace id of the active span, or empty."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else ""


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with request and trace ids and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "trace_id": current_trace_id(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send every log line to stderr as JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class RpcMetrics:
    """Per-method and per-status-code RPC metrics, in their own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "fintech_rpc_requests",
            "RPCs handled, by method and status code.",
            ["method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "fintech_rpc_duration_seconds",
            "RPC handling time, by method.",
            ["method"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "fintech_rpc_in_flight", "RPCs being handled, by method.", ["method"], registry=self.registry
        )
        self.auth_failures = Counter(
            "fintech_rpc_auth_failures",
            "Calls refused by authentication or authorisation.",
            ["reason"],
            registry=self.registry,
        )

    def serve(self, host: str, port: int) -> int:
        """Serve ``/metrics`` over HTTP; returns the bound port."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(server.server_port)


def configure_tracing(settings: Settings) -> TracerProvider:
    """Install the tracer provider; export over OTLP only when configured."""
    provider = TracerProvider(resource=Resource.create({"service.name": settings.tracing.service_name}))
    if settings.tracing.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.tracing.otlp_endpoint)))
    # The global provider can be set once per process; later calls keep the first.
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)
    return provider
