"""Customer-service evaluation: intent routing and retrieval figures, written to eval/results/customer.json.

Owns the intent and retrieval sections of the report:

- ``intent``: the shipped classifier on the BANKING77 split held out from training (accuracy, macro-F1,
  per-intent figures are in the training report), and on the project's own written questions;
- ``retrieval``: recall@5 and MRR@10 of the top chunks' articles, for hybrid, dense-only and BM25-only
  search and for hybrid restricted to the classifier's three most likely intents, on two sets:
  ``written_questions`` (eval/customer/questions.csv, each mapped to the articles that answer it) and
  ``banking77_heldout`` (real customer questions mapped to articles through their intents; reported
  separately because the people who wrote the articles did not write them).

Other sections already in the file (the answer-level figures: grounded-answer rate, escalation
precision and recall) are kept as they are, so each part of ``make eval`` can write its own section.

The index is built in a child process and searched from this one (milvus-lite is slow to search in the
process that has just inserted). Run: ``python -m eval.customer_eval`` (``make eval``).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = REPO_ROOT / "eval" / "customer" / "questions.csv"
RESULTS = REPO_ROOT / "eval" / "results" / "customer.json"
CACHE = REPO_ROOT / "var" / "cache" / "embeddings.sqlite"
K = 5
MRR_DEPTH = 10


@dataclass(frozen=True)
class WrittenQuestion:
    """One question of the project's evaluation set."""

    id: str
    question: str
    intent: str
    articles: frozenset[str]


def read_questions(path: Path = QUESTIONS) -> list[WrittenQuestion]:
    """Reads ``id,question,intent,articles`` (articles separated by ``;``)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            WrittenQuestion(
                id=row["id"],
                question=row["question"],
                intent=row["intent"],
                articles=frozenset(a for a in row["articles"].split(";") if a),
            )
            for row in csv.DictReader(handle)
        ]


def rank_metrics(
    ranked: Sequence[Sequence[str]], relevant: Sequence[set[str] | frozenset[str]], k: int = K
) -> dict[str, Any]:
    """Recall@k and MRR over ranked document ids.

    Args:
        ranked: Per query, the document ids of the retrieved chunks in rank order (repeats allowed).
        relevant: Per query, the ids of the articles that answer it.
        k: Cut-off for recall.

    Returns:
        ``recall_at_{k}``: share of queries with a relevant article among the first ``k`` chunks;
        ``mrr``: mean reciprocal rank of the first relevant chunk (0 when none was retrieved);
        ``queries``.
    """
    if len(ranked) != len(relevant):
        raise ValueError("ranked and relevant differ in length")
    hits = 0
    reciprocal = 0.0
    for documents, wanted in zip(ranked, relevant, strict=True):
        first = next((i for i, doc in enumerate(documents, start=1) if doc in wanted), None)
        if first is not None and first <= k:
            hits += 1
        if first is not None:
            reciprocal += 1.0 / first
    n = len(ranked)
    return {f"recall_at_{k}": round(hits / n, 4), "mrr": round(reciprocal / n, 4), "queries": n}


def build_in_child(uri: str, kb_dir: Path, cache: Path) -> None:
    """Builds the index in a separate process, so this one searches a freshly opened collection."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    subprocess.run(
        [sys.executable, "-m", "retrieval.build", "--uri", uri, "--kb", str(kb_dir), "--cache", str(cache)],
        check=True,
        cwd=REPO_ROOT,
        env=env,
    )


@dataclass(frozen=True)
class Fusion:
    """One way of searching: a mode and, for hybrid, how its two legs are fused."""

    name: str
    mode: str
    """``dense``, ``sparse`` or ``hybrid``."""
    ranker: str = "rrf"
    """``rrf`` or ``weighted`` (hybrid only)."""
    dense_weight: float = 0.5
    """Dense leg's weight under ``weighted``."""


# The candidates, fixed before any was measured: equal-weight RRF (what the service used), Milvus'
# WeightedRanker with the dense leg weighted 0.5 to 0.9, and each leg alone.
FUSIONS = (
    Fusion("dense", "dense"),
    Fusion("sparse", "sparse"),
    Fusion("hybrid_rrf", "hybrid"),
    *(Fusion(f"hybrid_weighted_{w:.1f}", "hybrid", "weighted", w) for w in (0.5, 0.6, 0.7, 0.8, 0.9)),
)
# Intent routing (retrieval.routing.prefer_intents over a deeper unfiltered result): the classifier's three
# most likely intents are preferred when its top confidence reaches the threshold; None = never route.
ROUTING_THRESHOLDS: tuple[float | None, ...] = (None, 0.0, 0.3, 0.5, 0.7)
ROUTED_INTENTS = 3
SEARCH_DEPTH = 20
"""Hits fetched per query: routing promotes from below MRR_DEPTH."""


