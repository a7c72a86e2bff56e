"""Dates and periods into a timeline: effective date, transition deadlines, recurring and relative deadlines.

Absolute dates are typed by the words around them. A period anchored to the
regulation's start ("within 18 months of the entry into force") becomes an
absolute date counted from the effective date (or the caller's reference date
when the text states none). A period anchored to some other event ("within 15
business days of receiving a complaint") stays relative: it is kept with its
period and no date, because no calendar date follows from the text.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from server.compliance.domain import Clause, ParsedDocument, Period, TimelineEvent, TimelineEventType
from server.compliance.text import NUMBER_WORD, find_dates, parse_number, split_sentences

_EFFECTIVE = re.compile(
    r"\b(?:enters?\s+into\s+force|entry\s+into\s+force|shall\s+apply\s+(?:from|as\s+of)|appl(?:y|ies)\s+(?:from|as\s+of)|"
    r"takes?\s+effect|effective\s+(?:date|from|as\s+of|on)|becomes?\s+(?:applicable|effective))\b",
    re.IGNORECASE,
)
_TRANSITION = re.compile(
    r"\b(?:transition(?:al)?|until|no\s+later\s+than|not\s+later\s+than|by|deadline|existing\s+(?:contracts|agreements|"
    r"arrangements|customers)|grandfather\w*|bring\s+\w+\s+into\s+compliance|comply|apply\s+(?:\w+\s+){1,4}from)\b",
    re.IGNORECASE,
)
_PERIOD = re.compile(
    rf"\b(?P<num>\d+|{NUMBER_WORD}(?:[\s-]+{NUMBER_WORD})*)\s*(?:\(\d+\)\s*)?"
    r"(?P<unit>business\s+days?|working\s+days?|calendar\s+days?|days?|hours?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)
_ANCHOR_START = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:after|from|following|of|since)\s+(?:the\s+)?(?:date\s+of\s+(?:the\s+)?)?"
    r"(?:entry\s+into\s+force|effective\s+date|date\s+of\s+application|application\s+of\s+this|"
    r"commencement\s+of\s+this|date\s+on\s+which\s+this\s+\w+\s+(?:enters\s+into\s+force|becomes\s+applicable))",
    re.IGNORECASE,
)
_RECURRING = re.compile(
    r"\b(?:annually|every\s+year|each\s+(?:calendar\s+)?year|at\s+least\s+once\s+(?:a|per|every)\s+year|once\s+a\s+year|"
    r"quarterly|each\s+quarter|every\s+quarter|monthly|each\s+month|every\s+month|semi-annually|every\s+six\s+months|"
    r"every\s+(?:\d+|two|three)\s+years)\b",
    re.IGNORECASE,
)
_RECURRING_PERIOD = {"annually": (1, "year"), "every year": (1, "year"), "each year": (1, "year"),
                     "each calendar year": (1, "year"), "once a year": (1, "year"), "quarterly": (3, "month"),
                     "each quarter": (3, "month"), "every quarter": (3, "month"), "monthly": (1, "month"),
                     "each month": (1, "month"), "every month": (1, "month"), "semi-annually": (6, "month"),
                     "every six months": (6, "month"), "every two years": (2, "year"),
                     "every three years": (3, "year")}  # fmt: skip


def add_period(start: date, period: Period) -> date:
    """``start`` plus ``period`` (months clamp to the month's last day; business days skip weekends)."""
    if period.unit == "day":
        return start + timedelta(days=period.amount)
    if period.unit == "hour":
        return start + timedelta(days=period.amount // 24)
    if period.unit == "week":
        return start + timedelta(weeks=period.amount)
    if period.unit == "business_day":
        current, left = start, period.amount
        while left > 0:
            current += timedelta(days=1)
            if current.weekday() < 5:
                left -= 1
        return current
    months = period.amount * (12 if period.unit == "year" else 1)
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _unit(raw: str) -> str:
    lowered = raw.lower()
    if lowered.startswith(("business", "working")):
        return "business_day"
    for unit in ("day", "hour", "week", "month", "year"):
        if unit in lowered:
            return unit
    return "day"


def _sentences(clauses: Iterable[Clause]) -> Iterator[tuple[Clause, str]]:
    for clause in clauses:
        if clause.text:
            for start, end in split_sentences(clause.text):
                yield clause, clause.text[start:end]


def find_effective_date(document: ParsedDocument) -> date | None:
    """The first absolute date stated as the date of entry into force or application."""
    for _clause, sentence in _sentences(document.clauses):
        if _EFFECTIVE.search(sentence):
            for value, _start, _end in find_dates(sentence):
                return value
    return None


def extract_timeline(document: ParsedDocument, reference_date: date | None = None) -> Iterator[TimelineEvent]:
    """Yield the timeline events of ``document`` in clause order.

    Args:
        document: A parsed regulation.
        reference_date: Anchor for relative periods when the text states no effective date.

    Yields:
        Events with a date where one follows from the text.
    """
    anchor = find_effective_date(document) or reference_date
    for clause, sentence in _sentences(document.clauses):
        dated = list(find_dates(sentence))
        for value, _start, _end in dated:
            if _EFFECTIVE.search(sentence) and not re.search(r"\bexisting\b|\buntil\b", sentence, re.IGNORECASE):
                kind = TimelineEventType.EFFECTIVE
            elif _TRANSITION.search(sentence):
                kind = TimelineEventType.TRANSITION_DEADLINE
            else:
                kind = TimelineEventType.OTHER
            yield TimelineEvent(clause.clause_id, kind, value, _describe(kind, sentence), sentence.strip())
        recurring = _RECURRING.search(sentence)
        if recurring:
            amount, unit = _RECURRING_PERIOD.get(re.sub(r"\s+", " ", recurring.group().lower()), (1, "year"))
            if recurring.group().lower().startswith("at least once"):
                amount, unit = 1, "year"
            yield TimelineEvent(
                clause.clause_id,
                TimelineEventType.RECURRING_DEADLINE,
                None,
                _describe(TimelineEventType.RECURRING_DEADLINE, sentence),
                sentence.strip(),
                Period(amount, unit),
            )
        for match in _PERIOD.finditer(sentence):
            number = parse_number(match.group("num"))
            if number is None or number <= 0 or number > 1000:
                continue
            period = Period(int(number), _unit(match.group("unit")))
            tail = sentence[match.end() : match.end() + 140]
            if _ANCHOR_START.match(tail):
                if dated:
                    continue  # the absolute date in the same sentence already says it
                when = add_period(anchor, period) if anchor is not None else None
                yield TimelineEvent(
                    clause.clause_id,
                    TimelineEventType.TRANSITION_DEADLINE,
                    when,
                    _describe(TimelineEventType.TRANSITION_DEADLINE, sentence),
                    sentence.strip(),
                    period,
                )
            elif not recurring and re.search(
                r"\b(?:within|no\s+later\s+than|not\s+later\s+than|at\s+least|before|after|for\s+(?:a\s+period\s+of\s+)?)\s*$",
                sentence[: match.start()],
                re.IGNORECASE,
            ):
                yield TimelineEvent(
                    clause.clause_id,
                    TimelineEventType.OTHER,
                    None,
                    _describe(TimelineEventType.OTHER, sentence),
                    sentence.strip(),
                    period,
                )


def _describe(kind: TimelineEventType, sentence: str) -> str:
    label = {
        TimelineEventType.EFFECTIVE: "Entry into force",
        TimelineEventType.TRANSITION_DEADLINE: "Transition deadline",
        TimelineEventType.RECURRING_DEADLINE: "Recurring deadline",
        TimelineEventType.OTHER: "Deadline",
    }[kind]
    short = " ".join(sentence.split())
    return f"{label}: {short[:160]}"
