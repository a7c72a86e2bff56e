"""Drift (PSI) and the model card."""

from __future__ import annotations

import math

import numpy as np
import pytest

from server.risk.data import development_rows, load_credit_data
from server.risk.drift import ScoreDriftMonitor, population_stability_index
from server.risk.engine import RiskEngine
from server.risk.model_card import build_model_card
from server.risk.train import feature_rows

EDGES = [float(e) for e in range(10, 100, 10)]
SHARES = [0.1] * 10


def test_psi_is_zero_for_the_reference_distribution_and_grows_with_shift() -> None:
    same = np.arange(0.5, 100, 1.0)
    assert population_stability_index(EDGES, SHARES, same) == pytest.approx(0.0, abs=1e-12)
    small = population_stability_index(EDGES, SHARES, same + 3)
    large = population_stability_index(EDGES, SHARES, same + 30)
    assert 0 < small < 0.1 < large
    # Everything in one bin: large but finite (empty bins are floored).
    assert math.isfinite(population_stability_index(EDGES, SHARES, [5.0] * 50))


def test_psi_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        population_stability_index(EDGES, SHARES[:-1], [1.0])
    with pytest.raises(ValueError):
        population_stability_index(EDGES, SHARES, [])


def test_monitor_says_nothing_until_it_has_enough_scores() -> None:
    monitor = ScoreDriftMonitor(EDGES, SHARES, window=200, min_scores=100)
    monitor.observe(np.arange(0.5, 50, 1.0))
    assert monitor.psi() is None
    monitor.observe(np.arange(50.5, 100, 1.0))
    assert monitor.psi() == pytest.approx(0.0, abs=1e-12)
    monitor.observe([95.0] * 200)  # the window keeps only the last 200
    assert len(monitor) == 200
    psi = monitor.psi()
    assert psi is not None and psi > 1


def test_training_scores_have_no_drift_against_their_own_reference(engine: RiskEngine) -> None:
    reference = engine.scorecard.training["score_distribution"]
    data = load_credit_data()
    development = data.subset(development_rows(data))
    scores = engine.scorecard.score_batch(feature_rows(development)).total_cp / 100
    assert population_stability_index(reference["edges"], reference["shares"], scores) < 0.01
    # Applicants under 25 are a shifted population: the index notices.
    young = scores[development.age < 25]
    assert population_stability_index(reference["edges"], reference["shares"], young) > 0.1
    monitor = ScoreDriftMonitor.for_scorecard(engine.scorecard, window=1000, min_scores=100)
    monitor.observe(scores.tolist())
    psi = monitor.psi()
    assert psi is not None and psi < 0.01


def test_model_card_reports_what_a_reviewer_needs(engine: RiskEngine) -> None:
    card = build_model_card(engine.scorecard, engine.policy, psi=0.03)
    assert card.model_id == engine.scorecard.model_id
    assert card.rule_set_version == engine.policy.version
    protocols = {(m.name, m.protocol.split()[0]) for m in card.metrics}
    assert {("AUC", "cv-5x3"), ("GINI", "cv-5x3"), ("KS", "cv-5x3"), ("AUC", "holdout")} <= protocols
    auc = next(m for m in card.metrics if m.name == "AUC" and m.protocol.startswith("cv"))
    assert 0.70 < auc.mean < 0.85 and 0 < auc.std < 0.1
    excluded = " ".join(card.excluded_attributes)
    assert "personal_status_and_sex" in excluded and "foreign_worker" in excluded
    assert all("personal_status" not in f and "foreign" not in f for f in card.features)
    assert card.population_stability_index == 0.03
    assert card.training_time.tzinfo is not None
    assert card.limitations and card.intended_use
