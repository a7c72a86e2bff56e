"""Reproducibility of the committed artefact: retraining gives the same model within tolerance."""

from __future__ import annotations

import json

import pytest

from server.risk.scorecard import DEFAULT_ARTEFACT
from server.risk.train import train

POINTS_TOLERANCE_CP = 2  # 0.02 points
METRIC_TOLERANCE = 0.002


@pytest.fixture(scope="module")
def retrained() -> tuple[dict, dict]:
    return train(with_cv=False)


def test_retraining_reproduces_the_committed_artefact(retrained: tuple[dict, dict]) -> None:
    committed = json.loads(DEFAULT_ARTEFACT.read_text())
    document, _ = retrained
    new_features = {f["name"]: f for f in document["model"]["features"]}
    old_features = {f["name"]: f for f in committed["model"]["features"]}
    assert new_features.keys() == old_features.keys()
    for name, old in old_features.items():
        new = new_features[name]
        assert new.get("splits") == old.get("splits"), name
        assert [b.get("categories") for b in new["bins"]] == [b.get("categories") for b in old["bins"]], name
        for a, b in zip(new["bins"], old["bins"], strict=True):
            assert abs(a["points_cp"] - b["points_cp"]) <= POINTS_TOLERANCE_CP, name
    for metric in ("auc", "gini", "ks"):
        assert document["training"]["metrics"]["holdout"][metric] == pytest.approx(
            committed["training"]["metrics"]["holdout"][metric], abs=METRIC_TOLERANCE
        )


def test_the_report_covers_holdout_calibration_and_proxies(retrained: tuple[dict, dict]) -> None:
    _, report = retrained
    assert report["holdout"]["count"] == 300
    assert 0.70 < report["holdout"]["auc"] < 0.85
    bands = report["calibration"]["holdout_by_risk_band"]
    assert [b["band"] for b in bands] == ["LOW", "MEDIUM", "HIGH"]
    assert sum(b["count"] for b in bands) == 300
    rates = [b["observed_default_rate"] for b in bands]
    assert rates == sorted(rates)  # calibrated bands rank risk
    assert set(report["proxies"]["cramers_v_by_feature"]["housing"]) == {
        "sex",
        "personal_status",
        "foreign_worker",
        "age_band",
    }
