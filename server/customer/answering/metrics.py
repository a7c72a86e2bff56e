"""Prometheus metrics of the answering engine: answers by source, escalations by reason, feedback by rating.

Labels are enums only (never customer data). The satisfaction figure is
``feedback_total{rating="HELPFUL"} / feedback_total``.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter

_BY_REGISTRY: dict[int, CustomerMetrics] = {}


class CustomerMetrics:
    """The counters, registered once per registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.answers = Counter("fintech_customer_answers", "Answers given, by source (APPROVED, GENERATED, HANDOFF).",
                               ["source"], registry=registry)
        self.escalations = Counter("fintech_customer_escalations", "Conversations handed to a person, by reason.",
                                   ["reason"], registry=registry)
        self.feedback = Counter("fintech_customer_feedback", "Feedback received, by rating.", ["rating"],
                                registry=registry)
        self.sentences_blocked = Counter("fintech_customer_sentences_blocked",
                                         "Generated answers withheld by the grounding check.", registry=registry)


def metrics_for(registry: CollectorRegistry | None = None) -> CustomerMetrics:
    """The metrics on ``registry`` (the process default when None), created once."""
    target = registry if registry is not None else REGISTRY
    existing = _BY_REGISTRY.get(id(target))
    if existing is None:
        existing = CustomerMetrics(target)
        _BY_REGISTRY[id(target)] = existing
    return existing
