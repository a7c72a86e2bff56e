"""Text primitives shared by the engines: tokens with offsets, lemmas, sentences, numbers, dates.

All functions are pure and linear in the input. The lemmatiser is a small
rule-based one (English inflection only): enough to let "repaid", "repaying"
and "repayment" meet "repay" without a model, and deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import NamedTuple

_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*")
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[\"'(]?[A-Z0-9(])|\n\s*\n")
# Abbreviations whose trailing dot does not end a sentence.
_ABBREVIATIONS = ("e.g.", "i.e.", "art.", "no.", "para.", "cf.", "p.a.", "etc.", "inc.", "ltd.", "co.", "s.a.")

_IRREGULAR = {
    "paid": "pay",
    "repaid": "repay",
    "prepaid": "prepay",
    "made": "make",
    "given": "give",
    "gave": "give",
    "held": "hold",
    "kept": "keep",
    "laid": "lay",
    "sold": "sell",
    "bound": "bind",
    "borne": "bear",
    "chosen": "choose",
    "taken": "take",
    "written": "write",
    "sent": "send",
    "done": "do",
    "won't": "will",
    "shan't": "shall",
    "can't": "can",
    "data": "data",
    "terms": "term",
    "is": "be",
    "are": "be",
    "was": "be",
    "were": "be",
    "been": "be",
    "being": "be",
    "has": "have",
    "had": "have",
    "having": "have",
    "courts": "court",
    "laws": "law",
    "governs": "govern",
}
# Suffixes stripped in order; the first that leaves a stem of 3+ letters wins.
_DERIVATIONAL = ("ments", "ment", "ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "als", "al", "s")


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """A crude, deterministic stem of ``word`` (lower-cased), in the manner of Porter's.

    Text and lexicon go through the same function, so only consistency matters:
    "repayments", "repaid" and "repaying" all become "repay"; a final "e" is
    dropped so "charge" and "charged" meet.

    Args:
        word: One token.

    Returns:
        The stem used for matching.
    """
    lowered = word.lower()
    if lowered in _IRREGULAR:
        return _IRREGULAR[lowered]
    if not lowered.isalpha():
        return lowered
    stem = lowered
    if len(lowered) > 4:
        for suffix in _DERIVATIONAL:
            if lowered.endswith(suffix) and len(lowered) - len(suffix) >= 3:
                stem = lowered[: -len(suffix)]
                if suffix in ("ies", "ied"):
                    stem += "y"
                elif suffix == "s" and stem.endswith(("s", "u", "i")):
                    stem = lowered  # "process", "access", "status"
                elif suffix == "es" and not stem.endswith(("s", "x", "z", "ch", "sh")):
                    stem = lowered[:-1]  # "fees" -> "fee", "rates" -> "rate"
                elif suffix in ("ed", "ing") and len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "lsf":
                    stem = stem[:-1]  # "transferred" -> "transfer"
                break
    elif len(lowered) == 4 and lowered.endswith("s") and not lowered.endswith(("ss", "us", "is")):
        stem = lowered[:-1]
    if len(stem) >= 4 and stem.endswith("e") and not stem.endswith("ee"):
        stem = stem[:-1]
    return stem


class Token(NamedTuple):
    """A word with its offsets and lemma (a named tuple: contracts have thousands, built in the hot path)."""

    text: str
    lemma: str
    start: int
    end: int


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Words and numbers of ``text`` with absolute offsets (``offset`` added)."""
    tokens = []
    for m in _WORD.finditer(text):
        word = m.group()
        start, end = m.span()
        tokens.append(Token(word, lemma(word), start + offset, end + offset))
    return tokens


def lemmas_of(phrase: str) -> tuple[str, ...]:
    """Lemmas of the words of ``phrase``."""
    return tuple(lemma(m.group()) for m in _WORD.finditer(phrase))


