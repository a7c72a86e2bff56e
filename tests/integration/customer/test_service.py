"""CustomerService over a real grpc.aio server with mTLS: identity, streaming, escalations, feedback, documents."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from fintech.customer.v1 import customer_service_pb2 as pb
from fintech.customer.v1 import customer_service_pb2_grpc as pb_grpc
from google.protobuf.timestamp_pb2 import Timestamp
from prometheus_client import CollectorRegistry

from inference.pool import InferencePool
from server.customer.answering.memory import MemoryArticleCatalog, MemoryConversationStore
from server.customer.answering.sql_store import SqlArticleCatalog
from server.customer.service import build
from server.runtime.context import AppContext
from server.runtime.pki import DevPki
from server.storage.page_tokens import PageTokenCodec
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fixtures.runtime import aio_channel, running_server, settings_for
from tests.integration.customer.conftest import ARTICLES, RULES, chunk_of
from tests.integration.customer.conftest import settings_for as pool_settings
from tests.integration.customer.fakes import KeywordIndex, KeywordIntents
from tests.integration.storage.stack import make_stack

TRANSFER = chunk_of("transfer-fees")
ENVOY_MD = (("x-forwarded-client-cert", "URI=spiffe://fintech.local/mobile-backend"),)


def _as(customer: str) -> tuple[tuple[str, str], ...]:
    return (*ENVOY_MD, ("x-fintech-customer-id", customer))


class Running:
    def __init__(self, port: int, pki: DevPki, store: Any) -> None:
        self.port = port
        self.pki = pki
        self.store = store

    def stub(self, role: str) -> tuple[grpc.aio.Channel, pb_grpc.CustomerServiceStub]:
        channel = aio_channel(self.pki, role, self.port)
        return channel, pb_grpc.CustomerServiceStub(channel)


@pytest.fixture(params=["memory", "sql"])
async def service(
    request: pytest.FixtureRequest, pki: DevPki, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> AsyncIterator[Running]:
    """The service over the in-memory seams, and over the real SQL storage wired by ``build`` itself."""
    settings = settings_for(pki, tmp_path, server={"services": ["operations"]})
    pool = InferencePool(pool_settings(fake_openai.base_url), registry=CollectorRegistry())
    resources: dict[str, Any] = {
        "knowledge_index": KeywordIndex(ARTICLES),
        "customer_intents": KeywordIntents(RULES),
        "page_tokens": PageTokenCodec(os.urandom(32)),
        "inference": pool,
        "metrics_registry": CollectorRegistry(),
    }
    stack = None
    if request.param == "memory":
        resources |= {"customer_catalog": MemoryArticleCatalog(ARTICLES), "customer_store": MemoryConversationStore()}
    else:
        stack = await make_stack("sqlite", tmp_path / "state", None)
        catalog = SqlArticleCatalog(stack.db)
        for article in ARTICLES:
            await catalog.put(article)
        from server.storage.idempotency import Idempotency

        resources |= {
            "database": stack.db,
            "keyring": stack.keyring,
            "audit": stack.audit,
            "customer_catalog": catalog,
            "idempotency": Idempotency(stack.db, sealer=stack.keyring),
        }
    ctx = AppContext(settings=settings, resources=resources)
    binding = await build(ctx)
    try:
        async with running_server(settings, extra_bindings=[binding]) as running:
            yield Running(running.port, pki, ctx.resources["customer_store"])
    finally:
        await pool.close()
        if stack is not None:
            await stack.db.close()


def _rid() -> str:
    return str(uuid.uuid4())


async def test_ask_as_forwarded_customer_and_ownership(service: Running, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.set_default({"kind": "ok", "content": f"International transfers cost 0.5% of the amount [{TRANSFER}]."})
    channel, stub = service.stub("envoy")
    async with channel:
        first = await stub.Ask(
            pb.AskRequest(
                request_id=_rid(), customer_id="cust-a", question="What does an international transfer cost?"
            ),
            metadata=_as("cust-a"),
            timeout=10,
        )
        assert first.answer_source == pb.ANSWER_SOURCE_GENERATED
        assert first.answer == "International transfers cost 0.5% of the amount [1]."
        assert first.citations[0].chunk_id == TRANSFER and first.llm_available
        assert first.provenance.prompt_template_id == "grounded_answer"
        with pytest.raises(grpc.aio.AioRpcError) as mismatch:
            await stub.Ask(
                pb.AskRequest(request_id=_rid(), customer_id="cust-b", question="hi"),
                metadata=_as("cust-a"),
                timeout=10,
            )
        assert mismatch.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as foreign:
            await stub.Ask(
                pb.AskRequest(
                    request_id=_rid(),
                    customer_id="cust-b",
                    conversation_id=first.conversation_id,
                    question="and within the UK?",
                ),
                metadata=_as("cust-b"),
                timeout=10,
            )
        assert foreign.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as feedback:
            await stub.SubmitFeedback(
                pb.SubmitFeedbackRequest(
                    request_id=_rid(),
                    customer_id="cust-b",
                    conversation_id=first.conversation_id,
                    turn_id=first.turn_id,
                    rating=pb.FEEDBACK_RATING_HELPFUL,
                ),
                metadata=_as("cust-b"),
                timeout=10,
            )
        assert feedback.value.code() == grpc.StatusCode.NOT_FOUND
        ok = await stub.SubmitFeedback(
            pb.SubmitFeedbackRequest(
                request_id=_rid(),
                customer_id="cust-a",
                conversation_id=first.conversation_id,
                turn_id=first.turn_id,
                rating=pb.FEEDBACK_RATING_NOT_HELPFUL,
                comment="mail me at a@b.co",
            ),
            metadata=_as("cust-a"),
            timeout=10,
        )
        assert ok.feedback_id and await service.store.count_not_helpful(first.conversation_id) == 1
        if isinstance(service.store, MemoryConversationStore):
            assert service.store.feedback[-1].comment == "mail me at [EMAIL]"


async def test_stream_ask_never_shows_the_unsupported_fee(service: Running, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(
        {
            "kind": "ok",
            "content": (
                f"International transfers cost 0.5% of the amount [{TRANSFER}]. "
                f"A handling fee of £4.99 applies too [{TRANSFER}]. The fee is shown before you confirm [{TRANSFER}]."
            ),
        }
    )
    channel, stub = service.stub("envoy")
    async with channel:
        events = [
            e
            async for e in stub.StreamAsk(
                pb.StreamAskRequest(
                    request_id=_rid(), customer_id="cust-s", question="What does an international transfer cost?"
                ),
                metadata=_as("cust-s"),
                timeout=10,
            )
        ]
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds == ["delta", "citations", "final_result"]
    assert events[0].delta.text == "International transfers cost 0.5% of the amount [1]."
    assert all("4.99" not in str(e) for e in events)
    final = events[-1].final_result
    assert final.escalated and final.escalation_reason == pb.ESCALATION_REASON_UNGROUNDED_ANSWER
    assert final.answer_source == pb.ANSWER_SOURCE_HANDOFF and final.suggested_articles


async def test_escalation_queue_for_agents(service: Running) -> None:
    channel, stub = service.stub("envoy")
    async with channel:
        for text in ("I lost my card", "My card was stolen", "Let me talk to a person about transfers"):
            response = await stub.Ask(
                pb.AskRequest(request_id=_rid(), customer_id="cust-e", question=text),
                metadata=_as("cust-e"),
                timeout=10,
            )
            assert response.escalated and response.escalation_id
    channel, agent = service.stub("agent")
    async with channel:
        page = await agent.ListEscalations(pb.ListEscalationsRequest(page_size=2), timeout=10)
        assert len(page.escalations) == 2 and page.next_page_token
        rest = await agent.ListEscalations(
            pb.ListEscalationsRequest(page_size=2, page_token=page.next_page_token), timeout=10
        )
        assert len(rest.escalations) == 1 and not rest.next_page_token
        ids = {e.escalation_id for e in [*page.escalations, *rest.escalations]}
        assert len(ids) == 3
        only = await agent.ListEscalations(
            pb.ListEscalationsRequest(reason=pb.ESCALATION_REASON_CUSTOMER_REQUESTED_HUMAN), timeout=10
        )
        assert [e.reason for e in only.escalations] == [pb.ESCALATION_REASON_CUSTOMER_REQUESTED_HUMAN]
        one = await agent.GetEscalation(
            pb.GetEscalationRequest(escalation_id=only.escalations[0].escalation_id), timeout=10
        )
        assert [t.speaker for t in one.escalation.turns] == [pb.SPEAKER_CUSTOMER, pb.SPEAKER_ASSISTANT]
        assert one.escalation.retrieved_articles
        if isinstance(service.store, MemoryConversationStore):  # the SQL store's audit record: test_contracts
            assert service.store.accesses[-1] == (one.escalation.escalation_id, "spiffe://fintech.local/agent")
        resolved = await agent.ResolveEscalation(
            pb.ResolveEscalationRequest(
                request_id=_rid(), escalation_id=one.escalation.escalation_id, resolution_note="Called back"
            ),
            timeout=10,
        )
        assert resolved.escalation.status == pb.ESCALATION_STATUS_RESOLVED and resolved.escalation.resolved_by
        with pytest.raises(grpc.aio.AioRpcError) as again:
            await agent.ResolveEscalation(
                pb.ResolveEscalationRequest(
                    request_id=_rid(), escalation_id=one.escalation.escalation_id, resolution_note="x"
                ),
                timeout=10,
            )
        assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await agent.GetEscalation(pb.GetEscalationRequest(escalation_id="nope"), timeout=10)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_documents_are_managed_by_agents(service: Running) -> None:
    expires = Timestamp()
    expires.FromJsonString("2027-06-30T00:00:00Z")
    document = pb.Document(
        document_id="savings-interest",
        title="Savings interest",
        locale="en-GB",
        intents=["receiving_money"],
        body_markdown="# Savings interest\n\nVaults pay 3.1% a year.",
        approved_answer=pb.ApprovedAnswer(
            text="Vaults pay 3.1% a year.", owner="savings", version="1", expire_time=expires
        ),
    )
    channel, agent = service.stub("agent")
    async with channel:
        created = await agent.UpsertDocument(pb.UpsertDocumentRequest(request_id=_rid(), document=document), timeout=10)
        assert created.changed and created.chunks_added == 1
        same = await agent.UpsertDocument(pb.UpsertDocumentRequest(request_id=_rid(), document=document), timeout=10)
        assert not same.changed and same.chunks_added == 0
        listed = await agent.ListDocuments(pb.ListDocumentsRequest(intent="receiving_money"), timeout=10)
        assert [d.document_id for d in listed.documents] == ["savings-interest"]
        assert listed.documents[0].body_markdown == ""
        hits = await agent.SearchKnowledge(pb.SearchKnowledgeRequest(query="savings vault interest"), timeout=10)
        assert hits.hits[0].document_id == "savings-interest"
        bad = pb.Document(
            document_id="x-doc",
            title="t",
            locale="en-GB",
            intents=["card_arrival"],
            body_markdown="body",
            approved_answer=pb.ApprovedAnswer(text="t", owner="o", version="one", expire_time=expires),
        )
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await agent.UpsertDocument(pb.UpsertDocumentRequest(request_id=_rid(), document=bad), timeout=10)
        assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "document.approved_answer.version" in str(invalid.value.trailing_metadata())
        deleted = await agent.DeleteDocument(
            pb.DeleteDocumentRequest(request_id=_rid(), document_id="savings-interest"), timeout=10
        )
        assert deleted.chunks_removed == 1
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await agent.DeleteDocument(
                pb.DeleteDocumentRequest(request_id=_rid(), document_id="savings-interest"), timeout=10
            )
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    channel, mobile = service.stub("envoy")
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await mobile.UpsertDocument(
                pb.UpsertDocumentRequest(request_id=_rid(), document=document), metadata=_as("cust-x"), timeout=10
            )
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("service", ["sql"], indirect=True)  # request ids live in the platform database
async def test_mutations_are_idempotent_by_request_id(service: Running) -> None:
    channel, stub = service.stub("envoy")
    async with channel:
        asked = await stub.Ask(
            pb.AskRequest(request_id=_rid(), customer_id="cust-i", question="My card was stolen"),
            metadata=_as("cust-i"),
            timeout=10,
        )
    assert asked.escalated
    channel, agent = service.stub("agent")
    async with channel:
        resolve = pb.ResolveEscalationRequest(
            request_id=_rid(), escalation_id=asked.escalation_id, resolution_note="Card blocked, new one sent"
        )
        first = await agent.ResolveEscalation(resolve, timeout=10)
        retried = await agent.ResolveEscalation(resolve, timeout=10)  # a retry: the stored response, not an error
        assert retried == first
        changed = pb.ResolveEscalationRequest(
            request_id=resolve.request_id, escalation_id=asked.escalation_id, resolution_note="something else"
        )
        with pytest.raises(grpc.aio.AioRpcError) as reused:
            await agent.ResolveEscalation(changed, timeout=10)
        assert reused.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert "REQUEST_ID_REUSED" in str(reused.value.trailing_metadata())


@pytest.mark.parametrize("service", ["sql"], indirect=True)  # stored results live in the platform database
async def test_ask_request_id_reused_for_another_question_is_already_exists(service: Running) -> None:
    channel, stub = service.stub("envoy")
    async with channel:
        request_id = _rid()
        asked = pb.AskRequest(request_id=request_id, customer_id="cust-r", question="My card was stolen")
        first = await stub.Ask(asked, metadata=_as("cust-r"), timeout=10)
        assert await stub.Ask(asked, metadata=_as("cust-r"), timeout=10) == first  # a retry replays
        other = pb.AskRequest(request_id=request_id, customer_id="cust-r", question="I lost my card")
        with pytest.raises(grpc.aio.AioRpcError) as reused:
            await stub.Ask(other, metadata=_as("cust-r"), timeout=10)
        assert reused.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert "REQUEST_ID_REUSED" in str(reused.value.trailing_metadata())
        streamed = pb.StreamAskRequest(request_id=request_id, customer_id="cust-r", question="I lost my card")
        with pytest.raises(grpc.aio.AioRpcError) as reused_stream:
            async for _ in stub.StreamAsk(streamed, metadata=_as("cust-r"), timeout=10):
                pass
        assert reused_stream.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert "REQUEST_ID_REUSED" in str(reused_stream.value.trailing_metadata())
        replayed = [
            e
            async for e in stub.StreamAsk(
                pb.StreamAskRequest(request_id=request_id, customer_id="cust-r", question="My card was stolen"),
                metadata=_as("cust-r"),
                timeout=10,
            )
        ]
        assert replayed[-1].final_result == first
