"""Evaluate the committed credit scorecard on the fixed hold-out split: ``python eval/risk.py``.

Writes ``eval/results/risk.json``:

* discrimination on the fixed hold-out rows (index mod 10 in {2, 5, 8}; never used in training):
  AUC, Gini, KS, with a 95 % bootstrap interval (1,000 resamples, seed 7);
* decision counts from the scorecard's cut-offs and the near-cut-off REFER rule
  (the affordability and bureau rules need income and bureau fields the 1970s
  data does not have, so they cannot be evaluated here);
* fairness, measured and never used as inputs: approval rate and its ratio to
  the most-approved group (the four-fifths rule flags < 0.8), AUC and observed
  default rate, by sex, by sex-and-marital status, by ``foreign_worker`` and by
  age band; on the hold-out and, for larger groups, on all 1,000 rows (which
  include the training rows, so those AUCs are optimistic).

The data path follows ``FINTECH_SHARED_DATA`` when set, else ``../shared/data``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from server.risk.data import HOLDOUT_DESCRIPTION, CreditData, holdout_rows, load_credit_data  # noqa: E402
from server.risk.domain import Recommendation  # noqa: E402
from server.risk.engine import RiskEngine  # noqa: E402
from server.risk.train import discrimination, feature_rows  # noqa: E402

RESULTS = REPO_ROOT / "eval" / "results" / "risk.json"
BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 7
AGE_BANDS = ((0, 25, "under 25"), (25, 35, "25-34"), (35, 50, "35-49"), (50, 65, "50-64"), (65, 200, "65+"))


def _age_band(age: NDArray[np.float64]) -> NDArray[np.object_]:
    out = np.empty(age.shape, dtype=object)
    for low, high, label in AGE_BANDS:
        out[(age >= low) & (age < high)] = label
    return out


def _bootstrap(bad: NDArray[np.int64], pd: NDArray[np.float64]) -> dict[str, list[float]]:
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    samples: dict[str, list[float]] = {"auc": [], "gini": [], "ks": []}
    for _ in range(BOOTSTRAP_SAMPLES):
        index = rng.integers(0, bad.size, bad.size)
        if bad[index].min() == bad[index].max():
            continue
        for name, value in discrimination(bad[index], pd[index]).items():
            samples[name].append(value)
    return {
        name: [round(float(np.quantile(v, 0.025)), 4), round(float(np.quantile(v, 0.975)), 4)]
        for name, v in samples.items()
    }


def _fairness(
    groups: NDArray[np.object_], bad: NDArray[np.int64], pd: NDArray[np.float64], decisions: list[Recommendation]
) -> dict[str, Any]:
    approved = np.asarray([d is Recommendation.APPROVE for d in decisions])
    rows: dict[str, dict[str, Any]] = {}
    for group in sorted({str(g) for g in groups}):
        mask = groups == group
        labels = bad[mask]
        auc = None
        if labels.min() != labels.max():
            auc = round(discrimination(labels, pd[mask])["auc"], 4)
        rows[group] = {
            "count": int(mask.sum()),
            "approval_rate": round(float(approved[mask].mean()), 4),
            "observed_default_rate": round(float(labels.mean()), 4),
            "mean_pd": round(float(pd[mask].mean()), 4),
            "auc": auc,
        }
    best = max(row["approval_rate"] for row in rows.values())
    for row in rows.values():
        row["approval_rate_ratio"] = round(row["approval_rate"] / best, 4) if best > 0 else None
        row["four_fifths_flag"] = bool(best > 0 and row["approval_rate"] / best < 0.8)
        row["small_group"] = row["count"] < 30
    return rows


def evaluate_split(engine: RiskEngine, data: CreditData) -> dict[str, Any]:
    """Discrimination, decisions and fairness of the engine's scorecard on ``data``."""
    batch = engine.scorecard.score_batch(feature_rows(data))
    pd = engine.scorecard.probability_of_default(batch.total_cp)
    decisions = [engine.scorecard_outcome(int(cp)) for cp in batch.total_cp]
    plain = [engine.scorecard_outcome(int(cp), near_cutoff_refers=False) for cp in batch.total_cp]
    metrics = {k: round(v, 4) for k, v in discrimination(data.bad, pd).items()}
    counts = {r.value: sum(d is r for d in decisions) for r in Recommendation}
    default_by_decision = {
        r.value: (round(float(data.bad[[d is r for d in decisions]].mean()), 4) if counts[r.value] else None)
        for r in Recommendation
    }
    return {
        "rows": len(data),
        "default_rate": round(float(data.bad.mean()), 4),
        **metrics,
        "decision_counts": counts,
        "decision_counts_without_near_cutoff_rule": {r.value: sum(d is r for d in plain) for r in Recommendation},
        "observed_default_rate_by_decision": default_by_decision,
        "fairness": {
            "sex": _fairness(data.sex, data.bad, pd, decisions),
            "personal_status_and_sex": _fairness(data.personal_status, data.bad, pd, decisions),
            "foreign_worker": _fairness(data.foreign_worker, data.bad, pd, decisions),
            "age_band": _fairness(_age_band(data.age), data.bad, pd, decisions),
        },
    }


def main() -> int:
    """Run the evaluation, write the results and print the headline figures."""
    engine = RiskEngine.from_files()
    data = load_credit_data()
    holdout = data.subset(holdout_rows(data))
    result: dict[str, Any] = {
        "model_id": engine.scorecard.model_id,
        "model_version": engine.scorecard.version,
        "rule_set_version": engine.policy.version,
        "data_sha256": data.sha256,
        "protocol": f"hold-out: {HOLDOUT_DESCRIPTION}; cut-offs and bands from the policy file",
        "cutoffs": {
            "approve_above_score": engine.approve_cutoff_score,
            "decline_at_or_below_score": engine.decline_cutoff_score,
            "near_cutoff_points": engine.policy.refer.near_cutoff_points,
        },
        "holdout": evaluate_split(engine, holdout),
        "all_rows_in_sample": evaluate_split(engine, data),
        "cross_validation": engine.scorecard.training["metrics"]["cross_validation"],
    }
    pd = engine.scorecard.probability_of_default(engine.scorecard.score_batch(feature_rows(holdout)).total_cp)
    result["holdout"]["bootstrap_95"] = _bootstrap(holdout.bad, pd)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    hold = result["holdout"]
    print(f"hold-out AUC {hold['auc']:.4f} {hold['bootstrap_95']['auc']}  Gini {hold['gini']:.4f}  KS {hold['ks']:.4f}")
    print(f"decisions {hold['decision_counts']}")
    for attribute, rows in hold["fairness"].items():
        summary = ", ".join(
            f"{g}: n={r['count']} approve {r['approval_rate']:.2f} (ratio {r['approval_rate_ratio']}) auc {r['auc']}"
            for g, r in rows.items()
        )
        print(f"{attribute}: {summary}")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
