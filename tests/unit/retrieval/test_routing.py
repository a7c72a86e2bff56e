"""Intent routing of search results and the query-cache key (pure functions)."""

from __future__ import annotations

import pytest

from retrieval.embedding import normalise_query
from retrieval.index import SearchHit
from retrieval.routing import prefer_intents


def _hit(chunk: str, *intents: str, rank: int) -> SearchHit:
    return SearchHit(chunk, f"doc-{chunk}", "t", "h", "c", 1.0 / rank, rank, intents, "en-GB")


HITS = [
    _hit("a", "card_arrival", rank=1),
    _hit("b", "exchange_rate", rank=2),
    _hit("c", "lost_or_stolen_card", "card_arrival", rank=3),
    _hit("d", rank=4),
    _hit("e", "exchange_rate", rank=5),
]


def test_hits_of_preferred_intents_come_first_in_search_order() -> None:
    routed = prefer_intents(HITS, ["exchange_rate", "lost_or_stolen_card"], limit=4)
    assert [h.chunk_id for h in routed] == ["b", "c", "e", "a"]
    assert [h.rank for h in routed] == [1, 2, 3, 4]
    assert routed[0].score == HITS[1].score  # the search's own scores are kept


def test_no_matching_hit_or_no_intent_keeps_the_search_order() -> None:
    assert [h.chunk_id for h in prefer_intents(HITS, ["top_up_limits"], limit=3)] == ["a", "b", "c"]
    assert [h.chunk_id for h in prefer_intents(HITS, [], limit=5)] == ["a", "b", "c", "d", "e"]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="limit"):
        prefer_intents(HITS, ["exchange_rate"], limit=0)


def test_query_key_collapses_space_and_case_only_for_uncased_models() -> None:
    assert normalise_query("  How   long\tdoes Delivery take? ", uncased=True) == "how long does delivery take?"
    assert normalise_query("Delivery  ABROAD", uncased=False) == "Delivery ABROAD"
    # NFC: a composed and a decomposed "é" are one key.
    assert normalise_query("caf\u00e9", uncased=True) == normalise_query("cafe\u0301", uncased=True)
