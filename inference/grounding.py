"""Grounding checks: every number, date, identifier and citation in generated text must come from the facts.

:func:`extract_claims` finds the checkable spans of a text and normalises them (``1,000``, ``1000`` and
``1000.00`` are one number; ``25/11/2026``, ``2026-11-25`` and ``25 November 2026`` are one date;
``€1,200`` and ``1200 EUR`` are one amount). :func:`find_unsupported` returns the spans of a generated
text that the given facts do not support, each with a reason, so a service can block or redact.

Pure functions; no I/O. Limits: numbers written as words, European decimal commas (``1.000,50``) and
scale words (``1.2 million``) are not understood; such text is flagged or missed, not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

_MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₣": "CHF"}
_CURRENCY_CODES = ("EUR", "USD", "GBP", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "CAD", "AUD")

_CITATION = re.compile(r"\[([^\[\]\n]{1,200})\]")
_CITATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:#/\-]*$")
_DATE_PATTERNS = (
    re.compile(r"\b(?P<year>\d{4})-(?P<m>\d{1,2})-(?P<day>\d{1,2})(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b"),
    re.compile(r"\b(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<year>\d{4})\b"),
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.I),
    re.compile(r"\b" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b", re.I),
)
_IDENTIFIER = re.compile(r"(?<![\w-])[A-Za-z0-9][A-Za-z0-9_\-/]*[A-Za-z0-9](?![\w-])")
_NUMBER = re.compile(
    r"(?P<prefix>(?:[€$£¥₣]|\b(?:" + "|".join(_CURRENCY_CODES) + r")\s?))?"
    r"(?<![\w.])(?P<sign>[-+\u2212])?(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w])"
    r"(?P<suffix>\s?(?:%|percent\b|per cent\b|(?:" + "|".join(_CURRENCY_CODES) + r")\b))?"
)
_LIST_MARKER = re.compile(r"^[ \t]*(\d{1,2})[.)][ \t]", re.M)


@dataclass(frozen=True)
class Claim:
    """One checkable span of a text.

    Attributes:
        kind: ``number``, ``percent``, ``money``, ``date``, ``identifier`` or ``citation``.
        start: Offset of the first character.
        end: Offset after the last character.
        text: The span as written.
        value: Normalised value (``1000``, ``2026-11-25``, ``TX-1001``...).
        currency: ISO code for ``money``.
    """

    kind: str
    start: int
    end: int
    text: str
    value: str
    currency: str = ""


@dataclass(frozen=True)
class UnsupportedSpan:
    """A span of generated text the facts do not support."""

    start: int
    end: int
    text: str
    reason: str


def normalise_number(text: str) -> str:
    """``1,000.00`` -> ``1000``; ``0.50`` -> ``0.5``.

    Raises:
        ValueError: not a number.
    """
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    normalised = format(value.normalize(), "f")
    return "0" if normalised in ("-0", "0") else normalised


def _date_value(match: re.Match[str], day_first: bool) -> str | None:
    groups = match.groupdict()
    try:
        year = int(groups["year"])
        if groups.get("a") is not None:
            first, second = int(groups["a"]), int(groups["b"])
            day, month = (first, second) if day_first else (second, first)
        elif groups.get("m") is not None:
            day, month = int(groups["day"]), int(groups["m"])
        else:
            day, month = int(groups["day"]), _MONTHS[groups["month"].lower()]
        return date(year, month, day).isoformat()
    except (ValueError, KeyError):
        return None


def _is_identifier(token: str) -> bool:
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    if not (has_digit and has_alpha) or len(token) < 4:
        return False
    letters = [c for c in token if c.isalpha()]
    return all(c.isupper() for c in letters) or any(c in "-_/" for c in token)


def extract_claims(text: str, *, day_first: bool = True) -> list[Claim]:
    """Every citation, date, identifier and number in ``text``, normalised, in text order.

    Args:
        text: Generated text or facts.
        day_first: Read ``01/02/2026`` as 1 February (European) rather than January 2.
    """
    claims: list[Claim] = []
    taken = [False] * len(text)

    def free(start: int, end: int) -> bool:
        return not any(taken[start:end])

    def take(claim: Claim) -> None:
        claims.append(claim)
        for index in range(claim.start, claim.end):
            taken[index] = True

    for match in _CITATION.finditer(text):
        inner_start = match.start(1)
        parts = re.split(r"[,;]", match.group(1))
        ids = [p.strip() for p in parts]
        if not ids or not all(_CITATION_ID.match(i) for i in ids):
            continue  # brackets around prose are not a citation
        offset = inner_start
        for part, ident in zip(parts, ids, strict=True):
            start = offset + part.index(ident)
            take(Claim("citation", start, start + len(ident), ident, ident))
            offset += len(part) + 1
        # The brackets themselves belong to the citation too.
        taken[match.start()] = taken[match.end() - 1] = True
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            if not free(match.start(), match.end()):
                continue
            value = _date_value(match, day_first)
            take(Claim("date", match.start(), match.end(), match.group(0), value or "invalid"))
    for match in _IDENTIFIER.finditer(text):
        token = match.group(0)
        if _is_identifier(token) and free(match.start(), match.end()):
            take(Claim("identifier", match.start(), match.end(), token, token.upper()))
    list_markers = {m.end(1) - 1 for m in _LIST_MARKER.finditer(text)}
    for match in _NUMBER.finditer(text):
        start, end = match.start(), match.end()
        if not free(start, end) or match.end("number") - 1 in list_markers:
            continue
        number = normalise_number(match.group("number"))
        prefix = (match.group("prefix") or "").strip()
        suffix = (match.group("suffix") or "").strip()
        if suffix.lower() in ("%", "percent", "per cent"):
            kind, currency = "percent", ""
        elif prefix or suffix:
            kind, currency = "money", _CURRENCY_SYMBOLS.get(prefix, prefix.upper()) or suffix.upper()
        else:
            kind, currency = "number", ""
        take(Claim(kind, start, end, match.group(0), number, currency))
    claims.sort(key=lambda c: c.start)
    return claims


@dataclass(frozen=True)
class _Support:
    numbers: frozenset[str]
    money: frozenset[tuple[str, str]]
    dates: frozenset[str]
    identifiers: frozenset[str]
    text_upper: str


def _support(facts: Iterable[str], day_first: bool) -> _Support:
    numbers: set[str] = set()
    money: set[tuple[str, str]] = set()
    dates: set[str] = set()
    identifiers: set[str] = set()
    texts = list(facts)
    for fact in texts:
        for claim in extract_claims(fact, day_first=day_first):
            if claim.kind in ("number", "percent", "money"):
                numbers.add(claim.value)
                if claim.kind == "money":
                    money.add((claim.value, claim.currency))
            elif claim.kind == "date":
                dates.add(claim.value)
                if claim.value != "invalid":
                    numbers.add(claim.value[:4])  # "in 2026" is supported by any date in 2026
            elif claim.kind in ("identifier", "citation"):
                identifiers.add(claim.value.upper())
    return _Support(
        frozenset(numbers), frozenset(money), frozenset(dates), frozenset(identifiers), "\n".join(texts).upper()
    )


def find_unsupported(
    text: str,
    facts: Iterable[str],
    *,
    citation_ids: Iterable[str] = (),
    day_first: bool = True,
) -> list[UnsupportedSpan]:
    """The spans of ``text`` whose number, date, identifier or citation the facts do not support.

    Args:
        text: The generated text.
        facts: The texts the model was given (fact lines, retrieved passages, reason codes).
        citation_ids: Ids the model may cite (the retrieved chunks); any other citation is unsupported.
        day_first: Read ``01/02/2026`` as 1 February.

    Returns:
        Unsupported spans in text order; empty when the text is grounded.
    """
    support = _support(facts, day_first)
    allowed_citations = {c.upper() for c in citation_ids}
    unsupported: list[UnsupportedSpan] = []
    for claim in extract_claims(text, day_first=day_first):
        reason = ""
        if claim.kind == "citation":
            if claim.value.upper() not in allowed_citations:
                reason = "citation of a source that was not provided"
        elif claim.kind == "date":
            if claim.value == "invalid":
                reason = "not a valid date"
            elif claim.value not in support.dates:
                reason = "date not in the facts"
        elif claim.kind == "identifier":
            if claim.value not in support.identifiers and claim.value not in support.text_upper:
                reason = "identifier not in the facts"
        elif claim.kind == "money":
            if claim.value not in support.numbers:
                reason = "amount not in the facts"
            elif any(v == claim.value for v, _ in support.money) and (claim.value, claim.currency) not in support.money:
                reason = "amount in the facts has another currency"
        elif claim.value not in support.numbers:
            reason = "percentage not in the facts" if claim.kind == "percent" else "number not in the facts"
        if reason:
            unsupported.append(UnsupportedSpan(claim.start, claim.end, claim.text, reason))
    return unsupported


# E-mail addresses and links: never part of an answer, explanation, summary or report (a planted
# instruction, or a small model's junk such as "extrplanation@gmail.com").
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\bhttps?://\S+|\bwww\.\S+", re.I)
# Words that say nothing about a subject: shared by almost any two sentences of a rule or a contract.
_GENERIC = frozenset(
    "shall must should would could which where there their these those other about with from this that have "
    "been will into such also than then when what only each more most very over under upon them they your "
    "ours does done make made were being".split()
)
_WORD = re.compile(r"[a-z]{4,}")


def find_contact_details(text: str) -> list[UnsupportedSpan]:
    """The e-mail addresses and links in ``text``, each as an unsupported span."""
    return [
        UnsupportedSpan(m.start(), m.end(), m.group(0), "contact details or links are never part of generated text")
        for m in _CONTACT.finditer(text)
    ]


def content_stems(text: str) -> set[str]:
    """The subject words of ``text``: words of four letters or more, not generic, cut to five letters (so
    "records" meets "record" and "compliance" meets "comply")."""
    return {word[:5] for word in _WORD.findall(text.lower()) if word not in _GENERIC}


def says_something_of(text: str, facts: Iterable[str]) -> bool:
    """Whether ``text`` shares at least one subject word with ``facts`` (:func:`content_stems`).

    The grounding checks refute what a text states; text that states nothing checkable (a small model's
    unrelated story) passes them. This is the complementary floor: generated text must at least speak of
    what it was given. Paraphrase sharing no subject word at all fails it, the safe direction.
    """
    wanted = content_stems(text)
    return bool(wanted) and any(wanted & content_stems(fact) for fact in facts)
