"""Article parsing and the shipped knowledge base's validity and intent coverage."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from retrieval.documents import (
    ArticleError,
    articles_by_intent,
    default_kb_dir,
    load_articles,
    parse_article,
    render_article,
)

CATEGORIES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "banking77" / "categories.json"

VALID = """---
id: card-delivery
title: Card delivery
intents: [card_arrival, card_delivery_estimate]
locale: en-GB
updated: 2026-10-01
approved_answer:
  text: Cards arrive in 3 to 5 working days.
  owner: cards-operations
  version: 2
  expires: 2027-01-31
---

# Card delivery

Cards arrive in 3 to 5 working days.
"""


def test_parses_a_valid_article() -> None:
    article = parse_article(VALID, "x.md")
    assert article.id == "card-delivery"
    assert article.intents == ("card_arrival", "card_delivery_estimate")
    assert article.updated == date(2026, 10, 1)
    assert article.approved_answer is not None
    assert article.approved_answer.version == 2
    assert article.approved_answer.is_valid_on(date(2027, 1, 31))
    assert not article.approved_answer.is_valid_on(date(2027, 2, 1))


def test_render_round_trips() -> None:
    article = parse_article(VALID)
    again = parse_article(render_article(article))
    assert again == article
    assert again.content_hash == article.content_hash


def test_content_hash_changes_with_the_body() -> None:
    article = parse_article(VALID)
    edited = parse_article(VALID.replace("3 to 5", "2 to 4"))
    assert edited.content_hash != article.content_hash


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("no front matter", "front_matter"),
        (VALID.replace("id: card-delivery\n", ""), "id"),
        (VALID.replace("id: card-delivery", "id: Card Delivery"), "id"),
        (VALID.replace("locale: en-GB", "locale: english"), "locale"),
        (VALID.replace("updated: 2026-10-01", "updated: yesterday"), "updated"),
        (VALID.replace("intents: [card_arrival, card_delivery_estimate]", "intents: []"), "intents"),
        (VALID.replace("locale: en-GB", "locale: en-GB\ncolour: blue"), "colour"),
        (VALID.replace("  version: 2", "  version: zero"), "approved_answer.version"),
        (VALID.replace("  owner: cards-operations\n", ""), "approved_answer.owner"),
        (VALID.replace("  expires: 2027-01-31", "  expires: soon"), "approved_answer.expires"),
    ],
)
def test_bad_articles_name_the_field(text: str, field: str) -> None:
    with pytest.raises(ArticleError) as caught:
        parse_article(text, "bad.md")
    assert caught.value.field == field
    assert "bad.md" in str(caught.value)


def test_unknown_intent_is_rejected_when_intents_are_known() -> None:
    with pytest.raises(ArticleError, match="unknown intent"):
        parse_article(VALID, known_intents=["card_arrival"])


def test_knowledge_base_is_valid_and_covers_every_banking77_intent() -> None:
    categories = json.loads(CATEGORIES.read_text())
    articles = load_articles(default_kb_dir(), known_intents=categories)
    assert len(articles) >= 120
    coverage = articles_by_intent(articles)
    missing = sorted(set(categories) - set(coverage))
    assert not missing, f"intents without an article: {missing}"
    assert all(article.locale == "en-GB" for article in articles)
    # Files are named after their ids so a reviewer finds an article from a citation.
    assert {path.stem for path in default_kb_dir().glob("*.md")} == {a.id for a in articles}


def test_regulated_statements_carry_current_approved_answers() -> None:
    articles = {a.id: a for a in load_articles(default_kb_dir())}
    regulated = ["fees-overview", "complaints", "transfer-fees", "atm-fees", "exchange-fees", "top-up-limits"]
    for article_id in regulated:
        answer = articles[article_id].approved_answer
        assert answer is not None, article_id
        assert answer.owner and answer.version >= 1
        assert answer.expires > articles[article_id].updated
    assert sum(a.approved_answer is not None for a in articles.values()) >= 15


def test_fees_are_consistent_across_articles() -> None:
    """The same fee must not be stated two ways: spot-check the figures customers ask about most."""
    text = "\n".join(
        a.body + (a.approved_answer.text if a.approved_answer else "") for a in load_articles(default_kb_dir())
    )
    assert "£3.99" in text and "£7.99" in text
    assert "£4.99" not in text and "£9.99" not in text
    assert "0.7%" in text and "0.5%" in text
    # The contactless limit is £100 everywhere it is stated.
    assert "£45" not in text
