"""Validated generation through the pool against the scripted server: served as is, repaired once, or refused."""

from __future__ import annotations

import json

import pydantic
import pytest

from inference.errors import StructuredOutputInvalid
from inference.generation import generate_structured, stream_text
from inference.grounding import find_unsupported
from inference.prompts import load_prompt
from tests.fakes.openai_server import FakeOpenAIServer
from tests.integration.inference.conftest import PoolFactory


class RiskExplanation(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    summary: str
    cited_facts: list[str]
    debt_to_income_percent: float = pydantic.Field(ge=0, le=100)


GOOD = {"summary": "Debt to income is 42.5% [F1].", "cited_facts": ["F1"], "debt_to_income_percent": 42.5}
FACTS = ["F1: debt-to-income ratio 42.5%"]


def prompt_messages() -> list[dict[str, str]]:
    return load_prompt("grounded_answer").render({"facts": "\n".join(FACTS), "question": "Why?"})


async def test_valid_structured_output_is_served_as_is(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    a = fakes[0]
    a.script({"kind": "ok", "content": json.dumps(GOOD)})
    pool = make_pool([("primary", [a.base_url])])
    template = load_prompt("grounded_answer")
    result = await generate_structured(pool, RiskExplanation, prompt_messages(), prompt=template)
    assert result.value == RiskExplanation.model_validate(GOOD)
    assert result.attempts == 1 and result.prompt_ref == template.ref and result.repair_prompt_ref == ""
    assert find_unsupported(result.value.summary, FACTS, citation_ids=["F1"]) == []
    request = a.requests()[0]["body"]
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"] == RiskExplanation.model_json_schema()


async def test_invalid_output_is_retried_once_with_the_errors(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a = fakes[0]
    bad = {**GOOD, "debt_to_income_percent": 420}
    a.script({"kind": "ok", "content": json.dumps(bad)}, {"kind": "ok", "content": json.dumps(GOOD)})
    pool = make_pool([("primary", [a.base_url])])
    result = await generate_structured(pool, RiskExplanation, prompt_messages())
    assert result.attempts == 2 and result.value.debt_to_income_percent == 42.5
    assert result.repair_prompt_ref.startswith("structured_repair@1#")
    second = a.requests()[1]["body"]["messages"]
    assert second[-2] == {"role": "assistant", "content": json.dumps(bad)}
    assert "debt_to_income_percent" in second[-1]["content"] and "less than or equal to 100" in second[-1]["content"]
    assert "420" not in second[-1]["content"]  # errors are described without echoing input values


async def test_twice_invalid_output_raises_with_the_raw_outputs(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a = fakes[0]
    a.script(
        {"kind": "ok", "content": "Sure! Here is the JSON you asked for"}, {"kind": "ok", "content": '{"summary": "x"}'}
    )
    pool = make_pool([("primary", [a.base_url])])
    with pytest.raises(StructuredOutputInvalid) as caught:
        await generate_structured(pool, RiskExplanation, prompt_messages(), prompt=load_prompt("grounded_answer"))
    error = caught.value
    assert error.raw_outputs == ("Sure! Here is the JSON you asked for", '{"summary": "x"}')
    assert len(error.validation_errors) == 2 and "cited_facts" in error.validation_errors[1]
    assert error.status_code == "UNAVAILABLE" and error.reason == "LLM_OUTPUT_INVALID"
    assert error.prompt_id.startswith("grounded_answer@1#") and "primary" in error.served_by


async def test_truncated_output_is_never_accepted(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    a = fakes[0]
    a.script(default={"kind": "ok", "content": json.dumps(GOOD), "finish_reason": "length"})
    pool = make_pool([("primary", [a.base_url])])
    with pytest.raises(StructuredOutputInvalid) as caught:
        await generate_structured(pool, RiskExplanation, prompt_messages())
    assert "cut off" in caught.value.validation_errors[0]


async def test_grounding_blocks_a_defective_answer_and_passes_the_correct_one(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory
) -> None:
    a = fakes[0]
    wrong_number = {**GOOD, "summary": "Debt to income is 45.2% [F1]."}
    a.script({"kind": "ok", "content": json.dumps(GOOD)}, {"kind": "ok", "content": json.dumps(wrong_number)})
    pool = make_pool([("primary", [a.base_url])])
    good = await generate_structured(pool, RiskExplanation, prompt_messages())
    defective = await generate_structured(pool, RiskExplanation, prompt_messages())
    assert find_unsupported(good.value.summary, FACTS, citation_ids=["F1"]) == []
    spans = find_unsupported(defective.value.summary, FACTS, citation_ids=["F1"])
    assert [(s.text, s.reason) for s in spans] == [("45.2%", "percentage not in the facts")]


async def test_stream_text_delivers_deltas(fakes: list[FakeOpenAIServer], make_pool: PoolFactory) -> None:
    a = fakes[0]
    a.script({"kind": "ok", "chunks": ["Your ", "transfer ", "is ", "settled."], "content": "unused"})
    pool = make_pool([("primary", [a.base_url])])
    events = [e async for e in stream_text(pool, [{"role": "user", "content": "status?"}])]
    assert [e.delta for e in events[:-1]] == ["Your ", "transfer ", "is ", "settled."]
    assert events[-1].finish_reason == "stop" and events[-1].served_by.group == "primary"
