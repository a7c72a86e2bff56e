"""The storage seams on the platform database: conversations, turns, escalations, feedback, results, articles.

Tables (created by ``server/customer/migrations/versions/customer_0001_answering.py``): every piece of
customer text (turn text, standalone query, citations, stored results, feedback comments, resolution
notes) is sealed with envelope encryption under the customer's data key (``Subject("customer", id)``),
so erasing the customer (crypto-shredding) makes it unreadable; ids, enums and times stay in clear for
the agents' queue. Each write runs in one unit of work; :meth:`SqlConversationStore.save_exchange`
writes the turns, the escalation, the stored result and the audit record in the same transaction, the
audit append last (it locks the chain head until commit).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from retrieval.documents import Article, parse_article, render_article
from server.audit.log import AuditLog
from server.audit.records import AuditEntry, AuditKind, ValidationOutcome
from server.crypto.keyring import Keyring
from server.crypto.subjects import Subject
from server.customer.answering.ports import (
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
    request_in_progress,
)
from server.runtime.errors import FailedPrecondition, NotFound
from server.storage.database import Database

_DOMAIN = "customer.fintech"
ASK_RPC = "/fintech.customer.v1.CustomerService/Ask"
RESOLVE_RPC = "/fintech.customer.v1.CustomerService/ResolveEscalation"
GET_RPC = "/fintech.customer.v1.CustomerService/GetEscalation"

metadata = sa.MetaData()

conversations = sa.Table(
    "customer_conversations", metadata,
    sa.Column("conversation_id", sa.String(64), primary_key=True),
    sa.Column("customer_id", sa.String(128), nullable=False, index=True),
    sa.Column("created_us", sa.BigInteger, nullable=False),
)
turns = sa.Table(
    "customer_turns", metadata,
    sa.Column("turn_id", sa.String(64), primary_key=True),
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("customer_conversations.conversation_id"),
              nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("speaker", sa.String(16), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("intent", sa.String(64), nullable=False),
    sa.Column("answer_source", sa.String(16), nullable=False),
    sa.Column("dissatisfied", sa.Boolean, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.UniqueConstraint("conversation_id", "seq", name="uq_customer_turns_seq"),
)
escalations = sa.Table(
    "customer_escalations", metadata,
    sa.Column("escalation_id", sa.String(64), primary_key=True),
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("customer_conversations.conversation_id"),
              nullable=False),
    sa.Column("customer_id", sa.String(128), nullable=False),
    sa.Column("reason", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("intent", sa.String(64), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("resolved_us", sa.BigInteger, nullable=True),
    sa.Column("resolved_by", sa.String(300), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Index("ix_customer_escalations_queue", "status", "created_us"),
)
feedback = sa.Table(
    "customer_feedback", metadata,
    sa.Column("feedback_id", sa.String(64), primary_key=True),
    sa.Column("customer_id", sa.String(128), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
    sa.Column("turn_id", sa.String(64), nullable=False),
    sa.Column("rating", sa.String(16), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("comment", sa.LargeBinary, nullable=False),
)
results = sa.Table(
    "customer_results", metadata,
    sa.Column("customer_id", sa.String(128), primary_key=True),
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
)
documents = sa.Table(
    "customer_kb_documents", metadata,
    sa.Column("document_id", sa.String(128), primary_key=True),
    sa.Column("locale", sa.String(16), nullable=False),
    sa.Column("intents", sa.String(1400), nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
)


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _time(us: int | None) -> datetime | None:
    return None if us is None else datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def _refs(values: Sequence[SourceRef]) -> list[dict[str, Any]]:
    return [{"c": r.chunk_id, "d": r.document_id, "t": r.title, "s": r.snippet, "v": r.score} for r in values]


def _from_refs(values: Sequence[dict[str, Any]]) -> tuple[SourceRef, ...]:
    return tuple(SourceRef(v["c"], v["d"], v["t"], v["s"], float(v["v"])) for v in values)


def _result_json(result: AnswerResult) -> bytes:
    data = {**result.__dict__, "source": result.source.value, "reason": result.reason.value if result.reason else None,
            "citations": _refs(result.citations), "suggested_articles": _refs(result.suggested_articles)}
    return json.dumps(data, sort_keys=True).encode()


def _result_from(raw: bytes) -> AnswerResult:
    data = json.loads(raw)
    data["source"] = AnswerSource(data["source"])
    data["reason"] = EscalationReason(data["reason"]) if data["reason"] else None
    data["citations"] = _from_refs(data["citations"])
    data["suggested_articles"] = _from_refs(data["suggested_articles"])
    return AnswerResult(**data)


class SqlConversationStore:
    """:class:`ConversationStore` on the platform database with envelope encryption and the audit log."""

    def __init__(self, db: Database, keyring: Keyring, audit: AuditLog) -> None:
        self._db = db
        self._keyring = keyring
        self._audit = audit

    @staticmethod
    def _subject(customer_id: str) -> Subject:
        return Subject("customer", customer_id)

    async def _owner(self, conn: AsyncConnection, conversation_id: str) -> str | None:
        row = (await conn.execute(sa.select(conversations.c.customer_id)
                                  .where(conversations.c.conversation_id == conversation_id))).first()
        return None if row is None else str(row.customer_id)

    async def get_conversation(self, customer_id: str, conversation_id: str) -> Conversation | None:
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(conversations).where(
                conversations.c.conversation_id == conversation_id,
                conversations.c.customer_id == customer_id))).first()
        if row is None:
            return None
        created = _time(row.created_us)
        assert created is not None
        return Conversation(row.conversation_id, row.customer_id, created)

    async def _turns(self, conn: AsyncConnection, conversation_id: str, limit: int | None) -> list[Turn]:
        owner = await self._owner(conn, conversation_id)
        if owner is None:
            return []
        query = sa.select(turns).where(turns.c.conversation_id == conversation_id).order_by(turns.c.seq.desc())
        if limit is not None:
            query = query.limit(limit)
        rows = list(await conn.execute(query))
        out = []
        for row in reversed(rows):
            payload = json.loads(await self._keyring.open(conn, self._subject(owner), bytes(row.payload),
                                                          context=f"customer.turn:{row.turn_id}"))
            created = _time(row.created_us)
            assert created is not None
            out.append(Turn(row.turn_id, row.conversation_id, Speaker(row.speaker), payload["text"], created,
                            intent=row.intent,
                            answer_source=AnswerSource(row.answer_source) if row.answer_source else None,
                            citations=_from_refs(payload["citations"]), standalone_query=payload["query"],
                            dissatisfied=bool(row.dissatisfied)))
        return out

    async def recent_turns(self, conversation_id: str, limit: int) -> list[Turn]:
        if limit <= 0:
            return []
        async with self._db.read() as conn:
            return await self._turns(conn, conversation_id, limit)

    async def result_for_request(self, customer_id: str, request_id: str) -> AnswerResult | None:
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(results.c.payload).where(
                results.c.customer_id == customer_id, results.c.request_id == request_id))).first()
            if row is None:
                return None
            raw = await self._keyring.open(conn, self._subject(customer_id), bytes(row.payload),
                                           context=f"customer.result:{request_id}")
        return _result_from(raw)

    async def _insert_turn(self, conn: AsyncConnection, customer_id: str, turn: Turn, seq: int) -> None:
        payload = json.dumps({"text": turn.text, "query": turn.standalone_query,
                              "citations": _refs(turn.citations)}).encode()
        sealed = await self._keyring.seal(conn, self._subject(customer_id), payload,
                                          context=f"customer.turn:{turn.turn_id}")
        await conn.execute(turns.insert().values(
            turn_id=turn.turn_id, conversation_id=turn.conversation_id, seq=seq, speaker=turn.speaker.value,
            created_us=_us(turn.create_time), intent=turn.intent,
            answer_source=turn.answer_source.value if turn.answer_source else "", dissatisfied=turn.dissatisfied,
            payload=sealed))

    async def save_exchange(self, exchange: Exchange) -> None:
        customer = exchange.customer_id
        subject = self._subject(customer)
        conversation_id = exchange.conversation.conversation_id
        async with self._db.transaction() as conn:
            if exchange.new_conversation:
                await conn.execute(conversations.insert().values(
                    conversation_id=conversation_id, customer_id=customer,
                    created_us=_us(exchange.conversation.create_time)))
            last = (await conn.execute(sa.select(sa.func.max(turns.c.seq))
                                       .where(turns.c.conversation_id == conversation_id))).scalar()
            seq = 0 if last is None else int(last) + 1
            await self._insert_turn(conn, customer, exchange.customer_turn, seq)
            await self._insert_turn(conn, customer, exchange.assistant_turn, seq + 1)
            if exchange.escalation is not None:
                escalation = exchange.escalation
                payload = json.dumps({"articles": _refs(escalation.retrieved_articles), "note": ""}).encode()
                await conn.execute(escalations.insert().values(
                    escalation_id=escalation.escalation_id, conversation_id=conversation_id, customer_id=customer,
                    reason=escalation.reason.value, status=escalation.status.value, intent=escalation.intent,
                    created_us=_us(escalation.create_time), resolved_us=None, resolved_by="",
                    payload=await self._keyring.seal(conn, subject, payload,
                                                     context=f"customer.escalation:{escalation.escalation_id}")))
            if exchange.result.request_id:
                sealed = await self._keyring.seal(conn, subject, _result_json(exchange.result),
                                                  context=f"customer.result:{exchange.result.request_id}")
                try:
                    async with conn.begin_nested():
                        await conn.execute(results.insert().values(
                            customer_id=customer, request_id=exchange.result.request_id,
                            created_us=_us(exchange.customer_turn.create_time), payload=sealed))
                except IntegrityError as exc:
                    # Another replica stored an answer for this request id first. Raising rolls this
                    # whole exchange back (turns, escalation, audit), so exactly one answer is recorded.
                    raise request_in_progress(exchange.result.request_id) from exc
            audit = exchange.audit
            await self._audit.append(conn, AuditEntry(
                kind=AuditKind.DECISION, rpc=ASK_RPC, decision=audit.decision, subject=subject,
                request_id=audit.request_id, caller=audit.caller,
                input_digest=str(audit.details.get("input_digest", "")), engine="customer.answering",
                engine_version=str(audit.details.get("engine_version", "")), model_id=audit.intent_model_id,
                prompt_template_id=audit.prompt_ref, prompt_template_digest=audit.prompt_digest,
                validation_outcome=ValidationOutcome(audit.validation_outcome),
                llm_output=audit.llm_output, inputs=dict(audit.inputs),
                details={**audit.details, "llm_model": audit.llm_model, "conversation_id": conversation_id,
                         "turn_id": exchange.assistant_turn.turn_id,
                         "escalation_id": exchange.escalation.escalation_id if exchange.escalation else ""}))

    async def count_not_helpful(self, conversation_id: str) -> int:
        async with self._db.read() as conn:
            return int((await conn.execute(sa.select(sa.func.count()).select_from(feedback).where(
                feedback.c.conversation_id == conversation_id,
                feedback.c.rating == Rating.NOT_HELPFUL.value))).scalar() or 0)

    async def get_turn(self, conversation_id: str, turn_id: str) -> Turn | None:
        async with self._db.read() as conn:
            return next((t for t in await self._turns(conn, conversation_id, None) if t.turn_id == turn_id), None)

    async def add_feedback(self, record: FeedbackRecord) -> None:
        async with self._db.transaction() as conn:
            exists = (await conn.execute(sa.select(feedback.c.feedback_id)
                                         .where(feedback.c.feedback_id == record.feedback_id))).first()
            if exists is not None:
                return  # a retry of the same request
            sealed = await self._keyring.seal(conn, self._subject(record.customer_id), record.comment.encode(),
                                              context=f"customer.feedback:{record.feedback_id}")
            await conn.execute(feedback.insert().values(
                feedback_id=record.feedback_id, customer_id=record.customer_id,
                conversation_id=record.conversation_id, turn_id=record.turn_id, rating=record.rating.value,
                created_us=_us(record.create_time), comment=sealed))

    async def _escalation(self, conn: AsyncConnection, row: Any, with_turns: bool) -> EscalationRecord:
        payload = json.loads(await self._keyring.open(conn, self._subject(row.customer_id), bytes(row.payload),
                                                      context=f"customer.escalation:{row.escalation_id}"))
        created = _time(row.created_us)
        assert created is not None
        return EscalationRecord(
            escalation_id=row.escalation_id, conversation_id=row.conversation_id, customer_id=row.customer_id,
            reason=EscalationReason(row.reason), status=EscalationStatus(row.status), create_time=created,
            intent=row.intent, retrieved_articles=_from_refs(payload["articles"]),
            resolve_time=_time(row.resolved_us), resolved_by=row.resolved_by, resolution_note=payload["note"],
            turns=tuple(await self._turns(conn, row.conversation_id, None)) if with_turns else ())

    async def get_escalation(self, escalation_id: str) -> EscalationRecord | None:
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(escalations)
                                      .where(escalations.c.escalation_id == escalation_id))).first()
            return None if row is None else await self._escalation(conn, row, True)

    async def list_escalations(self, *, status: EscalationStatus | None, reason: EscalationReason | None,
                               after: tuple[datetime, str] | None, limit: int) -> list[EscalationRecord]:
        c = escalations.c
        query = sa.select(escalations).order_by(c.created_us.desc(), c.escalation_id.desc()).limit(limit)
        if status is not None:
            query = query.where(c.status == status.value)
        if reason is not None:
            query = query.where(c.reason == reason.value)
        if after is not None:
            at = _us(after[0])
            query = query.where(sa.or_(c.created_us < at, sa.and_(c.created_us == at, c.escalation_id < after[1])))
        async with self._db.read() as conn:
            return [await self._escalation(conn, row, False) for row in await conn.execute(query)]

    async def record_access(self, escalation: EscalationRecord, *, reader: str) -> None:
        async with self._db.transaction() as conn:
            await self._audit.append(conn, AuditEntry(
                kind=AuditKind.DATA_ACCESS, rpc=GET_RPC, decision="READ_CONVERSATION",
                subject=self._subject(escalation.customer_id), caller=reader, engine="customer.escalations",
                details={"escalation_id": escalation.escalation_id,
                         "conversation_id": escalation.conversation_id}))

    async def resolve_escalation(self, escalation_id: str, *, resolved_by: str, note: str,
                                 now: datetime) -> EscalationRecord:
        async with self._db.transaction() as conn:
            row = (await conn.execute(sa.select(escalations)
                                      .where(escalations.c.escalation_id == escalation_id))).first()
            if row is None:
                raise NotFound("escalation not found", reason="ESCALATION_NOT_FOUND", domain=_DOMAIN)
            if row.status == EscalationStatus.RESOLVED.value:
                raise FailedPrecondition("escalation already resolved", reason="ESCALATION_ALREADY_RESOLVED",
                                         domain=_DOMAIN)
            subject = self._subject(row.customer_id)
            context = f"customer.escalation:{escalation_id}"
            payload = json.loads(await self._keyring.open(conn, subject, bytes(row.payload), context=context))
            payload["note"] = note
            await conn.execute(escalations.update().where(escalations.c.escalation_id == escalation_id).values(
                status=EscalationStatus.RESOLVED.value, resolved_us=_us(now), resolved_by=resolved_by,
                payload=await self._keyring.seal(conn, subject, json.dumps(payload).encode(), context=context)))
            updated = (await conn.execute(sa.select(escalations)
                                          .where(escalations.c.escalation_id == escalation_id))).one()
            record = await self._escalation(conn, updated, True)
            await self._audit.append(conn, AuditEntry(
                # The caller is left to the audit log: it names the person and the console they acted through.
                kind=AuditKind.DECISION, rpc=RESOLVE_RPC, decision="OPEN->RESOLVED", subject=subject,
                engine="customer.escalations",
                details={"escalation_id": escalation_id, "note": note}))
        return record


class SqlArticleCatalog:
    """:class:`ArticleCatalog` on the platform database; an article is stored in its on-disk format."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _article(row: Any) -> Article:
        return parse_article(row.source, source=row.document_id)

    async def get(self, document_id: str) -> Article | None:
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(documents).where(documents.c.document_id == document_id))).first()
        return None if row is None else self._article(row)

    async def for_intent(self, intent: str, locale: str) -> list[Article]:
        query = (sa.select(documents).where(documents.c.intents.contains(f"|{intent}|", autoescape=True))
                 .order_by(documents.c.document_id))
        if locale:
            query = query.where(documents.c.locale == locale)
        async with self._db.read() as conn:
            rows = list(await conn.execute(query))
        return [a for a in (self._article(r) for r in rows) if intent in a.intents]

    async def list(self, *, locale: str = "", intent: str = "", after: str = "", limit: int = 50) -> list[Article]:
        query = sa.select(documents).where(documents.c.document_id > after).order_by(documents.c.document_id)
        if locale:
            query = query.where(documents.c.locale == locale)
        if intent:
            query = query.where(documents.c.intents.contains(f"|{intent}|", autoescape=True))
        async with self._db.read() as conn:
            rows = list(await conn.execute(query.limit(limit)))
        return [self._article(r) for r in rows]

    async def put(self, article: Article) -> bool:
        source = render_article(article)
        async with self._db.transaction() as conn:
            row = (await conn.execute(sa.select(documents.c.source)
                                      .where(documents.c.document_id == article.id))).first()
            if row is not None and row.source == source:
                return False
            values = {"locale": article.locale, "intents": "|" + "|".join(article.intents) + "|",
                      "content_sha256": article.content_hash, "source": source}
            if row is None:
                await conn.execute(documents.insert().values(document_id=article.id, **values))
            else:
                await conn.execute(documents.update().where(documents.c.document_id == article.id).values(**values))
        return True

    async def delete(self, document_id: str) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(documents.delete().where(documents.c.document_id == document_id))
        return bool(result.rowcount)


