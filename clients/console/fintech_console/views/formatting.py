"""Display formatting shared by the investigation views: money, times, enum labels, highlighted text.

Money is formatted from integer units and nanos (never through a float). Highlighted text is a list of
:class:`Segment` values that a template renders with autoescaping, so no view ever builds HTML.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fintech.common.v1 import common_pb2
from google.protobuf import timestamp_pb2
from google.type import date_pb2

NANOS_PER_UNIT = 1_000_000_000


def money_minor(money: common_pb2.Money) -> int:
    """The amount in hundredths of a unit (cents), rounded half away from zero.

    Args:
        money: A ``Money`` message.
    """
    total_nanos = money.units * NANOS_PER_UNIT + money.nanos
    cents, rest = divmod(abs(total_nanos), NANOS_PER_UNIT // 100)
    if rest * 2 >= NANOS_PER_UNIT // 100:
        cents += 1
    return int(cents if total_nanos >= 0 else -cents)


def money_text(money: common_pb2.Money | None) -> str:
    """``"USD 12,345.67"``; an empty string for a missing or empty amount.

    Args:
        money: A ``Money`` message, or ``None``.
    """
    if money is None or (not money.currency_code and money.units == 0 and money.nanos == 0):
        return ""
    cents = money_minor(money)
    sign = "-" if cents < 0 else ""
    units, hundredths = divmod(abs(cents), 100)
    return f"{money.currency_code} {sign}{units:,}.{hundredths:02d}".strip()


def timestamp_text(value: timestamp_pb2.Timestamp | None) -> str:
    """``"2026-11-25 13:05:09 UTC"``; empty for an unset timestamp.

    Args:
        value: A ``Timestamp`` message, or ``None``.
    """
    if value is None or (value.seconds == 0 and value.nanos == 0):
        return ""
    return datetime.fromtimestamp(value.seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def timestamp_iso(value: timestamp_pb2.Timestamp | None) -> str:
    """RFC 3339 text of a timestamp (for ``<time datetime>``); empty when unset."""
    if value is None or (value.seconds == 0 and value.nanos == 0):
        return ""
    return datetime.fromtimestamp(value.seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_text(value: date_pb2.Date | None) -> str:
    """``"2027-03-01"``; empty for an unset date (year 0)."""
    if value is None or value.year == 0:
        return ""
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def enum_label(name: str, prefix: str) -> str:
    """A readable label of an enum value name: ``("ALERT_STATUS_SAR_FILED", "ALERT_STATUS_")`` -> ``"Sar filed"``.

    Args:
        name: The value's name as the descriptor gives it.
        prefix: The enum's value prefix to strip.
    """
    short = name.removeprefix(prefix)
    return short.replace("_", " ").capitalize()


def enum_slug(name: str, prefix: str) -> str:
    """A CSS- and URL-friendly form of an enum value name: ``"ACCOUNT_ROLE_ORIGIN"`` -> ``"origin"``."""
    return name.removeprefix(prefix).lower().replace("_", "-")


@dataclass(frozen=True, slots=True)
class Mark:
    """One highlight over a span of text.

    Attributes:
        kind: What the highlight means (``"claim"``, ``"unsupported"``, ``"finding"``, ``"insert"``, ...),
            used as a CSS class.
        ref: What it points to (a claim index, a finding id); empty when nothing.
        note: Text shown on hover or to screen readers (a reason, a check id).
    """

    kind: str
    ref: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Span:
    """A highlight to apply: ``[start, end)`` in code points of the text, and its mark."""

    start: int
    end: int
    mark: Mark


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text with the marks that cover all of it (empty for plain text)."""

    text: str
    marks: tuple[Mark, ...] = ()

    def has(self, kind: str) -> bool:
        """Whether a mark of ``kind`` covers this segment."""
        return any(m.kind == kind for m in self.marks)

    def first(self, kind: str) -> Mark | None:
        """The first mark of ``kind`` covering this segment, if any."""
        return next((m for m in self.marks if m.kind == kind), None)


def segment_text(text: str, spans: Iterable[Span]) -> list[Segment]:
    """Cut ``text`` at every span boundary; each piece carries the marks of the spans covering it.

    Spans may overlap or nest; spans outside the text are clipped and empty ones ignored (a
    malformed offset from a service never raises here: the text is still shown whole).

    Args:
        text: The text to cut.
        spans: Highlights, in any order.

    Returns:
        Segments whose texts concatenate to ``text``.
    """
    clipped: list[Span] = []
    for span in spans:
        start, end = max(0, min(span.start, len(text))), max(0, min(span.end, len(text)))
        if end > start:
            clipped.append(Span(start, end, span.mark))
    cuts = sorted({0, len(text), *(s.start for s in clipped), *(s.end for s in clipped)})
    segments: list[Segment] = []
    for left, right in itertools.pairwise(cuts):
        marks = tuple(s.mark for s in clipped if s.start <= left and right <= s.end)
        segments.append(Segment(text[left:right], marks))
    if not segments and text:
        segments.append(Segment(text))
    return segments


def joined(values: Sequence[str], limit: int = 3) -> str:
    """``"a, b, c and 4 more"``: a short list for a table cell."""
    head = ", ".join(values[:limit])
    rest = len(values) - limit
    return f"{head} and {rest} more" if rest > 0 else head
