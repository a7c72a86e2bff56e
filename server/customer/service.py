"""CustomerService: the servicer (protobuf ↔ domain) and its builder.

The servicer only converts messages and calls the engines in :mod:`server.customer.answering`; it never
decides. ``build(ctx)`` wires the engines from the process's shared resources (see
:func:`build` for which it takes and which it creates).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import grpc
from fintech.common.v1 import common_pb2
from fintech.customer.v1 import customer_service_pb2 as pb
from fintech.customer.v1 import customer_service_pb2_grpc as pb_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from retrieval.documents import Article
from retrieval.index import KnowledgeIndex, SearchHit, SearchMode
from server.customer.answering.engine import (
    ENGINE,
    ENGINE_VERSION,
    AnsweringEngine,
    Citations,
    Delta,
    Final,
    Question,
    resolve_customer,
)
from server.customer.answering.metrics import metrics_for
from server.customer.answering.operations import (
    DocumentDraft,
    EscalationDesk,
    FeedbackDesk,
    KnowledgeAdmin,
    PageTokens,
)
from server.customer.answering.ports import (
    AnswerResult,
    AnswerSource,
    EscalationReason,
    EscalationRecord,
    EscalationStatus,
    Rating,
    SourceRef,
    Speaker,
    Turn,
)
from server.customer.settings import CustomerSettings
from server.runtime.context import AppContext, ServiceBinding
from server.runtime.identity import current_caller

SERVICE_NAME = "customer"
FULL_NAME = pb.DESCRIPTOR.services_by_name["CustomerService"].full_name

_SOURCE = {AnswerSource.APPROVED: pb.ANSWER_SOURCE_APPROVED, AnswerSource.GENERATED: pb.ANSWER_SOURCE_GENERATED,
           AnswerSource.HANDOFF: pb.ANSWER_SOURCE_HANDOFF}
_REASON_TO_PB = {reason: pb.EscalationReason.Value(f"ESCALATION_REASON_{reason.value}") for reason in EscalationReason}
_REASON_FROM_PB = {value: reason for reason, value in _REASON_TO_PB.items()}
_STATUS_TO_PB = {EscalationStatus.OPEN: pb.ESCALATION_STATUS_OPEN,
                 EscalationStatus.RESOLVED: pb.ESCALATION_STATUS_RESOLVED}
_STATUS_FROM_PB = {value: status for status, value in _STATUS_TO_PB.items()}
_SPEAKER = {Speaker.CUSTOMER: pb.SPEAKER_CUSTOMER, Speaker.ASSISTANT: pb.SPEAKER_ASSISTANT,
            Speaker.AGENT: pb.SPEAKER_AGENT}
_RATING = {pb.FEEDBACK_RATING_HELPFUL: Rating.HELPFUL, pb.FEEDBACK_RATING_NOT_HELPFUL: Rating.NOT_HELPFUL}
_MODE = {pb.SEARCH_MODE_UNSPECIFIED: SearchMode.HYBRID, pb.SEARCH_MODE_HYBRID: SearchMode.HYBRID,
         pb.SEARCH_MODE_DENSE: SearchMode.DENSE, pb.SEARCH_MODE_SPARSE: SearchMode.SPARSE}
_VALIDATION = {"PASSED": common_pb2.VALIDATION_OUTCOME_PASSED, "FAILED": common_pb2.VALIDATION_OUTCOME_FAILED,
               "NOT_APPLICABLE": common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE}


def _timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def citation_pb(ref: SourceRef) -> pb.Citation:
    """A domain source as a ``Citation``."""
    return pb.Citation(chunk_id=ref.chunk_id, document_id=ref.document_id, title=ref.title, snippet=ref.snippet,
                       score=ref.score)


def ask_response_pb(result: AnswerResult) -> pb.AskResponse:
    """A domain result as an ``AskResponse``."""
    model, _, endpoint = result.llm_model.partition("@")
    template_id, _, version = result.prompt_ref.partition("#")[0].partition("@")
    return pb.AskResponse(
        conversation_id=result.conversation_id, turn_id=result.turn_id, answer=result.answer,
        answer_source=_SOURCE[result.source], citations=[citation_pb(c) for c in result.citations],
        escalated=result.escalated,
        escalation_reason=_REASON_TO_PB[result.reason] if result.reason else pb.ESCALATION_REASON_UNSPECIFIED,
        escalation_id=result.escalation_id,
        suggested_articles=[citation_pb(c) for c in result.suggested_articles], intent=result.intent,
        intent_confidence=result.intent_confidence, llm_available=result.llm_available,
        provenance=common_pb2.Provenance(
            engine=ENGINE, engine_version=ENGINE_VERSION, model_id=result.intent_model_id,
            prompt_template_id=template_id, prompt_template_version=version, llm_model=model, llm_endpoint=endpoint,
            validation_outcome=_VALIDATION.get(result.validation_outcome, common_pb2.VALIDATION_OUTCOME_UNSPECIFIED)),
    )


def _turn_pb(turn: Turn) -> pb.ConversationTurn:
    return pb.ConversationTurn(
        turn_id=turn.turn_id, speaker=_SPEAKER[turn.speaker], text=turn.text, create_time=_timestamp(turn.create_time),
        intent=turn.intent,
        answer_source=_SOURCE[turn.answer_source] if turn.answer_source else pb.ANSWER_SOURCE_UNSPECIFIED,
        citations=[citation_pb(c) for c in turn.citations])


def escalation_pb(record: EscalationRecord) -> pb.Escalation:
    """A domain escalation as an ``Escalation``."""
    return pb.Escalation(
        escalation_id=record.escalation_id, conversation_id=record.conversation_id, customer_id=record.customer_id,
        reason=_REASON_TO_PB[record.reason], status=_STATUS_TO_PB[record.status],
        create_time=_timestamp(record.create_time), resolve_time=_timestamp(record.resolve_time),
        resolved_by=record.resolved_by, resolution_note=record.resolution_note,
        turns=[_turn_pb(t) for t in record.turns],
        retrieved_articles=[citation_pb(c) for c in record.retrieved_articles], intent=record.intent)


def document_pb(article: Article, *, with_body: bool, chunk_count: int = 0) -> pb.Document:
    """A stored article as a ``Document``."""
    document = pb.Document(document_id=article.id, title=article.title, locale=article.locale,
                           intents=list(article.intents), body_markdown=article.body if with_body else "",
                           update_time=_timestamp(datetime(article.updated.year, article.updated.month,
                                                           article.updated.day, tzinfo=UTC)),
                           chunk_count=chunk_count, content_sha256=article.content_hash)
    if article.approved_answer is not None:
        answer = article.approved_answer
        expires = datetime(answer.expires.year, answer.expires.month, answer.expires.day, 23, 59, 59, tzinfo=UTC)
        document.approved_answer.CopyFrom(pb.ApprovedAnswer(text=answer.text, owner=answer.owner,
                                                            version=str(answer.version),
                                                            expire_time=_timestamp(expires)))
    return document


def _hit_pb(hit: SearchHit) -> pb.KnowledgeHit:
    return pb.KnowledgeHit(chunk_id=hit.chunk_id, document_id=hit.document_id, title=hit.title, heading=hit.heading,
                           text=hit.content, score=hit.score)


def _time_remaining(context: grpc.aio.ServicerContext[Any, Any]) -> float | None:
    remaining = context.time_remaining()
    return None if remaining is None else float(remaining)


class CustomerServicer(pb_grpc.CustomerServiceServicer):
    """Adapts ``fintech.customer.v1.CustomerService`` to the engines."""

    def __init__(self, engine: AnsweringEngine, feedback: FeedbackDesk, escalations: EscalationDesk,
                 knowledge: KnowledgeAdmin, idempotency: Any = None) -> None:
        self._idempotency = idempotency
        self._engine = engine
        self._feedback = feedback
        self._escalations = escalations
        self._knowledge = knowledge

    def _question(self, request: pb.AskRequest | pb.StreamAskRequest,
                  context: grpc.aio.ServicerContext[Any, Any]) -> Question:
        caller = current_caller()
        return Question(customer_id=resolve_customer(request.customer_id, caller),
                        conversation_id=request.conversation_id, text=request.question, locale=request.locale,
                        request_id=request.request_id, caller=caller.audit_identity,
                        time_remaining=_time_remaining(context))

    async def Ask(self, request: pb.AskRequest, context: grpc.aio.ServicerContext[Any, Any]) -> pb.AskResponse:
        return ask_response_pb(await self._engine.ask(self._question(request, context)))

    async def StreamAsk(self, request: pb.StreamAskRequest,
                        context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[pb.StreamAskResponse]:
        async for event in self._engine.stream_ask(self._question(request, context)):
            if isinstance(event, Delta):
                yield pb.StreamAskResponse(delta=pb.AnswerDelta(text=event.text, sentence_index=event.index))
            elif isinstance(event, Citations):
                citations = [citation_pb(c) for c in event.citations]
                yield pb.StreamAskResponse(citations=pb.CitationList(citations=citations))
            elif isinstance(event, Final):
                yield pb.StreamAskResponse(final_result=ask_response_pb(event.result))

    async def SubmitFeedback(self, request: pb.SubmitFeedbackRequest,
                             context: grpc.aio.ServicerContext[Any, Any]) -> pb.SubmitFeedbackResponse:
        customer_id = resolve_customer(request.customer_id, current_caller())
        feedback_id = await self._feedback.submit(
            customer_id=customer_id, conversation_id=request.conversation_id, turn_id=request.turn_id,
            rating=_RATING[request.rating], comment=request.comment, request_id=request.request_id)
        return pb.SubmitFeedbackResponse(feedback_id=feedback_id)

    async def ListEscalations(self, request: pb.ListEscalationsRequest,
                              context: grpc.aio.ServicerContext[Any, Any]) -> pb.ListEscalationsResponse:
        page = await self._escalations.list(
            page_size=request.page_size, page_token=request.page_token,
            status=_STATUS_FROM_PB.get(request.status), reason=_REASON_FROM_PB.get(request.reason))
        return pb.ListEscalationsResponse(escalations=[escalation_pb(e) for e in page.escalations],
                                          next_page_token=page.next_page_token)

    async def GetEscalation(self, request: pb.GetEscalationRequest,
                            context: grpc.aio.ServicerContext[Any, Any]) -> pb.GetEscalationResponse:
        record = await self._escalations.get(request.escalation_id, reader=current_caller().audit_identity)
        return pb.GetEscalationResponse(escalation=escalation_pb(record))

    async def _journaled(self, rpc: str, request: Any, response_type: type[Any], work: Any) -> Any:
        # AIP-155: a retry with the same request_id returns the stored response and changes nothing.
        if self._idempotency is None:
            return await work()
        from server.storage.idempotency import run_journaled

        return await run_journaled(self._idempotency, rpc=f"/{FULL_NAME}/{rpc}", request_id=request.request_id,
                                   request=request, response_type=response_type, work=work)

    async def ResolveEscalation(self, request: pb.ResolveEscalationRequest,
                                context: grpc.aio.ServicerContext[Any, Any]) -> pb.ResolveEscalationResponse:
        caller = current_caller()

        async def work() -> pb.ResolveEscalationResponse:
            record = await self._escalations.resolve(
                request.escalation_id, resolved_by=caller.staff_id or caller.principal, note=request.resolution_note)
            return pb.ResolveEscalationResponse(escalation=escalation_pb(record))

        return await self._journaled("ResolveEscalation", request, pb.ResolveEscalationResponse, work)

    async def UpsertDocument(self, request: pb.UpsertDocumentRequest,
                             context: grpc.aio.ServicerContext[Any, Any]) -> pb.UpsertDocumentResponse:
        document = request.document
        approved = document.approved_answer if document.HasField("approved_answer") else None
        draft = DocumentDraft(
            document_id=document.document_id, title=document.title, locale=document.locale,
            intents=tuple(document.intents), body_markdown=document.body_markdown,
            approved_text=approved.text if approved else "", approved_owner=approved.owner if approved else "",
            approved_version=approved.version if approved else "",
            approved_expires=approved.expire_time.ToDatetime(tzinfo=UTC).date()
            if approved is not None and approved.HasField("expire_time") else None)
        async def work() -> pb.UpsertDocumentResponse:
            outcome = await self._knowledge.upsert(draft)
            return pb.UpsertDocumentResponse(document=document_pb(outcome.article, with_body=True),
                                             changed=outcome.changed, chunks_added=outcome.chunks_added,
                                             chunks_removed=outcome.chunks_removed)

        return await self._journaled("UpsertDocument", request, pb.UpsertDocumentResponse, work)

    async def DeleteDocument(self, request: pb.DeleteDocumentRequest,
                             context: grpc.aio.ServicerContext[Any, Any]) -> pb.DeleteDocumentResponse:
        async def work() -> pb.DeleteDocumentResponse:
            return pb.DeleteDocumentResponse(chunks_removed=await self._knowledge.delete(request.document_id))

        return await self._journaled("DeleteDocument", request, pb.DeleteDocumentResponse, work)

    async def ListDocuments(self, request: pb.ListDocumentsRequest,
                            context: grpc.aio.ServicerContext[Any, Any]) -> pb.ListDocumentsResponse:
        page = await self._knowledge.list(page_size=request.page_size, page_token=request.page_token,
                                          locale=request.locale, intent=request.intent)
        return pb.ListDocumentsResponse(documents=[document_pb(a, with_body=False) for a in page.articles],
                                        next_page_token=page.next_page_token)

    async def SearchKnowledge(self, request: pb.SearchKnowledgeRequest,
                              context: grpc.aio.ServicerContext[Any, Any]) -> pb.SearchKnowledgeResponse:
        hits = await self._knowledge.search(request.query, top_k=request.top_k, locale=request.locale,
                                            intents=list(request.intents), mode=_MODE[request.mode])
        return pb.SearchKnowledgeResponse(hits=[_hit_pb(h) for h in hits])


def make_servicer(engine: AnsweringEngine, *, tokens: PageTokens, index: KnowledgeIndex,
                  known_intents: Sequence[str] | None = None, idempotency: Any = None) -> CustomerServicer:
    """The servicer over ``engine``'s seams (tests and :func:`build` use it)."""
    return CustomerServicer(engine, FeedbackDesk(engine.store, clock=engine.clock, metrics=engine.metrics),
                            EscalationDesk(engine.store, tokens, clock=engine.clock),
                            KnowledgeAdmin(engine.catalog, index, tokens, known_intents=known_intents,
                                           clock=engine.clock),
                            idempotency=idempotency)


