"""The engine on the real storage: migrated SQLite, envelope encryption, the audit chain, the scripted LLM."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from inference.pool import InferencePool
from server.customer.answering.adapters import PoolAnswerModel
from server.customer.answering.engine import AnsweringEngine, Question
from server.customer.answering.operations import FeedbackDesk
from server.customer.answering.ports import AnswerSource, EscalationReason, Rating
from server.customer.answering.sql_store import SqlArticleCatalog, SqlConversationStore
from server.customer.settings import CustomerSettings
from tests.fakes.openai_server import FakeOpenAIServer
from tests.integration.customer.conftest import ARTICLES, RULES, chunk_of, settings_for
from tests.integration.customer.fakes import KeywordIndex, KeywordIntents
from tests.integration.storage.stack import make_stack

CALLER = "customer:c-sql via spiffe://fintech.local/envoy"


async def test_conversation_on_sql_storage(tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    stack = await make_stack("sqlite", tmp_path / "state", None)
    pool = InferencePool(settings_for(fake_openai.base_url), registry=CollectorRegistry())
    try:
        store = SqlConversationStore(stack.db, stack.keyring, stack.audit)
        catalog = SqlArticleCatalog(stack.db)
        for article in ARTICLES:
            await catalog.put(article)
        engine = AnsweringEngine(CustomerSettings(), index=KeywordIndex(ARTICLES), intents=KeywordIntents(RULES),
                                 catalog=catalog, model=PoolAnswerModel(pool), store=store, clock=stack.clock)
        delivery = chunk_of("card-delivery")
        fake_openai.set_default({"kind": "ok", "content": (
            f"Cards arrive within 3 to 5 working days in the UK [{delivery}]. "
            f"Delivery abroad takes up to 10 working days [{delivery}].")})
        first = await engine.ask(Question("c-sql", "", "How long does card delivery take? My email is a@b.co",
                                          caller=CALLER))
        assert first.source is AnswerSource.GENERATED
        follow = await engine.ask(Question("c-sql", first.conversation_id, "And abroad?", caller=CALLER))
        assert follow.source is AnswerSource.GENERATED
        assert "How long does card delivery take? My email is [EMAIL] And abroad?" in str(fake_openai.requests()[-1])
        approved = await engine.ask(Question("c-sql", first.conversation_id, "What are the ATM fees?", caller=CALLER))
        assert approved.source is AnswerSource.APPROVED
        desk = FeedbackDesk(store, clock=stack.clock)
        await desk.submit(customer_id="c-sql", conversation_id=first.conversation_id, turn_id=approved.turn_id,
                          rating=Rating.NOT_HELPFUL, comment="call 07700 900123", request_id="r1")
        unhappy = await engine.ask(Question("c-sql", first.conversation_id, "That's not helpful at all",
                                            caller=CALLER))
        assert unhappy.reason is EscalationReason.REPEATED_DISSATISFACTION
        escalation = await store.get_escalation(unhappy.escalation_id)
        assert escalation is not None and len(escalation.turns) == 8
        async with stack.db.read() as conn:
            answers = (await conn.execute(sa.text(
                "SELECT count(*) FROM audit_records WHERE rpc LIKE '%CustomerService/Ask'"))).scalar()
        assert answers == 4
        await stack.db.close()
        raw = b"".join(p.read_bytes() for p in (tmp_path / "state").glob("fintech.db*"))
        for secret in (b"a@b.co", b"07700 900123", b"How long does card delivery", b"not helpful at all"):
            assert secret not in raw
    finally:
        await pool.close()
        await stack.db.close()


async def test_two_replicas_answering_one_request_id_record_one_answer(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    """AIP-155 across replicas: the replica that stores second is ABORTED and its whole exchange rolled back."""
    from server.runtime.errors import Aborted

    class EarlyReader(SqlConversationStore):
        # This replica looked the request id up before the other one committed: it saw nothing.
        async def result_for_request(self, customer_id: str, request_id: str) -> None:
            return None

    stack = await make_stack("sqlite", tmp_path / "state", None)
    pool = InferencePool(settings_for(fake_openai.base_url), registry=CollectorRegistry())
    try:
        catalog = SqlArticleCatalog(stack.db)
        for article in ARTICLES:
            await catalog.put(article)

        def replica(store: SqlConversationStore) -> AnsweringEngine:
            return AnsweringEngine(CustomerSettings(), index=KeywordIndex(ARTICLES), intents=KeywordIntents(RULES),
                                   catalog=catalog, model=PoolAnswerModel(pool), store=store, clock=stack.clock)

        first_replica = replica(SqlConversationStore(stack.db, stack.keyring, stack.audit))
        late_replica = replica(EarlyReader(stack.db, stack.keyring, stack.audit))
        delivery = chunk_of("card-delivery")
        fake_openai.set_default({"kind": "ok", "content": f"Cards arrive within 3 to 5 working days [{delivery}]."})
        question = Question("c-two", "", "How long does card delivery take?", caller=CALLER, request_id="req-42")

        async def counts() -> tuple[int, int]:
            async with stack.db.read() as conn:
                audits = (await conn.execute(sa.text(
                    "SELECT count(*) FROM audit_records WHERE rpc LIKE '%CustomerService/Ask'"))).scalar()
                turns = (await conn.execute(sa.text("SELECT count(*) FROM customer_turns"))).scalar()
            return int(audits or 0), int(turns or 0)

        answered = await first_replica.ask(question)
        after_first = await counts()
        with pytest.raises(Aborted) as lost:
            await late_replica.ask(question)
        assert lost.value.reason == "REQUEST_IN_PROGRESS"
        assert await counts() == after_first == (1, 2)  # nothing of the loser's exchange was kept
        replayed = await first_replica.ask(question)
        assert replayed == answered
    finally:
        await pool.close()
        await stack.db.close()
