"""The grounding check of generated answers, sentence by sentence, and the streaming sentence splitter.

A generated sentence is released only when all of these hold:

1. it cites at least one source (``[F1]``; the labels map to retrieved chunk ids, and the chunk ids
   themselves are accepted too);
2. every source it cites was retrieved for this question;
3. every number, amount, percentage, date and identifier in it appears in the text it cites
   (:func:`inference.grounding.find_unsupported`, the inference helper's checker);
4. at least ``min_support_ratio`` of its content words occur in the text it cites;
5. it shares no run of ``leak_ngram_words`` consecutive words with the system prompt, and carries no
   prompt markup (``<data``);
6. it holds no PII (card numbers, IBANs, account and phone numbers, e-mail addresses).

Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from inference.grounding import find_unsupported
from server.customer.answering.pii import contains_pii

_CITATION = re.compile(r"\[([^\[\]\n]{1,200})\]")
_CITATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:#/\-]*$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_MARKUP = re.compile(r"</?\s*data\b|&lt;/?data|<\|im_start\|>|<start_of_turn>", re.I)
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can cannot could did do does doing down during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just me more most my no nor not now of
    off on once only or other our ours out over own same she should so some such than that the their theirs
    them then there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours also may might must shall via per yes please thank thanks
    get got use used using one ones""".split()
)


@dataclass(frozen=True)
class Fact:
    """One retrieved chunk as the model sees it.

    Attributes:
        label: The prompt-local id the model cites (``F1``).
        chunk_id: The retrieved chunk's id.
        document_id: Its article.
        title: The article title.
        text: The text given to the model (title, heading and content).
        score: Retrieval score.
    """

    label: str
    chunk_id: str
    document_id: str
    title: str
    text: str
    score: float


@dataclass(frozen=True)
class SentenceVerdict:
    """The check of one sentence.

    Attributes:
        sentence: The sentence as generated (with its citations).
        display: The sentence for the customer: citations renumbered ``[1]`` in answer order.
        cited: Labels of the facts it cites, in order.
        problems: Why it fails; empty when grounded.
    """

    sentence: str
    display: str
    cited: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def grounded(self) -> bool:
        """True when the sentence may be shown."""
        return not self.problems


def _words(text: str) -> list[str]:
    return [w.lower().strip("'-") for w in _WORD.findall(text)]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    """Lower-case words of ``text`` that carry meaning (no stop words, no citation labels)."""
    return [w for w in _words(_CITATION.sub(" ", text)) if len(w) > 2 and w not in _STOPWORDS]


