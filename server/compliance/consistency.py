"""Consistency rules of contract review: amounts in words against figures, dates and term, parties.

Each rule is a pure function from a parsed document to ``(clause_id,
evidence, start, end)`` tuples; the review engine turns them into findings
with the check's severity and fix. Rules are chosen by name from a table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from server.compliance.domain import ParsedDocument, Period
from server.compliance.text import (
    NUMBER_WORD,
    NUMBER_WORDS_RE,
    find_dates,
    parse_number,
    split_sentences,
    words_to_number,
)
from server.compliance.timeline import add_period

Issue = tuple[str, str, int, int]

_CURRENCY = r"(?:EUR|USD|GBP|CHF|€|\$|£)"
_FIGURE = r"(\d{1,3}(?:[,\u202f ]\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
_FIGURE_THEN_WORDS = re.compile(
    rf"{_CURRENCY}\s?{_FIGURE}(?:\s*(?:euros?|dollars?|pounds?|francs?))?\s*\(([^)]{{3,160}})\)", re.IGNORECASE
)
_FIGURE_WORD_CURRENCY = re.compile(
    rf"{_FIGURE}\s+(?:euros?|dollars?|pounds?|francs?)\s*\(([^)]{{3,160}})\)", re.IGNORECASE
)


def _clause_at(document: ParsedDocument, offset: int) -> str:
    best = ""
    for clause in document.clauses:
        if clause.start <= offset < max(clause.end, clause.start + len(clause.text)) and clause.text:
            best = clause.clause_id  # later (deeper) clauses win
    return best


_WORDS_BEFORE = re.compile(
    rf"((?:{NUMBER_WORD}[\s-]+(?:and[\s-]+)?)*{NUMBER_WORD})\s+(?:euros?|dollars?|pounds?|francs?|swiss francs)?\s*$",
    re.IGNORECASE,
)
_FIGURE_IN_BRACKETS = re.compile(rf"\(\s*{_CURRENCY}\s?{_FIGURE}\s*\)")


def check_amount_words(document: ParsedDocument) -> list[Issue]:
    """Amounts written in figures and in words that disagree ("EUR 12,000 (ten thousand euros)")."""
    text = document.text
    issues: list[Issue] = []
    candidates: list[tuple[float, int | None, int, int]] = []
    for pattern in (_FIGURE_THEN_WORDS, _FIGURE_WORD_CURRENCY):
        for m in pattern.finditer(text):
            words = NUMBER_WORDS_RE.search(m.group(2))
            figure = parse_number(m.group(1).replace("\u202f", ",").replace(" ", ","))
            if words and figure is not None:
                candidates.append((figure, words_to_number(words.group()), m.start(), m.end()))
    # Words before a bracketed figure: anchor on the cheap bracket match, then look back a short window
    # (a leading alternation of number words over the whole text backtracks badly).
    for m in _FIGURE_IN_BRACKETS.finditer(text):
        window_start = max(0, m.start() - 160)
        before = _WORDS_BEFORE.search(text, window_start, m.start())
        figure = parse_number(m.group(1).replace("\u202f", ",").replace(" ", ","))
        if before and figure is not None:
            candidates.append((figure, words_to_number(before.group(1)), before.start(), m.end()))
    seen: set[int] = set()
    for figure, in_words, start, end in sorted(candidates, key=lambda c: c[2]):
        if start in seen or in_words is None:
            continue
        seen.add(start)
        if int(figure) != in_words:
            issues.append(
                (
                    _clause_at(document, start),
                    f"amount in figures {figure:,.2f} differs from amount in words {in_words:,}: {text[start:end]}",
                    start,
                    end,
                )
            )
    return issues


_START = re.compile(
    r"\b(?:commencement\s+date|start\s+date|starting\s+date|effective\s+date|drawdown\s+date|"
    r"commences?\s+on|starts?\s+on|begins?\s+on|takes?\s+effect\s+on|effective\s+(?:from|as\s+of|on)|"
    r"enters?\s+into\s+force\s+on|shall\s+run\s+from|runs?\s+from|starting\s+(?:on|from)|beginning\s+on|"
    r"commencing\s+on|drawn\s+down\s+on|disbursed\s+on|paid\s+out\s+on|from)\b",
    re.IGNORECASE,
)
_END = re.compile(
    r"\b(?:maturity\s+date|expiry\s+date|expiration\s+date|termination\s+date|end\s+date|final\s+repayment\s+date|"
    r"final\s+maturity|expires?\s+on|ends?\s+on|ending\s+on|expiring\s+on|terminates?\s+on|matures?\s+on|until|to|shall\s+be\s+repaid\s+in\s+full\s+(?:by|on)|"
    r"repaid\s+in\s+full\s+(?:by|on))\b",
    re.IGNORECASE,
)
_TERM = re.compile(
    rf"\b(?:term|duration|period)\s+of\s+(\d+|{NUMBER_WORD}(?:[\s-]+{NUMBER_WORD})*)\s*(?:\(\d+\)\s*)?(months?|years?)\b",
    re.IGNORECASE,
)


def _date_after(pattern: re.Pattern[str], sentence: str) -> tuple[date, int] | None:
    dates = list(find_dates(sentence))
    for keyword in pattern.finditer(sentence):
        after = [d for d in dates if d[1] >= keyword.end() and d[1] - keyword.end() <= 40]
        if after:
            return after[0][0], after[0][1]
    return None


def check_dates(document: ParsedDocument) -> list[Issue]:
    """The agreement's end must come after its start, and agree with a stated term."""
    start: tuple[date, str, str, int, int] | None = None
    end: tuple[date, str, str, int, int] | None = None
    term: tuple[Period, str, str, int, int] | None = None
    for clause in document.clauses:
        if not clause.text:
            continue
        for s, e in split_sentences(clause.text):
            sentence = clause.text[s:e]
            absolute = (clause.clause_id, sentence, clause.start + s, clause.start + e)
            if start is None and (found := _date_after(_START, sentence)):
                start = (found[0], *absolute)
                rest = sentence[found[1] :]
                if end is None and (found_end := _date_after(_END, rest)):
                    end = (found_end[0], *absolute)
            elif end is None and (found := _date_after(_END, sentence)) and not _START.search(sentence[:12]):
                end = (found[0], *absolute)
            if term is None and (m := _TERM.search(sentence)):
                amount = parse_number(m.group(1))
                if amount:
                    unit = "year" if m.group(2).lower().startswith("year") else "month"
                    term = (Period(int(amount), unit), *absolute)
    issues: list[Issue] = []
    if start and end:
        if end[0] <= start[0]:
            issues.append(
                (
                    end[1],
                    f"end date {end[0].isoformat()} is not after start date {start[0].isoformat()}",
                    end[3],
                    end[4],
                )
            )
        elif term:
            expected = add_period(start[0], term[0])
            if abs((expected - end[0]).days) > 3:
                issues.append(
                    (
                        term[1],
                        f"term of {term[0].amount} {term[0].unit}(s) from {start[0].isoformat()} ends "
                        f"{expected.isoformat()}, but the end date stated is {end[0].isoformat()}",
                        term[3],
                        term[4],
                    )
                )
    return issues


