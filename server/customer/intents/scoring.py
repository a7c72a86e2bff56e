"""Scoring the shipped intent classifier on labelled data, without retraining.

This module owns the intent metrics (accuracy, macro-F1, per-intent precision, recall and F1, and the
confusion pairs that matter most) and :func:`evaluate_csv`, the function behind
``fintech eval intents --data FILE.csv --out FILE.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from server.customer.intents.data import LabelledText, read_labelled_csv
from server.customer.intents.model import IntentClassifier


def intent_metrics(truth: Sequence[str], predicted: Sequence[str], top_pairs: int = 15) -> dict[str, Any]:
    """Computes intent classification figures.

    Args:
        truth: True intents.
        predicted: Predicted intents, aligned with ``truth``.
        top_pairs: How many confusion pairs to report.

    Returns:
        ``accuracy``, ``macro_f1`` (over intents present in ``truth``), ``per_intent`` (precision,
        recall, f1, support), and ``top_confusions`` (true, predicted, count, share of the true intent).
    """
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted differ in length")
    if not truth:
        raise ValueError("no rows to score")
    support = Counter(truth)
    predicted_count = Counter(predicted)
    correct = Counter(t for t, p in zip(truth, predicted, strict=True) if t == p)
    per_intent: dict[str, dict[str, float | int]] = {}
    for intent in sorted(support):
        hits = correct[intent]
        precision = hits / predicted_count[intent] if predicted_count[intent] else 0.0
        recall = hits / support[intent]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[intent] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": support[intent],
        }
    confusions = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
    ranked = sorted(confusions.items(), key=lambda item: (-item[1], item[0]))[:top_pairs]
    return {
        "rows": len(truth),
        "accuracy": round(sum(correct.values()) / len(truth), 4),
        "macro_f1": round(sum(float(v["f1"]) for v in per_intent.values()) / len(per_intent), 4),
        "per_intent": per_intent,
        "top_confusions": [
            {"true": t, "predicted": p, "count": n, "share_of_true": round(n / support[t], 4)} for (t, p), n in ranked
        ],
    }


def score(classifier: IntentClassifier, rows: Sequence[LabelledText], batch_size: int = 512) -> dict[str, Any]:
    """Scores ``classifier`` on ``rows``; adds the model id and the mean confidence of right and wrong answers."""
    predictions = []
    for start in range(0, len(rows), batch_size):
        predictions.extend(classifier.predict([row.text for row in rows[start : start + batch_size]]))
    truth = [row.intent for row in rows]
    metrics = intent_metrics(truth, [p.intent for p in predictions])
    right = [p.confidence for p, t in zip(predictions, truth, strict=True) if p.intent == t]
    wrong = [p.confidence for p, t in zip(predictions, truth, strict=True) if p.intent != t]
    return {
        "model_id": classifier.model_id,
        **metrics,
        "mean_confidence_correct": round(sum(right) / len(right), 4) if right else None,
        "mean_confidence_wrong": round(sum(wrong) / len(wrong), 4) if wrong else None,
    }


def evaluate_csv(classifier: IntentClassifier, data: Path, out: Path | None = None) -> dict[str, Any]:
    """Scores the shipped classifier on a ``text,category`` CSV (``fintech eval intents``).

    Rows whose category the model does not know count as errors (they are in ``unknown_intents``).

    Args:
        classifier: The loaded classifier.
        data: The CSV file.
        out: Where to write the JSON report; ``None`` writes nothing.

    Raises:
        DataError: The CSV is malformed (the message names the row and column).
    """
    rows = read_labelled_csv(data)
    report = {"data": str(data), **score(classifier, rows)}
    report["unknown_intents"] = sorted({row.intent for row in rows} - set(classifier.classes))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return report
