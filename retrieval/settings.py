"""Configuration of retrieval: where Milvus is, the collection, chunk sizes, the embedding cache.

The lead adds one field to :class:`server.runtime.config.Settings`:
``retrieval: RetrievalSettings = RetrievalSettings()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from retrieval.index import DEFAULT_DENSE_WEIGHT, DEFAULT_RANKER, HybridRanker
from server.runtime.section import Section


class RetrievalSettings(Section):
    uri: str = ""
    """Milvus URI: a server (``http://milvus:19530``) or a milvus-lite file ending in ``.db``; empty means
    ``<data_dir>/milvus/kb.db`` (milvus-lite, one process at a time)."""
    token_file: Path | None = None
    """File holding the Milvus server token (``user:password`` or an API key); none for milvus-lite."""
    collection: str = Field("kb_chunks", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
    """Collection holding the knowledge-base chunks."""
    kb_dir: Path = Path(__file__).resolve().parent.parent / "server" / "customer" / "kb" / "articles"
    """Articles loaded at start-up (``make run``)."""
    embedding_cache: Path | None = None
    """SQLite file caching embeddings of fixed corpora by content hash; none disables the cache."""
    top_k: int = Field(5, ge=1, le=100)
    """Chunks retrieved per question."""
    rrf_k: int = Field(60, ge=1)
    """Reciprocal-rank-fusion constant of hybrid search (``hybrid_ranker = "rrf"``)."""
    hybrid_ranker: HybridRanker = DEFAULT_RANKER
    """How hybrid search fuses the dense and BM25 legs: ``weighted`` (measured best on the written questions)
    or ``rrf``."""
    dense_weight: float = Field(DEFAULT_DENSE_WEIGHT, ge=0, le=1)
    """Weight of the dense leg under ``weighted`` (BM25 gets the rest)."""
    query_encoder: Literal["onnx", "torch"] = "onnx"
    """Runtime of single-question embeddings: ``onnx`` (ONNX Runtime on a graph exported once from the same
    weights into ``<data_dir>/cache/onnx``; about a third of torch's latency) or ``torch``. Batches use torch."""
    query_cache_size: int = Field(1024, ge=0)
    """Recent query vectors kept in memory, shared by retrieval and the intent classifier (0 disables)."""
    chunk_max_chars: int = Field(900, ge=100)
    """Sections longer than this are split into windows."""
    chunk_overlap_chars: int = Field(150, ge=0)
    """Overlap between consecutive windows of one section."""
    milvus_workers: int = Field(4, ge=1, le=64)
    """Threads issuing blocking Milvus calls."""
    connect_timeout_seconds: float = Field(10.0, gt=0)
    """Connection timeout for a Milvus server."""

    def resolved_uri(self, data_dir: Path) -> str:
        """The URI to open, with the milvus-lite default under ``data_dir``."""
        return self.uri or str(data_dir / "milvus" / "kb.db")

    def token(self) -> str:
        """The server token read from :attr:`token_file` (empty without one)."""
        return self.token_file.read_text(encoding="utf-8").strip() if self.token_file else ""
