"""BM25 text normalisation: stop words dropped, light stemming applied the same way to text and queries."""

from __future__ import annotations

import pytest

from retrieval.text import bm25_text, stem


@pytest.mark.parametrize(
    ("words", "root"),
    [
        (["cards", "card"], "card"),
        (["charged", "charges", "charge", "charging"], "charg"),
        (["declined", "declines", "decline"], "declin"),
        (["verified", "verifies", "verify"], "verify"),
        (["stopped", "stop", "stops"], "stop"),
        (["limits", "limit"], "limit"),
    ],
)
def test_inflections_share_a_stem(words: list[str], root: str) -> None:
    assert {stem(word) for word in words} == {root}


@pytest.mark.parametrize("word", ["address", "status", "bus", "pin", "atm", "iban", "sepa"])
def test_short_and_latinate_words_are_kept(word: str) -> None:
    assert stem(word) == word


def test_bm25_text_drops_stop_words_but_keeps_top_up_and_amounts() -> None:
    assert bm25_text("Why hasn't my top-up of £5,000 arrived? I'm topping up my cards") == (
        "hasnt top up 5,000 arriv top up card"
    )
    assert bm25_text("How do I do it?") == ""