async def customer_resources(ctx: AppContext) -> None:
    """Adds the customer seams' real implementations to ``ctx.resources`` where the wiring has not.

    ``"customer_store"`` and ``"customer_catalog"`` are created on the platform database (``"database"``,
    ``"keyring"``, ``"audit"`` from storage); ``"customer_intents"`` loads the shipped classifier with the
    shared embedder (in an executor: seconds of CPU). Nothing is faked: a missing dependency raises.

    Raises:
        KeyError: ``database``, ``keyring`` or ``audit`` is not wired.
    """
    import asyncio

    from server.customer.answering.adapters import ClassifierIntents
    from server.customer.answering.sql_store import SqlArticleCatalog, SqlConversationStore

    if "customer_store" not in ctx.resources:
        ctx.resources["customer_store"] = SqlConversationStore(
            ctx.require("database"), ctx.require("keyring"), ctx.require("audit"))
    if "customer_catalog" not in ctx.resources:
        ctx.resources["customer_catalog"] = SqlArticleCatalog(ctx.require("database"))
    if "customer_intents" not in ctx.resources:
        from retrieval.embedding import query_vectors_for, shared_embedder
        from server.customer.intents.model import IntentClassifier

        # The knowledge index embeds questions through the same query-vector cache: one forward pass each.
        loop = asyncio.get_running_loop()
        classifier = await loop.run_in_executor(
            None, lambda: IntentClassifier.load(query_vectors_for(shared_embedder())))
        # The first single question loads the model, exports the ONNX graph (once per data directory) and
        # opens its session: pay that at start-up, not on a customer's first question.
        await loop.run_in_executor(None, lambda: shared_embedder().embed(["warm up"]))
        ctx.resources["customer_intents"] = ClassifierIntents(classifier)


