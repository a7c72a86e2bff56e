"""The scorecard's model card (SR 11-7 style documentation), built from the artefact.

Owns the text of the intended use and the limitations, and assembles them with
the artefact's measured figures, features, exclusions, training data and date,
the policy version and the current drift index into a :class:`ModelCard`.
"""

from __future__ import annotations

from server.risk.domain import ModelCard, ModelMetric
from server.risk.features import FEATURE_BY_NAME
from server.risk.policy import Policy
from server.risk.scorecard import ScorecardModel

INTENDED_USE = (
    "Decision support for unsecured consumer instalment loans: a probability of default and reason codes that, with "
    "the versioned policy rules, give a recommendation (APPROVE, REFER, DECLINE). REFER goes to a loan officer. "
    "Not for secured, business or revolving credit, pricing or collections; not a substitute for a validated "
    "production model trained on the bank's own portfolio."
)
LIMITATIONS = (
    "Trained on 700 rows of the 1973-75 Statlog German Credit data: small, old and from another market; "
    "cross-validation spread of AUC is about +/-0.03.",
    "Amounts are mapped to 1970s Deutsche Mark with a fixed per-currency factor (EUR: 0.63 DM per EUR, "
    "about +/-20 %); income is not in the training data, so the loan amount is judged without income "
    "(affordability is covered by the policy rules instead).",
    "The model cannot see bureau scores, delinquencies, utilisation, income or credit history; bureau "
    "attributes only feed refer rules.",
    "A stated 'no current account' scores best and unknown savings score neutral, as in the data; both rely "
    "on the bank verifying the stated values.",
    "Age is not a feature (no measured benefit); housing and employment tenure still correlate with age "
    "(Cramer's V about 0.28 and 0.14 with age band), so applicants under 25 are approved less often. Retired "
    "applicants are placed in the longest-employment band so retirement is never penalised.",
    "Measured proxies: loan term is associated with foreign_worker (Cramer's V about 0.24, from only 29 "
    "non-foreign training rows); the score separates foreign_worker groups (AUC about 0.37) but not sex "
    "(0.50); the score ranks risk less well for women (hold-out AUC 0.68 vs 0.80); see docs/risk.md.",
    "Probabilities are calibrated to a 30 % default rate of the 1970s sample, not to today's portfolio.",
)


def build_model_card(scorecard: ScorecardModel, policy: Policy, psi: float | None) -> ModelCard:
    """The model card for the loaded artefact.

    Args:
        scorecard: The loaded artefact.
        policy: The loaded policy (its version is reported).
        psi: Population stability index of recent scores, or None when not enough were seen.

    Returns:
        The model card.
    """
    training = scorecard.training
    metrics: list[ModelMetric] = []
    cv = training["metrics"].get("cross_validation")
    if cv:
        for name in ("auc", "gini", "ks"):
            metrics.append(ModelMetric(name.upper(), cv[name]["mean"], cv[name]["std"], "cv-5x3 seeds 11,23,47"))
    for name in ("auc", "gini", "ks"):
        metrics.append(
            ModelMetric(
                name.upper(), training["metrics"]["holdout"][name], 0.0, "holdout 300 rows (index mod 10 in 2,5,8)"
            )
        )
    data = training["data"]
    features = tuple(
        f"{name}: {FEATURE_BY_NAME[name].description} (from {FEATURE_BY_NAME[name].request_fields})"
        for name in scorecard.feature_names
    )
    excluded = tuple(f"{name}: {why}" for name, why in sorted(training["excluded_attributes"].items()))
    dropped = tuple(
        f"{name}: dropped by selection (information value or coefficient sign)"
        for name in training["dropped_by_selection"]
    )
    return ModelCard(
        model_id=scorecard.model_id,
        version=scorecard.version,
        training_data=(
            f"{data['name']}; sha256 {data['sha256']}; {data['rows_training']} of {data['rows_total']} rows "
            f"(hold-out: {data['holdout_rows']}); amounts in {data['currency']}"
        ),
        metrics=tuple(metrics),
        features=features,
        excluded_attributes=excluded + dropped,
        intended_use=INTENDED_USE,
        limitations=LIMITATIONS,
        training_time=scorecard.training_time,
        population_stability_index=psi,
        rule_set_version=policy.version,
    )
