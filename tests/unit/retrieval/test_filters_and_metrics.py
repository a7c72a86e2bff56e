"""Pure pieces: Milvus filter expressions, intent metrics, the held-out split, TF-IDF, retrieval metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.customer_eval import rank_metrics
from retrieval.index import SearchFilter
from retrieval.milvus import filter_expression
from server.customer.intents.data import LabelledText, holdout_split
from server.customer.intents.model import TfidfVocabulary, tokens
from server.customer.intents.scoring import intent_metrics


def test_filter_expression() -> None:
    assert filter_expression(None) == ""
    assert filter_expression(SearchFilter()) == ""
    assert filter_expression(SearchFilter(locale="en-GB")) == 'locale == "en-GB"'
    expr = filter_expression(SearchFilter(locale="en-GB", intents=("a", "b?"), document_ids=("d1",)))
    assert expr == 'locale == "en-GB" and ARRAY_CONTAINS_ANY(intents, ["a", "b?"]) and document_id in ["d1"]'


def test_filter_expression_escapes_quotes() -> None:
    expr = filter_expression(SearchFilter(document_ids=('x" or 1==1 or "',)))
    assert expr == 'document_id in ["x\\" or 1==1 or \\""]'


def test_intent_metrics_known_values() -> None:
    truth = ["a", "a", "b", "b", "c"]
    predicted = ["a", "b", "b", "b", "a"]
    m = intent_metrics(truth, predicted)
    assert m["accuracy"] == 0.6
    assert m["per_intent"]["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["per_intent"]["b"]["precision"] == round(2 / 3, 4)
    assert m["per_intent"]["c"]["f1"] == 0.0
    assert m["macro_f1"] == round((0.5 + 0.8 + 0.0) / 3, 4)
    assert m["top_confusions"][0]["count"] == 1
    assert {(c["true"], c["predicted"]) for c in m["top_confusions"]} == {("a", "b"), ("c", "a")}


def test_intent_metrics_rejects_misaligned_input() -> None:
    with pytest.raises(ValueError):
        intent_metrics(["a"], ["a", "b"])


def test_holdout_split_is_stratified_deterministic_and_order_free() -> None:
    rows = [LabelledText(f"question {i} about {intent}", intent) for intent in "xyz" for i in range(23)]
    train, test = holdout_split(rows)
    assert len(train) + len(test) == len(rows)
    assert not {r.text for r in train} & {r.text for r in test}
    for intent in "xyz":
        assert sum(r.intent == intent for r in test) == 5  # ceil(23 / 5)
    _, test_reversed = holdout_split(list(reversed(rows)))
    assert {r.text for r in test_reversed} == {r.text for r in test}


def test_tfidf_matches_the_textbook_definition() -> None:
    assert tokens("Top up, top-up!") == ["top", "up", "top", "up", "top up", "up top", "top up"]
    vocabulary = TfidfVocabulary.fit(["card fee", "card limit", "fee"], min_df=1)
    assert set(vocabulary.terms) == {"card", "fee", "limit", "card fee", "card limit"}
    row = vocabulary.transform(["card card fee"]).toarray()[0]
    expected = np.zeros(len(vocabulary.terms))
    expected[vocabulary.terms["card"]] = (1 + math.log(2)) * (math.log(4 / 3) + 1)
    expected[vocabulary.terms["fee"]] = math.log(4 / 3) + 1
    expected[vocabulary.terms["card fee"]] = math.log(4 / 2) + 1
    expected /= np.linalg.norm(expected)
    assert np.allclose(row, expected)


def test_rank_metrics() -> None:
    ranked = [["a", "b", "c"], ["x", "y", "z", "w", "v", "rel"], ["q", "rel"]]
    relevant = [{"b"}, {"rel"}, {"rel", "q"}]
    result = rank_metrics(ranked, relevant, k=5)
    assert result["recall_at_5"] == round(2 / 3, 4)
    assert result["mrr"] == round((1 / 2 + 1 / 6 + 1) / 3, 4)  # MRR looks past k


def test_the_service_configuration_is_the_best_hybrid_on_the_written_questions() -> None:
    from eval.customer_eval import choose, config_name, selection_score

    written = {
        "dense": {"recall_at_5": 0.90, "mrr": 0.75},
        "hybrid_rrf": {"recall_at_5": 0.80, "mrr": 0.70},
        "hybrid_weighted_0.9": {"recall_at_5": 0.85, "mrr": 0.70},
        "hybrid_weighted_0.9+intents@0.5": {"recall_at_5": 0.84, "mrr": 0.72},
        "hybrid_rrf_filtered_top3_intents": {"recall_at_5": 0.99, "mrr": 0.99},  # reported, never chosen
    }
    assert selection_score(written["dense"]) == 1.65
    assert choose(written) == "dense"
    assert choose(written, prefix="hybrid_") == "hybrid_weighted_0.9+intents@0.5"
    assert config_name("dense", None) == "dense" and config_name("dense", 0.5) == "dense+intents@0.5"
