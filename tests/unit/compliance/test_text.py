"""Text primitives: lemmas, numbers in words, dates, percentages, sentences."""

from __future__ import annotations

from datetime import date

from server.compliance.text import find_dates, find_percents, lemma, split_sentences, words_to_number


def test_inflections_share_a_lemma() -> None:
    assert lemma("repayments") == lemma("repaid") == lemma("repay")
    assert lemma("renewed") == lemma("renews") == lemma("renew")
    assert lemma("charged") == lemma("charge")
    assert lemma("governed") == lemma("governing")
    assert lemma("process") == "process"  # not stripped to "proces"


def test_number_words() -> None:
    assert words_to_number("twelve thousand five hundred") == 12_500
    assert words_to_number("one hundred and twenty-five thousand") == 125_000
    assert words_to_number("two million three hundred thousand") == 2_300_000
    assert words_to_number("twelve apples") is None


def test_dates_in_three_notations_and_impossible_dates_skipped() -> None:
    found = [d for d, _, _ in find_dates("on 1 March 2027, March 5, 2028, 2029-01-31 and 31 February 2027")]
    assert found == [date(2027, 3, 1), date(2028, 3, 5), date(2029, 1, 31)]


def test_percentages_and_margins() -> None:
    found = find_percents(
        "default interest of 15% per annum, or 3 percentage points above, twelve per cent, "
        "250 basis points and 2% above the borrowing rate"
    )
    assert [(p.value, p.is_margin) for p in found] == [
        (15.0, False),
        (3.0, True),
        (12.0, False),
        (2.5, True),
        (2.0, True),
    ]


def test_sentences_do_not_split_on_abbreviations() -> None:
    text = "The Bank shall notify, e.g. by letter. Then it pays 5% p.a. Finally; Next one."
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert spans == ["The Bank shall notify, e.g. by letter.", "Then it pays 5% p.a. Finally;", "Next one."]
