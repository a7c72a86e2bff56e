"""Prometheus metrics of the AML service: the screening-state checkpoints written off the stream's path.

Owns :class:`CheckpointCollector`, read at scrape time from the service's current
:class:`~server.aml.monitor.TransactionMonitor`: checkpoints published and failed (a failure is also
logged; the next micro-batch retries), whether one is in flight, and the last one's duration.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from server.aml.monitor import TransactionMonitor

CHECKPOINTS_METRIC = "fintech_aml_state_checkpoints"
IN_FLIGHT_METRIC = "fintech_aml_state_checkpoint_in_flight"
LAST_SECONDS_METRIC = "fintech_aml_state_checkpoint_last_seconds"


class CheckpointCollector(Collector):
    """Reads the checkpoint counters of the service's monitor at scrape time."""

    def __init__(self, monitor: TransactionMonitor) -> None:
        """Watch ``monitor``."""
        self.monitor = monitor

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        """Checkpoints by outcome, the in-flight flag and the last checkpoint's wall seconds."""
        counts = CounterMetricFamily(
            CHECKPOINTS_METRIC,
            "Screening-state checkpoints written in the background, by outcome (failed ones are logged and retried).",
            labels=["outcome"],
        )
        counts.add_metric(["published"], float(self.monitor.checkpoints_written))
        counts.add_metric(["failed"], float(self.monitor.checkpoint_failures))
        yield counts
        yield GaugeMetricFamily(
            IN_FLIGHT_METRIC,
            "1 while a screening-state checkpoint is being written.",
            value=float(self.monitor.checkpoint_in_flight),
        )
        yield GaugeMetricFamily(
            LAST_SECONDS_METRIC,
            "Wall seconds of the last published checkpoint (serialise, write parts, publish).",
            value=self.monitor.last_checkpoint_seconds,
        )


_BY_REGISTRY: dict[int, CheckpointCollector] = {}


def register_checkpoints(monitor: TransactionMonitor, registry: CollectorRegistry | None = None) -> CheckpointCollector:
    """Export ``monitor``'s checkpoint figures on ``registry`` (the process default when None).

    A registry gets one collector; building the service again (a restart in the same process, tests)
    points it at the newest monitor instead of registering the names twice.
    """
    target = registry if registry is not None else REGISTRY
    collector = _BY_REGISTRY.get(id(target))
    if collector is None:
        collector = CheckpointCollector(monitor)
        target.register(collector)
        _BY_REGISTRY[id(target)] = collector
    else:
        collector.monitor = monitor
    return collector
