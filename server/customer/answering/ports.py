"""The answering engine's seams and the domain types that cross them.

The engine depends only on these Protocols:

- :class:`retrieval.index.KnowledgeIndex` (the retrieval helper's seam, used as is) for chunks;
- :class:`IntentSource` for the intent of a question
  (real: :class:`server.customer.answering.adapters.ClassifierIntents`);
- :class:`ArticleCatalog` for stored articles and their approved answers;
- :class:`AnswerModel` for streamed LLM text (real: :class:`~server.customer.answering.adapters.PoolAnswerModel`
  over ``inference.pool.InferencePool``);
- :class:`ConversationStore` for conversations, turns, escalations, feedback and the audit record of each
  answer (real: :class:`server.customer.answering.sql_store.SqlConversationStore`).

Implementations of a seam must pass the contract tests in ``tests/integration/customer/test_contracts.py``.
No type here holds unmasked customer text.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from retrieval.documents import Article
from server.runtime.errors import Aborted


class AnswerSource(enum.Enum):
    """Where an answer came from (``fintech.customer.v1.AnswerSource``)."""

    APPROVED = "APPROVED"
    GENERATED = "GENERATED"
    HANDOFF = "HANDOFF"


class EscalationReason(enum.Enum):
    """Why a conversation went to a person (``fintech.customer.v1.EscalationReason``)."""

    SENSITIVE_INTENT = "SENSITIVE_INTENT"
    LOW_INTENT_CONFIDENCE = "LOW_INTENT_CONFIDENCE"
    LOW_RETRIEVAL_CONFIDENCE = "LOW_RETRIEVAL_CONFIDENCE"
    CUSTOMER_REQUESTED_HUMAN = "CUSTOMER_REQUESTED_HUMAN"
    REPEATED_DISSATISFACTION = "REPEATED_DISSATISFACTION"
    UNGROUNDED_ANSWER = "UNGROUNDED_ANSWER"
    LLM_UNAVAILABLE = "LLM_UNAVAILABLE"


class EscalationStatus(enum.Enum):
    """Lifecycle of an escalation."""

    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class Speaker(enum.Enum):
    """Who spoke a turn."""

    CUSTOMER = "CUSTOMER"
    ASSISTANT = "ASSISTANT"
    AGENT = "AGENT"


class Rating(enum.Enum):
    """A customer's rating of an answer."""

    HELPFUL = "HELPFUL"
    NOT_HELPFUL = "NOT_HELPFUL"


@dataclass(frozen=True)
class IntentGuess:
    """The recognised intent of a question."""

    intent: str
    confidence: float
    model_id: str
    alternatives: tuple[str, ...] = ()
    """The next most likely intents, best first (routing prefers them too)."""


@dataclass(frozen=True)
class SourceRef:
    """A source shown to the customer: a cited chunk, an approved answer or a suggested article."""

    chunk_id: str
    document_id: str
    title: str
    snippet: str
    score: float


@dataclass(frozen=True)
class Turn:
    """One stored turn (text already PII-masked).

    Attributes:
        standalone_query: For a customer turn, the question rewritten for retrieval.
        dissatisfied: For a customer turn, whether it expressed dissatisfaction.
    """

    turn_id: str
    conversation_id: str
    speaker: Speaker
    text: str
    create_time: datetime
    intent: str = ""
    answer_source: AnswerSource | None = None
    citations: tuple[SourceRef, ...] = ()
    standalone_query: str = ""
    dissatisfied: bool = False


@dataclass(frozen=True)
class Conversation:
    """A conversation and the end customer who owns it."""

    conversation_id: str
    customer_id: str
    create_time: datetime


@dataclass(frozen=True)
class EscalationRecord:
    """A conversation handed to a person."""

    escalation_id: str
    conversation_id: str
    customer_id: str
    reason: EscalationReason
    status: EscalationStatus
    create_time: datetime
    intent: str
    retrieved_articles: tuple[SourceRef, ...]
    resolve_time: datetime | None = None
    resolved_by: str = ""
    resolution_note: str = ""
    turns: tuple[Turn, ...] = ()


@dataclass(frozen=True)
class AnswerAudit:
    """What the audit record of one answer holds (no unmasked customer text).

    Attributes:
        decision: ``APPROVED``, ``GENERATED`` or ``HANDOFF:<reason>``.
        inputs: Masked question, standalone query, retrieved chunk ids, intent (encrypted by the audit log).
        llm_output: The raw (masked) generated text, when there was one.
    """

    request_id: str
    caller: str
    decision: str
    intent_model_id: str
    llm_model: str
    prompt_ref: str
    prompt_digest: str
    validation_outcome: str
    inputs: Mapping[str, Any]
    llm_output: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AnswerResult:
    """The outcome of one question: what the servicer turns into ``AskResponse``."""

    conversation_id: str
    turn_id: str
    answer: str
    source: AnswerSource
    citations: tuple[SourceRef, ...]
    escalated: bool
    reason: EscalationReason | None
    escalation_id: str
    suggested_articles: tuple[SourceRef, ...]
    intent: str
    intent_confidence: float
    llm_available: bool
    intent_model_id: str = ""
    llm_model: str = ""
    prompt_ref: str = ""
    validation_outcome: str = ""
    request_id: str = ""
    request_digest: str = ""
    """SHA-256 of what the request asked (:func:`~server.customer.answering.engine.request_digest`); a retry
    with the same ``request_id`` but another digest is REQUEST_ID_REUSED (AIP-155). Stored, never sent."""


