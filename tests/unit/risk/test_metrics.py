"""The PSI exported as a Prometheus metric."""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry, generate_latest

from server.risk.drift import ScoreDriftMonitor, population_stability_index
from server.risk.metrics import PSI_METRIC, WINDOW_METRIC, register_drift

EDGES = [float(e) for e in range(10, 100, 10)]
SHARES = [0.1] * 10


def test_the_psi_metric_follows_the_monitor_and_is_nan_until_enough_scores() -> None:
    registry = CollectorRegistry()
    monitor = ScoreDriftMonitor(EDGES, SHARES, window=100, min_scores=20)
    register_drift(monitor, "model-a", registry)
    labels = {"model_id": "model-a"}

    assert math.isnan(registry.get_sample_value(PSI_METRIC, labels) or 0.0)
    monitor.observe([5.0 + 10 * i for i in range(10)])  # 10 scores, one per bin: not enough yet
    assert math.isnan(registry.get_sample_value(PSI_METRIC, labels) or 0.0)
    assert registry.get_sample_value(WINDOW_METRIC, labels) == 10

    shifted = [95.0] * 30  # everything in the top bin: a large shift
    monitor.observe(shifted)
    expected = population_stability_index(EDGES, SHARES, [5.0 + 10 * i for i in range(10)] + shifted)
    value = registry.get_sample_value(PSI_METRIC, labels)
    assert value is not None and value > 0.25
    assert math.isclose(value, expected)
    assert f'{PSI_METRIC}{{model_id="model-a"}}' in generate_latest(registry).decode()


def test_building_again_on_the_same_registry_points_the_metric_at_the_new_monitor() -> None:
    registry = CollectorRegistry()
    old = ScoreDriftMonitor(EDGES, SHARES, window=100, min_scores=1)
    old.observe([95.0] * 10)
    register_drift(old, "model-a", registry)
    new = ScoreDriftMonitor(EDGES, SHARES, window=100, min_scores=1)
    new.observe([5.0 + 10 * i for i in range(10)])  # exactly the reference: PSI 0
    register_drift(new, "model-b", registry)  # no "Duplicated timeseries" error
    assert registry.get_sample_value(PSI_METRIC, {"model_id": "model-b"}) == 0.0
    assert registry.get_sample_value(PSI_METRIC, {"model_id": "model-a"}) is None
