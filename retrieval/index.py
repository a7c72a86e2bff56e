"""The retrieval seam: what servers depend on, independent of Milvus.

This module owns the typed interface (:class:`KnowledgeIndex`) and the value types that cross it.
The customer service depends on this Protocol only; :class:`retrieval.milvus.MilvusKnowledgeIndex` is
the real implementation. Errors crossing the seam are :mod:`server.runtime.errors` domain errors:
an unreachable store is :class:`~server.runtime.errors.Unavailable` with reason
``KNOWLEDGE_BASE_UNAVAILABLE``; a bad query is :class:`~server.runtime.errors.InvalidArgument`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from retrieval.documents import Article

UNAVAILABLE_REASON = "KNOWLEDGE_BASE_UNAVAILABLE"
ERROR_DOMAIN = "customer.fintech"


class SearchMode(enum.Enum):
    """Which retrieval to run (mirrors ``fintech.customer.v1.SearchMode``)."""

    HYBRID = "hybrid"
    """Dense and BM25 results fused with reciprocal rank fusion."""
    DENSE = "dense"
    """Sentence-embedding similarity only."""
    SPARSE = "sparse"
    """BM25 only."""


class HybridRanker(enum.StrEnum):
    """How :attr:`SearchMode.HYBRID` fuses the dense and the BM25 leg."""

    RRF = "rrf"
    """Reciprocal rank fusion, both legs weighted equally (ranks only)."""
    WEIGHTED = "weighted"
    """Milvus' ``WeightedRanker``: each leg's scores normalised to [0, 1], then a weighted sum."""


DEFAULT_RANKER = HybridRanker.WEIGHTED
"""The fusion the service uses: chosen on the written question set only (eval/customer_eval.py)."""
DEFAULT_DENSE_WEIGHT = 0.9
"""Weight of the dense leg under :attr:`HybridRanker.WEIGHTED` (BM25 gets the rest)."""


@dataclass(frozen=True)
class SearchFilter:
    """Restricts a search; every given condition must hold."""

    locale: str | None = None
    """Only chunks of articles in this locale."""
    intents: tuple[str, ...] = ()
    """Only chunks of articles that answer at least one of these intents."""
    document_ids: tuple[str, ...] = ()
    """Only chunks of these articles."""


@dataclass(frozen=True)
class SearchHit:
    """One retrieved chunk."""

    chunk_id: str
    document_id: str
    title: str
    heading: str
    content: str
    score: float
    """Higher is better. Dense: cosine similarity; sparse: BM25; hybrid: the fused score (RRF or weighted)."""
    rank: int
    """1-based position in the result list."""
    intents: tuple[str, ...]
    locale: str


@dataclass(frozen=True)
class UpsertResult:
    """What an upsert changed."""

    document_id: str
    inserted: int
    deleted: int

    @property
    def unchanged(self) -> bool:
        """True when the stored chunks already matched the article (nothing was embedded or written)."""
        return self.inserted == 0 and self.deleted == 0


@dataclass(frozen=True)
class Readiness:
    """Result of a readiness probe."""

    ready: bool
    detail: str
    """Why not ready (safe to log: no customer data), or ``"ok"``."""
    chunk_count: int = 0


class KnowledgeIndex(Protocol):
    """Chunks of knowledge-base articles, searchable by meaning and by words."""

    async def upsert_document(self, article: Article) -> UpsertResult:
        """Indexes ``article``: new chunks are embedded and written, stale ones removed, unchanged ones kept."""
        ...

    async def delete_document(self, document_id: str) -> int:
        """Removes every chunk of ``document_id``; returns how many were removed (0 if none)."""
        ...

    async def search(
        self,
        query: str,
        *,
        limit: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        search_filter: SearchFilter | None = None,
    ) -> list[SearchHit]:
        """Returns the ``limit`` best chunks for ``query`` under ``mode`` and ``search_filter``."""
        ...

    async def hybrid(self, query: str, *, limit: int = 5, search_filter: SearchFilter | None = None) -> list[SearchHit]:
        """Shorthand for :meth:`search` with :attr:`SearchMode.HYBRID`."""
        ...

    async def document_ids(self) -> set[str]:
        """Ids of every indexed article."""
        ...

    async def readiness(self) -> Readiness:
        """Probes the store; never raises."""
        ...

    async def close(self) -> None:
        """Releases the connection (and, for milvus-lite, the data directory's lock)."""
        ...
