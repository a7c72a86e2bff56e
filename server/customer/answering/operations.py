"""The non-answering use cases: feedback, the escalation desk and knowledge-base management.

- :class:`FeedbackDesk`: feedback on a turn of the customer's own conversation, comment PII-masked.
- :class:`EscalationDesk`: list (keyset pages), get and resolve escalations for agents.
- :class:`KnowledgeAdmin`: upsert, delete, list and search articles; the stored article (catalog) and
  the index (retrieval helper's :class:`~retrieval.index.KnowledgeIndex`) are changed together.
"""

from __future__ import annotations

import builtins
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from retrieval.documents import ApprovedAnswer, Article, ArticleError, parse_article, render_article
from retrieval.index import KnowledgeIndex, SearchFilter, SearchHit, SearchMode
from server.customer.answering.metrics import CustomerMetrics
from server.customer.answering.pii import mask_pii
from server.customer.answering.ports import (
    ArticleCatalog,
    ConversationStore,
    EscalationReason,
    EscalationRecord,
    EscalationStatus,
    FeedbackRecord,
    Rating,
)
from server.runtime.clock import Clock, SystemClock
from server.runtime.errors import FieldViolation, InvalidArgument, NotFound

DOMAIN = "customer.fintech"
DEFAULT_PAGE_SIZE = 50


class PageTokens(Protocol):
    """Signed page tokens (``server.storage.page_tokens.PageTokenCodec`` is one)."""

    def encode(self, position: Mapping[str, Any], *, scope: str) -> str:
        """A token for ``position`` valid for ``scope``."""
        ...

    def decode(self, token: str, *, scope: str) -> dict[str, Any]:
        """The position; InvalidArgument naming ``page_token`` when forged or foreign."""
        ...


def _page_size(requested: int) -> int:
    return DEFAULT_PAGE_SIZE if requested <= 0 else min(requested, 500)


