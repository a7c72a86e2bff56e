"""Retrieval over the bank's knowledge base: articles, chunking, embeddings and the Milvus index.

Knows nothing about gRPC. Servers depend on :class:`KnowledgeIndex` (a Protocol); the implementation
is :class:`MilvusKnowledgeIndex`. Milvus being down surfaces as
``server.runtime.errors.Unavailable`` with reason ``KNOWLEDGE_BASE_UNAVAILABLE``.
"""

from retrieval.chunking import Chunk, ChunkingPolicy, chunk_article
from retrieval.documents import ApprovedAnswer, Article, ArticleError, load_articles, parse_article, render_article
from retrieval.embedding import (
    CachedEmbedder,
    Embedder,
    EmbeddingCache,
    MiniLmEmbedder,
    QueryVectorCache,
    embed_async,
    query_vectors_for,
    shared_embedder,
)
from retrieval.index import (
    UNAVAILABLE_REASON,
    HybridRanker,
    KnowledgeIndex,
    Readiness,
    SearchFilter,
    SearchHit,
    SearchMode,
    UpsertResult,
)
from retrieval.milvus import MilvusKnowledgeIndex, filter_expression, probe_knowledge_base
from retrieval.routing import prefer_intents

__all__ = [
    "UNAVAILABLE_REASON",
    "ApprovedAnswer",
    "Article",
    "ArticleError",
    "CachedEmbedder",
    "Chunk",
    "ChunkingPolicy",
    "Embedder",
    "EmbeddingCache",
    "HybridRanker",
    "KnowledgeIndex",
    "MilvusKnowledgeIndex",
    "MiniLmEmbedder",
    "QueryVectorCache",
    "Readiness",
    "SearchFilter",
    "SearchHit",
    "SearchMode",
    "UpsertResult",
    "chunk_article",
    "embed_async",
    "filter_expression",
    "load_articles",
    "parse_article",
    "prefer_intents",
    "probe_knowledge_base",
    "query_vectors_for",
    "render_article",
    "shared_embedder",
]