async def build(ctx: AppContext) -> ServiceBinding:
    """The CustomerService binding.

    Takes from ``ctx.resources``: ``"knowledge_index"`` (a :class:`~retrieval.index.KnowledgeIndex`, wired by
    retrieval), ``"page_tokens"`` (storage's codec), the customer seams ``"customer_intents"``,
    ``"customer_catalog"`` and ``"customer_store"`` (created by :func:`customer_resources` from ``"database"``,
    ``"keyring"`` and ``"audit"`` when absent), and optionally ``"inference"`` (the pool; without it every
    generation hands off with ``llm_available = false``) and ``"metrics_registry"`` (the Prometheus registry
    the metrics endpoint serves; the process default when absent). Settings: ``ctx.settings.customer`` when
    the lead has added the field, else the defaults.

    Raises:
        KeyError: a required resource is not wired (naming it).
    """
    from server.customer.answering.adapters import PoolAnswerModel  # the pool is optional

    settings = getattr(ctx.settings, "customer", None)
    if not isinstance(settings, CustomerSettings):
        settings = CustomerSettings()
    index: KnowledgeIndex = ctx.require("knowledge_index")
    await customer_resources(ctx)
    pool = ctx.resources.get("inference")
    model = None if pool is None else PoolAnswerModel(
        pool, group=settings.llm_group, max_tokens=settings.max_answer_tokens, temperature=settings.temperature,
        default_timeout=settings.llm_timeout_seconds)
    engine = AnsweringEngine(settings, index=index, intents=ctx.require("customer_intents"),
                             catalog=ctx.require("customer_catalog"), model=model,
                             store=ctx.require("customer_store"), clock=ctx.clock,
                             metrics=metrics_for(ctx.resources.get("metrics_registry")))
    servicer = make_servicer(engine, tokens=ctx.require("page_tokens"), index=index,
                             idempotency=ctx.resources.get("idempotency"))

    async def readiness() -> str | None:
        state = await index.readiness()
        return None if state.ready else "knowledge base unavailable"

    return ServiceBinding(name=SERVICE_NAME, full_name=FULL_NAME, servicer=servicer,
                          add_to_server=pb_grpc.add_CustomerServiceServicer_to_server, readiness=readiness)
