"""The LLM explanation of a decision, checked; the template explanation when no LLM text passes.

Owns :func:`explain`: the model is given the computed facts only (``explanation.facts_payload``) through
the ``explain_decision`` prompt template and ``generate_structured``; every answer is checked with
``explanation.check_explanation``. An answer that fails is retried once, told which spans were
unsupported; after ``attempts`` failures, or when no LLM is configured or it is unavailable, the
deterministic template explanation is returned with ``source = TEMPLATE`` and the reason. An
unchecked LLM text is never returned. Knows nothing about gRPC.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import pydantic

from server.risk.domain import LoanAssessment, UnsupportedSpan
from server.risk.explanation import check_explanation, explanation_facts, facts_payload, template_explanation

log = logging.getLogger(__name__)

PROMPT_ID = "explain_decision"
AUDIENCE = (
    "A loan officer and the applicant. Three to five plain sentences: the recommendation, the main reasons "
    "from the list given (by their descriptions), and the key repayment figures exactly as given. Name no other "
    "factor, state no other number, and do not change the recommendation or the risk level."
)


class LoanExplanation(pydantic.BaseModel):
    """What the LLM must return."""

    model_config = pydantic.ConfigDict(extra="forbid")

    explanation: str = pydantic.Field(min_length=20, max_length=1500)


@dataclass(frozen=True)
class ExplanationOutcome:
    """An explanation and how it came about (for the response and the audit record).

    Attributes:
        text: The explanation returned (LLM text that passed, or the template).
        source: ``LLM`` or ``TEMPLATE``.
        validation: ``PASSED`` (LLM text passed), ``FAILED`` (LLM answers were rejected),
            ``NOT_APPLICABLE`` (no LLM answer to check: none configured or it was unavailable).
        reason: Why the template was used (empty when the LLM text was used).
        prompt_ref: ``id@version#digest12`` of the template, when the LLM was asked.
        prompt_digest: Full digest of the template, when the LLM was asked.
        prompt_version: Template version, when the LLM was asked.
        raw_outputs: Every raw LLM output received, in order (for the audit record).
        unsupported: The unsupported spans of each rejected answer.
        llm_model: ``group/model`` that answered last, when one did.
        llm_endpoint: The endpoint that answered last, when one did.
    """

    text: str
    source: str
    validation: str
    reason: str = ""
    prompt_ref: str = ""
    prompt_digest: str = ""
    prompt_version: str = ""
    raw_outputs: tuple[str, ...] = ()
    unsupported: tuple[tuple[UnsupportedSpan, ...], ...] = ()
    llm_model: str = ""
    llm_endpoint: str = ""


def _template(assessment: LoanAssessment, validation: str, reason: str, **extra: Any) -> ExplanationOutcome:
    return ExplanationOutcome(
        text=template_explanation(assessment), source="TEMPLATE", validation=validation, reason=reason, **extra
    )


async def explain(
    assessment: LoanAssessment,
    pool: Any | None,
    *,
    attempts: int = 2,
    caller: str = "",
    time_remaining: float | None = None,
    batch: bool = False,
) -> ExplanationOutcome:
    """A checked explanation of ``assessment``.

    Args:
        assessment: The engine's decision.
        pool: The inference pool, or None when no LLM is configured.
        attempts: LLM answers to try before the template is used.
        caller: Identity charged in the token budget.
        time_remaining: Seconds the RPC still has.
        batch: Batch priority (streamed batches) instead of interactive.

    Returns:
        The outcome; never an LLM text that failed the check.
    """
    if pool is None:
        return _template(assessment, "NOT_APPLICABLE", "no LLM is configured in this process")
    from inference.errors import InferenceError, StructuredOutputInvalid
    from inference.generation import generate_structured
    from inference.pool import Priority
    from inference.prompts import load_prompt

    prompt = load_prompt(PROMPT_ID)
    payload = facts_payload(assessment)
    reasons = {"key_risk_points": payload.pop("key_risk_points"), "policy_rules": payload.pop("policy_rules")}
    messages: list[dict[str, str]] = prompt.render(
        {
            "decision": json.dumps(payload, indent=1),
            "reasons": json.dumps(reasons, indent=1),
            "audience": AUDIENCE,
        }
    )
    facts = explanation_facts(assessment)
    raw: list[str] = []
    rejected: list[tuple[UnsupportedSpan, ...]] = []
    model = endpoint = ""
    known = {
        "prompt_ref": prompt.ref,
        "prompt_digest": prompt.digest,
        "prompt_version": str(prompt.version),
    }
    for _attempt in range(attempts):
        try:
            result = await generate_structured(
                pool,
                LoanExplanation,
                messages,
                prompt=prompt,
                time_remaining=time_remaining,
                caller=caller,
                priority=Priority.BATCH if batch else Priority.INTERACTIVE,
                max_tokens=400,
            )
        except StructuredOutputInvalid as error:
            raw.extend(error.raw_outputs)
            rejected.append(())
            continue
        except InferenceError as error:
            log.warning("risk explanation: LLM unavailable (%s); template used", error.reason)
            return _template(
                assessment,
                "FAILED" if raw else "NOT_APPLICABLE",
                f"the LLM was unavailable ({error.reason})",
                raw_outputs=tuple(raw),
                unsupported=tuple(rejected),
                **known,
            )
        raw.append(result.raw_output)
        model = f"{result.served_by.group}/{result.served_by.model}"
        endpoint = result.served_by.endpoint_id
        text = result.value.explanation.strip()
        spans = check_explanation(text, facts)
        if not spans:
            return ExplanationOutcome(
                text=text,
                source="LLM",
                validation="PASSED",
                raw_outputs=tuple(raw),
                unsupported=tuple(rejected),
                llm_model=model,
                llm_endpoint=endpoint,
                **known,
            )
        rejected.append(tuple(spans))
        # Say what was wrong (the model's own words, no new data) and ask once more.
        problems = "\n".join(f"- {span.text!r}: {span.reason}" for span in spans[:10])
        messages = [
            *messages,
            {"role": "assistant", "content": result.raw_output},
            {
                "role": "user",
                "content": "These statements are not supported by the facts given; write the explanation again "
                f"using only the facts given:\n{problems}",
            },
        ]
    log.info("risk explanation: %d LLM answers failed the check; template used", len(raw))
    return _template(
        assessment,
        "FAILED",
        f"the LLM explanation failed validation {len(rejected)} times",
        raw_outputs=tuple(raw),
        unsupported=tuple(rejected),
        llm_model=model,
        llm_endpoint=endpoint,
        **known,
    )