def _ngrams(words: Sequence[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


class GroundingChecker:
    """Checks generated sentences against the facts of one prompt.

    Args:
        facts: The facts given to the model.
        system_prompt: The system prompt sent (a sentence repeating it is a leak).
        min_support_ratio: Share of content words that must occur in the cited text.
        leak_ngram_words: Length of a word run shared with the system prompt that counts as a leak.
    """

    def __init__(
        self, facts: Sequence[Fact], *, system_prompt: str, min_support_ratio: float = 0.6, leak_ngram_words: int = 6
    ) -> None:
        self._facts = {fact.label.upper(): fact for fact in facts}
        self._by_chunk = {fact.chunk_id.upper(): fact for fact in facts}
        self._min_ratio = min_support_ratio
        self._leak_size = leak_ngram_words
        self._system_ngrams = _ngrams(_words(system_prompt), leak_ngram_words)
        self._numbering: dict[str, int] = {}

    @property
    def cited_in_order(self) -> list[Fact]:
        """Facts cited by the sentences checked so far, in order of first citation."""
        order = sorted(self._numbering.items(), key=lambda item: item[1])
        return [self._facts[label] for label, _ in order]

    def _resolve(self, token: str) -> Fact | None:
        key = token.strip().upper()
        return self._facts.get(key) or self._by_chunk.get(key)

    def check(self, sentence: str, *, commit: bool = True) -> SentenceVerdict:
        """Checks one sentence; with ``commit`` its citations join the answer's numbering when it passes."""
        problems: list[str] = []
        cited: list[Fact] = []
        unknown = False
        for match in _CITATION.finditer(sentence):
            tokens = [t.strip() for t in re.split(r"[,;]", match.group(1))]
            if not tokens or not all(_CITATION_ID.match(t) for t in tokens):
                continue
            for token in tokens:
                fact = self._resolve(token)
                if fact is None:
                    unknown = True
                elif fact not in cited:
                    cited.append(fact)
        if unknown:
            problems.append("cites a source that was not retrieved")
        if not cited:
            problems.append("no citation")
        else:
            facts_text = [fact.text for fact in cited]
            allowed = [f.label for f in cited] + [f.chunk_id for f in cited]
            for span in find_unsupported(sentence, facts_text, citation_ids=allowed):
                if span.reason.startswith("citation"):
                    continue  # reported above, without the span text
                problems.append(f"{span.reason}")
            words = content_words(sentence)
            if words:
                available = {_stem(w) for w in content_words(" ".join(facts_text))}
                supported = sum(1 for w in words if _stem(w) in available)
                if supported / len(words) < self._min_ratio:
                    problems.append("not supported by the cited text")
        if _MARKUP.search(sentence):
            problems.append("prompt markup in the answer")
        if self._system_ngrams and _ngrams(_words(sentence), self._leak_size) & self._system_ngrams:
            problems.append("repeats the system prompt")
        if contains_pii(_CITATION.sub(" ", sentence)):
            problems.append("personal data in the answer")
        display = sentence
        if not problems and commit:
            for fact in cited:
                self._numbering.setdefault(fact.label.upper(), len(self._numbering) + 1)
            display = self._renumber(sentence)
        return SentenceVerdict(sentence, display, tuple(f.label for f in cited), tuple(dict.fromkeys(problems)))

    def _renumber(self, sentence: str) -> str:
        def replace(match: re.Match[str]) -> str:
            tokens = [t.strip() for t in re.split(r"[,;]", match.group(1))]
            if not tokens or not all(_CITATION_ID.match(t) for t in tokens):
                return match.group(0)
            numbers = []
            for token in tokens:
                fact = self._resolve(token)
                if fact is not None:
                    numbers.append(str(self._numbering[fact.label.upper()]))
            return "[" + ", ".join(dict.fromkeys(numbers)) + "]"

        return re.sub(r"\s+", " ", _CITATION.sub(replace, sentence)).strip()


def _citation_end(text: str, start: int) -> int | None:
    """End of a citation starting at ``start`` ('['), None when it is not (yet) one."""
    close = text.find("]", start)
    if close == -1 or close - start > 201 or "\n" in text[start:close]:
        return None
    return close + 1


class SentenceSplitter:
    """Cuts streamed text into complete sentences, each with the citations that follow it.

    A sentence ends at ``.``, ``!`` or ``?`` followed by optional citations and then whitespace and a
    character that does not open another citation, or at a line break. Decimal points (``1.5``) do not
    end a sentence because no whitespace follows them.
    """

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, delta: str) -> list[str]:
        """Adds streamed text; returns the sentences now complete."""
        self._buffer += delta
        sentences: list[str] = []
        while True:
            end = self._boundary()
            if end is None:
                return sentences
            sentence = self._buffer[:end].strip()
            self._buffer = self._buffer[end:]
            if sentence:
                sentences.append(sentence)

    def flush(self) -> str | None:
        """The rest of the text once the stream ended (None when only whitespace remains)."""
        rest = self._buffer.strip()
        self._buffer = ""
        return rest or None

    def _boundary(self) -> int | None:
        text = self._buffer
        index = 0
        while index < len(text):
            char = text[index]
            if char == "\n":
                rest = text[index:].lstrip()
                if not rest:
                    return None  # wait: a citation may still follow on the next line
                if rest.startswith("[") and text[:index].strip():
                    index += 1
                    continue
                return index + 1
            if char in ".!?":
                end = index + 1
                while end < len(text) and text[end] in "\"')":
                    end += 1
                while True:
                    probe = end
                    while probe < len(text) and text[probe] in " \t":
                        probe += 1
                    if probe < len(text) and text[probe] == "[":
                        close = _citation_end(text, probe)
                        if close is None:
                            return None  # an unfinished citation: wait for the rest
                        end = close
                        continue
                    break
                probe = end
                while probe < len(text) and text[probe].isspace():
                    probe += 1
                if probe == end:
                    if end >= len(text):
                        return None  # the stream may still continue this sentence or add a citation
                    index = end
                    continue  # "1.5", "e.g.x": not a boundary
                if probe >= len(text):
                    return None
                return end
            index += 1
        return None


def split_sentences(text: str) -> list[str]:
    """All sentences of a complete text (the non-streaming form of :class:`SentenceSplitter`)."""
    splitter = SentenceSplitter()
    sentences = splitter.feed(text)
    rest = splitter.flush()
    return [*sentences, rest] if rest else sentences
