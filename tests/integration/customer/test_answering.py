"""The answering engine end to end through the real inference pool and the scripted OpenAI server."""

from __future__ import annotations

import asyncio

import pytest

from server.customer.answering.engine import Citations, Delta, Final, Question
from server.customer.answering.ports import AnswerSource, EscalationReason, Speaker
from server.runtime.errors import NotFound
from tests.integration.customer.conftest import HarnessFactory, chunk_of

DELIVERY = chunk_of("card-delivery")
TRANSFER = chunk_of("transfer-fees")

GROUNDED = (
    f"Cards arrive within 3 to 5 working days in the UK [{DELIVERY}]. "
    f"Delivery abroad takes up to 10 working days [{DELIVERY}]."
)


def q(text: str, conversation_id: str = "", customer: str = "cust-1", request_id: str = "") -> Question:
    return Question(
        customer_id=customer,
        conversation_id=conversation_id,
        text=text,
        request_id=request_id,
        caller="customer:cust-1 via spiffe://fintech.local/envoy",
    )


async def test_grounded_generated_answer_is_served_as_is(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    h.fake.script({"kind": "ok", "content": GROUNDED})
    result = await h.engine.ask(q("How long does card delivery take?"))
    assert result.source is AnswerSource.GENERATED and not result.escalated
    assert result.answer == (
        "Cards arrive within 3 to 5 working days in the UK [1]. Delivery abroad takes up to 10 working days [1]."
    )
    assert [c.chunk_id for c in result.citations] == [DELIVERY]
    assert result.llm_available and result.validation_outcome == "PASSED"
    # The prompt held the chunks as data, and the question.
    request = h.fake.requests()[0]["body"]
    user = request["messages"][1]["content"]
    assert '<data name="facts">' in user and "Cards arrive within 3 to 5 working days" in user
    assert h.store.audit[-1].decision == "GENERATED"


@pytest.mark.parametrize(
    ("defect", "content"),
    [
        ("wrong number", GROUNDED.replace("10 working days", "12 working days")),
        ("a fee in no source", GROUNDED.replace("[", "for a fee of £7 [", 1)),
        ("citation not retrieved", GROUNDED.replace(DELIVERY, "0" * 32, 1)),
        ("uncited sentence", GROUNDED + " Our staff love helping you."),
        (
            "leaked instruction",
            GROUNDED.replace(
                "Delivery abroad",
                "Answer only from the facts provided. Every number, date and identifier in your "
                "answer must appear in the facts. Delivery abroad",
            ),
        ),
        ("echoed card number", GROUNDED.replace("in the UK", "to card 4111 1111 1111 1111 in the UK")),
    ],
)
async def test_the_same_answer_with_one_defect_is_blocked(harness: HarnessFactory, defect: str, content: str) -> None:
    h = harness()
    assert h.fake is not None
    h.fake.script({"kind": "ok", "content": content})
    result = await h.engine.ask(q("How long does card delivery take?"))
    assert result.source is AnswerSource.HANDOFF, defect
    assert result.escalated and result.reason is EscalationReason.UNGROUNDED_ANSWER
    assert result.answer == ""
    assert result.suggested_articles[0].document_id == "card-delivery"
    assert result.validation_outcome == "FAILED"
    assert h.store.escalations[result.escalation_id].reason is EscalationReason.UNGROUNDED_ANSWER


async def test_stream_releases_checked_sentences_and_never_the_unsupported_fee(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    content = (
        f"International transfers cost 0.5% of the amount [{TRANSFER}]. "
        f"There is also a handling fee of £4.99 on every transfer [{TRANSFER}]. "
        f"The fee is shown before you confirm the transfer [{TRANSFER}]."
    )
    h.fake.script({"kind": "ok", "content": content, "token_delay": 0.001})
    events = [e async for e in h.engine.stream_ask(q("What does an international transfer cost?"))]
    deltas = [e for e in events if isinstance(e, Delta)]
    assert [d.text for d in deltas] == ["International transfers cost 0.5% of the amount [1]."]
    shown = " ".join(d.text for d in deltas)
    assert "4.99" not in shown and "handling" not in shown
    assert isinstance(events[-2], Citations) and [c.chunk_id for c in events[-2].citations] == [TRANSFER]
    final = events[-1]
    assert isinstance(final, Final)
    assert final.result.source is AnswerSource.HANDOFF and final.result.escalated
    assert final.result.reason is EscalationReason.UNGROUNDED_ANSWER
    assert "4.99" not in final.result.answer
    assert final.result.suggested_articles[0].document_id == "transfer-fees"
    # The unchecked sentence is in the audit record (masked raw output), not in the conversation.
    stored = await h.store.recent_turns(final.result.conversation_id, 10)
    assert all("4.99" not in t.text for t in stored)
    assert "4.99" in h.store.audit[-1].llm_output


async def test_approved_answer_is_served_word_for_word_without_generation(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    events = [e async for e in h.engine.stream_ask(q("What are the ATM withdrawal fees?"))]
    article = await h.catalog.get("atm-fees")
    assert article is not None and article.approved_answer is not None
    assert isinstance(events[0], Delta) and events[0].text == article.approved_answer.text
    final = events[-1]
    assert isinstance(final, Final)
    assert final.result.source is AnswerSource.APPROVED and final.result.answer == article.approved_answer.text
    assert final.result.citations[0].document_id == "atm-fees" and not final.result.escalated
    assert h.fake.requests() == []  # no generation


async def test_expired_approved_answer_is_not_served(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    pin = chunk_of("pin-change")
    h.fake.script({"kind": "ok", "content": f"You can change your PIN at any ATM that offers PIN services [{pin}]."})
    result = await h.engine.ask(q("How do I change my PIN?"))
    assert result.source is AnswerSource.GENERATED
    assert "Expired text" not in result.answer


async def test_sensitive_intent_escalates_with_the_approved_instructions(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    result = await h.engine.ask(q("I lost my card yesterday"))
    assert result.escalated and result.reason is EscalationReason.SENSITIVE_INTENT
    assert result.source is AnswerSource.APPROVED and result.answer.startswith("Freeze your card")
    assert h.fake.requests() == []
    escalation = await h.store.get_escalation(result.escalation_id)
    assert escalation is not None and escalation.intent == "lost_or_stolen_card"


async def test_fraud_wording_escalates_whatever_the_intent(harness: HarnessFactory) -> None:
    h = harness()
    result = await h.engine.ask(q("There is a transfer I did not make, I think it is fraud"))
    assert result.reason is EscalationReason.SENSITIVE_INTENT and result.source is AnswerSource.HANDOFF


async def test_request_for_a_person(harness: HarnessFactory) -> None:
    h = harness()
    result = await h.engine.ask(q("Can I speak to a human about transfer fees please"))
    assert result.reason is EscalationReason.CUSTOMER_REQUESTED_HUMAN
    assert result.suggested_articles and result.suggested_articles[0].document_id == "transfer-fees"


async def test_low_intent_confidence_hands_off(harness: HarnessFactory) -> None:
    h = harness()
    result = await h.engine.ask(q("Tell me something about blue whales"))
    assert result.reason is EscalationReason.LOW_INTENT_CONFIDENCE and result.source is AnswerSource.HANDOFF


async def test_low_retrieval_confidence_hands_off(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    result = await h.engine.ask(q("Why was my transfer to Mars rejected by the galactic clearing house system?"))
    assert result.reason is EscalationReason.LOW_RETRIEVAL_CONFIDENCE
    assert h.fake.requests() == []


async def test_repeated_dissatisfaction_escalates(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    h.fake.set_default({"kind": "ok", "content": GROUNDED})
    first = await h.engine.ask(q("How long does card delivery take?"))
    second = await h.engine.ask(q("That's not helpful, how long does card delivery take?", first.conversation_id))
    assert not second.escalated
    third = await h.engine.ask(q("Still not helpful. When does my card arrive?", first.conversation_id))
    assert third.reason is EscalationReason.REPEATED_DISSATISFACTION


@pytest.mark.parametrize("llm", ["down", "none"])
async def test_llm_unavailable_still_gives_articles_and_says_so(harness: HarnessFactory, llm: str) -> None:
    h = harness(llm=llm)
    result = await h.engine.ask(q("How long does card delivery take?"))
    assert result.reason is EscalationReason.LLM_UNAVAILABLE and not result.llm_available
    assert result.source is AnswerSource.HANDOFF
    assert result.suggested_articles[0].document_id == "card-delivery"


async def test_llm_failing_with_500_is_unavailable(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    h.fake.set_default({"kind": "status", "status": 500})
    result = await h.engine.ask(q("How long does card delivery take?"))
    assert result.reason is EscalationReason.LLM_UNAVAILABLE and not result.llm_available


async def test_follow_up_is_rewritten_before_retrieval(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    h.fake.set_default({"kind": "ok", "content": GROUNDED})
    first = await h.engine.ask(q("How long does card delivery take?"))
    await h.engine.ask(q("And abroad?", first.conversation_id))
    turns = await h.store.recent_turns(first.conversation_id, 10)
    follow = [t for t in turns if t.speaker is Speaker.CUSTOMER][-1]
    assert follow.standalone_query == "How long does card delivery take? And abroad?"
    prompt = h.fake.requests()[-1]["body"]["messages"][1]["content"]
    assert "How long does card delivery take? And abroad?" in prompt


async def test_conversation_of_another_customer_is_not_found(harness: HarnessFactory) -> None:
    h = harness()
    first = await h.engine.ask(q("I lost my card", customer="cust-1"))
    with pytest.raises(NotFound):
        await h.engine.ask(q("And now?", first.conversation_id, customer="cust-2"))


async def test_pii_is_masked_before_llm_storage_and_audit(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    h.fake.script({"kind": "ok", "content": GROUNDED})
    question = (
        "How long does card delivery take to john@example.com, card 4111 1111 1111 1111, "
        "phone +44 7700 900123, IBAN GB82 WEST 1234 5698 7654 32?"
    )
    result = await h.engine.ask(q(question))
    secrets = ["john@example.com", "4111 1111 1111 1111", "7700 900123", "GB82 WEST"]
    sent = str(h.fake.requests())
    stored = str(h.store.turns) + str(h.store.audit)
    for secret in secrets:
        assert secret not in sent and secret not in stored and secret not in result.answer
    assert "[EMAIL]" in sent and "[CARD]" in sent and "[PHONE]" in sent and "[IBAN]" in sent


async def test_retry_with_the_same_request_id_returns_the_stored_result(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    h.fake.script({"kind": "ok", "content": GROUNDED})
    request_id = "7f1e4b6a-0d0c-4a53-9f11-5a0d3b8c2e01"
    first = await h.engine.ask(q("How long does card delivery take?", request_id=request_id))
    second = await h.engine.ask(q("How long does card delivery take?", request_id=request_id))
    assert second == first and len(h.fake.requests()) == 1


async def test_concurrent_attempts_with_one_request_id_answer_once(harness: HarnessFactory) -> None:
    h = harness()
    assert h.fake is not None
    h.fake.script({"kind": "ok", "content": GROUNDED})
    request_id = "5d2f0a7e-9b1c-4e8d-a6f3-1c0b9e7d2a44"
    attempts = await asyncio.gather(
        *(h.engine.ask(q("How long does card delivery take?", request_id=request_id)) for _ in range(3)))
    assert attempts[0] == attempts[1] == attempts[2]
    assert len(h.fake.requests()) == 1 and len(h.store.audit) == 1
    assert not h.engine._request_locks  # the per-request locks do not outlive their requests


async def test_reused_request_id_with_another_question_is_already_exists(harness: HarnessFactory) -> None:
    from server.runtime.errors import AlreadyExists

    h = harness()
    assert h.fake is not None
    h.fake.script({"kind": "ok", "content": GROUNDED})
    request_id = "0b7c9a52-3c1e-4f0e-8d5a-2f7b9e4c1a10"
    first = await h.engine.ask(q("How long does card delivery take?", request_id=request_id))
    turns_before = sum(len(t) for t in h.store.turns.values())
    with pytest.raises(AlreadyExists) as reused:
        await h.engine.ask(q("What does an international transfer cost?", request_id=request_id))
    assert reused.value.reason == "REQUEST_ID_REUSED"
    # The same id on another conversation is another request too, streamed or not.
    with pytest.raises(AlreadyExists):
        await h.engine.ask(q("How long does card delivery take?", first.conversation_id, request_id=request_id))
    with pytest.raises(AlreadyExists):
        async for _ in h.engine.stream_ask(q("What does an international transfer cost?", request_id=request_id)):
            pass
    # Nothing was answered, stored or audited for the refused requests; the original still replays.
    assert len(h.fake.requests()) == 1 and len(h.store.audit) == 1
    assert sum(len(t) for t in h.store.turns.values()) == turns_before
    events = [e async for e in h.engine.stream_ask(q("  How long does card delivery take? ", request_id=request_id))]
    assert isinstance(events[-1], Final) and events[-1].result == first


@pytest.mark.parametrize(
    ("min_confidence", "first"), [(0.5, "card-delivery"), (0.9, "transfer-fees"), (None, "transfer-fees")]
)
async def test_a_confident_intent_routes_its_articles_first(
    harness: HarnessFactory, min_confidence: float | None, first: str
) -> None:
    from server.customer.settings import CustomerSettings

    # The keyword index ranks transfer-fees first (two of three words); the intent (0.8) is card delivery.
    h = harness(llm="none", settings=CustomerSettings(intent_routing_min_confidence=min_confidence))
    result = await h.engine.ask(q("What are the transfer fees for a delivery?"))
    assert result.intent == "card_delivery_estimate"
    retrieved = h.store.audit[-1].inputs["retrieved"]
    assert retrieved[0] == chunk_of(first) and {DELIVERY, TRANSFER} <= set(retrieved)


async def test_knowledge_base_down_is_unavailable_not_papered_over(harness: HarnessFactory) -> None:
    from server.runtime.errors import Unavailable

    h = harness()
    h.index.available = False
    with pytest.raises(Unavailable) as raised:
        await h.engine.ask(q("How long does card delivery take?"))
    assert raised.value.reason == "KNOWLEDGE_BASE_UNAVAILABLE"
    assert h.store.turns == {} and h.store.audit == []
