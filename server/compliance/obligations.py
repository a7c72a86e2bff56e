"""Deterministic obligation extraction: modality, who is bound, what, and under which condition.

Rules, not a model: the first deontic marker of a sentence decides its
modality (negative forms first), the words before it are the subject (after a
leading "Where ..., " condition), the words after it the action (before a
trailing ", unless/if/where ..." condition). A passive action with an agent
("shall be informed by the lender") binds the agent. A lead-in ending with a
colon ("The lender shall:") is distributed over its items, each cited on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from server.compliance.domain import Clause, ClauseLevel, Modality, Obligation, ParsedDocument
from server.compliance.text import split_sentences

_MODALS: tuple[tuple[Modality, re.Pattern[str]], ...] = (
    (
        Modality.SHALL_NOT,
        re.compile(
            r"\b(?:shall\s+not|must\s+not|may\s+not|shall\s+never|must\s+never|shall\s+in\s+no\s+case|"
            r"(?:is|are)\s+(?:not\s+permitted|prohibited|not\s+allowed|forbidden)\s+(?:to|from)|"
            r"(?:shall|must)\s+refrain\s+from)\b",
            re.IGNORECASE,
        ),
    ),
    (Modality.SHALL, re.compile(r"\b(?:shall|(?:is|are)\s+obliged\s+to|(?:is|are)\s+bound\s+to)\b", re.IGNORECASE)),
    (Modality.MUST, re.compile(r"\b(?:must|(?:is|are)\s+required\s+to|ha(?:s|ve)\s+to)\b", re.IGNORECASE)),
    # "May" the month ("15 May 2026", "May 2027") is not a modal.
    (
        Modality.MAY,
        re.compile(r"(?<!\d\s)\b(?:may(?!\s+\d)|(?:is|are)\s+(?:entitled|permitted|allowed)\s+to)\b", re.IGNORECASE),
    ),
)
_LEADING_CONDITION = re.compile(
    r"^(?:where|if|when|whenever|unless|in\s+the\s+event|provided\s+that|subject\s+to|notwithstanding|"
    r"without\s+prejudice\s+to|before|after|upon|on\s+receipt|in\s+case|for\s+the\s+purposes?)\b",
    re.IGNORECASE,
)
_TRAILING_CONDITION = re.compile(
    r",?\s+\b(?:unless|if|where|provided\s+that|except\s+where|except\s+when|insofar\s+as|in\s+so\s+far\s+as|"
    r"in\s+the\s+event\s+that|whenever)\b",
    re.IGNORECASE,
)
_PASSIVE_AGENT = re.compile(
    r"^be\s+\w+(?:ed|en|wn|ld|nt|id)\b.*?\bby\s+((?:the|a|an|each|every|any|its)\s+[A-Za-z][\w\s-]{0,40}?)"
    r"(?=\s*[,.;:]|\s+(?:within|no\s+later|before|after|at|in|on|of|if|where|unless|when|to|and|for)\b|$)",
    re.IGNORECASE,
)
_ARTICLES = re.compile(r"^(?:the|a|an|each|every|any|all)\s+", re.IGNORECASE)
_RELATIVE_TAIL = re.compile(r",?\s+(?:which|who|that)$", re.IGNORECASE)
# "This Rule shall apply from ..." states when the text applies; it binds nobody.
_SELF_REFERENCE = re.compile(
    r"^(?:this|the present)\s+(?:rule|regulation|directive|article|chapter|part|act)$", re.IGNORECASE
)


def find_modality(sentence: str) -> tuple[Modality, int, int] | None:
    """The first deontic marker of ``sentence``: ``(modality, start, end)``, negative forms winning ties."""
    best: tuple[Modality, int, int] | None = None
    for modality, pattern in _MODALS:
        match = pattern.search(sentence)
        if match and (best is None or match.start() < best[1]):
            best = (modality, match.start(), match.end())
    return best


def subject_head(subject: str) -> str:
    """The subject without leading articles, lower-cased: used to compare subjects."""
    return _ARTICLES.sub("", subject.strip().lower()).strip(" ,")


def _split(sentence: str, marker: tuple[Modality, int, int]) -> tuple[str, str, str]:
    _, start, end = marker
    prefix = sentence[:start].strip(" ,")
    condition = ""
    if _LEADING_CONDITION.match(prefix) and "," in prefix:
        cut = prefix.rfind(",")
        condition, prefix = prefix[:cut].strip(), prefix[cut + 1 :].strip()
    action = sentence[end:].strip().rstrip(".;:").strip()
    trailing = _TRAILING_CONDITION.search(action)
    if trailing and trailing.start() > 0:
        tail = action[trailing.start() :].strip(" ,")
        condition = f"{condition}; {tail}" if condition else tail
        action = action[: trailing.start()].strip(" ,")
    agent = _PASSIVE_AGENT.match(action)
    if agent:
        prefix = agent.group(1).strip()
    return _RELATIVE_TAIL.sub("", prefix).strip(), action, condition


def extract_obligations(document: ParsedDocument) -> Iterator[Obligation]:
    """Yield the obligations of ``document`` in clause order.

    Args:
        document: A parsed regulation.

    Yields:
        One obligation per deontic sentence (and per item under a deontic lead-in).
    """
    lead_ins: dict[str, tuple[Modality, str, str, str]] = {}
    for clause in document.clauses:
        if not clause.text:
            continue
        yield from _clause_obligations(clause, lead_ins)


def _clause_obligations(clause: Clause, lead_ins: dict[str, tuple[Modality, str, str, str]]) -> Iterator[Obligation]:
    count = 0
    sentences = [clause.text[s:e] for s, e in split_sentences(clause.text)]
    for sentence in sentences:
        marker = find_modality(sentence)
        if marker is None:
            if clause.level is ClauseLevel.ITEM and clause.parent_clause_id in lead_ins:
                modality, subject, condition, lead = lead_ins[clause.parent_clause_id]
                item = sentence.strip().rstrip(".;").removesuffix(" and").removesuffix(" or").strip()
                count += 1
                yield Obligation(
                    obligation_id=f"{clause.clause_id}#o{count}",
                    clause_id=clause.clause_id,
                    modality=modality,
                    subject=subject,
                    action=f"{lead} {item}".strip(),
                    condition=condition,
                    source_text=sentence.strip(),
                )
            continue
        subject, action, condition = _split(sentence, marker)
        if sentence.rstrip().endswith(":"):
            # A lead-in ("The lender shall:") binds through its items; each item is cited on its own.
            lead_ins[clause.clause_id] = (marker[0], subject, condition, action)
            continue
        if not subject or len(subject.split()) > 25 or _SELF_REFERENCE.match(subject):
            continue  # a marker deep inside a long definition is not an obligation of its own
        count += 1
        yield Obligation(
            obligation_id=f"{clause.clause_id}#o{count}",
            clause_id=clause.clause_id,
            modality=marker[0],
            subject=subject,
            action=action,
            condition=condition,
            source_text=sentence.strip(),
        )
