"""Concept matching beyond literal keywords: lemmas, synonym sets, gaps and regular expressions.

A *concept* (``repay_early``, ``governing_law``) is a set of phrasings, each
turned into a lemma sequence, plus optional regular expressions. A phrasing
matches when its lemmas occur in order with at most ``gap`` other words
between consecutive ones, so "repaid in full before the maturity date" meets
"repay ... before ... maturity", and passive or inflected forms meet the
active base form. The lexicon is configuration
(``server/compliance/playbooks/lexicon.toml``), shared by playbooks and the
impact taxonomy.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from server.compliance.domain import ParsedDocument
from server.compliance.text import Token, lemmas_of, split_sentences, tokenize

# Words ignored inside a phrasing, so "the right of withdrawal" also meets "right to withdrawal".
_STOP = frozenset({"the", "a", "an", "of", "to", "thi", "that", "any", "such", "its", "their", "our", "your"})


@dataclass(frozen=True, slots=True)
class Phrase:
    """One phrasing of a concept as lemmas."""

    lemmas: tuple[str, ...]
    gap: int


@dataclass(frozen=True, slots=True)
class Concept:
    """A named set of phrasings and patterns."""

    name: str
    phrases: tuple[Phrase, ...]
    patterns: tuple[re.Pattern[str], ...]


class Lexicon:
    """Concepts by name, loaded from TOML."""

    def __init__(self, concepts: dict[str, Concept], version: str) -> None:
        self.concepts = concepts
        self.version = version

    def __contains__(self, name: str) -> bool:
        return name in self.concepts

    def get(self, name: str) -> Concept:
        """The concept ``name``.

        Raises:
            KeyError: unknown concept.
        """
        return self.concepts[name]

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """Load a lexicon file.

        Raises:
            ValueError: a malformed entry, naming the file and the concept.
        """
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        version = str(raw.get("version", ""))
        if not version:
            raise ValueError(f"{path}: missing 'version'")
        concepts: dict[str, Concept] = {}
        for name, spec in raw.get("concepts", {}).items():
            if not isinstance(spec, dict):
                raise ValueError(f"{path}: concept {name!r} must be a table")
            unknown = set(spec) - {"phrases", "patterns", "gap"}
            if unknown:
                raise ValueError(f"{path}: concept {name!r} has unknown keys {sorted(unknown)}")
            gap = int(spec.get("gap", 2))
            phrases = tuple(Phrase(_phrase_lemmas(p), gap) for p in spec.get("phrases", []))
            if any(not p.lemmas for p in phrases):
                raise ValueError(f"{path}: concept {name!r} has an empty phrase")
            try:
                patterns = tuple(re.compile(p, re.IGNORECASE) for p in spec.get("patterns", []))
            except re.error as exc:
                raise ValueError(f"{path}: concept {name!r} has a bad pattern: {exc}") from None
            if not phrases and not patterns:
                raise ValueError(f"{path}: concept {name!r} has neither phrases nor patterns")
            concepts[name] = Concept(name, phrases, patterns)
        return cls(concepts, version)


def _phrase_lemmas(phrase: str) -> tuple[str, ...]:
    lemmas = tuple(lemma for lemma in lemmas_of(phrase) if lemma not in _STOP)
    return lemmas or lemmas_of(phrase)


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a document with the clause it belongs to and its token range."""

    clause_id: str
    section_id: str
    start: int
    end: int
    first_token: int
    last_token: int  # exclusive


@dataclass(frozen=True, slots=True)
class Match:
    """Where a concept matched: token range and character offsets."""

    concept: str
    sentence: int
    first_token: int
    last_token: int  # exclusive
    start: int
    end: int


