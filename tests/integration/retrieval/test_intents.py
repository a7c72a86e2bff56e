"""The shipped intent classifier: loading the artefact, predicting, and scoring a CSV without retraining."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.embedding import MiniLmEmbedder
from server.customer.intents.data import DataError, load_banking77_split
from server.customer.intents.model import ARTEFACT_DIR, REPORT, IntentClassifier
from server.customer.intents.scoring import evaluate_csv


@pytest.fixture(scope="module")
def classifier(minilm: MiniLmEmbedder) -> IntentClassifier:
    return IntentClassifier.load(minilm)


def test_model_id_is_the_content_hash_named_in_the_report(classifier: IntentClassifier) -> None:
    report = json.loads((ARTEFACT_DIR / REPORT).read_text())
    assert classifier.model_id == report["model_id"]
    assert len(classifier.classes) == 77
    assert report["heldout"]["accuracy"] >= 0.85


def test_predicts_intents_with_calibrated_looking_confidence(classifier: IntentClassifier) -> None:
    predictions = classifier.predict(
        [
            "someone stole my card on the bus",
            "how do I add my card to apple pay",
            "is there a fee for topping up with my credit card",
        ]
    )
    assert [p.intent for p in predictions] == [
        "lost_or_stolen_card",
        "apple_pay_or_google_pay",
        "top_up_by_card_charge",
    ]
    for prediction in predictions:
        assert 0.0 < prediction.confidence <= 1.0
        assert all(prediction.confidence >= p for _, p in prediction.alternatives)
        assert len(prediction.alternatives) == 3


def test_evaluate_csv_scores_without_retraining(classifier: IntentClassifier, tmp_path: Path) -> None:
    _, heldout = load_banking77_split()
    sample = heldout[::40]
    data = tmp_path / "sample.csv"
    data.write_text(
        "text,category\n" + "".join(f'"{r.text.replace(chr(34), chr(34) * 2)}",{r.intent}\n' for r in sample)
    )
    out = tmp_path / "report.json"
    report = evaluate_csv(classifier, data, out)
    written = json.loads(out.read_text())
    assert written["rows"] == len(sample) == report["rows"]
    assert written["model_id"] == classifier.model_id
    assert 0.8 <= written["accuracy"] <= 1.0
    assert set(written) >= {"accuracy", "macro_f1", "per_intent", "top_confusions", "unknown_intents"}


def test_unknown_intents_count_as_errors(classifier: IntentClassifier, tmp_path: Path) -> None:
    data = tmp_path / "odd.csv"
    data.write_text("text,category\nI lost my card,lost_card_v2\n")
    report = evaluate_csv(classifier, data)
    assert report["accuracy"] == 0.0 and report["unknown_intents"] == ["lost_card_v2"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("question,category\nhi,x\n", "missing column 'text'"),
        ("text,category\n,card_arrival\n", "row 2: column 'text' is empty"),
        ("text,category\nhello,\n", "row 2: column 'category' is empty"),
    ],
)
def test_malformed_csv_names_row_and_column(
    classifier: IntentClassifier, tmp_path: Path, content: str, message: str
) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(content)
    with pytest.raises(DataError, match=message):
        evaluate_csv(classifier, data)
