"""Prometheus metrics of the risk service: score drift (PSI) of recent assessments.

Owns :class:`DriftCollector`, a custom collector that computes the population stability index of the
drift monitor's window when the metrics endpoint is scraped (not on every micro-batch of the stream),
and :func:`register_drift`, which puts it on a registry once. Labels carry the model id only, never
applicant data.

Exported:

- ``fintech_risk_score_psi{model_id}``: PSI of the last ``drift_window`` scores against the training
  distribution; NaN until ``drift_min_scores`` scores were seen (as in ``GetModelCard``).
- ``fintech_risk_drift_window_scores{model_id}``: how many scores the PSI is computed from.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from server.risk.drift import ScoreDriftMonitor

PSI_METRIC = "fintech_risk_score_psi"
WINDOW_METRIC = "fintech_risk_drift_window_scores"


class DriftCollector(Collector):
    """Reads the PSI from the service's current drift monitor at scrape time."""

    def __init__(self, monitor: ScoreDriftMonitor, model_id: str) -> None:
        """Watch ``monitor`` (scores of the model ``model_id``)."""
        self.monitor = monitor
        self.model_id = model_id

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The PSI (NaN while too few scores were seen) and the window size."""
        psi = self.monitor.psi()
        value = GaugeMetricFamily(
            PSI_METRIC,
            "Population stability index of recent risk scores against the training distribution "
            "(< 0.1 stable, 0.1-0.25 watch, > 0.25 shifted); NaN until enough scores were seen.",
            labels=["model_id"],
        )
        value.add_metric([self.model_id], math.nan if psi is None else psi)
        yield value
        window = GaugeMetricFamily(WINDOW_METRIC, "Recent risk scores the PSI is computed from.", labels=["model_id"])
        window.add_metric([self.model_id], float(len(self.monitor)))
        yield window


_BY_REGISTRY: dict[int, DriftCollector] = {}


def register_drift(
    monitor: ScoreDriftMonitor, model_id: str, registry: CollectorRegistry | None = None
) -> DriftCollector:
    """Export ``monitor``'s PSI on ``registry`` (the process default when None).

    A registry gets one collector; building the service again (a restart in the same process, tests)
    points that collector at the newest monitor instead of registering the names twice.
    """
    target = registry if registry is not None else REGISTRY
    collector = _BY_REGISTRY.get(id(target))
    if collector is None:
        collector = DriftCollector(monitor, model_id)
        target.register(collector)
        _BY_REGISTRY[id(target)] = collector
    else:
        collector.monitor = monitor
        collector.model_id = model_id
    return collector