class FeedbackDesk:
    """Stores feedback on answers."""

    def __init__(self, store: ConversationStore, *, clock: Clock | None = None,
                 metrics: CustomerMetrics | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()
        self._metrics = metrics

    async def submit(
        self, *, customer_id: str, conversation_id: str, turn_id: str, rating: Rating, comment: str, request_id: str
    ) -> str:
        """Stores the rating of ``turn_id``; a retry with the same ``request_id`` stores nothing new.

        Raises:
            NotFound: the conversation is not the customer's, or has no such turn.
        """
        if await self._store.get_conversation(customer_id, conversation_id) is None:
            raise NotFound("conversation not found", reason="CONVERSATION_NOT_FOUND", domain=DOMAIN)
        if await self._store.get_turn(conversation_id, turn_id) is None:
            raise NotFound("turn not found", reason="TURN_NOT_FOUND", domain=DOMAIN)
        seed = f"{customer_id}\x1f{request_id}" if request_id else uuid.uuid4().hex
        feedback_id = hashlib.sha256(seed.encode()).hexdigest()[:32]
        await self._store.add_feedback(
            FeedbackRecord(
                feedback_id=feedback_id,
                customer_id=customer_id,
                conversation_id=conversation_id,
                turn_id=turn_id,
                rating=rating,
                comment=mask_pii(comment).text,
                create_time=self._clock.now(),
            )
        )
        return feedback_id


@dataclass(frozen=True)
class EscalationPage:
    """One page of escalations."""

    escalations: list[EscalationRecord]
    next_page_token: str


class EscalationDesk:
    """The agents' queue."""

    def __init__(self, store: ConversationStore, tokens: PageTokens, *, clock: Clock | None = None) -> None:
        self._store = store
        self._tokens = tokens
        self._clock = clock or SystemClock()

    async def list(
        self, *, page_size: int, page_token: str, status: EscalationStatus | None, reason: EscalationReason | None
    ) -> EscalationPage:
        """Newest first, filtered; the token is bound to the filter."""
        scope = f"customer.ListEscalations:{status.value if status else ''}:{reason.value if reason else ''}"
        after = None
        if page_token:
            position = self._tokens.decode(page_token, scope=scope)
            after = (datetime.fromtimestamp(position["t"] / 1_000_000, tz=UTC), str(position["id"]))
        size = _page_size(page_size)
        items = await self._store.list_escalations(status=status, reason=reason, after=after, limit=size + 1)
        token = ""
        if len(items) > size:
            items = items[:size]
            last = items[-1]
            token = self._tokens.encode(
                {"t": int(last.create_time.timestamp() * 1_000_000), "id": last.escalation_id}, scope=scope
            )
        return EscalationPage(items, token)

    async def get(self, escalation_id: str, *, reader: str) -> EscalationRecord:
        """One escalation with its conversation; the read is audited (``DATA_ACCESS``).

        Raises:
            NotFound: no such escalation.
        """
        found = await self._store.get_escalation(escalation_id)
        if found is None:
            raise NotFound("escalation not found", reason="ESCALATION_NOT_FOUND", domain=DOMAIN,
                           metadata={"escalation_id": escalation_id})
        await self._store.record_access(found, reader=reader)
        return found

    async def resolve(self, escalation_id: str, *, resolved_by: str, note: str) -> EscalationRecord:
        """Resolves it with a (PII-masked) note.

        Raises:
            NotFound: no such escalation.
            FailedPrecondition: already resolved.
            InvalidArgument: an empty note.
        """
        if not note.strip():
            raise InvalidArgument(
                "resolution_note is required",
                reason="NOTE_EMPTY",
                domain=DOMAIN,
                violations=[FieldViolation("resolution_note", "must not be empty")],
            )
        return await self._store.resolve_escalation(
            escalation_id, resolved_by=resolved_by, note=mask_pii(note).text, now=self._clock.now()
        )


@dataclass(frozen=True)
class DocumentDraft:
    """An article as an agent submits it (the servicer converts the proto ``Document``)."""

    document_id: str
    title: str
    locale: str
    intents: tuple[str, ...]
    body_markdown: str
    approved_text: str = ""
    approved_owner: str = ""
    approved_version: str = ""
    approved_expires: date | None = None


@dataclass(frozen=True)
class UpsertOutcome:
    """What an upsert changed."""

    article: Article
    changed: bool
    chunks_added: int
    chunks_removed: int


@dataclass(frozen=True)
class DocumentPage:
    """One page of articles."""

    articles: list[Article]
    next_page_token: str


class KnowledgeAdmin:
    """Article management and raw retrieval over the catalog and the index."""

    def __init__(
        self,
        catalog: ArticleCatalog,
        index: KnowledgeIndex,
        tokens: PageTokens,
        *,
        known_intents: Sequence[str] | None = None,
        clock: Clock | None = None,
        chunk_counter: Callable[[Article], int] | None = None,
    ) -> None:
        self._catalog = catalog
        self._index = index
        self._tokens = tokens
        self._known = None if known_intents is None else list(known_intents)
        self._clock = clock or SystemClock()
        self._chunk_counter = chunk_counter

    def to_article(self, draft: DocumentDraft) -> Article:
        """Validates ``draft`` with the retrieval helper's article rules.

        Raises:
            InvalidArgument: naming the field (``document.<field>``).
        """
        approved = None
        if draft.approved_text or draft.approved_owner or draft.approved_version:
            try:
                version = int(draft.approved_version)
            except ValueError:
                version = 0
            if version < 1:
                raise _bad("document.approved_answer.version", "must be a positive integer")
            if draft.approved_expires is None:
                raise _bad("document.approved_answer.expire_time", "required with an approved answer")
            approved = ApprovedAnswer(draft.approved_text, draft.approved_owner, version, draft.approved_expires)
        candidate = Article(
            id=draft.document_id,
            title=draft.title,
            intents=draft.intents,
            locale=draft.locale,
            updated=self._clock.now().date(),
            body=draft.body_markdown,
            approved_answer=approved,
        )
        try:
            # Round trip through the on-disk format: one set of rules for files and for the API.
            return parse_article(render_article(candidate), source=draft.document_id, known_intents=self._known)
        except ArticleError as exc:
            field = {"front_matter": "document", "body": "document.body_markdown"}.get(exc.field, "")
            field = field or ("document." + exc.field.replace("approved_answer", "approved_answer"))
            raise _bad(field, exc.problem) from None

    async def upsert(self, draft: DocumentDraft) -> UpsertOutcome:
        """Stores and indexes the article (an unchanged one changes nothing)."""
        article = self.to_article(draft)
        existing = await self._catalog.get(article.id)
        if existing is not None and _same(existing, article):
            return UpsertOutcome(existing, False, 0, 0)
        await self._catalog.put(article)
        result = await self._index.upsert_document(article)
        return UpsertOutcome(article, True, result.inserted, result.deleted)

    async def reindex(self, *, progress: Callable[[int, str], None] | None = None) -> tuple[int, int]:
        """Rebuilds the index from the stored articles (after a restore); returns (articles, removed).

        Unchanged articles cost one lookup each (chunk ids are content hashes); indexed documents that
        are no longer stored are deleted.
        """
        stored: set[str] = set()
        after = ""
        while True:
            page = await self._catalog.list(after=after, limit=200)
            if not page:
                break
            for article in page:
                await self._index.upsert_document(article)
                stored.add(article.id)
                if progress is not None:
                    progress(len(stored), article.id)
            after = page[-1].id
        removed = 0
        for document_id in sorted(await self._index.document_ids() - stored):
            await self._index.delete_document(document_id)
            removed += 1
        return len(stored), removed

    async def delete(self, document_id: str) -> int:
        """Removes the article and all of its chunks.

        Raises:
            NotFound: neither stored nor indexed.
        """
        stored = await self._catalog.delete(document_id)
        removed = await self._index.delete_document(document_id)
        if not stored and removed == 0:
            raise NotFound(
                "document not found", reason="DOCUMENT_NOT_FOUND", domain=DOMAIN, metadata={"document_id": document_id}
            )
        return removed

    async def list(self, *, page_size: int, page_token: str, locale: str, intent: str) -> DocumentPage:
        """Articles by id, filtered."""
        scope = f"customer.ListDocuments:{locale}:{intent}"
        after = str(self._tokens.decode(page_token, scope=scope)["after"]) if page_token else ""
        size = _page_size(page_size)
        items = await self._catalog.list(locale=locale, intent=intent, after=after, limit=size + 1)
        token = ""
        if len(items) > size:
            items = items[:size]
            token = self._tokens.encode({"after": items[-1].id}, scope=scope)
        return DocumentPage(items, token)

    async def search(
        self, query: str, *, top_k: int, locale: str, intents: Sequence[str], mode: SearchMode
    ) -> builtins.list[SearchHit]:
        """Retrieval on its own (the query is PII-masked first)."""
        search_filter = SearchFilter(locale=locale or None, intents=tuple(intents))
        return await self._index.search(mask_pii(query).text, limit=top_k or 5, mode=mode, search_filter=search_filter)


def _same(a: Article, b: Article) -> bool:
    # ``updated`` is stamped on every upsert; an unchanged article keeps its stored date.
    return (a.id, a.title, a.intents, a.locale, a.body, a.approved_answer) == (
        b.id,
        b.title,
        b.intents,
        b.locale,
        b.body,
        b.approved_answer,
    )


def _bad(field: str, problem: str) -> InvalidArgument:
    return InvalidArgument(
        f"invalid document: {field}",
        reason="INVALID_DOCUMENT",
        domain=DOMAIN,
        violations=[FieldViolation(field, problem)],
    )
