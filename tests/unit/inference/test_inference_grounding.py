"""Grounding: numbers, dates, identifiers and citations against the facts."""

from __future__ import annotations

import pytest

from inference.grounding import extract_claims, find_unsupported, normalise_number

FACTS = [
    "F1: transfer TX-1001 of 1,000.00 EUR booked on 2026-11-25",
    "F2: fee rate 5.5%",
    "F3: account DE89370400440532013000 opened 03/02/2024",
]
CITABLE = ["F1", "F2", "F3"]


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,000", "1000"), ("1000", "1000"), ("1000.00", "1000"), ("0.50", "0.5"), ("12,345,678.9", "12345678.9")],
)
def test_number_forms_normalise_to_one_value(text: str, value: str) -> None:
    assert normalise_number(text) == value


@pytest.mark.parametrize(
    "written",
    [
        "2026-11-25",
        "25/11/2026",
        "25.11.2026",
        "25 November 2026",
        "November 25, 2026",
        "Nov 25 2026",
        "25th of Nov 2026",
    ],
)
def test_date_forms_normalise_to_iso(written: str) -> None:
    claims = extract_claims(f"It happened on {written}.")
    assert [(c.kind, c.value) for c in claims] == [("date", "2026-11-25")]


def test_month_first_dates_when_configured() -> None:
    assert extract_claims("on 02/03/2024", day_first=False)[0].value == "2024-02-03"
    assert extract_claims("on 02/03/2024")[0].value == "2024-03-02"


def test_grounded_text_in_other_formats_has_no_unsupported_spans() -> None:
    text = (
        "On 25 November 2026 transfer TX-1001 of €1,000 was booked [F1]; the fee was 5.5 percent [F2]. "
        "Account DE89370400440532013000 was opened on 3 February 2024 [F3], in 2024."
    )
    assert find_unsupported(text, FACTS, citation_ids=CITABLE) == []


@pytest.mark.parametrize(
    ("defect", "span", "reason"),
    [
        ("transfer TX-1001 of 1,500 EUR [F1]", "1,500 EUR", "amount not in the facts"),
        ("transfer TX-1001 of 1,000 USD [F1]", "1,000 USD", "amount in the facts has another currency"),
        ("booked on 26/11/2026 [F1]", "26/11/2026", "date not in the facts"),
        ("transfer TX-1002 [F1]", "TX-1002", "identifier not in the facts"),
        ("fee 6% [F2]", "6%", "percentage not in the facts"),
        ("see the policy [F9]", "F9", "citation of a source that was not provided"),
        ("booked on 31/02/2026", "31/02/2026", "not a valid date"),
        ("3 transfers were made", "3", "number not in the facts"),
    ],
)
def test_each_defect_is_reported_with_its_span(defect: str, span: str, reason: str) -> None:
    unsupported = find_unsupported(defect, FACTS, citation_ids=CITABLE)
    assert [(u.text, u.reason) for u in unsupported] == [(span, reason)]
    first = unsupported[0]
    assert defect[first.start : first.end] == span


def test_list_markers_and_prose_brackets_are_not_claims() -> None:
    text = "Summary:\n1. fee 5.5% [F2]\n2) see [the appendix]"
    assert find_unsupported(text, FACTS, citation_ids=CITABLE) == []


def test_multiple_citations_in_one_bracket_are_checked_one_by_one() -> None:
    spans = find_unsupported("as shown [F1, F7]", FACTS, citation_ids=CITABLE)
    assert [(s.text, s.start) for s in spans] == [("F7", len("as shown [F1, "))]
