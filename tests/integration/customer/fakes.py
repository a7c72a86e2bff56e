"""Fakes at the customer engine's declared seams: a keyword index and a keyword intent source.

They stand in for :class:`retrieval.milvus.MilvusKnowledgeIndex` and the trained classifier in the
engine's tests; ``test_contracts.py`` runs the same assertions against them and the real ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from retrieval.chunking import Chunk, chunk_article
from retrieval.documents import Article
from retrieval.index import Readiness, SearchFilter, SearchHit, SearchMode, UpsertResult
from server.customer.answering.grounding import content_words
from server.customer.answering.ports import IntentGuess


def _terms(text: str) -> list[str]:
    return [w[:-1] if w.endswith("s") and len(w) > 4 else w for w in content_words(text)]


class KeywordIndex:
    """:class:`retrieval.index.KnowledgeIndex` by word overlap (dense mode: share of query words covered)."""

    def __init__(self, articles: Iterable[Article] = ()) -> None:
        self._chunks: dict[str, list[Chunk]] = {}
        self.available = True
        for article in articles:
            self._chunks[article.id] = chunk_article(article)

    async def upsert_document(self, article: Article) -> UpsertResult:
        old = {c.chunk_id for c in self._chunks.get(article.id, [])}
        new_chunks = chunk_article(article)
        new = {c.chunk_id for c in new_chunks}
        self._chunks[article.id] = new_chunks
        return UpsertResult(article.id, len(new - old), len(old - new))

    async def delete_document(self, document_id: str) -> int:
        return len(self._chunks.pop(document_id, []))

    def _allowed(self, chunk: Chunk, search_filter: SearchFilter | None) -> bool:
        if search_filter is None:
            return True
        if search_filter.locale and chunk.locale != search_filter.locale:
            return False
        if search_filter.intents and not set(search_filter.intents) & set(chunk.intents):
            return False
        return not (search_filter.document_ids and chunk.document_id not in search_filter.document_ids)

    async def search(
        self,
        query: str,
        *,
        limit: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        search_filter: SearchFilter | None = None,
    ) -> list[SearchHit]:
        if not self.available:
            from server.runtime.errors import Unavailable

            raise Unavailable("knowledge base unavailable", reason="KNOWLEDGE_BASE_UNAVAILABLE")
        query_terms = set(_terms(query))
        chunks = [c for cs in self._chunks.values() for c in cs if self._allowed(c, search_filter)]
        scored = []
        for chunk in chunks:
            terms = _terms(chunk.indexed_text)
            overlap = query_terms & set(terms)
            if not overlap:
                continue
            coverage = len(overlap) / max(len(query_terms), 1)
            scored.append((coverage + 0.001 * sum(1 / math.log(2 + terms.count(t)) for t in overlap), chunk, coverage))
        scored.sort(key=lambda item: (-item[0], item[1].chunk_id))
        hits = []
        for rank, (_, chunk, coverage) in enumerate(scored[:limit], start=1):
            score = coverage if mode is SearchMode.DENSE else (1 / (60 + rank))
            hits.append(
                SearchHit(
                    chunk.chunk_id,
                    chunk.document_id,
                    chunk.title,
                    chunk.heading,
                    chunk.content,
                    score,
                    rank,
                    chunk.intents,
                    chunk.locale,
                )
            )
        return hits

    async def hybrid(self, query: str, *, limit: int = 5, search_filter: SearchFilter | None = None) -> list[SearchHit]:
        return await self.search(query, limit=limit, search_filter=search_filter)

    async def document_ids(self) -> set[str]:
        return set(self._chunks)

    async def readiness(self) -> Readiness:
        return Readiness(self.available, "ok" if self.available else "down", sum(len(c) for c in self._chunks.values()))

    async def close(self) -> None:
        return None


class KeywordIntents:
    """:class:`IntentSource` from (pattern, intent, confidence) rules, first match wins."""

    model_id = "keyword-intents-test"

    def __init__(self, rules: Sequence[tuple[str, str, float]], default: tuple[str, float] = ("card_arrival", 0.1)):
        self._rules = [(re.compile(p, re.I), intent, conf) for p, intent, conf in rules]
        self._default = default

    async def classify(self, text: str) -> IntentGuess:
        for pattern, intent, confidence in self._rules:
            if pattern.search(text):
                return IntentGuess(intent, confidence, self.model_id)
        return IntentGuess(self._default[0], self._default[1], self.model_id)
