"""The answering engine: one question in, checked sentences, citations and an escalation decision out.

Flow of :meth:`AnsweringEngine.stream_ask` (``ask`` consumes the same stream):

1. the caller's identity decides the customer (:func:`resolve_customer`); another customer's
   conversation is NOT_FOUND;
2. the question is PII-masked; nothing unmasked goes further (LLM, logs, storage, audit);
3. a follow-up is rewritten into a standalone query (:mod:`.rewrite`);
4. intent, hybrid retrieval and a dense probe (for a retrieval confidence) run concurrently; when the
   intent is confident, chunks answering the most likely intents are moved first (``retrieval.routing``);
5. the deterministic policy (:mod:`.policy`) decides: escalate, serve an approved answer word for word,
   or generate;
6. generation streams from the LLM; each sentence is released only after the grounding check
   (:mod:`.grounding`); the first failing sentence stops the stream, is never shown, and the customer
   gets the handoff with the most relevant articles;
7. the exchange, its escalation and its audit record are stored atomically; then citations and the
   final result are emitted.

Engines never import grpc; errors are :mod:`server.runtime.errors` domain errors.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from retrieval.documents import Article
from retrieval.index import KnowledgeIndex, SearchFilter, SearchHit, SearchMode
from retrieval.routing import prefer_intents
from server.customer.answering.grounding import GroundingChecker, SentenceSplitter
from server.customer.answering.metrics import CustomerMetrics, metrics_for
from server.customer.answering.pii import mask_pii
from server.customer.answering.policy import (
    Decision,
    Signals,
    asks_for_human,
    decide,
    expresses_dissatisfaction,
    sensitive_wording,
)
from server.customer.answering.ports import (
    AnswerAudit,
    AnswerModel,
    AnswerResult,
    AnswerSource,
    ArticleCatalog,
    Conversation,
    ConversationStore,
    EscalationReason,
    EscalationRecord,
    EscalationStatus,
    Exchange,
    IntentGuess,
    IntentSource,
    LlmUnavailable,
    SourceRef,
    Speaker,
    Turn,
)
from server.customer.answering.prompt import AnswerPrompt, build_prompt
from server.customer.answering.rewrite import standalone_query
from server.customer.settings import CustomerSettings
from server.runtime.clock import Clock, SystemClock
from server.runtime.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from server.runtime.identity import Caller

ENGINE = "customer.answering"
ENGINE_VERSION = "1"
DOMAIN = "customer.fintech"
_SNIPPET_CHARS = 300

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Question:
    """One question as the engine receives it (the servicer converts the request).

    Attributes:
        customer_id: The resolved end customer (:func:`resolve_customer`).
        conversation_id: Empty to start a conversation.
        text: The question as typed (unmasked: masked before anything else happens).
        locale: BCP 47 locale; empty for the default.
        request_id: AIP-155 id; a retry returns the stored result.
        caller: Audit identity of the caller.
        time_remaining: Seconds left of the RPC's deadline, None when unbounded.
    """

    customer_id: str
    conversation_id: str
    text: str
    locale: str = ""
    request_id: str = ""
    caller: str = ""
    time_remaining: float | None = None


@dataclass(frozen=True)
class Delta:
    """A sentence that passed the check (or the whole approved answer)."""

    text: str
    index: int


@dataclass(frozen=True)
class Citations:
    """The sources of the released text."""

    citations: tuple[SourceRef, ...]


@dataclass(frozen=True)
class Final:
    """The last event: the result with the escalation decision."""

    result: AnswerResult


StreamEvent = Delta | Citations | Final


def request_digest(question: Question) -> str:
    """What a request asked, as a SHA-256 hex digest: the key of AIP-155's "same payload" test.

    Covers the conversation, the question (stripped, as answered) and the locale; not the caller's transport
    or the deadline. ``Ask`` and ``StreamAsk`` share it, so a streamed retry of an ``Ask`` replays its result.
    The digest is stored sealed with the result; it never leaves the service.
    """
    fields = (question.conversation_id, question.text.strip(), question.locale)
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def resolve_customer(requested: str, caller: Caller) -> str:
    """The end customer a request acts for.

    Behind Envoy the forwarded customer defines it; a request naming another customer is refused.
    A direct caller (core banking) must name the customer.

    Raises:
        PermissionDenied: the request names another customer than the forwarded one.
        InvalidArgument: no customer at all.
    """
    if caller.customer_id:
        if requested and requested != caller.customer_id:
            raise PermissionDenied(
                "customer_id does not match the authenticated customer", reason="CUSTOMER_MISMATCH", domain=DOMAIN
            )
        return caller.customer_id
    if not requested:
        raise InvalidArgument(
            "customer_id is required",
            reason="CUSTOMER_ID_MISSING",
            domain=DOMAIN,
            violations=[FieldViolation("customer_id", "required when no customer is forwarded")],
        )
    return requested


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET_CHARS else flat[: _SNIPPET_CHARS - 1] + "…"


def suggestions_from(hits: Sequence[SearchHit], limit: int) -> tuple[SourceRef, ...]:
    """The most relevant articles: the best chunk of each distinct document, best first."""
    seen: set[str] = set()
    out: list[SourceRef] = []
    for hit in hits:
        if hit.document_id in seen:
            continue
        seen.add(hit.document_id)
        out.append(SourceRef(hit.chunk_id, hit.document_id, hit.title, _snippet(hit.content), hit.score))
        if len(out) == limit:
            break
    return tuple(out)


class AnsweringEngine:
    """Answers customer questions; see the module docstring.

    Args:
        settings: Thresholds and limits.
        index: The knowledge index (retrieval helper's seam).
        intents: Intent recognition.
        catalog: Stored articles with their approved answers.
        model: The LLM, or None when none is configured (every generation then hands off as unavailable).
        store: Conversations, escalations, feedback, audit.
        clock: Time source.
        new_id: Id factory (tests pass a deterministic one).
        metrics: Counters (a private registry when None).
    """

    def __init__(
        self,
        settings: CustomerSettings,
        *,
        index: KnowledgeIndex,
        intents: IntentSource,
        catalog: ArticleCatalog,
        model: AnswerModel | None,
        store: ConversationStore,
        clock: Clock | None = None,
        new_id: Callable[[], str] | None = None,
        metrics: CustomerMetrics | None = None,
    ) -> None:
        self.settings = settings
        self._index = index
        self._intents = intents
        self._catalog = catalog
        self._model = model
        self._store = store
        self._clock = clock or SystemClock()
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        self.metrics = metrics or metrics_for(CollectorRegistry())
        # AIP-155 within this process: a second attempt with the same (customer, request_id) waits for the
        # first and then replays its stored result, instead of answering twice. Across replicas the store's
        # unique key turns the loser into ABORTED (REQUEST_IN_PROGRESS); its retry replays.
        self._request_locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @property
    def store(self) -> ConversationStore:
        """The conversation store (shared with the feedback and escalation desks)."""
        return self._store

    @property
    def catalog(self) -> ArticleCatalog:
        """The article catalog (shared with the knowledge admin)."""
        return self._catalog

    @property
    def clock(self) -> Clock:
        """The time source."""
        return self._clock

    async def ask(self, question: Question) -> AnswerResult:
        """Answers ``question`` (the non-streaming form of :meth:`stream_ask`)."""
        result: AnswerResult | None = None
        async for event in self.stream_ask(question):
            if isinstance(event, Final):
                result = event.result
        assert result is not None  # stream_ask always ends with Final
        return result

    async def stream_ask(self, question: Question) -> AsyncIterator[StreamEvent]:
        """Answers ``question`` as events: deltas, then citations, then the final result.

        Raises:
            InvalidArgument: an empty or too long question.
            NotFound: the conversation does not exist or belongs to another customer.
            AlreadyExists: REQUEST_ID_REUSED, the ``request_id`` was used before for another question.
            Aborted: REQUEST_IN_PROGRESS, another replica is answering the same ``request_id`` (retry to replay).
            Unavailable: the knowledge base or the store is down (from the seams).
        """
        text = question.text.strip()
        if not text:
            raise InvalidArgument(
                "question is empty",
                reason="QUESTION_EMPTY",
                domain=DOMAIN,
                violations=[FieldViolation("question", "must not be empty")],
            )
        if len(text) > self.settings.max_question_chars:
            raise InvalidArgument(
                "question is too long",
                reason="QUESTION_TOO_LONG",
                domain=DOMAIN,
                violations=[FieldViolation("question", f"at most {self.settings.max_question_chars} characters")],
            )
        digest = request_digest(question)
        if not question.request_id:
            async for event in self._answer(question, text, digest):
                yield event
            return
        key = (question.customer_id, question.request_id)
        lock, users = self._request_locks.get(key, (asyncio.Lock(), 0))
        self._request_locks[key] = (lock, users + 1)
        try:
            async with lock:
                async for event in self._answer(question, text, digest):
                    yield event
        finally:
            lock, users = self._request_locks[key]
            if users == 1:
                del self._request_locks[key]
            else:
                self._request_locks[key] = (lock, users - 1)

    async def _answer(self, question: Question, text: str, digest: str) -> AsyncIterator[StreamEvent]:
        """The body of :meth:`stream_ask` once the question is valid (under its request id's lock)."""
        if question.request_id:
            stored = await self._store.result_for_request(question.customer_id, question.request_id)
            # Results stored before digests were recorded carry none: they can only be replayed.
            if stored is not None and stored.request_digest and stored.request_digest != digest:
                raise AlreadyExists(
                    "request_id was already used for a different question",
                    reason="REQUEST_ID_REUSED",
                    domain=DOMAIN,
                    metadata={"request_id": question.request_id},
                )
            if stored is not None:
                for index, sentence in enumerate([stored.answer] if stored.answer else []):
                    yield Delta(sentence, index)
                yield Citations(stored.citations)
                yield Final(stored)
                return
        conversation, new_conversation = await self._conversation(question)
        history = (
            []
            if new_conversation
            else await self._store.recent_turns(conversation.conversation_id, self.settings.memory_turns)
        )
        masked = mask_pii(text).text
        query = standalone_query(masked, history)
        locale = question.locale or self.settings.default_locale

        guess, hits, retrieval_score = await self._understand(query, locale)
        suggestions = suggestions_from(hits, self.settings.suggested_articles)
        dissatisfied_now = expresses_dissatisfaction(masked)
        not_helpful = 0 if new_conversation else await self._store.count_not_helpful(conversation.conversation_id)
        earlier = sum(1 for t in history if t.speaker is Speaker.CUSTOMER and t.dissatisfied)
        approved = await self._approved_for(guess, locale)
        signals = Signals(
            requested_human=asks_for_human(masked),
            dissatisfaction=int(dissatisfied_now) + earlier + not_helpful,
            intent=guess.intent,
            intent_confidence=guess.confidence,
            sensitive_wording=sensitive_wording(masked),
            approved_available=approved is not None,
            retrieval_score=retrieval_score,
        )
        decision = decide(signals, self.settings)
        outcome = _Outcome(decision.reason)
        if decision.serve_approved and approved is not None:
            answer = approved.approved_answer
            assert answer is not None
            outcome.answer = answer.text
            outcome.source = AnswerSource.APPROVED
            outcome.citations = (
                SourceRef(
                    f"approved:{approved.id}:v{answer.version}", approved.id, approved.title, _snippet(answer.text), 1.0
                ),
            )
            yield Delta(answer.text, 0)
        elif decision.generate:
            async for delta in self._generate(question, conversation, query, hits, outcome):
                yield delta
        result = await self._finish(
            question,
            conversation,
            new_conversation,
            masked,
            query,
            guess,
            hits,
            suggestions,
            dissatisfied_now,
            decision,
            outcome,
        )
        yield Citations(result.citations if result.source is not AnswerSource.HANDOFF else outcome.citations)
        yield Final(result)

    # -- steps ------------------------------------------------------------------------------------

    async def _conversation(self, question: Question) -> tuple[Conversation, bool]:
        if question.conversation_id:
            found = await self._store.get_conversation(question.customer_id, question.conversation_id)
            if found is None:
                raise NotFound(
                    "conversation not found",
                    reason="CONVERSATION_NOT_FOUND",
                    domain=DOMAIN,
                    metadata={"conversation_id": question.conversation_id},
                )
            return found, False
        return Conversation(self._new_id(), question.customer_id, self._clock.now()), True

    async def _understand(self, query: str, locale: str) -> tuple[IntentGuess, list[SearchHit], float]:
        settings = self.settings
        search_filter = SearchFilter(locale=locale)
        routing = settings.intent_routing_min_confidence is not None
        depth = max(settings.top_k, settings.retrieval_depth) if routing else settings.top_k
        # Concurrently: routing re-ranks the search's result afterwards, so the search need not wait for the
        # intent. The three share one query embedding (the index's and the classifier's query-vector cache).
        guess, found, probe = await asyncio.gather(
            self._intents.classify(query),
            self._index.search(query, limit=depth, mode=SearchMode.HYBRID, search_filter=search_filter),
            # Fused scores say nothing about closeness; the dense cosine of the best chunk does.
            self._index.search(query, limit=1, mode=SearchMode.DENSE, search_filter=search_filter),
        )
        threshold = settings.intent_routing_min_confidence
        if threshold is not None and guess.confidence >= threshold:
            preferred = (guess.intent, *guess.alternatives)[: settings.routed_intents]
            hits = prefer_intents(found, preferred, settings.top_k)
        else:
            hits = found[: settings.top_k]
        return guess, hits, (probe[0].score if probe else 0.0)

    async def _approved_for(self, guess: IntentGuess, locale: str) -> Article | None:
        today = self._clock.now().date()
        for article in await self._catalog.for_intent(guess.intent, locale):
            if article.approved_answer is not None and article.approved_answer.is_valid_on(today):
                return article
        return None

    async def _generate(
        self, question: Question, conversation: Conversation, query: str, hits: Sequence[SearchHit], outcome: _Outcome
    ) -> AsyncIterator[Delta]:
        prompt = build_prompt(query, hits)
        outcome.prompt = prompt
        if not prompt.facts:
            outcome.reason = EscalationReason.LOW_RETRIEVAL_CONFIDENCE
            return
        if self._model is None:
            outcome.reason = EscalationReason.LLM_UNAVAILABLE
            outcome.llm_available = False
            outcome.llm_error = "LLM_NOT_CONFIGURED"
            return
        checker = GroundingChecker(
            prompt.facts,
            system_prompt=prompt.system_prompt,
            min_support_ratio=self.settings.min_support_ratio,
            leak_ngram_words=self.settings.leak_ngram_words,
        )
        splitter = SentenceSplitter()
        raw: list[str] = []
        released: list[str] = []
        stream = self._model.stream(
            prompt.messages,
            conversation_id=conversation.conversation_id,
            customer=question.customer_id,
            time_remaining=question.time_remaining,
        )
        failed = False
        try:
            try:
                async for piece in stream:
                    raw.append(piece)
                    for sentence in splitter.feed(piece):
                        verdict = checker.check(sentence)
                        if not verdict.grounded:
                            outcome.problems = verdict.problems
                            failed = True
                            break
                        released.append(verdict.display)
                        yield Delta(verdict.display if not released[:-1] else " " + verdict.display, len(released) - 1)
                    if failed:
                        break
            finally:
                closer = getattr(stream, "aclose", None)
                if closer is not None:
                    await closer()  # stop the LLM: nothing after a failed sentence is wanted
        except LlmUnavailable as exc:
            outcome.reason = EscalationReason.LLM_UNAVAILABLE
            outcome.llm_available = False
            outcome.llm_error = exc.reason
        outcome.raw_output = mask_pii("".join(raw)).text
        outcome.llm_model = self._model.model_ref
        if outcome.reason is None and not failed:
            rest = splitter.flush()
            if rest is not None:
                verdict = checker.check(rest)
                if verdict.grounded:
                    released.append(verdict.display)
                    yield Delta(verdict.display if len(released) == 1 else " " + verdict.display, len(released) - 1)
                else:
                    outcome.problems = verdict.problems
                    failed = True
        if outcome.reason is None and (failed or not released):
            outcome.reason = EscalationReason.UNGROUNDED_ANSWER
            if not released and not failed:
                outcome.problems = ("empty answer",)
        outcome.citations = tuple(
            SourceRef(f.chunk_id, f.document_id, f.title, _snippet(f.text), f.score) for f in checker.cited_in_order
        )
        outcome.released = released
        if outcome.reason is None:
            outcome.answer = " ".join(released)
            outcome.source = AnswerSource.GENERATED

    async def _finish(
        self,
        question: Question,
        conversation: Conversation,
        new_conversation: bool,
        masked: str,
        query: str,
        guess: IntentGuess,
        hits: Sequence[SearchHit],
        suggestions: tuple[SourceRef, ...],
        dissatisfied: bool,
        decision: Decision,
        outcome: _Outcome,
    ) -> AnswerResult:
        now = self._clock.now()
        escalated = outcome.reason is not None
        source = outcome.source if not escalated or outcome.source is AnswerSource.APPROVED else AnswerSource.HANDOFF
        answer = outcome.answer if source is not AnswerSource.HANDOFF else ""
        citations = outcome.citations if source is not AnswerSource.HANDOFF else ()
        customer_turn = Turn(
            self._new_id(),
            conversation.conversation_id,
            Speaker.CUSTOMER,
            masked,
            now,
            intent=guess.intent,
            standalone_query=query,
            dissatisfied=dissatisfied,
        )
        assistant_text = answer or " ".join(outcome.released) or "(handed to a person)"
        assistant_turn = Turn(
            self._new_id(),
            conversation.conversation_id,
            Speaker.ASSISTANT,
            assistant_text,
            now,
            intent=guess.intent,
            answer_source=source,
            citations=citations or outcome.citations,
        )
        escalation: EscalationRecord | None = None
        if outcome.reason is not None:
            escalation = EscalationRecord(
                escalation_id=self._new_id(),
                conversation_id=conversation.conversation_id,
                customer_id=question.customer_id,
                reason=outcome.reason,
                status=EscalationStatus.OPEN,
                create_time=now,
                intent=guess.intent,
                retrieved_articles=suggestions,
            )
        validation = "NOT_APPLICABLE"
        if decision.generate and outcome.prompt is not None and outcome.prompt.facts and self._model is not None:
            validation = (
                "FAILED"
                if outcome.problems or outcome.reason is EscalationReason.UNGROUNDED_ANSWER
                else ("PASSED" if outcome.llm_available else "NOT_APPLICABLE")
            )
        prompt = outcome.prompt
        result = AnswerResult(
            conversation_id=conversation.conversation_id,
            turn_id=assistant_turn.turn_id,
            answer=answer,
            source=source,
            citations=citations,
            escalated=escalated,
            reason=outcome.reason,
            escalation_id=escalation.escalation_id if escalation else "",
            suggested_articles=suggestions if escalated else (),
            intent=guess.intent,
            intent_confidence=guess.confidence,
            llm_available=outcome.llm_available,
            intent_model_id=guess.model_id,
            llm_model=outcome.llm_model,
            prompt_ref=prompt.template.ref if prompt is not None and outcome.llm_model else "",
            validation_outcome=validation,
            request_id=question.request_id,
            request_digest=request_digest(question),
        )
        decision_name = source.value if not escalated else f"{source.value}:{outcome.reason.value}"  # type: ignore[union-attr]
        audit = AnswerAudit(
            request_id=question.request_id,
            caller=question.caller,
            decision=decision_name,
            intent_model_id=guess.model_id,
            llm_model=outcome.llm_model,
            prompt_ref=result.prompt_ref,
            prompt_digest=prompt.template.digest if prompt is not None else "",
            validation_outcome=validation,
            inputs={
                "question": masked,
                "standalone_query": query,
                "locale": question.locale,
                "intent": guess.intent,
                "intent_confidence": round(guess.confidence, 4),
                "retrieved": [h.chunk_id for h in hits],
            },
            llm_output=outcome.raw_output,
            details={
                "engine": ENGINE,
                "engine_version": ENGINE_VERSION,
                "problems": list(outcome.problems),
                "llm_error": outcome.llm_error,
                "released_sentences": len(outcome.released),
                "excluded_chunks": list(prompt.excluded_chunks) if prompt is not None else [],
                "input_digest": hashlib.sha256(masked.encode()).hexdigest(),
            },
        )
        await self._store.save_exchange(
            Exchange(
                customer_id=question.customer_id,
                conversation=conversation,
                new_conversation=new_conversation,
                customer_turn=customer_turn,
                assistant_turn=assistant_turn,
                result=result,
                escalation=escalation,
                audit=audit,
            )
        )
        self.metrics.answers.labels(source.value).inc()
        if outcome.reason is not None:
            self.metrics.escalations.labels(outcome.reason.value).inc()
        if outcome.problems:
            self.metrics.sentences_blocked.inc()
        # Ids and enums only: never the question or the answer.
        log.info(
            "answer",
            extra={
                "conversation_id": conversation.conversation_id,
                "source": source.value,
                "reason": outcome.reason.value if outcome.reason else "",
                "intent": guess.intent,
            },
        )
        return result


class _Outcome:
    """Mutable state of one answer while it is produced."""

    def __init__(self, reason: EscalationReason | None) -> None:
        self.reason = reason
        self.answer = ""
        self.source = AnswerSource.HANDOFF
        self.citations: tuple[SourceRef, ...] = ()
        self.released: list[str] = []
        self.problems: tuple[str, ...] = ()
        self.llm_available = True
        self.llm_error = ""
        self.llm_model = ""
        self.raw_output = ""
        self.prompt: AnswerPrompt | None = None
