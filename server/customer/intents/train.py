"""Trains the intent classifier on BANKING77 and writes the versioned artefact and its report.

Run ``python -m server.customer.intents.train`` (``make train``). It reads
``../shared/data/banking77/train.csv``, holds out the fixed stratified split of
:mod:`server.customer.intents.data`, trains on the rest, scores the held-out rows, and writes
``artefact/manifest.json``, ``artefact/weights.npy.gz`` and ``artefact/report.json``. The
hyper-parameters are fixed in :data:`PARAMS` (not searched against the held-out rows).

``--check`` retrains into a temporary folder and fails if held-out accuracy or macro-F1 differ from
the committed report by more than :data:`TOLERANCE` (float differences between CPUs and library
builds can change the weights, and so the model id, by a hair; the figures must stay put).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.embedding import CachedEmbedder, Embedder, EmbeddingCache, shared_embedder
from server.customer.intents.data import HOLDOUT_EVERY, LabelledText, load_banking77_split, repo_root
from server.customer.intents.model import ARTEFACT_DIR, REPORT, IntentClassifier, TfidfVocabulary, features
from server.customer.intents.scoring import score

PARAMS: dict[str, Any] = {"C": 10.0, "max_iter": 3000, "min_df": 2, "ngram_range": [1, 2], "sublinear_tf": True}
TOLERANCE = 0.005
"""Largest allowed change of held-out accuracy or macro-F1 when retraining (absolute)."""


def default_cache_path() -> Path:
    """Embedding cache of the training texts (``var/`` is not committed)."""
    return repo_root() / "var" / "cache" / "embeddings.sqlite"


def train(rows: Sequence[LabelledText], embedder: Embedder) -> IntentClassifier:
    """Fits the classifier on ``rows``.

    Args:
        rows: Training questions with intents.
        embedder: Sentence embedder (the one the service uses).

    Returns:
        The fitted classifier (not yet saved; its model id is set by :meth:`IntentClassifier.save`).
    """
    from sklearn.linear_model import LogisticRegression

    texts = [row.text for row in rows]
    labels = [row.intent for row in rows]
    vocabulary = TfidfVocabulary.fit(texts, min_df=int(PARAMS["min_df"]))
    matrix = features(texts, embedder.embed(texts), vocabulary)
    model = LogisticRegression(C=float(PARAMS["C"]), max_iter=int(PARAMS["max_iter"]))
    model.fit(matrix, labels)
    manifest = {
        "embedding_model": embedder.model_name,
        "features": "minilm-embedding + tfidf(word 1-2 grams, sublinear tf, l2)",
        "estimator": "sklearn LogisticRegression (multinomial, lbfgs)",
        "params": PARAMS,
        "training_rows": len(rows),
    }
    return IntentClassifier(
        [str(c) for c in model.classes_],
        vocabulary,
        np.asarray(model.coef_, dtype=np.float32),
        np.asarray(model.intercept_, dtype=np.float32),
        embedder,
        model_id="unsaved",
        manifest=manifest,
    )


def run(directory: Path, embedder: Embedder) -> dict[str, Any]:
    """Trains, saves into ``directory`` and writes the report; returns the report."""
    started = time.monotonic()
    train_rows, heldout_rows = load_banking77_split()
    classifier = train(train_rows, embedder)
    classifier.save(directory)
    # Score the artefact as shipped (float16 weights), loaded back from disk.
    shipped = IntentClassifier.load(embedder, directory)
    heldout = score(shipped, heldout_rows)
    report = {
        "model_id": shipped.model_id,
        "data": "banking77/train.csv",
        "split": f"stratified by intent; sha256(text) order; every {HOLDOUT_EVERY}th row held out",
        "train_rows": len(train_rows),
        "heldout_rows": len(heldout_rows),
        "params": PARAMS,
        "tolerance": TOLERANCE,
        "training_seconds": round(time.monotonic() - started, 1),
        "heldout": heldout,
    }
    (directory / REPORT).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ARTEFACT_DIR, help="artefact folder")
    parser.add_argument("--check", action="store_true", help="retrain elsewhere and compare with the committed report")
    parser.add_argument("--cache", type=Path, default=default_cache_path(), help="embedding cache file")
    args = parser.parse_args(argv)
    embedder = CachedEmbedder(shared_embedder(), EmbeddingCache(args.cache))
    if args.check:
        committed = json.loads((args.out / REPORT).read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory() as tmp:
            fresh = run(Path(tmp), embedder)
        failures = []
        for metric in ("accuracy", "macro_f1"):
            delta = abs(fresh["heldout"][metric] - committed["heldout"][metric])
            print(f"{metric}: committed {committed['heldout'][metric]} retrained {fresh['heldout'][metric]}")
            if delta > TOLERANCE:
                failures.append(metric)
        print(f"model id: committed {committed['model_id']} retrained {fresh['model_id']}")
        return 1 if failures else 0
    report = run(args.out, embedder)
    print(
        f"{report['model_id']}: held-out accuracy {report['heldout']['accuracy']}, "
        f"macro-F1 {report['heldout']['macro_f1']} ({report['heldout_rows']} rows); written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
