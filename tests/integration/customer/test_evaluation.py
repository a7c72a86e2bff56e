"""The conversation-set scorer: the shipped set parses, and replay + score give the expected figures."""

from __future__ import annotations

import json
from pathlib import Path

from server.customer.answering.evaluation import load_conversations, replay, run_file, score
from tests.integration.customer.conftest import HarnessFactory, chunk_of

REPO = Path(__file__).resolve().parents[3]


def test_shipped_set_is_labelled() -> None:
    conversations = load_conversations(REPO / "eval" / "customer" / "conversations.jsonl")
    turns = [t for c in conversations for t in c.turns]
    assert len(conversations) >= 30
    assert any(t.escalate for t in turns) and any(t.grounded for t in turns)
    assert all(not (t.escalate and t.grounded) for t in turns)
    assert all(t.reason or not t.escalate for t in turns)


async def test_replay_and_score(harness: HarnessFactory, tmp_path: Path) -> None:
    h = harness()
    assert h.fake is not None
    delivery = chunk_of("card-delivery")
    h.fake.set_default({"kind": "ok", "content": f"Cards arrive within 3 to 5 working days in the UK [{delivery}]."})
    path = tmp_path / "set.jsonl"
    lines = [
        {"id": "a", "turns": [{"question": "When will my card arrive?", "escalate": False, "grounded": True}]},
        {
            "id": "b",
            "turns": [
                {"question": "I lost my card", "escalate": True, "reason": "SENSITIVE_INTENT", "grounded": False}
            ],
        },
        # Labelled wrongly on purpose: the engine escalates, the label says it should not.
        {"id": "c", "turns": [{"question": "Can I talk to a person?", "escalate": False, "grounded": True}]},
        {
            "id": "d",
            "turns": [
                {
                    "question": "What are the ATM fees?",
                    "escalate": True,
                    "reason": "SENSITIVE_INTENT",
                    "grounded": False,
                }
            ],
        },
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    report = await run_file(h.engine, path)
    assert report["confusion"] == {"tp": 1, "fp": 1, "fn": 1, "tn": 1}
    assert report["escalation_precision"] == 0.5 and report["escalation_recall"] == 0.5
    assert report["grounded_answer_rate"] == 0.5 and report["reason_accuracy"] == 1.0
    conversations = load_conversations(path)
    assert score(conversations, await replay(h.engine, conversations, "again"))["turns"] == 4
