"""Rewriting a follow-up question into a standalone query before retrieval (deterministic).

A question is a follow-up when the conversation has an earlier customer question and the new one
either opens with a connective ("and", "what about", "how about", "also", "but", "what if", "then",
"so", "same for", "in that case"), or is short (at most seven words) and leans on something said
before (it, that, this, they, them, those, there, one, ones, same). The standalone query is the
previous standalone query followed by the new question, so retrieval and intent recognition see the
topic the customer is still talking about ("How long does card delivery take?" + "And abroad?" →
"How long does card delivery take? And abroad?"). Anything else stands alone.

No LLM is involved: the rewrite is reproducible and cannot be steered by the customer's text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from server.customer.answering.ports import Speaker, Turn

_CONNECTIVE = re.compile(
    r"^\s*(?:and|what about|how about|also|but|what if|then|so|same for|in that case|ok(?:ay)?,? (?:and|but|what))\b",
    re.I,
)
_ANAPHOR = re.compile(r"\b(?:it|that|this|they|them|those|these|there|one|ones|same)\b", re.I)
_SHORT_WORDS = 7
_MAX_CHARS = 1000


def is_follow_up(question: str) -> bool:
    """Whether ``question`` needs the conversation to be understood."""
    if _CONNECTIVE.search(question):
        return True
    words = question.split()
    return len(words) <= _SHORT_WORDS and bool(_ANAPHOR.search(question))


def standalone_query(question: str, history: Sequence[Turn]) -> str:
    """The query to retrieve with (see the module docstring).

    Args:
        question: The new question (PII already masked).
        history: Earlier turns of the conversation, oldest first.
    """
    previous = next((t for t in reversed(history) if t.speaker is Speaker.CUSTOMER), None)
    if previous is None or not is_follow_up(question):
        return question.strip()
    topic = previous.standalone_query or previous.text
    # The topic is itself a rewrite; keep the tail bounded so a long chain of follow-ups stays short.
    combined = f"{topic.strip()} {question.strip()}"
    return combined[-_MAX_CHARS:]
