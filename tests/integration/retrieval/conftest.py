"""Fixtures for retrieval tests: the real embedding model (loaded once), a small real corpus, milvus-lite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from retrieval.documents import Article, default_kb_dir, load_articles
from retrieval.embedding import MiniLmEmbedder, shared_embedder
from retrieval.milvus import MilvusKnowledgeIndex

CORPUS_IDS = (
    "card-delivery-times",
    "card-not-arrived",
    "lost-stolen-card",
    "pin-blocked",
    "top-up-card-fees",
    "transfer-fees",
    "exchange-fees",
    "atm-fees",
    "close-account",
    "apple-google-pay",
)


class CountingEmbedder:
    """The real model, counting how many texts and calls reach it (to prove what was not re-embedded)."""

    uncased = True  # as the model it wraps

    def __init__(self, inner: MiniLmEmbedder) -> None:
        self.inner = inner
        self.texts = 0
        self.calls = 0

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed(texts)


@pytest.fixture(scope="session")
def minilm() -> MiniLmEmbedder:
    """all-MiniLM-L6-v2, loaded once for the whole session."""
    embedder = shared_embedder()
    embedder.embed(["warm up"])
    return embedder


@pytest.fixture
def counting_embedder(minilm: MiniLmEmbedder) -> CountingEmbedder:
    return CountingEmbedder(minilm)


@pytest.fixture(scope="session")
def corpus() -> list[Article]:
    """Ten real articles plus an Irish-English copy of one (for the locale filter)."""
    articles = {a.id: a for a in load_articles(default_kb_dir())}
    chosen = [articles[i] for i in CORPUS_IDS]
    irish = replace(
        articles["card-delivery-times"],
        id="card-delivery-times-ie",
        locale="en-IE",
        body=articles["card-delivery-times"].body.replace("UK", "Ireland").replace("£5", "€6"),
    )
    return [*chosen, irish]


@pytest.fixture(scope="session")
async def built_index(
    tmp_path_factory: pytest.TempPathFactory, corpus: list[Article], minilm: MiniLmEmbedder
) -> AsyncIterator[MilvusKnowledgeIndex]:
    """The small corpus indexed once; read-only tests share it."""
    uri = str(tmp_path_factory.mktemp("kb") / "kb.db")
    index = await MilvusKnowledgeIndex.open(uri, embedder=minilm)
    for article in corpus:
        await index.upsert_document(article)
    await index.flush()
    # Warm up: the first search in a process pays a one-off cost.
    await index.hybrid("warm up")
    yield index
    await index.close()


@pytest.fixture
def index_uri(tmp_path: Path) -> str:
    """A fresh milvus-lite location per test (a data directory is locked to one process)."""
    return str(tmp_path / "milvus" / "kb.db")
