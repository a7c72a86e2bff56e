"""The knowledge index on Milvus: one collection, dense vectors plus a BM25 sparse vector.

This module owns the collection schema, ingestion (content-hash chunk ids, unchanged documents
skipped, stale chunks deleted), dense, BM25 and hybrid (RRF) search with locale and intent filters,
and the mapping of every Milvus failure to :class:`~server.runtime.errors.Unavailable` with reason
``KNOWLEDGE_BASE_UNAVAILABLE``. The same code serves milvus-lite (a local ``*.db`` path: a data
directory locked to one process) and a Milvus server (``http://host:19530``).

Milvus calls are blocking, so each runs in a small thread pool; embedding runs in its own executor.
milvus-lite searches are slow in the process that has just inserted (see docs/retrieval.md): build
the index with :func:`retrieval.build.build_index`, then serve from a process that opens it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from retrieval.chunking import Chunk, ChunkingPolicy, chunk_article
from retrieval.documents import Article
from retrieval.embedding import CachedEmbedder, Embedder, embed_async, query_vectors_for
from retrieval.index import (
    DEFAULT_DENSE_WEIGHT,
    DEFAULT_RANKER,
    ERROR_DOMAIN,
    UNAVAILABLE_REASON,
    HybridRanker,
    Readiness,
    SearchFilter,
    SearchHit,
    SearchMode,
    UpsertResult,
)
from retrieval.text import bm25_text
from server.runtime.errors import FieldViolation, InvalidArgument, Unavailable

_tracer = trace.get_tracer("fintech.retrieval")
_log = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_COLLECTION = "kb_chunks"
_OUTPUT_FIELDS = ["document_id", "title", "heading", "content", "intents", "locale"]
_MAX_LIMIT = 100
_MAX_QUERY_CHARS = 4000
# Upper bounds of the VARCHAR/ARRAY fields; chunking keeps content well below them.
_MAX_TEXT = 8192
_MAX_INTENTS = 32


def _quote(value: str) -> str:
    """A Milvus string literal (JSON escaping is a subset Milvus' expression parser accepts)."""
    return json.dumps(value, ensure_ascii=False)


def filter_expression(search_filter: SearchFilter | None) -> str:
    """Translates a :class:`SearchFilter` into a Milvus boolean expression ("" for no filter)."""
    if search_filter is None:
        return ""
    clauses: list[str] = []
    if search_filter.locale:
        clauses.append(f"locale == {_quote(search_filter.locale)}")
    if search_filter.intents:
        clauses.append(f"ARRAY_CONTAINS_ANY(intents, [{', '.join(_quote(i) for i in search_filter.intents)}])")
    if search_filter.document_ids:
        clauses.append(f"document_id in [{', '.join(_quote(d) for d in search_filter.document_ids)}]")
    return " and ".join(clauses)


def _bm25_query(query: str) -> str:
    # A question made only of stop words still needs a term for BM25; its lower-cased words will do.
    return bm25_text(query) or query.lower()


def _unavailable(operation: str, exc: BaseException) -> Unavailable:
    # The exception text can hold URIs but never customer data; keep only its class for the message.
    return Unavailable(
        message=f"knowledge base unavailable during {operation} ({exc.__class__.__name__})",
        reason=UNAVAILABLE_REASON,
        domain=ERROR_DOMAIN,
        metadata={"operation": operation},
    )


class MilvusKnowledgeIndex:
    """:class:`retrieval.index.KnowledgeIndex` on ``pymilvus.MilvusClient``."""

    def __init__(
        self,
        client: Any,
        *,
        collection: str,
        embedder: Embedder,
        embed_executor: Executor | None,
        milvus_executor: ThreadPoolExecutor,
        policy: ChunkingPolicy,
        rrf_k: int,
        owns_executor: bool,
        query_cache_size: int = 1024,
        analyzer: dict[str, Any] | None = None,
        ranker: HybridRanker = DEFAULT_RANKER,
        dense_weight: float = DEFAULT_DENSE_WEIGHT,
    ) -> None:
        """Use :meth:`open`; the constructor only stores what it is given."""
        if not 0.0 <= dense_weight <= 1.0:
            raise ValueError("dense_weight must be between 0 and 1")
        self._client = client
        self._collection = collection
        self._embedder = embedder
        self._embed_executor = embed_executor
        self._milvus_executor = milvus_executor
        self._policy = policy
        self._rrf_k = rrf_k
        self._ranker = ranker
        self._dense_weight = dense_weight
        self._owns_executor = owns_executor
        self._write_lock = asyncio.Lock()
        self._closed = False
        # Queries skip the on-disk cache (a customer's question is not written to disk). With a cache size,
        # they share the process-wide LRU of their model: the hybrid search, the dense probe and the intent
        # classifier of one question then cost one forward pass between them.
        self._query_embedder: Embedder = (
            query_vectors_for(embedder, query_cache_size)
            if query_cache_size
            else (embedder.inner if isinstance(embedder, CachedEmbedder) else embedder)
        )
        self._analyzer: dict[str, Any] = dict(analyzer or {"tokenizer": "standard", "filter": ["lowercase"]})

    @classmethod
    async def open(
        cls,
        uri: str,
        *,
        embedder: Embedder,
        collection: str = DEFAULT_COLLECTION,
        token: str = "",
        embed_executor: Executor | None = None,
        policy: ChunkingPolicy | None = None,
        rrf_k: int = 60,
        milvus_workers: int = 4,
        timeout_seconds: float = 10.0,
        query_cache_size: int = 1024,
        analyzer: dict[str, Any] | None = None,
        ranker: HybridRanker = DEFAULT_RANKER,
        dense_weight: float = DEFAULT_DENSE_WEIGHT,
    ) -> MilvusKnowledgeIndex:
        """Connects, creates the collection if needed and loads it.

        Args:
            uri: A milvus-lite file path ending in ``.db`` (its parent is created) or a server URI.
            embedder: Sentence embedder (its dimension sizes the dense field).
            collection: Collection name.
            token: Server credentials (``user:password`` or an API key); empty for milvus-lite.
            embed_executor: Where embedding runs; ``None`` is the loop's default executor.
            policy: Chunk sizes.
            rrf_k: The RRF constant (60 is the value from the original paper).
            milvus_workers: Threads issuing blocking Milvus calls.
            timeout_seconds: Connection timeout for a server URI.
            query_cache_size: Recent query vectors kept in memory, shared with every user of the same model
                (:func:`retrieval.embedding.query_vectors_for`); 0 disables it (the latency benchmark).
            ranker: How hybrid search fuses its two legs (default: the configuration measured best on the
                written question set, docs/retrieval.md).
            dense_weight: Weight of the dense leg for :attr:`HybridRanker.WEIGHTED` (BM25 gets the rest).
            analyzer: Milvus analyzer of the BM25 text when the collection is created (default: standard
                tokenizer, lower case; stop words and stemming are done by :mod:`retrieval.text`).

        Raises:
            Unavailable: Milvus cannot be reached or the milvus-lite directory is locked by another process.
        """
        if not 0.0 <= dense_weight <= 1.0:
            raise ValueError("dense_weight must be between 0 and 1")
        if "://" not in uri:
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        executor = ThreadPoolExecutor(max_workers=milvus_workers, thread_name_prefix="milvus")
        loop = asyncio.get_running_loop()

        def connect() -> Any:
            from pymilvus import MilvusClient

            return MilvusClient(uri=uri, token=token, timeout=timeout_seconds)

        try:
            client = await loop.run_in_executor(executor, connect)
        except Exception as exc:  # every failure to connect is the same thing to the caller
            executor.shutdown(wait=False)
            raise _unavailable("connect", exc) from exc
        index = cls(
            client,
            collection=collection,
            embedder=embedder,
            embed_executor=embed_executor,
            milvus_executor=executor,
            policy=policy or ChunkingPolicy(),
            rrf_k=rrf_k,
            owns_executor=True,
            query_cache_size=query_cache_size,
            analyzer=analyzer,
            ranker=ranker,
            dense_weight=dense_weight,
        )
        try:
            await index._call("create_collection", index._ensure_collection)
        except Unavailable:
            await index.close()
            raise
        return index

    # -- plumbing -------------------------------------------------------------------------------

    async def _call(self, operation: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        if self._closed:
            raise Unavailable(message="knowledge index is closed", reason=UNAVAILABLE_REASON, domain=ERROR_DOMAIN)
        loop = asyncio.get_running_loop()
        try:
            with _tracer.start_as_current_span(f"milvus.{operation}", kind=SpanKind.CLIENT) as span:
                span.set_attribute("db.system", "milvus")
                return await loop.run_in_executor(self._milvus_executor, lambda: fn(*args, **kwargs))
        except Unavailable:
            raise
        except Exception as exc:  # pymilvus raises MilvusException, grpc errors, OSError...: all mean "down"
            _log.warning("milvus %s failed: %s", operation, exc.__class__.__name__)
            raise _unavailable(operation, exc) from exc

    def _ensure_collection(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        client = self._client
        if not client.has_collection(self._collection):
            schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=64)
            schema.add_field("document_id", DataType.VARCHAR, max_length=128)
            schema.add_field("title", DataType.VARCHAR, max_length=512)
            schema.add_field("heading", DataType.VARCHAR, max_length=1024)
            schema.add_field("content", DataType.VARCHAR, max_length=_MAX_TEXT)
            # The indexed text (title, heading path, content) feeds BM25 through Milvus' own analyzer.
            schema.add_field(
                "text",
                DataType.VARCHAR,
                max_length=_MAX_TEXT,
                enable_analyzer=True,
                analyzer_params=self._analyzer,
            )
            schema.add_field(
                "intents", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=_MAX_INTENTS, max_length=64
            )
            schema.add_field("locale", DataType.VARCHAR, max_length=16)
            schema.add_field("position", DataType.INT64)
            schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self._embedder.dimension)
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                Function(
                    name="text_bm25",
                    function_type=FunctionType.BM25,
                    input_field_names=["text"],
                    output_field_names=["sparse"],
                )
            )
            index_params = client.prepare_index_params()
            index_params.add_index(field_name="dense", index_type="AUTOINDEX", metric_type="IP")
            index_params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
            client.create_collection(self._collection, schema=schema, index_params=index_params)
        client.load_collection(self._collection)

    @staticmethod
    def _row(chunk: Chunk, vector: Sequence[float]) -> dict[str, Any]:
        return {
            "chunk_id": chunk.chunk_id,
            "document_id": chunk.document_id,
            "title": chunk.title,
            "heading": chunk.heading,
            "content": chunk.content,
            "text": bm25_text(chunk.indexed_text),
            "intents": list(chunk.intents),
            "locale": chunk.locale,
            "position": chunk.position,
            "dense": [float(x) for x in vector],
        }

    def _chunk_ids_of(self, document_id: str) -> set[str]:
        rows = self._client.query(
            self._collection, filter=f"document_id == {_quote(document_id)}", output_fields=["chunk_id"]
        )
        return {str(row["chunk_id"]) for row in rows}

    # -- writes ---------------------------------------------------------------------------------

    async def upsert_document(self, article: Article) -> UpsertResult:
        """Indexes ``article``; only chunks whose content changed are embedded and written.

        Raises:
            InvalidArgument: The article has more intents than the schema holds.
            Unavailable: Milvus failed.
        """
        if len(article.intents) > _MAX_INTENTS:
            raise InvalidArgument(
                message="too many intents",
                reason="TOO_MANY_INTENTS",
                domain=ERROR_DOMAIN,
                violations=[FieldViolation("intents", f"at most {_MAX_INTENTS} intents per article")],
            )
        chunks = chunk_article(article, self._policy)
        async with self._write_lock:
            existing = await self._call("query", self._chunk_ids_of, article.id)
            wanted = {chunk.chunk_id for chunk in chunks}
            new_chunks = [chunk for chunk in chunks if chunk.chunk_id not in existing]
            stale = sorted(existing - wanted)
            if new_chunks:
                vectors = await embed_async(
                    self._embedder, [chunk.indexed_text for chunk in new_chunks], self._embed_executor
                )
                rows = [self._row(chunk, vectors[i]) for i, chunk in enumerate(new_chunks)]
                # Insert before deleting, so a concurrent reader never sees the article missing.
                await self._call("insert", self._client.insert, self._collection, rows)
            if stale:
                await self._call("delete", self._client.delete, self._collection, ids=stale)
        return UpsertResult(document_id=article.id, inserted=len(new_chunks), deleted=len(stale))

    async def delete_document(self, document_id: str) -> int:
        """Removes every chunk of ``document_id``; returns how many there were."""
        async with self._write_lock:
            existing = await self._call("query", self._chunk_ids_of, document_id)
            if existing:
                await self._call("delete", self._client.delete, self._collection, ids=sorted(existing))
        return len(existing)

    async def insert_chunks(
        self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]] | None = None, batch_size: int = 500
    ) -> int:
        """Bulk-inserts already chunked content (rebuilds and benchmarks); returns how many were written.

        Unlike :meth:`upsert_document` this does not look for stale chunks: use it on an empty collection.

        Args:
            chunks: The chunks.
            vectors: Their dense vectors, when already computed; ``None`` embeds ``indexed_text``.
            batch_size: Rows per insert call.
        """
        if vectors is not None and len(vectors) != len(chunks):
            raise ValueError("vectors and chunks differ in length")
        written = 0
        async with self._write_lock:
            for start in range(0, len(chunks), batch_size):
                batch = list(chunks[start : start + batch_size])
                if vectors is None:
                    embedded = await embed_async(self._embedder, [c.indexed_text for c in batch], self._embed_executor)
                    batch_vectors: Sequence[Sequence[float]] = embedded.tolist()
                else:
                    batch_vectors = vectors[start : start + batch_size]
                rows = [self._row(chunk, batch_vectors[i]) for i, chunk in enumerate(batch)]
                await self._call("insert", self._client.insert, self._collection, rows)
                written += len(batch)
        return written

    async def flush(self) -> None:
        """Seals written data so another process opening the store sees it (call after a bulk build)."""
        await self._call("flush", self._client.flush, self._collection)

    # -- reads ----------------------------------------------------------------------------------

    async def search(
        self,
        query: str,
        *,
        limit: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        search_filter: SearchFilter | None = None,
    ) -> list[SearchHit]:
        """Returns the ``limit`` best chunks for ``query``.

        Raises:
            InvalidArgument: ``query`` is empty or too long, or ``limit`` is out of range.
            Unavailable: Milvus failed.
        """
        violations = []
        if not query.strip():
            violations.append(FieldViolation("query", "must not be empty"))
        elif len(query) > _MAX_QUERY_CHARS:
            violations.append(FieldViolation("query", f"at most {_MAX_QUERY_CHARS} characters"))
        if not 1 <= limit <= _MAX_LIMIT:
            violations.append(FieldViolation("limit", f"must be between 1 and {_MAX_LIMIT}"))
        if violations:
            raise InvalidArgument(
                message="invalid search", reason="INVALID_SEARCH", domain=ERROR_DOMAIN, violations=violations
            )
        expression = filter_expression(search_filter)
        if mode is SearchMode.SPARSE:
            raw = await self._call("search", self._sparse, query, limit, expression)
            return self._hits(raw, negate=True)
        vector = await self._query_vector(query)
        if mode is SearchMode.DENSE:
            raw = await self._call("search", self._dense, vector, limit, expression)
            return self._hits(raw, negate=False)
        raw = await self._call("hybrid_search", self._hybrid, query, vector, limit, expression)
        return self._hits(raw, negate=False)

    async def _query_vector(self, query: str) -> list[float]:
        vector: list[float] = (await embed_async(self._query_embedder, [query], self._embed_executor))[0].tolist()
        return vector

    async def hybrid(self, query: str, *, limit: int = 5, search_filter: SearchFilter | None = None) -> list[SearchHit]:
        """Dense and BM25 search fused with RRF."""
        return await self.search(query, limit=limit, mode=SearchMode.HYBRID, search_filter=search_filter)

    def _dense(self, vector: list[float], limit: int, expression: str) -> Any:
        return self._client.search(
            self._collection,
            data=[vector],
            anns_field="dense",
            filter=expression,
            limit=limit,
            output_fields=_OUTPUT_FIELDS,
            search_params={"metric_type": "IP"},
        )

    def _sparse(self, query: str, limit: int, expression: str) -> Any:
        return self._client.search(
            self._collection,
            data=[_bm25_query(query)],
            anns_field="sparse",
            filter=expression,
            limit=limit,
            output_fields=_OUTPUT_FIELDS,
            search_params={"metric_type": "BM25"},
        )

    def _hybrid(self, query: str, vector: list[float], limit: int, expression: str) -> Any:
        from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

        # Each leg fetches more than ``limit`` so fusion has candidates that only one leg ranks high.
        depth = max(limit * 4, 20)
        # The filter must sit on each request: a top-level filter is ignored by hybrid_search.
        requests = [
            AnnSearchRequest([vector], "dense", {"metric_type": "IP"}, limit=depth, expr=expression or None),
            AnnSearchRequest(
                [_bm25_query(query)], "sparse", {"metric_type": "BM25"}, limit=depth, expr=expression or None
            ),
        ]
        # WEIGHTED: Milvus maps each leg's scores into [0, 1] (arctan) and adds them with these weights;
        # unlike RRF it keeps how far apart the scores are, so a clear dense winner is not out-voted by BM25.
        fusion = (
            RRFRanker(self._rrf_k)
            if self._ranker is HybridRanker.RRF
            else WeightedRanker(self._dense_weight, 1.0 - self._dense_weight, norm_score=True)
        )
        return self._client.hybrid_search(self._collection, requests, fusion, limit=limit, output_fields=_OUTPUT_FIELDS)

    @staticmethod
    def _hits(raw: Any, *, negate: bool) -> list[SearchHit]:
        hits: list[SearchHit] = []
        rows = raw[0] if raw else []
        for rank, row in enumerate(rows, start=1):
            entity = row.get("entity", {})
            distance = float(row.get("distance", 0.0))
            # milvus-lite reports BM25 as a negative distance; the score is the BM25 value itself.
            score = -distance if negate and distance < 0 else distance
            hits.append(
                SearchHit(
                    chunk_id=str(row.get("chunk_id", row.get("id"))),
                    document_id=str(entity.get("document_id", "")),
                    title=str(entity.get("title", "")),
                    heading=str(entity.get("heading", "")),
                    content=str(entity.get("content", "")),
                    score=score,
                    rank=rank,
                    intents=tuple(entity.get("intents") or ()),
                    locale=str(entity.get("locale", "")),
                )
            )
        return hits

    async def document_ids(self) -> set[str]:
        """Ids of every indexed article."""

        def collect() -> set[str]:
            # Every article has a chunk at position 0, so this returns one row per article.
            rows = self._client.query(
                self._collection, filter="position == 0", output_fields=["document_id"], limit=16384
            )
            return {str(row["document_id"]) for row in rows}

        return await self._call("query", collect)

    async def chunk_count(self) -> int:
        """Number of indexed chunks."""

        def count() -> int:
            rows = self._client.query(self._collection, filter="", output_fields=["count(*)"])
            return int(rows[0]["count(*)"]) if rows else 0

        return await self._call("count", count)

    async def readiness(self) -> Readiness:
        """Probes Milvus with a cheap count; never raises."""
        try:
            count = await self.chunk_count()
        except Unavailable as exc:
            return Readiness(ready=False, detail=exc.message)
        if count == 0:
            return Readiness(ready=False, detail="knowledge base is empty", chunk_count=0)
        return Readiness(ready=True, detail="ok", chunk_count=count)

    async def close(self) -> None:
        """Closes the client and releases the milvus-lite lock; later calls raise Unavailable."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._milvus_executor, self._client.close)
        except Exception as exc:  # closing a dead connection is not an error worth surfacing
            _log.debug("milvus close failed: %s", exc.__class__.__name__)
        if self._owns_executor:
            self._milvus_executor.shutdown(wait=False)


async def probe_knowledge_base(index: MilvusKnowledgeIndex | None) -> Readiness:
    """Readiness probe for health checks: ``NOT_SERVING`` unless the index answers and holds chunks.

    Args:
        index: The open index, or ``None`` when opening it failed.
    """
    if index is None:
        return Readiness(ready=False, detail="knowledge index not open")
    return await index.readiness()
