"""In-process implementations of the storage seams: the reference the contract tests compare against.

:class:`MemoryConversationStore` and :class:`MemoryArticleCatalog` keep everything in dictionaries of
one process. They stand in at the declared seams (:class:`ConversationStore`, :class:`ArticleCatalog`)
in unit tests and in the engine's tests; ``tests/integration/customer/test_contracts.py`` runs the
same assertions against them and the SQL implementation. They are not for production: nothing is
persisted or encrypted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from retrieval.documents import Article
from server.customer.answering.ports import (
    AnswerAudit,
    AnswerResult,
    Conversation,
    EscalationReason,
    EscalationRecord,
    EscalationStatus,
    Exchange,
    FeedbackRecord,
    Rating,
    Turn,
    request_in_progress,
)
from server.runtime.errors import FailedPrecondition, NotFound

_DOMAIN = "customer.fintech"


class MemoryConversationStore:
    """:class:`ConversationStore` in memory (tests)."""

    def __init__(self) -> None:
        self.conversations: dict[str, Conversation] = {}
        self.turns: dict[str, list[Turn]] = {}
        self.escalations: dict[str, EscalationRecord] = {}
        self.feedback: list[FeedbackRecord] = []
        self.audit: list[AnswerAudit] = []
        self.results: dict[tuple[str, str], AnswerResult] = {}
        self.resolutions: list[tuple[str, str]] = []
        self.accesses: list[tuple[str, str]] = []

    async def get_conversation(self, customer_id: str, conversation_id: str) -> Conversation | None:
        found = self.conversations.get(conversation_id)
        return found if found is not None and found.customer_id == customer_id else None

    async def recent_turns(self, conversation_id: str, limit: int) -> list[Turn]:
        turns = self.turns.get(conversation_id, [])
        return list(turns[-limit:]) if limit > 0 else []

    async def result_for_request(self, customer_id: str, request_id: str) -> AnswerResult | None:
        return self.results.get((customer_id, request_id))

    async def save_exchange(self, exchange: Exchange) -> None:
        if exchange.result.request_id and (exchange.customer_id, exchange.result.request_id) in self.results:
            raise request_in_progress(exchange.result.request_id)  # as the SQL store's unique key does
        conversation_id = exchange.conversation.conversation_id
        if exchange.new_conversation:
            self.conversations[conversation_id] = exchange.conversation
        self.turns.setdefault(conversation_id, []).extend([exchange.customer_turn, exchange.assistant_turn])
        if exchange.escalation is not None:
            self.escalations[exchange.escalation.escalation_id] = exchange.escalation
        if exchange.result.request_id:
            self.results[(exchange.customer_id, exchange.result.request_id)] = exchange.result
        self.audit.append(exchange.audit)

    async def count_not_helpful(self, conversation_id: str) -> int:
        return sum(1 for f in self.feedback if f.conversation_id == conversation_id and f.rating is Rating.NOT_HELPFUL)

    async def get_turn(self, conversation_id: str, turn_id: str) -> Turn | None:
        return next((t for t in self.turns.get(conversation_id, []) if t.turn_id == turn_id), None)

    async def add_feedback(self, feedback: FeedbackRecord) -> None:
        if any(f.feedback_id == feedback.feedback_id for f in self.feedback):
            return  # a retry of the same request
        self.feedback.append(feedback)

    async def get_escalation(self, escalation_id: str) -> EscalationRecord | None:
        found = self.escalations.get(escalation_id)
        if found is None:
            return None
        return replace(found, turns=tuple(self.turns.get(found.conversation_id, [])))

    async def list_escalations(
        self,
        *,
        status: EscalationStatus | None,
        reason: EscalationReason | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[EscalationRecord]:
        items = sorted(self.escalations.values(), key=lambda e: (e.create_time, e.escalation_id), reverse=True)
        out = []
        for item in items:
            if status is not None and item.status is not status:
                continue
            if reason is not None and item.reason is not reason:
                continue
            if after is not None and (item.create_time, item.escalation_id) >= after:
                continue
            out.append(item)
            if len(out) == limit:
                break
        return out

    async def record_access(self, escalation: EscalationRecord, *, reader: str) -> None:
        self.accesses.append((escalation.escalation_id, reader))

    async def resolve_escalation(
        self, escalation_id: str, *, resolved_by: str, note: str, now: datetime
    ) -> EscalationRecord:
        found = self.escalations.get(escalation_id)
        if found is None:
            raise NotFound("escalation not found", reason="ESCALATION_NOT_FOUND", domain=_DOMAIN)
        if found.status is EscalationStatus.RESOLVED:
            raise FailedPrecondition(
                "escalation already resolved", reason="ESCALATION_ALREADY_RESOLVED", domain=_DOMAIN
            )
        updated = replace(
            found, status=EscalationStatus.RESOLVED, resolve_time=now, resolved_by=resolved_by, resolution_note=note
        )
        self.escalations[escalation_id] = updated
        self.resolutions.append((escalation_id, resolved_by))
        return replace(updated, turns=tuple(self.turns.get(found.conversation_id, [])))


class MemoryArticleCatalog:
    """:class:`ArticleCatalog` in memory, optionally seeded (tests; ``make run`` seeds it from the KB folder)."""

    def __init__(self, articles: Iterable[Article] = ()) -> None:
        self._articles = {article.id: article for article in articles}

    async def get(self, document_id: str) -> Article | None:
        return self._articles.get(document_id)

    async def for_intent(self, intent: str, locale: str) -> list[Article]:
        return [
            a for _, a in sorted(self._articles.items()) if intent in a.intents and (not locale or a.locale == locale)
        ]

    async def list(self, *, locale: str = "", intent: str = "", after: str = "", limit: int = 50) -> list[Article]:
        out = []
        for key in sorted(self._articles):
            article = self._articles[key]
            if key <= after or (locale and article.locale != locale) or (intent and intent not in article.intents):
                continue
            out.append(article)
            if len(out) == limit:
                break
        return out

    async def put(self, article: Article) -> bool:
        if self._articles.get(article.id) == article:
            return False
        self._articles[article.id] = article
        return True

    async def delete(self, document_id: str) -> bool:
        return self._articles.pop(document_id, None) is not None
