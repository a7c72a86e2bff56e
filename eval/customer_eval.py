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


async def _retrieval(
    uri: str, queries: Sequence[str], relevant: Sequence[frozenset[str]], intent_filters: Sequence[tuple[str, ...]]
) -> dict[str, Any]:
    from retrieval.embedding import CachedEmbedder, EmbeddingCache, shared_embedder
    from retrieval.index import SearchFilter, SearchMode
    from retrieval.milvus import MilvusKnowledgeIndex

    embedder = CachedEmbedder(shared_embedder(), EmbeddingCache(CACHE))
    # Embed every query once up front (cached on disk), so the loop below measures retrieval only.
    embedder.embed(list(queries))
    index = await MilvusKnowledgeIndex.open(uri, embedder=embedder)
    try:
        results: dict[str, Any] = {}
        for label, mode in (("hybrid", SearchMode.HYBRID), ("dense", SearchMode.DENSE), ("sparse", SearchMode.SPARSE)):
            ranked = []
            for query in queries:
                hits = await index.search(query, limit=MRR_DEPTH, mode=mode)
                ranked.append([hit.document_id for hit in hits])
            results[label] = rank_metrics(ranked, relevant)
        ranked = []
        for query, intents in zip(queries, intent_filters, strict=True):
            hits = await index.search(query, limit=MRR_DEPTH, search_filter=SearchFilter(intents=intents))
            ranked.append([hit.document_id for hit in hits])
        results["hybrid_top3_intents"] = rank_metrics(ranked, relevant)
        return results
    finally:
        await index.close()


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

    def top3(texts: Sequence[str]) -> list[tuple[str, ...]]:
        return [(p.intent, *(name for name, _ in p.alternatives[:2])) for p in classifier.predict(texts)]

    with tempfile.TemporaryDirectory(prefix="customer-eval-") as tmp:
        uri = str(Path(tmp) / "kb.db")
        build_in_child(uri, kb_dir, CACHE)
        written = asyncio.run(
            _retrieval(
                uri,
                [q.question for q in questions],
                [q.articles for q in questions],
                top3([q.question for q in questions]),
            )
        )
        banking = asyncio.run(
            _retrieval(
                uri,
                [row.text for row in heldout],
                [frozenset(by_intent.get(row.intent, ())) for row in heldout],
                top3([row.text for row in heldout]),
            )
        )
    return {
        "kb": {"articles": len(articles), "intents_covered": len(by_intent), "written_questions": len(questions)},
        "intent": intent_section,
        "retrieval": {
            "k": K,
            "mrr_depth": MRR_DEPTH,
            "unit": "article of each retrieved chunk",
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
    for name, figures in sections["retrieval"].items():
        if isinstance(figures, dict):
            hybrid = figures["hybrid"]
            print(f"retrieval {name}: hybrid recall@{K} {hybrid[f'recall_at_{K}']}, MRR {hybrid['mrr']}")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
