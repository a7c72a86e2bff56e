"""Money, time and enum formatting, and cutting text into highlighted segments."""

from __future__ import annotations

from fintech.common.v1 import common_pb2
from fintech_console.views.formatting import (
    Mark,
    Span,
    date_text,
    enum_label,
    joined,
    money_text,
    segment_text,
    timestamp_text,
)
from google.protobuf import timestamp_pb2
from google.type import date_pb2


def test_money_is_formatted_from_units_and_nanos_without_floats() -> None:
    assert money_text(common_pb2.Money(currency_code="USD", units=12_345, nanos=670_000_000)) == "USD 12,345.67"
    # 0.1 + 0.2 style drift is impossible: 9,007,199,254,740,993 is not representable as a float.
    big = common_pb2.Money(currency_code="EUR", units=9_007_199_254_740_993, nanos=10_000_000)
    assert money_text(big) == "EUR 9,007,199,254,740,993.01"
    assert money_text(common_pb2.Money(currency_code="USD", units=-5, nanos=-500_000_000)) == "USD -5.50"
    assert money_text(common_pb2.Money(currency_code="USD", units=0, nanos=5_000_000)) == "USD 0.01"  # half up
    assert money_text(common_pb2.Money()) == ""
    assert money_text(None) == ""


def test_times_dates_and_labels() -> None:
    assert timestamp_text(timestamp_pb2.Timestamp(seconds=1_795_000_000)) == "2026-11-18 11:06:40 UTC"
    assert timestamp_text(timestamp_pb2.Timestamp()) == ""
    assert date_text(date_pb2.Date(year=2027, month=3, day=1)) == "2027-03-01"
    assert date_text(date_pb2.Date()) == ""
    assert enum_label("ALERT_STATUS_CLOSED_FALSE_POSITIVE", "ALERT_STATUS_") == "Closed false positive"
    assert joined(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"
    assert joined(["a"]) == "a"


def test_segments_cover_the_text_and_carry_every_overlapping_mark() -> None:
    text = "Sent USD 9,500.00 to PL-B001 on 2026-03-02."
    claim = Mark("claim", "claim-0")
    bad = Mark("unsupported", "", "number not in facts")
    segments = segment_text(text, [Span(5, 28, claim), Span(9, 17, bad)])
    assert "".join(s.text for s in segments) == text
    assert [(s.text, s.marks) for s in segments] == [
        ("Sent ", ()),
        ("USD ", (claim,)),
        ("9,500.00", (claim, bad)),
        (" to PL-B001", (claim,)),
        (" on 2026-03-02.", ()),
    ]


def test_out_of_range_and_empty_spans_never_break_the_text() -> None:
    text = "short"
    segments = segment_text(text, [Span(3, 99, Mark("x")), Span(4, 4, Mark("y")), Span(-5, 1, Mark("z"))])
    assert "".join(s.text for s in segments) == text
    assert segments[0].has("z") and not segments[0].has("x")
    assert segments[-1].text == "rt" and segments[-1].first("x") == Mark("x")
    assert segment_text("", [Span(0, 3, Mark("x"))]) == []
