"""Embedding: the real model, the on-disk cache and batching in an executor."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from retrieval.embedding import DIMENSION, CachedEmbedder, EmbeddingCache, MiniLmEmbedder, embed_async
from tests.integration.retrieval.conftest import CountingEmbedder


def test_vectors_are_unit_length_and_meaningful(minilm: MiniLmEmbedder) -> None:
    vectors = minilm.embed(["my card was stolen", "someone took my card", "what is the exchange rate"])
    assert vectors.shape == (3, DIMENSION) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_cache_embeds_each_text_once_and_survives_reopening(
    tmp_path: Path, counting_embedder: CountingEmbedder
) -> None:
    path = tmp_path / "cache.sqlite"
    cached = CachedEmbedder(counting_embedder, EmbeddingCache(path))
    first = cached.embed(["a fee", "a limit", "a fee"])
    assert counting_embedder.texts == 2
    reopened = CachedEmbedder(counting_embedder, EmbeddingCache(path))
    second = reopened.embed(["a limit", "a fee"])
    assert counting_embedder.texts == 2
    assert np.array_equal(second[1], first[0]) and np.array_equal(second[0], first[1])


async def test_embed_async_batches_in_the_executor(counting_embedder: CountingEmbedder) -> None:
    with ThreadPoolExecutor(max_workers=1) as executor:
        vectors = await embed_async(counting_embedder, [f"text {i}" for i in range(5)], executor, batch_size=2)
    assert vectors.shape == (5, DIMENSION)
    assert counting_embedder.calls == 3
    assert (await embed_async(counting_embedder, [])).shape == (0, DIMENSION)
