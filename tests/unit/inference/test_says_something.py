"""The floor under the grounding checks: generated text must speak of its facts and carry no contact details."""

from __future__ import annotations

from inference.grounding import content_stems, find_contact_details, says_something_of

CLAUSE = "The lender shall keep a record of each disclosure for 5 years."


def test_a_paraphrase_sharing_a_subject_word_speaks_of_the_clause() -> None:
    assert says_something_of("Disclosure records are kept for five years.", [CLAUSE])
    assert content_stems("records compliance") == {"recor", "compl"}


def test_unrelated_or_generic_text_does_not() -> None:
    assert not says_something_of("A story about a young girl who goes to see the doctor.", [CLAUSE])
    assert not says_something_of("This shall be done with that which must be.", [CLAUSE])  # generic words only
    assert not says_something_of("", [CLAUSE])


def test_contact_details_and_links_are_found() -> None:
    text = "Write to loans@bank.example or see https://bank.example/x and www.bank.example today."
    assert [span.text for span in find_contact_details(text)] == [
        "loans@bank.example",
        "https://bank.example/x",
        "www.bank.example",
    ]
    assert find_contact_details("Cards arrive in 3 to 5 working days.") == []