class DocumentIndex:
    """Tokens, lemmas and sentences of a parsed document, indexed for concept lookups."""

    def __init__(self, document: ParsedDocument) -> None:
        self.document = document
        self.tokens: list[Token] = []
        self.sentences: list[Sentence] = []
        parents = {c.clause_id: c.parent_clause_id for c in document.clauses}
        for clause in document.clauses:
            if not clause.text:
                continue
            section = clause.clause_id
            while parents.get(section):
                parent = parents[section]
                if not parents.get(parent) and parent.startswith("ch"):
                    break  # chapters are too coarse to be a "section"
                section = parent
            for start, end in split_sentences(clause.text):
                first = len(self.tokens)
                self.tokens.extend(tokenize(clause.text[start:end], clause.start + start))
                self.sentences.append(
                    Sentence(
                        clause.clause_id, section, clause.start + start, clause.start + end, first, len(self.tokens)
                    )
                )
        self._token_sentence = [0] * len(self.tokens)
        for number, sentence in enumerate(self.sentences):
            for i in range(sentence.first_token, sentence.last_token):
                self._token_sentence[i] = number
        self._positions: dict[str, list[int]] = defaultdict(list)
        for i, token in enumerate(self.tokens):
            self._positions[token.lemma].append(i)
        self._sentence_starts = [s.start for s in self.sentences]
        self._cache: dict[str, list[Match]] = {}

    def sentence_at(self, offset: int) -> int:
        """Index of the sentence containing character ``offset``."""
        return max(0, bisect.bisect_right(self._sentence_starts, offset) - 1)

    def matches(self, concept: Concept) -> list[Match]:
        """All places ``concept`` matches, in document order (cached per concept)."""
        cached = self._cache.get(concept.name)
        if cached is not None:
            return cached
        found: list[Match] = []
        for phrase in concept.phrases:
            found.extend(self._phrase_matches(concept.name, phrase))
        text = self.document.text
        for pattern in concept.patterns:
            for m in pattern.finditer(text):
                sentence_no = self.sentence_at(m.start())
                sentence = self.sentences[sentence_no] if self.sentences else None
                if sentence is None or not sentence.start <= m.start() < sentence.end:
                    continue  # headings and signature blocks are not sentences of a clause
                found.append(
                    Match(concept.name, sentence_no, sentence.first_token, sentence.first_token, m.start(), m.end())
                )
        found.sort(key=lambda m: (m.start, m.end))
        self._cache[concept.name] = found
        return found

    def _phrase_matches(self, name: str, phrase: Phrase) -> list[Match]:
        head = self._positions.get(phrase.lemmas[0])
        if not head:
            return []
        rest = [self._positions.get(lemma) for lemma in phrase.lemmas[1:]]
        if any(not positions for positions in rest):
            return []
        found: list[Match] = []
        for first in head:
            sentence_no = self._token_sentence[first]
            sentence_end = self.sentences[sentence_no].last_token
            cursor = first
            ok = True
            for positions in rest:
                assert positions is not None
                k = bisect.bisect_right(positions, cursor)
                if k >= len(positions) or positions[k] > cursor + 1 + phrase.gap or positions[k] >= sentence_end:
                    ok = False
                    break
                cursor = positions[k]
            if ok:
                found.append(
                    Match(name, sentence_no, first, cursor + 1, self.tokens[first].start, self.tokens[cursor].end)
                )
        return found


def lemma_positions(lemmas: list[str]) -> dict[str, list[int]]:
    """Positions of each lemma in ``lemmas`` (for :func:`has_phrase`)."""
    positions: dict[str, list[int]] = defaultdict(list)
    for i, value in enumerate(lemmas):
        positions[value].append(i)
    return positions


def has_phrase(positions: dict[str, list[int]], lemmas: tuple[str, ...], gap: int = 1) -> bool:
    """Whether the lemma sequence occurs in order with at most ``gap`` words between consecutive lemmas.

    Args:
        positions: From :func:`lemma_positions` over the text's lemmas.
        lemmas: The phrase.
        gap: Words allowed between consecutive phrase lemmas.
    """
    if not lemmas or lemmas[0] not in positions:
        return False
    rest = [positions.get(lemma) for lemma in lemmas[1:]]
    if any(not p for p in rest):
        return False
    for first in positions[lemmas[0]]:
        cursor = first
        for candidates in rest:
            assert candidates is not None
            k = bisect.bisect_right(candidates, cursor)
            if k >= len(candidates) or candidates[k] > cursor + 1 + gap:
                break
            cursor = candidates[k]
        else:
            return True
    return False
