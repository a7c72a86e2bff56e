"""Map-reduce planning for clause-by-clause LLM summaries.

The document is never put into one prompt. Map chunks are runs of whole
clauses kept together by their article or section, cut to a token budget (a
clause longer than the budget is split on sentence boundaries and keeps its
id); reduce steps combine at most ``fan_in`` inputs per level until one is
left. :func:`iter_map_chunks` is a generator holding one chunk at a time, so a
100,000-word document is planned in bounded memory; the LLM calls that
consume the plan belong to the service.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from server.compliance.domain import Clause, ClauseLevel, ParsedDocument, ReduceStep, SummaryChunk
from server.compliance.text import split_sentences


def estimate_tokens(text: str) -> int:
    """A conservative token estimate for English prose (about 4 characters per token)."""
    return max(1, (len(text) + 3) // 4)


def _group_key(clause: Clause, clauses: dict[str, Clause]) -> str:
    """The article or section a clause belongs to (itself when it is one, or has none)."""
    current = clause
    while current.level in (ClauseLevel.PARAGRAPH, ClauseLevel.ITEM) and current.parent_clause_id in clauses:
        current = clauses[current.parent_clause_id]
    return current.clause_id


def iter_map_chunks(document: ParsedDocument, token_budget: int = 1500) -> Iterator[SummaryChunk]:
    """Yield map chunks of whole clauses, each at most ``token_budget`` tokens.

    Args:
        document: The parsed document.
        token_budget: Largest chunk, in estimated tokens (at least 64).

    Yields:
        Chunks in document order, ids ``m1``, ``m2``...

    Raises:
        ValueError: ``token_budget`` below 64.
    """
    if token_budget < 64:
        raise ValueError("token_budget must be at least 64")
    by_id = {c.clause_id: c for c in document.clauses}
    ids: list[str] = []
    parts: list[str] = []
    tokens = 0
    group = ""
    number = 0

    def emit() -> SummaryChunk:
        nonlocal ids, parts, tokens, number
        number += 1
        chunk = SummaryChunk(f"m{number}", tuple(dict.fromkeys(ids)), "\n".join(parts), tokens)
        ids, parts, tokens = [], [], 0
        return chunk

    for clause, piece in _pieces(document.clauses, token_budget):
        cost = estimate_tokens(piece) + 4
        key = _group_key(clause, by_id)
        # Start a new chunk when the budget would overflow, or when a new article begins past half the budget.
        if parts and (tokens + cost > token_budget or (key != group and tokens > token_budget // 2)):
            yield emit()
        group = key
        ids.append(clause.clause_id)
        parts.append(f"[{clause.clause_id}] {piece}")
        tokens += cost
    if parts:
        yield emit()


def _pieces(clauses: Iterable[Clause], token_budget: int) -> Iterator[tuple[Clause, str]]:
    for clause in clauses:
        text = " ".join(part for part in (clause.heading, clause.text) if part)
        if not text:
            continue
        if estimate_tokens(text) + 4 <= token_budget:
            yield clause, text
            continue
        buffer = ""
        for start, end in split_sentences(text):
            sentence = text[start:end]
            while estimate_tokens(sentence) + 4 > token_budget:  # one giant sentence: cut it hard
                cut = (token_budget - 8) * 4
                yield clause, sentence[:cut]
                sentence = sentence[cut:]
            if buffer and estimate_tokens(buffer + " " + sentence) + 4 > token_budget:
                yield clause, buffer
                buffer = ""
            buffer = f"{buffer} {sentence}".strip()
        if buffer:
            yield clause, buffer


def plan_reduce(map_chunk_ids: list[str], fan_in: int = 8) -> list[ReduceStep]:
    """Reduce steps over the map outputs, ``fan_in`` inputs per step, level by level, ending in one.

    Args:
        map_chunk_ids: Ids of the map chunks in order.
        fan_in: Inputs per reduce step (at least 2).

    Returns:
        Steps in execution order; the last one is the overall summary. Empty for no chunks.

    Raises:
        ValueError: ``fan_in`` below 2.
    """
    if fan_in < 2:
        raise ValueError("fan_in must be at least 2")
    steps: list[ReduceStep] = []
    current = list(map_chunk_ids)
    level = 0
    while len(current) > 1 or (level == 0 and current):
        level += 1
        nxt: list[str] = []
        for index in range(0, len(current), fan_in):
            step = ReduceStep(f"r{level}.{index // fan_in + 1}", tuple(current[index : index + fan_in]), level)
            steps.append(step)
            nxt.append(step.step_id)
        current = nxt
    return steps
