"""The TextEmbedder seam: one contract test for the fake and the real sentence-transformers embedder."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import pytest

from server.compliance.domain import ProcessTaxonomy, TaxonomyProcess
from server.compliance.impact import TextEmbedder, map_impact
from server.compliance.parsing import parse_lines


class BagOfWordsEmbedder:
    """A deterministic stand-in: hashed bag of lower-cased words, normalised."""

    def embed(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        vectors = []
        for text in texts:
            vector = [0.0] * 64
            for word in text.lower().split():
                vector[int(hashlib.sha1(word.strip(".,;:").encode()).hexdigest(), 16) % 64] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors


@pytest.fixture(scope="module", params=["fake", "real"])
def embedder(request: pytest.FixtureRequest) -> TextEmbedder:
    if request.param == "fake":
        return BagOfWordsEmbedder()
    real: TextEmbedder = request.getfixturevalue("minilm")
    return real


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )


def test_embedder_contract(embedder: TextEmbedder) -> None:
    texts = [
        "customers may complain about the service",
        "customers may complain about the bank's service",
        "the reactor coolant temperature rose",
    ]
    vectors = embedder.embed(texts)
    assert len(vectors) == 3 and len({len(v) for v in vectors}) == 1
    assert list(embedder.embed(texts[:1])[0]) == pytest.approx(list(vectors[0]), abs=1e-5)  # deterministic
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2])
    assert embedder.embed([]) == [] or len(embedder.embed([])) == 0


def test_embeddings_blend_into_impact(embedder: TextEmbedder) -> None:
    document = parse_lines(["Rule", "", "Article 1 - Complaints", "Firms shall answer every complaint within 15 days."])
    taxonomy = ProcessTaxonomy(
        "t",
        (
            TaxonomyProcess("service", "complaints_handling", ("complaint",), "answering customer complaints"),
            TaxonomyProcess("treasury", "fx_hedging", ("currency swap",), "hedging foreign exchange exposure"),
        ),
    )
    keyword_only = map_impact(document, taxonomy, min_score=0.0)
    blended = map_impact(document, taxonomy, embedder=embedder, embedding_weight=0.5, min_score=0.0)
    assert [i.process for i in keyword_only] == ["complaints_handling"]
    assert blended[0].process == "complaints_handling"
    assert blended[0].score != keyword_only[0].score