# A party name is a run of capitalised words (with particles and legal forms), so the leftmost match cannot
# swallow the sentence before it ("This agreement is made on ... between X").
_NAME_WORD = r"(?:[A-Z][\w.&'\-]*|de|van|der|von|of|la|le|du|plc|eG|&)"
_ROLE_DEFINITION = re.compile(
    r"\(\s*(?:hereinafter\s+)?(?:(?:referred\s+to\s+as|called)\s+)?(?:the\s+)?[\"\u201c](?P<role>[A-Z][A-Za-z ]{1,30})"
    r"[\"\u201d]\s*\)"
)
_NAME_BEFORE = re.compile(
    rf"(?P<name>{_NAME_WORD}(?:[ ]+{_NAME_WORD}){{0,8}})\s*(?:,[^()\"\u201c\u201d\n]{{0,200}}?)?\s*$"
)

_SIGNATURE = re.compile(
    r"(?i)\b(?:signed\s+(?:for\s+and\s+on\s+behalf\s+of|on\s+behalf\s+of|for|by)|for\s+and\s+on\s+behalf\s+of)\s+"
    r"(?:the\s+)?(?P<role>[A-Z][A-Za-z ]{1,30}?)\s*[:\u2013\-]\s*"
    r"(?P<name>[^\n]{2,100}?)(?=\s+(?:signed|for\s+and\s+on\s+behalf)\b|\s*\n|\s*$)"
)
_KNOWN_ROLES = ("Lender", "Borrower", "Guarantor", "Client", "Manager", "Provider", "Service Provider", "Institution",
                "Customer", "Investor", "Creditor", "Debtor", "Adviser", "Advisor", "Surety", "Bank")  # fmt: skip
_LEADING = re.compile(r"^(?:between|and|by|of|among|with)\s+", re.IGNORECASE)


def _norm_name(name: str) -> str:
    name = _LEADING.sub("", name.strip())
    return " ".join(re.findall(r"[a-z0-9]+", name.lower()))


def check_parties(document: ParsedDocument) -> list[Issue]:
    """Parties named consistently: one name per defined role, signatures match, no undefined party roles."""
    text = document.text
    defined: dict[str, tuple[str, int, int]] = {}
    issues: list[Issue] = []
    for definition in _ROLE_DEFINITION.finditer(text):
        # Anchor on '(the "Role")' and read the name just before it.
        m = _NAME_BEFORE.search(text, max(0, definition.start() - 260), definition.start())
        if m is None:
            continue
        role = definition.group("role").strip()
        name = _norm_name(m.group("name"))
        if role not in defined:
            defined[role] = (name, m.start(), definition.end())
        elif defined[role][0] != name and name:
            issues.append(
                (
                    _clause_at(document, m.start()),
                    f"party {role} is defined as '{m.group('name').strip()}' but earlier under another name",
                    m.start(),
                    definition.end(),
                )
            )
    for m in _SIGNATURE.finditer(text):
        role = m.group("role").strip()
        name = _norm_name(m.group("name"))
        if role in defined and defined[role][0] != name:
            issues.append(
                (
                    _clause_at(document, m.start("name")),
                    f"signature for the {role} names '{m.group('name').strip()}', not the party defined",
                    m.start("name"),
                    m.end("name"),
                )
            )
        elif role not in defined and defined:
            issues.append(
                (_clause_at(document, m.start()), f"signature for undefined party {role}", m.start(), m.end())
            )
    if len(defined) >= 2:
        for role in _KNOWN_ROLES:
            if role in defined or any(role in d or d in role for d in defined):
                continue
            m = re.search(rf"\bthe {role}\b", text)
            if m:
                issues.append(
                    (
                        _clause_at(document, m.start()),
                        f"the {role} is referred to but is not a defined party",
                        m.start(),
                        m.end(),
                    )
                )
    return issues


RULES: dict[str, Callable[[ParsedDocument], list[Issue]]] = {
    "amount_words": check_amount_words,
    "dates": check_dates,
    "parties": check_parties,
}
