"""Scoring the engine on a labelled conversation set: grounded-answer rate, escalation precision and recall.

The set is JSON Lines (``eval/customer/conversations.jsonl``), one conversation per line::

    {"id": "c001", "turns": [{"question": "...", "escalate": false, "reason": "", "grounded": true}, ...]}

``escalate`` says whether the turn must be handed to a person, ``reason`` the expected
``EscalationReason`` name (empty when none), ``grounded`` whether a grounded answer (approved, or
generated and passing the check) is expected. :func:`replay` runs the conversations through an engine;
:func:`score` computes the figures; ``eval/`` calls both (``run_file``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.customer.answering.engine import AnsweringEngine, Question
from server.customer.answering.ports import AnswerResult, AnswerSource, EscalationReason


@dataclass(frozen=True)
class LabelledTurn:
    """One customer message with its expected outcome."""

    question: str
    escalate: bool
    reason: str
    grounded: bool


@dataclass(frozen=True)
class LabelledConversation:
    """A conversation of labelled turns."""

    conversation_id: str
    turns: tuple[LabelledTurn, ...]


def load_conversations(path: Path) -> list[LabelledConversation]:
    """Reads the set.

    Raises:
        ValueError: a malformed line, naming the line and the field.
    """
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            turns = tuple(LabelledTurn(str(t["question"]), bool(t["escalate"]), str(t.get("reason", "")),
                                       bool(t["grounded"])) for t in raw["turns"])
            out.append(LabelledConversation(str(raw["id"]), turns))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: malformed conversation ({exc!r})") from None
    return out


async def replay(engine: AnsweringEngine, conversations: Sequence[LabelledConversation],
                 customer_prefix: str = "eval") -> list[list[AnswerResult]]:
    """Runs every conversation through ``engine``; one result per turn."""
    results: list[list[AnswerResult]] = []
    for index, conversation in enumerate(conversations):
        conversation_id = ""
        outcomes = []
        for turn in conversation.turns:
            result = await engine.ask(Question(f"{customer_prefix}-{index}", conversation_id, turn.question))
            conversation_id = result.conversation_id
            outcomes.append(result)
        results.append(outcomes)
    return results


_GENERATION_REASONS = (EscalationReason.LLM_UNAVAILABLE, EscalationReason.UNGROUNDED_ANSWER)


def _grounded(result: AnswerResult) -> bool:
    return bool(result.answer) and result.source in (AnswerSource.APPROVED, AnswerSource.GENERATED)


def score(conversations: Sequence[LabelledConversation], results: Sequence[Sequence[AnswerResult]]) -> dict[str, Any]:
    """Grounded-answer rate, escalation precision, recall and reason accuracy.

    Args:
        conversations: The labelled set.
        results: :func:`replay`'s output, aligned with ``conversations``.

    Returns:
        ``turns``, ``grounded_answer_rate`` (of turns expecting one, the share that got a grounded answer),
        ``ungrounded_served`` (answers served where a handoff was expected), ``escalation_precision``,
        ``escalation_recall``, ``reason_accuracy`` (of correctly escalated turns) and the confusion counts.
    """
    if len(conversations) != len(results):
        raise ValueError("results must align with conversations")
    tp = fp = fn = tn = 0
    policy = {"tp": 0, "fp": 0, "fn": 0}
    reasons: dict[str, int] = {}
    expected_grounded = got_grounded = reason_hits = 0
    mismatches: list[dict[str, Any]] = []
    for conversation, outcomes in zip(conversations, results, strict=True):
        if len(conversation.turns) != len(outcomes):
            raise ValueError(f"conversation {conversation.conversation_id}: one result per turn expected")
        for number, (turn, result) in enumerate(zip(conversation.turns, outcomes, strict=True)):
            # Approved instructions shown with a handoff (a lost card) are not a mismatch; a missing answer is.
            if turn.escalate != result.escalated or (turn.grounded and not _grounded(result)):
                mismatches.append({"conversation": conversation.conversation_id, "turn": number,
                                   "expected": turn.reason or ("grounded" if turn.grounded else "no escalation"),
                                   "got": result.reason.value if result.reason else result.source.value,
                                   "intent": result.intent, "intent_confidence": round(result.intent_confidence, 3)})
            if turn.escalate and result.escalated:
                tp += 1
                reason_hits += int(result.reason is not None and result.reason.value == turn.reason)
            elif turn.escalate:
                fn += 1
            elif result.escalated:
                fp += 1
            else:
                tn += 1
            if result.reason is not None:
                reasons[result.reason.value] = reasons.get(result.reason.value, 0) + 1
            # The policy alone: escalations decided before any generation (not LLM failures or bad answers).
            by_policy = result.escalated and result.reason not in _GENERATION_REASONS
            if turn.escalate and by_policy:
                policy["tp"] += 1
            elif turn.escalate:
                policy["fn"] += 1
            elif by_policy:
                policy["fp"] += 1
            if turn.grounded:
                expected_grounded += 1
                got_grounded += int(_grounded(result))
    return {
        "turns": tp + fp + fn + tn,
        "grounded_answer_rate": round(got_grounded / expected_grounded, 4) if expected_grounded else None,
        "escalation_precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "escalation_recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "reason_accuracy": round(reason_hits / tp, 4) if tp else None,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "policy_escalation_precision": _ratio(policy["tp"], policy["tp"] + policy["fp"]),
        "policy_escalation_recall": _ratio(policy["tp"], policy["tp"] + policy["fn"]),
        "escalations_by_reason": dict(sorted(reasons.items())),
        "mismatches": mismatches,
    }


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


async def run_file(engine: AnsweringEngine, path: Path) -> dict[str, Any]:
    """Loads, replays and scores the set at ``path`` (what ``eval/`` calls)."""
    conversations = load_conversations(path)
    return score(conversations, await replay(engine, conversations))


async def _evaluate_real(conversations_path: Path, data_dir: Path, llm_url: str) -> dict[str, Any]:
    """Replays the set on the real components: milvus-lite over the shipped KB, the trained classifier."""
    from prometheus_client import CollectorRegistry

    from inference.pool import InferencePool
    from inference.settings import InferenceSettings
    from retrieval.build import build_index
    from retrieval.documents import default_kb_dir, load_articles
    from retrieval.embedding import CachedEmbedder, EmbeddingCache, shared_embedder
    from retrieval.milvus import MilvusKnowledgeIndex
    from server.customer.answering.adapters import ClassifierIntents, PoolAnswerModel
    from server.customer.answering.memory import MemoryArticleCatalog, MemoryConversationStore
    from server.customer.intents.model import IntentClassifier
    from server.customer.settings import CustomerSettings

    articles = load_articles(default_kb_dir())
    embedder = CachedEmbedder(shared_embedder(), EmbeddingCache(data_dir / "embeddings.sqlite"))
    uri = str(data_dir / "milvus" / "kb.db")
    await build_index(uri, articles, embedder)
    index = await MilvusKnowledgeIndex.open(uri, embedder=embedder)
    pool = None
    if llm_url:
        pool = InferencePool(InferenceSettings.model_validate(
            {"groups": [{"name": "dev", "model": "dev", "endpoints": [{"url": llm_url}]}],
             "budgets": {"enabled": False}}),
            registry=CollectorRegistry())
    try:
        engine = AnsweringEngine(
            CustomerSettings(), index=index, intents=ClassifierIntents(IntentClassifier.load(embedder)),
            catalog=MemoryArticleCatalog(articles), model=None if pool is None else PoolAnswerModel(pool),
            store=MemoryConversationStore())
        report = await run_file(engine, conversations_path)
        report["llm"] = llm_url or "none (every generation hands off with LLM_UNAVAILABLE)"
        return report
    finally:
        await index.close()
        if pool is not None:
            await pool.close()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m server.customer.answering.evaluation --out FILE.json [--llm-url URL]``."""
    import argparse
    import asyncio
    import tempfile

    parser = argparse.ArgumentParser(description="Score the answering engine on the labelled conversations.")
    repo = Path(__file__).resolve().parents[3]
    parser.add_argument("--conversations", type=Path, default=repo / "eval" / "customer" / "conversations.jsonl")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--llm-url", default="", help="OpenAI-compatible /v1 URL of the LLM; none: handoff")
    parser.add_argument("--data-dir", type=Path, default=None, help="where milvus-lite and the cache live")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="customer-eval-"))
    report = asyncio.run(_evaluate_real(args.conversations, data_dir, args.llm_url))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
