"""Configuration of the customer service's answering engine: thresholds, sensitive intents, limits.

The lead adds one field to :class:`server.runtime.config.Settings`:
``customer: CustomerSettings = CustomerSettings()``. Every threshold that decides an escalation lives
here, so the policy changes by configuration (through four-eyes review), never by code.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from server.runtime.section import Section

# BANKING77 intents whose conversations always go to a person: money may be at risk or a right is at stake.
DEFAULT_SENSITIVE_INTENTS: tuple[str, ...] = (
    "lost_or_stolen_card",
    "lost_or_stolen_phone",
    "compromised_card",
    "card_payment_not_recognised",
    "cash_withdrawal_not_recognised",
    "direct_debit_payment_not_recognised",
    "transaction_charged_twice",
    "wrong_amount_of_cash_received",
    "card_swallowed",
    "terminate_account",
)


class CustomerSettings(Section):
    sensitive_intents: tuple[str, ...] = DEFAULT_SENSITIVE_INTENTS
    """Intents always handed to a person (lost, stolen or compromised card, fraud, disputes...)."""
    sensitive_min_confidence: float = Field(0.30, ge=0, le=1)
    """A sensitive intent recognised with at least this confidence escalates."""
    min_intent_confidence: float = Field(0.35, ge=0, le=1)
    """Below this intent confidence the conversation is escalated (LOW_INTENT_CONFIDENCE)."""
    approved_min_confidence: float = Field(0.60, ge=0, le=1)
    """An approved answer is served only when the intent is at least this confident."""
    min_retrieval_score: float = Field(0.30, ge=-1, le=1)
    """Best dense (cosine) score of the retrieved chunks below which retrieval is not trusted."""
    top_k: int = Field(5, ge=1, le=20)
    """Chunks retrieved per question and placed in the prompt."""
    intent_routing_min_confidence: float | None = Field(0.5, ge=0, le=1)
    """When the intent is at least this confident, chunks of articles answering the classifier's
    ``routed_intents`` most likely intents are placed first (``retrieval.routing``); None never routes.
    0.5 measured best on the written question set (docs/retrieval.md)."""
    routed_intents: int = Field(3, ge=1, le=10)
    """How many of the most likely intents routing prefers."""
    retrieval_depth: int = Field(20, ge=1, le=100)
    """Chunks fetched before routing picks ``top_k`` of them (at least ``top_k`` are always fetched)."""
    suggested_articles: int = Field(3, ge=1, le=10)
    """Articles offered on a handoff."""
    dissatisfaction_threshold: int = Field(2, ge=1, le=10)
    """Signals of dissatisfaction in one conversation (messages and NOT_HELPFUL feedback) that escalate."""
    memory_turns: int = Field(6, ge=0, le=50)
    """Turns of a conversation loaded to rewrite a follow-up question."""
    min_support_ratio: float = Field(0.6, ge=0, le=1)
    """Share of a sentence's content words that must occur in the text it cites."""
    leak_ngram_words: int = Field(6, ge=3, le=20)
    """A sentence sharing this many consecutive words with the system prompt is a leak."""
    llm_group: str = ""
    """Model group asked first (the pool's primary group when empty)."""
    max_answer_tokens: int = Field(400, ge=16, le=4096)
    """Completion limit of one generated answer."""
    temperature: float = Field(0.0, ge=0, le=2)
    """Sampling temperature of generated answers."""
    llm_timeout_seconds: float = Field(20.0, gt=0)
    """Longest wait for a generated answer when the caller gives no deadline."""
    default_locale: str = Field("en-GB", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    """Locale used when a request gives none."""
    max_question_chars: int = Field(4000, ge=1)
    """Longest question accepted (the proto's limit)."""

    @model_validator(mode="after")
    def _ordered(self) -> CustomerSettings:
        if self.approved_min_confidence < self.min_intent_confidence:
            raise ValueError("approved_min_confidence must be at least min_intent_confidence")
        return self