def selection_score(figures: dict[str, Any]) -> float:
    """The criterion every configuration is chosen by, on the written questions only: recall@5 + MRR."""
    return float(figures[f"recall_at_{K}"]) + float(figures["mrr"])


def config_name(fusion: str, threshold: float | None) -> str:
    """``hybrid_weighted_0.7`` or ``hybrid_weighted_0.7+intents@0.5``."""
    return fusion if threshold is None else f"{fusion}+intents@{threshold:g}"


async def _retrieval(
    uri: str,
    queries: Sequence[str],
    relevant: Sequence[frozenset[str]],
    predictions: Sequence[tuple[float, tuple[str, ...]]],
    fusions: Sequence[Fusion],
    thresholds: Sequence[float | None],
    *,
    prefilter: bool,
) -> dict[str, Any]:
    """Scores every fusion, each with every routing threshold, on one question set.

    Args:
        uri: The built milvus-lite index.
        queries: The questions.
        relevant: Per question, the articles that answer it.
        predictions: Per question, the classifier's top confidence and its most likely intents.
        fusions: Ways of searching to score.
        thresholds: Routing thresholds to score on top of each fusion (None = no routing).
        prefilter: Also score hybrid RRF filtered in Milvus on the three most likely intents (slow).
    """
    from retrieval.embedding import CachedEmbedder, EmbeddingCache, QueryVectorCache, shared_embedder
    from retrieval.index import HybridRanker, SearchFilter, SearchMode
    from retrieval.milvus import MilvusKnowledgeIndex
    from retrieval.routing import prefer_intents

    # The evaluation's questions are not customers' data: cache their vectors on disk and all of them in
    # memory, so the loops below measure retrieval only.
    embedder = QueryVectorCache(CachedEmbedder(shared_embedder(), EmbeddingCache(CACHE)), size=len(queries) + 16)
    embedder.embed(list(queries))
    results: dict[str, Any] = {}
    for fusion in fusions:
        index = await MilvusKnowledgeIndex.open(
            uri, embedder=embedder, ranker=HybridRanker(fusion.ranker), dense_weight=fusion.dense_weight
        )
        try:
            found = [await index.search(q, limit=SEARCH_DEPTH, mode=SearchMode(fusion.mode)) for q in queries]
        finally:
            await index.close()
        for threshold in thresholds:
            ranked = []
            for hits, (confidence, intents) in zip(found, predictions, strict=True):
                if threshold is not None and confidence >= threshold:
                    hits = prefer_intents(hits, intents[:ROUTED_INTENTS], MRR_DEPTH)
                ranked.append([hit.document_id for hit in hits[:MRR_DEPTH]])
            results[config_name(fusion.name, threshold)] = rank_metrics(ranked, relevant)
    if prefilter:
        index = await MilvusKnowledgeIndex.open(uri, embedder=embedder, ranker=HybridRanker.RRF)
        try:
            ranked = []
            for query, (_, intents) in zip(queries, predictions, strict=True):
                hits = await index.search(
                    query, limit=MRR_DEPTH, search_filter=SearchFilter(intents=intents[:ROUTED_INTENTS])
                )
                ranked.append([hit.document_id for hit in hits])
            results["hybrid_rrf_filtered_top3_intents"] = rank_metrics(ranked, relevant)
        finally:
            await index.close()
    return results


def choose(written: dict[str, Any], *, prefix: str = "") -> str:
    """The configuration named ``prefix...`` with the best :func:`selection_score` on the written questions.

    The service's configuration is the best *hybrid* one (``prefix="hybrid_"``): the issue asks for hybrid
    retrieval. The best of all is reported beside it. Ties go to the first candidate in :data:`FUSIONS` order.
    """
    names = [name for name in written if name.startswith(prefix) and "filtered" not in name]
    return max(names, key=lambda name: selection_score(written[name]))


def _parse(name: str) -> tuple[Fusion, float | None]:
    fusion_name, _, threshold = name.partition("+intents@")
    return next(f for f in FUSIONS if f.name == fusion_name), (float(threshold) if threshold else None)


