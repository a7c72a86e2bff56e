"""The prompt of a generated answer: only retrieved chunks, delimited as data, with citable labels.

Uses the inference helper's versioned template ``grounded_answer`` (:mod:`inference.prompts`): the
system message holds the instructions only; the facts and the (masked, standalone) question go into
escaped ``<data>`` blocks, so text in an article or a question can neither close the block nor pose as
an instruction. Each fact gets a short label (``F1``) the model cites; the label maps back to the
retrieved chunk id. Nothing else reaches the model: no other conversation, no earlier turns, no
customer id.

Chunks whose text reads like instructions to a model (a planted "ignore previous instructions") are
left out of the prompt altogether (:func:`looks_like_injection`); they still count as retrieved for the
suggestions an agent sees.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from inference.prompts import PromptTemplate, load_prompt
from retrieval.index import SearchHit
from server.customer.answering.grounding import Fact

TEMPLATE_ID = "grounded_answer"

_INJECTION = re.compile(
    r"(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+|previous\s+|prior\s+|above\s+)*"
    r"(?:instructions|rules|prompts?|guidelines|directions)|system\s+prompt|developer\s+(?:message|mode)|"
    r"you\s+are\s+now\b|act\s+as\s+(?:an?\s+)?(?:unrestricted|different|new)|jailbreak|do\s+anything\s+now|"
    r"</?\s*data\b|<\|im_start\|>|<start_of_turn>|\bassistant\s*:|\bsystem\s*:|reveal\s+(?:your|the)\s+"
    r"(?:prompt|instructions)|print\s+(?:your|the)\s+(?:prompt|instructions)|new\s+instructions",
    re.I,
)


def looks_like_injection(text: str) -> bool:
    """Whether ``text`` addresses the model with instructions (a planted prompt injection)."""
    return bool(_INJECTION.search(text))


@dataclass(frozen=True)
class AnswerPrompt:
    """A rendered prompt with the facts it holds.

    Attributes:
        messages: Chat messages to send.
        facts: The labelled facts (the only sources the answer may cite).
        template: The template used (its ref and digest go into the audit record).
        excluded_chunks: Retrieved chunks left out as suspected injections.
    """

    messages: list[dict[str, str]]
    facts: tuple[Fact, ...]
    template: PromptTemplate
    excluded_chunks: tuple[str, ...]

    @property
    def system_prompt(self) -> str:
        """The instructions sent."""
        return self.template.system


def fact_text(hit: SearchHit) -> str:
    """How a chunk is shown to the model: title, heading path and text."""
    where = hit.title if not hit.heading else f"{hit.title} > {hit.heading}"
    return f"{where}\n{hit.content}"


def build_prompt(question: str, hits: Sequence[SearchHit], template: PromptTemplate | None = None) -> AnswerPrompt:
    """Renders the prompt for ``question`` (already masked) over ``hits``.

    Args:
        question: The standalone question, PII masked.
        hits: Retrieved chunks, best first.
        template: The template (the latest ``grounded_answer`` when None).
    """
    chosen = template or load_prompt(TEMPLATE_ID)
    facts: list[Fact] = []
    excluded: list[str] = []
    for hit in hits:
        if looks_like_injection(hit.content) or looks_like_injection(hit.title):
            excluded.append(hit.chunk_id)
            continue
        facts.append(Fact(f"F{len(facts) + 1}", hit.chunk_id, hit.document_id, hit.title, fact_text(hit), hit.score))
    rendered_facts = "\n\n".join(f"[{fact.label}] {fact.text}" for fact in facts)
    messages = chosen.render({"facts": rendered_facts, "question": question})
    return AnswerPrompt(messages, tuple(facts), chosen, tuple(excluded))
