"""Prometheus metrics of the inference pool, per endpoint and model group.

Labels are ids only (group name, endpoint id, error kind), never prompt text or customer ids.
One :class:`InferenceMetrics` exists per registry, so several pools in one process share it.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

_BY_REGISTRY: dict[int, InferenceMetrics] = {}

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class InferenceMetrics:
    """The pool's counters and histograms."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "fintech_inference_requests",
            "Attempts sent to an endpoint, by outcome.",
            ["group", "endpoint", "outcome"],
            registry=registry,
        )
        self.errors = Counter(
            "fintech_inference_errors",
            "Failed attempts by kind (connect, timeout, http_5xx, http_429, "
            "malformed, stream_cut, first_token_timeout, rejected).",
            ["group", "endpoint", "kind"],
            registry=registry,
        )
        self.retries = Counter(
            "fintech_inference_retries",
            "Attempts retried on another endpoint, by the failure that caused it.",
            ["group", "kind"],
            registry=registry,
        )
        self.ejections = Counter(
            "fintech_inference_ejections", "Outlier ejections.", ["group", "endpoint"], registry=registry
        )
        self.fallbacks = Counter(
            "fintech_inference_fallbacks",
            "Requests served by a group other than the one asked for.",
            ["requested_group", "served_group"],
            registry=registry,
        )
        self.unavailable = Counter(
            "fintech_inference_unavailable",
            "Requests that no endpoint could serve, by reason.",
            ["group", "reason"],
            registry=registry,
        )
        self.shed = Counter(
            "fintech_inference_shed",
            "Requests refused by admission control.",
            ["priority", "reason"],
            registry=registry,
        )
        self.budget_rejections = Counter(
            "fintech_inference_budget_rejections",
            "Requests refused for an exhausted token budget.",
            ["scope"],
            registry=registry,
        )
        self.tokens = Counter(
            "fintech_inference_tokens",
            "Tokens in (prompt) and out (completion).",
            ["group", "endpoint", "direction"],
            registry=registry,
        )
        self.ttft = Histogram(
            "fintech_inference_time_to_first_token_seconds",
            "Time to the first streamed token.",
            ["group", "endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.latency = Histogram(
            "fintech_inference_latency_seconds",
            "Latency of successful attempts.",
            ["group", "endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )


def metrics_for(registry: CollectorRegistry | None = None) -> InferenceMetrics:
    """The metrics registered on ``registry`` (the process default when None), created once."""
    target = registry if registry is not None else REGISTRY
    existing = _BY_REGISTRY.get(id(target))
    if existing is None:
        existing = InferenceMetrics(target)
        _BY_REGISTRY[id(target)] = existing
    return existing
