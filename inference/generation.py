"""Validated generation: structured output checked by pydantic, and text streaming.

:func:`generate_structured` asks the pool for JSON constrained by the pydantic model's JSON schema
(``response_format`` ``json_schema``, enforced by vLLM's guided decoding and llama.cpp's grammar),
validates it with ``Model.model_validate_json`` (never ``json.loads`` of model text), retries once
with the validation errors in the prompt, then raises :class:`StructuredOutputInvalid` carrying every
raw output for the audit record.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pydantic

from inference.errors import StructuredOutputInvalid
from inference.pool import Completion, InferencePool, Priority, ServedBy, StreamEvent, Usage
from inference.prompts import PromptTemplate, load_prompt

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)

_MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True)
class StructuredResult(Generic[ModelT]):
    """A validated answer.

    Attributes:
        value: The validated model instance.
        raw_output: The text it was validated from (for the audit record).
        served_by: Who answered.
        usage: Tokens of the successful attempt.
        attempts: 1, or 2 when the repair prompt was needed.
        prompt_ref: ``id@version#digest`` of the caller's template, when given.
        repair_prompt_ref: The repair template's ref, when a repair was needed.
    """

    value: ModelT
    raw_output: str
    served_by: ServedBy
    usage: Usage
    attempts: int
    prompt_ref: str = ""
    repair_prompt_ref: str = ""


def response_format_for(schema: type[pydantic.BaseModel]) -> dict[str, Any]:
    """The OpenAI ``response_format`` constraining output to ``schema``'s JSON schema."""
    return {
        "type": "json_schema",
        "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": True},
    }


def summarise_validation_error(error: pydantic.ValidationError) -> str:
    """Locations and messages of a validation error, without the offending input values."""
    lines = []
    for item in error.errors(include_input=False, include_url=False)[:_MAX_REPORTED_ERRORS]:
        location = ".".join(str(part) for part in item["loc"]) or "(root)"
        lines.append(f"- {location}: {item['msg']}")
    return "\n".join(lines)


def _validate(schema: type[ModelT], completion: Completion) -> ModelT | str:
    """The validated value, or the error summary."""
    if completion.finish_reason == "length":
        # Truncated output might still parse by luck (a closing brace at the cut); never accept it.
        return "- (root): the answer was cut off at the token limit before it was complete"
    try:
        return schema.model_validate_json(completion.text)
    except pydantic.ValidationError as error:
        return summarise_validation_error(error)


async def generate_structured(
    pool: InferencePool,
    schema: type[ModelT],
    messages: Sequence[Mapping[str, Any]],
    *,
    prompt: PromptTemplate | None = None,
    group: str | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    time_remaining: float | None = None,
    deadline: float | None = None,
    priority: Priority = Priority.INTERACTIVE,
    caller: str = "",
    customer: str = "",
    conversation_id: str | None = None,
) -> StructuredResult[ModelT]:
    """Generate an instance of ``schema``, validated, with one repair attempt.

    Args:
        pool: The inference pool.
        schema: The pydantic model the answer must validate against.
        messages: Chat messages, typically ``prompt.render(data)``.
        prompt: The template the messages came from (its ref goes into the result and the error).
        group: Model group to ask first.
        max_tokens: Completion limit per attempt.
        temperature: Sampling temperature (the endpoint's default when None; greedy decoding makes small
            models pad JSON with whitespace until the token limit).
        time_remaining: Seconds the caller still has (covers both attempts).
        deadline: Absolute deadline on the pool's clock.
        priority: Interactive or batch.
        caller: Identity charged in the token budget.
        customer: End customer charged in the token budget.
        conversation_id: Affinity key.

    Returns:
        The validated value with its raw text and who served it.

    Raises:
        StructuredOutputInvalid: both attempts failed validation; carries the raw outputs.
        InferenceUnavailable, InferenceDeadlineExceeded, TokenBudgetExceeded, BatchQueueFull: from the pool.
    """
    response_format = response_format_for(schema)
    end = pool.deadline(time_remaining, deadline)
    conversation: list[Mapping[str, Any]] = list(messages)
    raw_outputs: list[str] = []
    errors: list[str] = []
    repair = load_prompt("structured_repair")
    served: ServedBy | None = None
    for attempt in (1, 2):
        completion = await pool.chat(
            conversation,
            group=group,
            max_tokens=max_tokens,
            temperature=temperature,
            response_format=response_format,
            deadline=end,
            priority=priority,
            caller=caller,
            customer=customer,
            conversation_id=conversation_id,
        )
        served = completion.served_by
        raw_outputs.append(completion.text)
        outcome = _validate(schema, completion)
        if not isinstance(outcome, str):
            return StructuredResult(
                value=outcome,
                raw_output=completion.text,
                served_by=completion.served_by,
                usage=completion.usage,
                attempts=attempt,
                prompt_ref=prompt.ref if prompt else "",
                repair_prompt_ref=repair.ref if attempt == 2 else "",
            )
        errors.append(outcome)
        if attempt == 1:
            system, user = repair.render({"validation_errors": outcome})
            conversation = [
                *conversation,
                {"role": "assistant", "content": completion.text},
                {"role": "user", "content": f"{system['content']}\n\n{user['content']}"},
            ]
    raise StructuredOutputInvalid(
        f"output of {served} failed {schema.__name__} validation twice",
        raw_outputs=tuple(raw_outputs),
        validation_errors=tuple(errors),
        served_by=str(served),
        prompt_id=prompt.ref if prompt else "",
        metadata={"schema": schema.__name__, "endpoint": served.endpoint_id if served else ""},
    )


async def stream_text(
    pool: InferencePool,
    messages: Sequence[Mapping[str, Any]],
    **options: Any,
) -> AsyncIterator[StreamEvent]:
    """Stream text deltas (CustomerService's answers); see :meth:`InferencePool.stream` for options.

    The text is not validated while it streams: callers run the grounding check on the whole text
    when the last event arrives and withdraw the answer if it fails.
    """
    async for event in pool.stream(messages, **options):
        yield event