def split_sentences(text: str) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` spans of the sentences of ``text``.

    Splits after ``.``, ``;``, ``!`` and ``?`` followed by a capital or digit, and at
    blank lines; a known abbreviation's dot does not split.
    """
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.start()].rstrip()
        lowered = candidate.lower()
        if lowered.endswith(_ABBREVIATIONS):
            continue
        if candidate.strip():
            lead = len(text[start:]) - len(text[start:].lstrip())
            yield start + lead, match.start()
        start = match.end()
    tail = text[start:]
    if tail.strip():
        lead = len(tail) - len(tail.lstrip())
        yield start + lead, len(text.rstrip())


_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
NUMBER_WORD = (
    r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|"
    r"billion)"
)
NUMBER_WORDS_RE = re.compile(rf"\b{NUMBER_WORD}(?:[\s-]+(?:and[\s-]+)?{NUMBER_WORD})*\b", re.IGNORECASE)


def words_to_number(words: str) -> int | None:
    """Value of an English number in words ("twelve thousand five hundred" -> 12500).

    Returns:
        The integer, or ``None`` when a word is not a number word.
    """
    total = 0
    current = 0
    seen = False
    for raw in re.split(r"[\s-]+", words.lower().strip()):
        if not raw or raw == "and":
            continue
        if raw in _UNITS:
            current += _UNITS[raw]
        elif raw == "hundred":
            current = max(current, 1) * 100
        elif raw in _SCALES:
            total += max(current, 1) * _SCALES[raw]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def parse_number(token: str) -> float | None:
    """A number written in digits ("12,500.00", "7.5") or words ("six"); ``None`` otherwise."""
    cleaned = token.strip()
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", cleaned):
        return float(cleaned.replace(",", ""))
    value = words_to_number(cleaned)
    return float(value) if value is not None else None


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
         "november", "december")
    )
}  # fmt: skip
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
DATE_RE = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\s*,?\s+(?P<y1>\d{{4}})"
    rf"|{_MONTH.replace('(', '(?P<m2>', 1)}\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{{4}})"
    r"|(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2}))\b"
)


def find_dates(text: str) -> Iterator[tuple[date, int, int]]:
    """Yield ``(date, start, end)`` for every absolute date in ``text``.

    Understands "1 March 2027", "March 1, 2027" and "2027-03-01"; impossible
    dates (31 February) are skipped.
    """
    for match in DATE_RE.finditer(text):
        try:
            if match.group("d1"):
                value = date(int(match.group("y1")), _MONTHS[match.group(2).lower()], int(match.group("d1")))
            elif match.group("d2"):
                value = date(int(match.group("y2")), _MONTHS[match.group("m2").lower()], int(match.group("d2")))
            else:
                value = date(int(match.group("y3")), int(match.group("m3")), int(match.group("d3")))
        except ValueError:
            continue
        yield value, match.start(), match.end()


PERCENT_RE = re.compile(
    rf"(?P<num>\d+(?:\.\d+)?|{NUMBER_WORD}(?:[\s-]+{NUMBER_WORD})*)\s*(?:%|per\s*cent\b|percent\b)"
    r"(?P<points>\s*(?:percentage\s+)?points?\b)?",
    re.IGNORECASE,
)
POINTS_RE = re.compile(
    rf"(?P<num>\d+(?:\.\d+)?|{NUMBER_WORD})\s+(?:percentage\s+points?|basis\s+points?)", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Percent:
    """A percentage or a margin in percentage points found in text."""

    value: float
    start: int
    end: int
    is_margin: bool


def find_percents(text: str) -> list[Percent]:
    """Percentages ("12%", "twelve per cent") and margins ("3 percentage points", "250 basis points")."""
    found: list[Percent] = []
    taken: list[tuple[int, int]] = []
    for match in POINTS_RE.finditer(text):
        number = parse_number(match.group("num"))
        if number is None:
            continue
        if "basis" in match.group().lower():
            number /= 100.0
        found.append(Percent(number, match.start(), match.end(), True))
        taken.append((match.start(), match.end()))
    for match in PERCENT_RE.finditer(text):
        if any(s <= match.start() < e for s, e in taken):
            continue
        number = parse_number(match.group("num"))
        if number is None:
            continue
        tail = text[match.end() : match.end() + 60].lower()
        margin = bool(match.group("points")) or bool(
            re.match(r"\s*(?:per annum\s*|p\.a\.\s*)?(?:above|over|plus|on top of|in addition to)\b", tail)
        )
        found.append(Percent(number, match.start(), match.end(), margin))
    found.sort(key=lambda p: p.start)
    return found
