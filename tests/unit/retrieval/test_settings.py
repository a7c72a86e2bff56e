"""Retrieval settings: defaults, the milvus-lite location, and unknown keys rejected."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from retrieval.settings import RetrievalSettings


def test_default_uri_is_milvus_lite_under_the_data_dir() -> None:
    assert RetrievalSettings().resolved_uri(Path("/srv/var")) == "/srv/var/milvus/kb.db"
    assert RetrievalSettings(uri="http://milvus:19530").resolved_uri(Path("/srv/var")) == "http://milvus:19530"


def test_token_is_read_from_a_file(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("root:secret\n")
    assert RetrievalSettings(token_file=token).token() == "root:secret"
    assert RetrievalSettings().token() == ""


def test_hybrid_fusion_is_configurable() -> None:
    from retrieval.index import HybridRanker

    settings = RetrievalSettings.model_validate({"hybrid_ranker": "rrf", "dense_weight": 0.6})
    assert settings.hybrid_ranker is HybridRanker.RRF and settings.dense_weight == 0.6
    assert RetrievalSettings().hybrid_ranker is HybridRanker.WEIGHTED


@pytest.mark.parametrize(
    "values",
    [
        {"top_k": 0},
        {"collection": "bad name"},
        {"colection": "typo"},
        {"hybrid_ranker": "borda"},
        {"dense_weight": 1.5},
        {"query_cache_size": -1},
    ],
)
def test_bad_values_and_unknown_keys_are_errors(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RetrievalSettings(**values)