def evaluate(kb_dir: Path | None = None) -> dict[str, Any]:
    """Runs the intent and retrieval evaluation and returns the sections it owns."""
    from retrieval.documents import articles_by_intent, default_kb_dir, load_articles
    from retrieval.embedding import CachedEmbedder, EmbeddingCache, shared_embedder
    from server.customer.intents.data import LabelledText, load_banking77_split, load_categories
    from server.customer.intents.model import IntentClassifier
    from server.customer.intents.scoring import score

    started = time.monotonic()
    kb_dir = kb_dir or default_kb_dir()
    articles = load_articles(kb_dir, known_intents=load_categories())
    by_intent = articles_by_intent(articles)
    questions = read_questions()
    _, heldout = load_banking77_split()

    embedder = CachedEmbedder(shared_embedder(), EmbeddingCache(CACHE))
    classifier = IntentClassifier.load(embedder)
    intent_section = {
        "model_id": classifier.model_id,
        "banking77_heldout": _headline(score(classifier, heldout)),
        "written_questions": _headline(score(classifier, [LabelledText(q.question, q.intent) for q in questions])),
    }

    def top_intents(texts: Sequence[str]) -> list[tuple[float, tuple[str, ...]]]:
        return [
            (p.confidence, (p.intent, *(name for name, _ in p.alternatives[: ROUTED_INTENTS - 1])))
            for p in classifier.predict(texts)
        ]

    with tempfile.TemporaryDirectory(prefix="customer-eval-") as tmp:
        uri = str(Path(tmp) / "kb.db")
        build_in_child(uri, kb_dir, CACHE)
        # Every candidate is scored on the written questions; the choice is made there and only there.
        written = asyncio.run(
            _retrieval(
                uri,
                [q.question for q in questions],
                [q.articles for q in questions],
                top_intents([q.question for q in questions]),
                FUSIONS,
                ROUTING_THRESHOLDS,
                prefilter=True,
            )
        )
        chosen = choose(written, prefix="hybrid_")
        best_overall = choose(written)
        (chosen_fusion, chosen_threshold), (overall_fusion, overall_threshold) = _parse(chosen), _parse(best_overall)
        # The BANKING77 questions then see the chosen configurations and the baselines, nothing else: they
        # were never used to choose (held out from the classifier's training, and from this selection).
        fusions = [chosen_fusion, overall_fusion, *(f for f in FUSIONS if f.name in ("dense", "sparse", "hybrid_rrf"))]
        fusions = list(dict.fromkeys(fusions))
        thresholds = sorted({None, chosen_threshold, overall_threshold}, key=lambda t: -1.0 if t is None else t)
        banking = asyncio.run(
            _retrieval(
                uri,
                [row.text for row in heldout],
                [frozenset(by_intent.get(row.intent, ())) for row in heldout],
                top_intents([row.text for row in heldout]),
                fusions,
                thresholds,
                prefilter=True,
            )
        )
    return {
        "kb": {"articles": len(articles), "intents_covered": len(by_intent), "written_questions": len(questions)},
        "intent": intent_section,
        "retrieval": {
            "k": K,
            "mrr_depth": MRR_DEPTH,
            "unit": "article of each retrieved chunk",
            "selection": {
                "chosen": chosen,
                "best_overall": best_overall,
                "criterion": f"highest recall@{K} + MRR on written_questions (BANKING77 never used to choose)",
                "candidates": len(written),
                "routing": f"classifier's {ROUTED_INTENTS} most likely intents first when its confidence >= threshold",
            },
            "written_questions": written,
            "banking77_heldout": banking,
        },
        "intent_and_retrieval_seconds": round(time.monotonic() - started, 1),
    }


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "rows": report["rows"],
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "top_confusions": report["top_confusions"][:5],
    }


def write_results(sections: dict[str, Any], path: Path = RESULTS) -> dict[str, Any]:
    """Merges ``sections`` into the results file, keeping sections written by other evaluations."""
    existing: dict[str, Any] = {}
    if path.exists():
        existing = json.loads(path.read_text(encoding="utf-8"))
    merged = {**existing, **sections, "updated_at": datetime.now(UTC).isoformat(timespec="seconds")}
    merged.setdefault("answers", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    return merged


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Intent and retrieval evaluation of the customer service.")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sections = evaluate()
    write_results(sections, args.out)
    intent = sections["intent"]["banking77_heldout"]
    print(f"intent (BANKING77 held-out): accuracy {intent['accuracy']}, macro-F1 {intent['macro_f1']}")
    retrieval = sections["retrieval"]
    chosen = retrieval["selection"]["chosen"]
    for name in ("written_questions", "banking77_heldout"):
        for config in dict.fromkeys((chosen, retrieval["selection"]["best_overall"], "hybrid_rrf", "dense")):
            figures = retrieval[name].get(config)
            if figures:
                print(f"retrieval {name} {config}: recall@{K} {figures[f'recall_at_{K}']}, MRR {figures['mrr']}")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
