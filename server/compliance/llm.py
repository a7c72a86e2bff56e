"""The LLM's part in compliance: clause-by-clause summaries (map, then reduce) and advisory contract notes.

The LLM never decides. Every summary item cites clause ids, and each is checked before it is shown: the
cited ids must be among the clauses the model was given, and every number, date and percentage must be
in the cited clauses (:func:`inference.grounding.find_unsupported`). An item that fails is returned with
``FAILED`` and its unsupported spans, never as a valid summary, and never fed into a reduce step.

The map step walks the planner's lazy chunk iterator with at most ``concurrency`` calls in flight: a
chunk is only taken from the iterator when a slot is free, so a 100,000-word regulation never has more
than ``concurrency`` prompts in memory. Advisory notes on a contract must quote the section they cite
verbatim and are dropped (and counted) when they do not; those kept are findings marked ``advisory``.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pydantic

from inference.generation import StructuredResult, generate_structured
from inference.grounding import find_contact_details, find_unsupported, says_something_of
from inference.pool import Priority
from inference.prompts import PromptTemplate, parse_template
from server.compliance.domain import (
    ContractReviewResult,
    Finding,
    FindingType,
    ParsedDocument,
    ReduceStep,
    Severity,
    SummaryChunk,
)
from server.compliance.planning import estimate_tokens, iter_map_chunks, plan_reduce

PROMPT_DIR = Path(__file__).resolve().parent / "prompts"
MAX_ITEMS = 24


@cache
def compliance_prompt(template_id: str, version: int = 1) -> PromptTemplate:
    """A compliance prompt template (``server/compliance/prompts/<id>.v<version>.toml``)."""
    path = PROMPT_DIR / f"{template_id}.v{version}.toml"
    return parse_template(path.read_text(encoding="utf-8"), path.name)


class SummaryItemModel(pydantic.BaseModel):
    """One summary item the model returns."""

    model_config = pydantic.ConfigDict(extra="forbid")
    clause_ids: list[str] = pydantic.Field(min_length=1, max_length=40)
    summary: str = pydantic.Field(min_length=1, max_length=2000)


class SummaryAnswer(pydantic.BaseModel):
    """What a map or reduce step returns."""

    model_config = pydantic.ConfigDict(extra="forbid")
    items: list[SummaryItemModel] = pydantic.Field(min_length=1, max_length=MAX_ITEMS)


class AdviceNoteModel(pydantic.BaseModel):
    """One advisory note on a contract."""

    model_config = pydantic.ConfigDict(extra="forbid")
    clause_id: str = pydantic.Field(min_length=1, max_length=64)
    quote: str = pydantic.Field(min_length=1, max_length=600)
    note: str = pydantic.Field(min_length=1, max_length=600)


class AdviceAnswer(pydantic.BaseModel):
    """What the advice step returns."""

    model_config = pydantic.ConfigDict(extra="forbid")
    notes: list[AdviceNoteModel] = pydantic.Field(max_length=10)


class Outcome(enum.StrEnum):
    """Validation outcome of an LLM item (the audit trail's words)."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    NOT_APPLICABLE = "NOT_APPLICABLE"


@dataclass(frozen=True)
class Span:
    """An unsupported span of a summary, with why."""

    start: int
    end: int
    text: str
    reason: str


@dataclass(frozen=True)
class CheckedSummary:
    """A summary item after validation; ``FAILED`` items carry their unsupported spans."""

    clause_ids: tuple[str, ...]
    summary: str
    outcome: Outcome
    spans: tuple[Span, ...] = ()


@dataclass
class SummaryRun:
    """Everything the summarisation produced, for the response and the audit record."""

    map_items: list[CheckedSummary] = field(default_factory=list)
    overall: list[CheckedSummary] = field(default_factory=list)
    map_calls: int = 0
    reduce_calls: int = 0
    max_in_flight: int = 0
    served_by: str = ""
    model: str = ""
    endpoint: str = ""
    raw_outputs: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        """PASSED only when every item, map and overall, passed."""
        items = [*self.map_items, *self.overall]
        if not self.overall or any(i.outcome is not Outcome.PASSED for i in items):
            return Outcome.FAILED
        return Outcome.PASSED


def clause_texts(document: ParsedDocument) -> dict[str, str]:
    """Each clause's heading and text by id (what a summary of it may draw on)."""
    return {c.clause_id: " ".join(p for p in (c.heading, c.text) if p) for c in document.clauses}


def check_item(
    clause_ids: Sequence[str], summary: str, allowed: Iterable[str], texts: dict[str, str]
) -> CheckedSummary:
    """Validate one item: cited ids among ``allowed``, every number and date in the cited clauses.

    Args:
        clause_ids: The ids the item cites.
        summary: The item's text.
        allowed: The ids the model was given in this step.
        texts: Clause text by id.

    Returns:
        The item, ``PASSED`` or ``FAILED`` with the spans that are not supported.
    """
    allowed_ids = set(allowed)
    cited = tuple(dict.fromkeys(c.strip() for c in clause_ids if c.strip()))
    spans: list[Span] = []
    for clause_id in cited:
        if clause_id not in allowed_ids:
            spans.append(Span(0, 0, clause_id, "cites a clause that was not given to the model"))
    facts = [f"[{c}] {texts[c]}" for c in cited if c in texts and c in allowed_ids]
    if not facts:
        spans.append(Span(0, 0, "", "cites no clause that was given to the model"))
    for span in find_unsupported(summary, facts, citation_ids=cited):
        spans.append(Span(span.start, span.end, span.text, span.reason))
    for span in find_contact_details(summary):
        spans.append(Span(span.start, span.end, span.text, span.reason))
    if facts and not says_something_of(summary, facts):
        spans.append(Span(0, len(summary), summary, "says nothing the cited clauses say"))
    return CheckedSummary(cited, summary, Outcome.FAILED if spans else Outcome.PASSED, tuple(spans))


def _failed_step(clause_ids: Sequence[str], reason: str) -> CheckedSummary:
    return CheckedSummary(tuple(clause_ids), "", Outcome.FAILED, (Span(0, 0, "", reason),))


@dataclass(frozen=True)
class LlmCall:
    """How to reach the model: the pool and the call's limits."""

    pool: Any
    caller: str
    time_remaining: float | None = None
    group: str | None = None
    max_tokens: int | None = 1024
    temperature: float | None = 0.2


async def _ask(
    call: LlmCall, schema: type[pydantic.BaseModel], template: PromptTemplate, data: dict[str, str]
) -> StructuredResult[Any]:
    return await generate_structured(
        call.pool,
        schema,
        template.render(data),
        prompt=template,
        group=call.group,
        max_tokens=call.max_tokens,
        temperature=call.temperature,
        time_remaining=call.time_remaining,
        priority=Priority.BATCH,
        caller=call.caller,
    )


def _structured_failure(exc: BaseException) -> bool:
    return getattr(exc, "reason", "") == "LLM_OUTPUT_INVALID"


async def summarise(
    document: ParsedDocument,
    call: LlmCall,
    *,
    token_budget: int,
    fan_in: int,
    concurrency: int,
    chunks: Iterator[SummaryChunk] | None = None,
) -> SummaryRun:
    """Summarise a regulation clause by clause: map over chunks (bounded concurrency), then reduce.

    Args:
        document: The parsed regulation.
        call: The pool and limits.
        token_budget: Largest map chunk in estimated tokens.
        fan_in: Inputs per reduce step.
        concurrency: LLM calls in flight at most.
        chunks: The map chunks (default: the planner's lazy iterator over ``document``).

    Returns:
        Checked map items and the overall (final reduce) items.

    Raises:
        Inference errors other than invalid structured output (a model that is down is reported).
    """
    texts = clause_texts(document)
    map_template = compliance_prompt("compliance_clause_summary")
    reduce_template = compliance_prompt("compliance_summary_reduce")
    run = SummaryRun()
    slots = asyncio.Semaphore(concurrency)
    in_flight = 0

    def note_served(result: StructuredResult[Any]) -> None:
        if not run.served_by:
            run.served_by = str(result.served_by)
            run.model = f"{result.served_by.group}/{result.served_by.model}"
            run.endpoint = result.served_by.endpoint_id
        run.raw_outputs.append(result.raw_output)

    async def guarded(step: Any) -> list[CheckedSummary]:
        nonlocal in_flight
        in_flight += 1
        run.max_in_flight = max(run.max_in_flight, in_flight)
        try:
            return list(await step)
        finally:
            in_flight -= 1
            slots.release()

    async def map_step(chunk: SummaryChunk) -> list[CheckedSummary]:
        run.map_calls += 1
        try:
            result = await _ask(call, SummaryAnswer, map_template, {"clauses": chunk.text})
        except Exception as exc:
            if _structured_failure(exc):
                return [_failed_step(chunk.clause_ids, "model output failed schema validation twice")]
            raise
        note_served(result)
        answer: SummaryAnswer = result.value
        return [check_item(i.clause_ids, i.summary, chunk.clause_ids, texts) for i in answer.items]

    async def reduce_step(step: ReduceStep, inputs: list[CheckedSummary]) -> list[CheckedSummary]:
        valid = [i for i in inputs if i.outcome is Outcome.PASSED]
        if not valid:
            ids = sorted({c for i in inputs for c in i.clause_ids})
            return [_failed_step(ids, "no grounded summary to combine")]
        run.reduce_calls += 1
        listing = "\n".join(f"[{', '.join(i.clause_ids)}] {i.summary}" for i in valid)
        allowed = {c for i in valid for c in i.clause_ids}
        try:
            result = await _ask(call, SummaryAnswer, reduce_template, {"summaries": listing})
        except Exception as exc:
            if _structured_failure(exc):
                return [_failed_step(sorted(allowed), "model output failed schema validation twice")]
            raise
        note_served(result)
        answer: SummaryAnswer = result.value
        return [check_item(i.clause_ids, i.summary, allowed, texts) for i in answer.items]

    # Map: pull a chunk only when a slot is free (bounded memory on long documents).
    outputs: dict[str, asyncio.Task[list[CheckedSummary]]] = {}
    order: list[str] = []
    try:
        for chunk in chunks if chunks is not None else iter_map_chunks(document, token_budget):
            await slots.acquire()
            order.append(chunk.chunk_id)
            outputs[chunk.chunk_id] = asyncio.create_task(guarded(map_step(chunk)))
        results: dict[str, list[CheckedSummary]] = {}
        for chunk_id in order:
            results[chunk_id] = await outputs[chunk_id]
            run.map_items.extend(results[chunk_id])
        # Reduce, level by level; steps of one level run concurrently under the same bound.
        steps = plan_reduce(order, fan_in)
        for level in sorted({s.level for s in steps}):
            level_tasks: dict[str, asyncio.Task[list[CheckedSummary]]] = {}
            for step in (s for s in steps if s.level == level):
                inputs = [item for name in step.inputs for item in results[name]]
                await slots.acquire()
                level_tasks[step.step_id] = asyncio.create_task(guarded(reduce_step(step, inputs)))
            for step_id, task in level_tasks.items():
                results[step_id] = await task
        if steps:
            run.overall = results[steps[-1].step_id]
    except BaseException:
        for task in outputs.values():
            task.cancel()
        raise
    return run


def overall_text(items: Sequence[CheckedSummary]) -> tuple[str, list[tuple[str, ...]], list[Span]]:
    """The overall items joined into one text (one line each), the cited ids, and spans shifted into it."""
    lines: list[str] = []
    spans: list[Span] = []
    offset = 0
    for item in items:
        for span in item.spans:
            spans.append(Span(span.start + offset, span.end + offset, span.text, span.reason))
        lines.append(item.summary)
        offset += len(item.summary) + 1
    return "\n".join(lines), [i.clause_ids for i in items], spans


@dataclass
class AdviceRun:
    """Advisory findings that passed validation, and what was dropped."""

    findings: list[Finding] = field(default_factory=list)
    dropped: int = 0
    served_by: str = ""
    model: str = ""
    endpoint: str = ""
    raw_output: str = ""

    @property
    def outcome(self) -> Outcome:
        """FAILED when any note was dropped."""
        return Outcome.FAILED if self.dropped else Outcome.PASSED


async def advise(review: ContractReviewResult, call: LlmCall, *, token_budget: int) -> AdviceRun:
    """Ask the model for advisory notes on a reviewed contract; keep only notes grounded in the contract.

    A note is kept when its clause id exists, its quote occurs verbatim in that clause, and every number
    and date in the note is in that clause. Kept notes become ``ADVISORY`` findings (``advisory=True``,
    severity LOW) with the quote's offsets. The contract text sent is capped at ``token_budget`` tokens
    (the sections in order); a longer contract is advised on its first sections only.

    Raises:
        Inference errors other than invalid structured output.
    """
    document = review.document
    by_id = {c.clause_id: c for c in document.clauses}
    texts = clause_texts(document)
    lines: list[str] = []
    tokens = 0
    for clause in document.clauses:
        line = f"[{clause.clause_id}] {texts[clause.clause_id]}"
        tokens += estimate_tokens(line)
        if tokens > token_budget:
            break
        lines.append(line)
    decided = "\n".join(f"- {f.check_id} ({f.finding_type.value}) {f.clause_id}" for f in review.findings) or "none"
    run = AdviceRun()
    template = compliance_prompt("compliance_contract_advice")
    try:
        result = await _ask(call, AdviceAnswer, template, {"sections": "\n".join(lines), "findings": decided})
    except Exception as exc:
        if _structured_failure(exc):
            run.dropped = 1
            return run
        raise
    run.served_by = str(result.served_by)
    run.model = f"{result.served_by.group}/{result.served_by.model}"
    run.endpoint = result.served_by.endpoint_id
    run.raw_output = result.raw_output
    answer: AdviceAnswer = result.value
    for index, note in enumerate(answer.notes, start=1):
        found = by_id.get(note.clause_id)
        if found is None:
            run.dropped += 1
            continue
        clause = found
        position = document.text.find(note.quote, clause.start, max(clause.end, clause.start + len(clause.text)))
        facts = [f"[{clause.clause_id}] {texts[clause.clause_id]}"]
        if position < 0 or find_unsupported(note.note, facts, citation_ids=[clause.clause_id]):
            run.dropped += 1
            continue
        run.findings.append(
            Finding(
                finding_id=f"llm.advisory#{index}",
                check_id="llm.advisory",
                finding_type=FindingType.ADVISORY,
                severity=Severity.LOW,
                clause_id=clause.clause_id,
                evidence=note.quote,
                suggested_fix=note.note,
                start=position,
                end=position + len(note.quote),
                advisory=True,
            )
        )
    return run
