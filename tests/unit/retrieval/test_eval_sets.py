"""The written evaluation questions: enough of them, every intent covered, every answer an existing article."""

from __future__ import annotations

from collections import Counter

from eval.customer_eval import read_questions
from retrieval.documents import default_kb_dir, load_articles
from server.customer.intents.data import load_categories


def test_written_questions_cover_every_intent_and_map_to_real_articles() -> None:
    questions = read_questions()
    assert len(questions) >= 200
    assert len({q.id for q in questions}) == len(questions)
    assert len({q.question.lower() for q in questions}) == len(questions)
    categories = set(load_categories())
    assert {q.intent for q in questions} == categories
    articles = {a.id: a for a in load_articles(default_kb_dir())}
    for question in questions:
        assert question.articles, question.id
        assert question.articles <= set(articles), question.id
    assert min(Counter(q.intent for q in questions).values()) >= 2


def test_written_questions_are_not_copied_from_the_articles() -> None:
    text = " ".join(a.body.lower() for a in load_articles(default_kb_dir()))
    copied = [q.id for q in read_questions() if q.question.lower().rstrip("?.!") in text]
    assert not copied
