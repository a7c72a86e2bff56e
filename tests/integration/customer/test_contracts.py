"""Contract tests of the answering engine's seams: the same assertions against the fake and the real thing.

- ``KnowledgeIndex``: :class:`KeywordIndex` (fake) and ``retrieval.MilvusKnowledgeIndex`` (milvus-lite, MiniLM);
- ``IntentSource``: :class:`KeywordIntents` (fake) and the trained classifier (``ClassifierIntents``);
- ``ConversationStore`` / ``ArticleCatalog``: the in-memory reference and the SQL implementation on a real,
  migrated SQLite database with envelope encryption and the audit chain.

To point a contract at another implementation, add it to the fixture's ``params``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from retrieval.documents import Article
from retrieval.embedding import shared_embedder
from retrieval.index import SearchFilter, SearchMode
from retrieval.milvus import MilvusKnowledgeIndex
from server.customer.answering.adapters import ClassifierIntents
from server.customer.answering.memory import MemoryArticleCatalog, MemoryConversationStore
from server.customer.answering.ports import (
    AnswerAudit,
    AnswerResult,
    AnswerSource,
    Conversation,
    EscalationReason,
    EscalationRecord,
    EscalationStatus,
    Exchange,
    FeedbackRecord,
    Rating,
    SourceRef,
    Speaker,
    Turn,
)
from server.customer.answering.sql_store import SqlArticleCatalog, SqlConversationStore
from server.customer.intents.model import IntentClassifier
from server.runtime.errors import FailedPrecondition, NotFound
from tests.integration.customer.conftest import ARTICLES, RULES
from tests.integration.customer.fakes import KeywordIndex, KeywordIntents
from tests.integration.storage.stack import Stack, make_stack

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


# -- KnowledgeIndex ------------------------------------------------------------------------------


@pytest.fixture(params=["keyword-fake", "milvus"])
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "keyword-fake":
        yield KeywordIndex()
        return
    opened = await MilvusKnowledgeIndex.open(str(tmp_path / "milvus" / "kb.db"), embedder=shared_embedder())
    try:
        yield opened
    finally:
        await opened.close()


async def test_index_contract(index: Any) -> None:
    for article in ARTICLES:
        assert (await index.upsert_document(article)).inserted >= 1
    assert (await index.upsert_document(ARTICLES[0])).unchanged
    if hasattr(index, "flush"):
        await index.flush()
    hits = await index.search("How long does card delivery take?", limit=3, mode=SearchMode.HYBRID,
                              search_filter=SearchFilter(locale="en-GB"))
    assert hits and hits[0].document_id == "card-delivery" and hits[0].rank == 1
    relevant = await index.search("How long does card delivery take?", limit=1, mode=SearchMode.DENSE)
    unrelated = await index.search("galactic clearing house on Mars rejected", limit=1, mode=SearchMode.DENSE)
    assert -1.0 <= relevant[0].score <= 1.0 and relevant[0].score >= 0.3
    assert not unrelated or unrelated[0].score < relevant[0].score
    assert await index.search("card delivery", limit=3, search_filter=SearchFilter(locale="fr-FR")) == []
    filtered = await index.search("fees", limit=5, search_filter=SearchFilter(intents=("transfer_fee_charged",)))
    assert {h.document_id for h in filtered} <= {"transfer-fees"}
    assert await index.delete_document("card-delivery") >= 1
    if hasattr(index, "flush"):
        await index.flush()
    assert "card-delivery" not in await index.document_ids()
    assert (await index.readiness()).ready


# -- IntentSource --------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["keyword-fake", "classifier"])
def intents(request: pytest.FixtureRequest) -> Any:
    if request.param == "keyword-fake":
        return KeywordIntents(RULES)
    return ClassifierIntents(IntentClassifier.load(shared_embedder()))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("I lost my card yesterday, what do I do?", {"lost_or_stolen_card"}),
     ("How long will it take for my card to be delivered?", {"card_arrival", "card_delivery_estimate"}),
     ("What are the fees for withdrawing cash at an ATM?", {"cash_withdrawal_charge"})],
)
async def test_intent_contract(intents: Any, text: str, expected: set[str]) -> None:
    guess = await intents.classify(text)
    assert guess.intent in expected and 0.0 <= guess.confidence <= 1.0
    assert guess.confidence >= 0.3 and guess.model_id == intents.model_id and guess.model_id


# -- ConversationStore and ArticleCatalog ---------------------------------------------------------


@pytest.fixture(scope="module")
async def sql_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    stack = await make_stack("sqlite", tmp_path_factory.mktemp("customer-sql"), None)
    try:
        yield stack
    finally:
        await stack.db.close()


@pytest.fixture(params=["memory", "sql"])
def store(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryConversationStore()
    stack: Stack = request.getfixturevalue("sql_stack")
    return SqlConversationStore(stack.db, stack.keyring, stack.audit)


def _exchange(tag: str, customer: str, *, new: bool, conversation_id: str, seq: int, escalate: bool,
              request_id: str = "", at: datetime = T0) -> Exchange:
    conversation = Conversation(conversation_id, customer, at)
    ref = SourceRef("chunk-1", "card-delivery", "Card delivery times", "Cards arrive within 3 to 5 days.", 0.8)
    question = Turn(f"{tag}-q{seq}", conversation_id, Speaker.CUSTOMER, f"question {seq} [CARD]", at,
                    intent="card_arrival", standalone_query=f"standalone {seq}", dissatisfied=seq == 1)
    answer = Turn(f"{tag}-a{seq}", conversation_id, Speaker.ASSISTANT, f"answer {seq} [1]", at,
                  intent="card_arrival", answer_source=AnswerSource.GENERATED, citations=(ref,))
    escalation = EscalationRecord(f"{tag}-e{seq}", conversation_id, customer, EscalationReason.SENSITIVE_INTENT,
                                  EscalationStatus.OPEN, at, "lost_or_stolen_card", (ref,)) if escalate else None
    result = AnswerResult(conversation_id, answer.turn_id, answer.text, AnswerSource.GENERATED, (ref,),
                          escalate, EscalationReason.SENSITIVE_INTENT if escalate else None,
                          escalation.escalation_id if escalation else "", (), "card_arrival", 0.9, True,
                          request_id=request_id, validation_outcome="PASSED")
    audit = AnswerAudit(request_id, "customer:x via spiffe://fintech.local/envoy", "GENERATED", "intent-x",
                        "dev/fake", "grounded_answer@1#abc", "d" * 64, "PASSED", {"question": question.text})
    return Exchange(customer, conversation, new, question, answer, result, escalation, audit)


async def test_conversation_store_contract(store: Any, request: pytest.FixtureRequest) -> None:
    tag = f"{request.node.callspec.id}-{id(store)}"
    conv = f"conv-{tag}"[:64]
    await store.save_exchange(_exchange(tag, "cust-1", new=True, conversation_id=conv, seq=0, escalate=False,
                                        request_id=f"req-{tag}"[:64]))
    await store.save_exchange(_exchange(tag, "cust-1", new=False, conversation_id=conv, seq=1, escalate=True,
                                        at=T0 + timedelta(seconds=1)))
    assert await store.get_conversation("cust-1", conv) is not None
    assert await store.get_conversation("cust-2", conv) is None  # another customer's: never visible
    turns = await store.recent_turns(conv, 3)
    assert [t.turn_id for t in turns] == [f"{tag}-a0", f"{tag}-q1", f"{tag}-a1"]
    assert turns[1].standalone_query == "standalone 1" and turns[1].dissatisfied
    assert turns[0].citations[0].document_id == "card-delivery"
    stored = await store.result_for_request("cust-1", f"req-{tag}"[:64])
    assert stored is not None and stored.answer == "answer 0 [1]" and stored.citations[0].chunk_id == "chunk-1"
    assert await store.result_for_request("cust-2", f"req-{tag}"[:64]) is None
    assert (await store.get_turn(conv, f"{tag}-a1")) is not None and await store.get_turn(conv, "nope") is None

    await store.add_feedback(FeedbackRecord(f"fb-{tag}"[:64], "cust-1", conv, f"{tag}-a1", Rating.NOT_HELPFUL,
                                            "no", T0))
    await store.add_feedback(FeedbackRecord(f"fb-{tag}"[:64], "cust-1", conv, f"{tag}-a1", Rating.NOT_HELPFUL,
                                            "no", T0))  # a retry
    assert await store.count_not_helpful(conv) == 1

    escalation = await store.get_escalation(f"{tag}-e1")
    assert escalation is not None and escalation.status is EscalationStatus.OPEN and len(escalation.turns) == 4
    await store.record_access(escalation, reader="staff:ann via spiffe://fintech.local/console")
    listed = await store.list_escalations(status=EscalationStatus.OPEN, reason=EscalationReason.SENSITIVE_INTENT,
                                          after=None, limit=500)
    assert f"{tag}-e1" in [e.escalation_id for e in listed]
    # Resolving happens inside ResolveEscalation, under the console's forwarded operator: bind it as the RPC does.
    from server.runtime.identity import Caller, reset_caller, set_caller

    console = "spiffe://fintech.local/console"
    bound = set_caller(Caller(console, "console", "agent", "staff:ann", staff_id="ann", forwarded_by="console"))
    try:
        resolved = await store.resolve_escalation(f"{tag}-e1", resolved_by="staff:ann", note="called", now=T0)
        assert resolved.status is EscalationStatus.RESOLVED and resolved.resolution_note == "called"
        with pytest.raises(FailedPrecondition):
            await store.resolve_escalation(f"{tag}-e1", resolved_by="staff:ann", note="again", now=T0)
        with pytest.raises(NotFound):
            await store.resolve_escalation("missing", resolved_by="staff:ann", note="x", now=T0)
    finally:
        reset_caller(bound)
    after = (resolved.create_time, resolved.escalation_id)
    older = await store.list_escalations(status=None, reason=None, after=after, limit=500)
    assert f"{tag}-e1" not in [e.escalation_id for e in older]


async def test_sql_store_encrypts_text_and_audits(sql_stack: Stack) -> None:
    store = SqlConversationStore(sql_stack.db, sql_stack.keyring, sql_stack.audit)
    await store.save_exchange(_exchange("enc", "cust-9", new=True, conversation_id="conv-enc", seq=0, escalate=True))
    escalation = await store.get_escalation("enc-e0")
    assert escalation is not None
    await store.record_access(escalation, reader="staff:bob")
    async with sql_stack.db.read() as conn:
        reads = (await conn.execute(sa.text(
            "SELECT count(*) FROM audit_records WHERE kind = 'DATA_ACCESS' AND caller = 'staff:bob'"))).scalar()
        payloads = [bytes(r[0]) for r in await conn.execute(sa.text("SELECT payload FROM customer_turns"))]
        audited = (await conn.execute(sa.text(
            "SELECT count(*) FROM audit_records "
            "WHERE rpc LIKE '%CustomerService/Ask' AND subject_id = 'cust-9'"))).scalar()
    assert payloads and all(b"question 0" not in p and b"standalone" not in p for p in payloads)
    assert audited == 1 and reads == 1


@pytest.fixture(params=["memory", "sql"])
def catalog(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryArticleCatalog()
    stack: Stack = request.getfixturevalue("sql_stack")
    return SqlArticleCatalog(stack.db)


async def test_article_catalog_contract(catalog: Any) -> None:
    for article in ARTICLES:
        await catalog.delete(article.id)
        assert await catalog.put(article)
    assert not await catalog.put(ARTICLES[0])
    assert await catalog.get("atm-fees") == next(a for a in ARTICLES if a.id == "atm-fees")
    assert [a.id for a in await catalog.for_intent("lost_or_stolen_card", "en-GB")] == ["lost-card"]
    assert await catalog.for_intent("lost_or_stolen_card", "fr-FR") == []
    assert await catalog.for_intent("lost_or_stolenXcard", "en-GB") == []  # "_" is not a wildcard
    assert await catalog.list(intent="lost_or_stolenXcard") == []
    first = await catalog.list(limit=2)
    rest = await catalog.list(after=first[-1].id, limit=100)
    ids = [a.id for a in [*first, *rest]]
    assert ids == sorted(ids) and set(ids) >= {a.id for a in ARTICLES}
    changed = replace(ARTICLES[0], body="New body.", updated=date(2026, 11, 1))
    assert await catalog.put(changed) and (await catalog.get(ARTICLES[0].id)).body == "New body."
    assert await catalog.delete("lost-card") and not await catalog.delete("lost-card")
    assert await catalog.get("lost-card") is None
    article: Article | None = await catalog.get("pin-change")
    assert article is not None and article.approved_answer is not None


async def test_reindex_rebuilds_the_index_from_the_stored_articles() -> None:
    from server.customer.answering.operations import KnowledgeAdmin
    from server.storage.page_tokens import PageTokenCodec

    catalog = MemoryArticleCatalog(ARTICLES)
    index = KeywordIndex()
    stray = replace(ARTICLES[0], id="stray-doc")
    await index.upsert_document(stray)  # indexed but no longer stored (deleted before a restore)
    seen: list[str] = []
    admin = KnowledgeAdmin(catalog, index, PageTokenCodec(b"k" * 32))
    assert await admin.reindex(progress=lambda done, doc: seen.append(doc)) == (len(ARTICLES), 1)
    assert seen == sorted(a.id for a in ARTICLES)
    assert await index.document_ids() == {a.id for a in ARTICLES}
    assert (await index.search("card delivery", limit=1))[0].document_id == "card-delivery"
