"""PII masking: what is removed from customer text before it reaches the LLM, the logs or storage.

Masked, in this order (earlier kinds win where spans overlap):

- e-mail addresses → ``[EMAIL]``;
- IBANs (two letters, two check digits, 11-30 alphanumerics, spaces allowed), ISO 13616 mod-97
  checked → ``[IBAN]``;
- card numbers: 13-19 digits, single spaces or dashes allowed between groups, Luhn-valid → ``[CARD]``;
- phone numbers: ``+`` and 8-15 digits, or a national number starting with ``0`` of 10-11 digits
  (spaces, dashes, parentheses allowed) → ``[PHONE]``;
- account numbers: a UK sort code and account (``12-34-56 12345678``), and any other run of 8 or more
  digits (a card number failing Luhn is still someone's number) → ``[ACCOUNT]``.

Pure functions, no I/O. Limits: names and postal addresses are not detected; numbers written as
words are not detected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+(?![\w-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])", re.I)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
_SORT_CODE_ACCOUNT = re.compile(r"(?<!\d)\d{2}-\d{2}-\d{2}[ ,/]*\d{6,10}(?!\d)")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d(?:[ .-]?\d){6,13}"
    r"|\(?0\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4})(?!\d)"
)
_LONG_DIGITS = re.compile(r"(?<![\d])\d(?:[ -]?\d){7,}(?![\d])")

_DATE = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{4})$")

_TOKENS = ("[EMAIL]", "[IBAN]", "[CARD]", "[PHONE]", "[ACCOUNT]")


@dataclass(frozen=True)
class MaskedText:
    """Text with its PII replaced.

    Attributes:
        text: The masked text.
        kinds: Which kinds were found (``EMAIL``, ``IBAN``, ``CARD``, ``PHONE``, ``ACCOUNT``), in text order.
    """

    text: str
    kinds: tuple[str, ...]

    @property
    def found(self) -> bool:
        """True when anything was masked."""
        return bool(self.kinds)


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` (only digits) passes the Luhn check."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """Whether ``candidate`` (spaces allowed) is an IBAN with a correct mod-97 check."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    return int(numeric) % 97 == 1


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _mask_ibans(text: str, kinds: list[tuple[int, str]]) -> str:
    """Masks IBANs; a candidate that runs into following words is shortened until its check passes."""
    out: list[str] = []
    position = 0
    for match in _IBAN.finditer(text):
        if match.start() < position:
            continue
        candidate = match.group(0)
        end = len(candidate)
        while end >= 15 and not iban_valid(candidate[:end]):
            end -= 1
            while end > 0 and candidate[end - 1] == " ":
                end -= 1
        if end < 15 or (match.start() + end < len(text) and text[match.start() + end].isalnum()):
            continue
        out.append(text[position : match.start()])
        out.append("[IBAN]")
        kinds.append((match.start(), "IBAN"))
        position = match.start() + end
    out.append(text[position:])
    return "".join(out)


def mask_pii(text: str) -> MaskedText:
    """Replaces PII in ``text`` by typed placeholders (see the module docstring).

    Args:
        text: Customer or model text.

    Returns:
        The masked text and the kinds found.
    """
    kinds: list[tuple[int, str]] = []

    def sub(pattern: re.Pattern[str], kind: str, source: str, accept: object = None) -> str:
        def replace(match: re.Match[str]) -> str:
            value = match.group(0)
            if callable(accept) and not accept(value):
                return value
            kinds.append((match.start(), kind))
            return f"[{kind}]"

        return pattern.sub(replace, source)

    masked = sub(_EMAIL, "EMAIL", text)
    masked = _mask_ibans(masked, kinds)
    masked = sub(_CARD, "CARD", masked, lambda v: 13 <= len(_digits(v)) <= 19 and luhn_valid(_digits(v)))
    masked = sub(_SORT_CODE_ACCOUNT, "ACCOUNT", masked)
    masked = sub(_PHONE, "PHONE", masked, lambda v: 9 <= len(_digits(v)) <= 15)
    masked = sub(_LONG_DIGITS, "ACCOUNT", masked, lambda v: not _DATE.match(v))
    return MaskedText(masked, tuple(kind for _, kind in sorted(kinds)))


def contains_pii(text: str) -> bool:
    """Whether ``text`` holds anything :func:`mask_pii` would mask (placeholders themselves do not count)."""
    return mask_pii(text).found


def is_placeholder(token: str) -> bool:
    """Whether ``token`` is one of the mask placeholders."""
    return token in _TOKENS