@dataclass(frozen=True)
class Exchange:
    """One question and its outcome, stored atomically with its escalation and audit record."""

    customer_id: str
    conversation: Conversation
    new_conversation: bool
    customer_turn: Turn
    assistant_turn: Turn
    result: AnswerResult
    escalation: EscalationRecord | None
    audit: AnswerAudit


@dataclass(frozen=True)
class FeedbackRecord:
    """Feedback on one answer (comment already masked)."""

    feedback_id: str
    customer_id: str
    conversation_id: str
    turn_id: str
    rating: Rating
    comment: str
    create_time: datetime


class IntentSource(Protocol):
    """Recognises the intent of a question."""

    @property
    def model_id(self) -> str:
        """Content hash of the model, for audit records."""
        ...

    async def classify(self, text: str) -> IntentGuess:
        """The most likely BANKING77 intent of ``text`` with its probability."""
        ...


class ArticleCatalog(Protocol):
    """The stored knowledge-base articles (the index is rebuilt from these)."""

    async def get(self, document_id: str) -> Article | None:
        """The article, or None."""
        ...

    async def for_intent(self, intent: str, locale: str) -> list[Article]:
        """Articles answering ``intent`` in ``locale``, by id."""
        ...

    async def list(self, *, locale: str = "", intent: str = "", after: str = "", limit: int = 50) -> list[Article]:
        """Articles with ids after ``after``, by id, at most ``limit``."""
        ...

    async def put(self, article: Article) -> bool:
        """Stores ``article``; False when an identical one was stored already."""
        ...

    async def delete(self, document_id: str) -> bool:
        """Removes the article; False when there was none."""
        ...


class AnswerModel(Protocol):
    """Streams LLM text for a prompt."""

    @property
    def model_ref(self) -> str:
        """What answers (group/model), for audit records; the last one that served when known."""
        ...

    def stream(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        conversation_id: str,
        customer: str,
        time_remaining: float | None,
    ) -> AsyncIterator[str]:
        """Text deltas.

        Raises:
            LlmUnavailable: the model could not serve (before or during the stream).
        """
        ...


class LlmUnavailable(Exception):
    """The LLM could not serve; ``reason`` is a short, data-free code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def request_in_progress(request_id: str) -> Aborted:
    """ABORTED with reason REQUEST_IN_PROGRESS: another attempt stored its answer to ``request_id`` first.

    A retry with the same request then replays that stored answer (AIP-155).
    """
    return Aborted(
        "another attempt with this request_id was answered first; retry to receive its result",
        reason="REQUEST_IN_PROGRESS",
        domain="customer.fintech",
        metadata={"request_id": request_id},
    )


class ConversationStore(Protocol):
    """Conversations, escalations, feedback and the answers' audit records."""

    async def get_conversation(self, customer_id: str, conversation_id: str) -> Conversation | None:
        """The conversation when it exists and belongs to ``customer_id``; None otherwise (never say which)."""
        ...

    async def recent_turns(self, conversation_id: str, limit: int) -> list[Turn]:
        """The last ``limit`` turns, oldest first."""
        ...

    async def result_for_request(self, customer_id: str, request_id: str) -> AnswerResult | None:
        """The stored result of an earlier request with this id by this customer (AIP-155)."""
        ...

    async def save_exchange(self, exchange: Exchange) -> None:
        """Stores the turns, the conversation when new, the escalation and the audit record, atomically."""
        ...

    async def count_not_helpful(self, conversation_id: str) -> int:
        """NOT_HELPFUL feedback given in the conversation."""
        ...

    async def get_turn(self, conversation_id: str, turn_id: str) -> Turn | None:
        """One turn of the conversation."""
        ...

    async def add_feedback(self, feedback: FeedbackRecord) -> None:
        """Stores feedback."""
        ...

    async def get_escalation(self, escalation_id: str) -> EscalationRecord | None:
        """The escalation with its conversation's turns."""
        ...

    async def list_escalations(
        self,
        *,
        status: EscalationStatus | None,
        reason: EscalationReason | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[EscalationRecord]:
        """Escalations newest first, keyset-paginated after ``(create_time, escalation_id)``."""
        ...

    async def record_access(self, escalation: EscalationRecord, *, reader: str) -> None:
        """Audits that ``reader`` (an agent) read the escalation's conversation (``DATA_ACCESS``)."""
        ...

    async def resolve_escalation(
        self, escalation_id: str, *, resolved_by: str, note: str, now: datetime
    ) -> EscalationRecord:
        """Marks it resolved (audited).

        Raises:
            NotFound: no such escalation.
            FailedPrecondition: already resolved.
        """
        ...
