import datetime

from buf.validate import validate_pb2 as _validate_pb2
from fintech.common.v1 import common_pb2 as _common_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnswerSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANSWER_SOURCE_UNSPECIFIED: _ClassVar[AnswerSource]
    ANSWER_SOURCE_APPROVED: _ClassVar[AnswerSource]
    ANSWER_SOURCE_GENERATED: _ClassVar[AnswerSource]
    ANSWER_SOURCE_HANDOFF: _ClassVar[AnswerSource]

class EscalationReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ESCALATION_REASON_UNSPECIFIED: _ClassVar[EscalationReason]
    ESCALATION_REASON_SENSITIVE_INTENT: _ClassVar[EscalationReason]
    ESCALATION_REASON_LOW_INTENT_CONFIDENCE: _ClassVar[EscalationReason]
    ESCALATION_REASON_LOW_RETRIEVAL_CONFIDENCE: _ClassVar[EscalationReason]
    ESCALATION_REASON_CUSTOMER_REQUESTED_HUMAN: _ClassVar[EscalationReason]
    ESCALATION_REASON_REPEATED_DISSATISFACTION: _ClassVar[EscalationReason]
    ESCALATION_REASON_UNGROUNDED_ANSWER: _ClassVar[EscalationReason]
    ESCALATION_REASON_LLM_UNAVAILABLE: _ClassVar[EscalationReason]

class EscalationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ESCALATION_STATUS_UNSPECIFIED: _ClassVar[EscalationStatus]
    ESCALATION_STATUS_OPEN: _ClassVar[EscalationStatus]
    ESCALATION_STATUS_RESOLVED: _ClassVar[EscalationStatus]

class FeedbackRating(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEEDBACK_RATING_UNSPECIFIED: _ClassVar[FeedbackRating]
    FEEDBACK_RATING_HELPFUL: _ClassVar[FeedbackRating]
    FEEDBACK_RATING_NOT_HELPFUL: _ClassVar[FeedbackRating]

class Speaker(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPEAKER_UNSPECIFIED: _ClassVar[Speaker]
    SPEAKER_CUSTOMER: _ClassVar[Speaker]
    SPEAKER_ASSISTANT: _ClassVar[Speaker]
    SPEAKER_AGENT: _ClassVar[Speaker]

class SearchMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEARCH_MODE_UNSPECIFIED: _ClassVar[SearchMode]
    SEARCH_MODE_HYBRID: _ClassVar[SearchMode]
    SEARCH_MODE_DENSE: _ClassVar[SearchMode]
    SEARCH_MODE_SPARSE: _ClassVar[SearchMode]
ANSWER_SOURCE_UNSPECIFIED: AnswerSource
ANSWER_SOURCE_APPROVED: AnswerSource
ANSWER_SOURCE_GENERATED: AnswerSource
ANSWER_SOURCE_HANDOFF: AnswerSource
ESCALATION_REASON_UNSPECIFIED: EscalationReason
ESCALATION_REASON_SENSITIVE_INTENT: EscalationReason
ESCALATION_REASON_LOW_INTENT_CONFIDENCE: EscalationReason
ESCALATION_REASON_LOW_RETRIEVAL_CONFIDENCE: EscalationReason
ESCALATION_REASON_CUSTOMER_REQUESTED_HUMAN: EscalationReason
ESCALATION_REASON_REPEATED_DISSATISFACTION: EscalationReason
ESCALATION_REASON_UNGROUNDED_ANSWER: EscalationReason
ESCALATION_REASON_LLM_UNAVAILABLE: EscalationReason
ESCALATION_STATUS_UNSPECIFIED: EscalationStatus
ESCALATION_STATUS_OPEN: EscalationStatus
ESCALATION_STATUS_RESOLVED: EscalationStatus
FEEDBACK_RATING_UNSPECIFIED: FeedbackRating
FEEDBACK_RATING_HELPFUL: FeedbackRating
FEEDBACK_RATING_NOT_HELPFUL: FeedbackRating
SPEAKER_UNSPECIFIED: Speaker
SPEAKER_CUSTOMER: Speaker
SPEAKER_ASSISTANT: Speaker
SPEAKER_AGENT: Speaker
SEARCH_MODE_UNSPECIFIED: SearchMode
SEARCH_MODE_HYBRID: SearchMode
SEARCH_MODE_DENSE: SearchMode
SEARCH_MODE_SPARSE: SearchMode

class Citation(_message.Message):
    __slots__ = ("chunk_id", "document_id", "title", "snippet", "score")
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    chunk_id: str
    document_id: str
    title: str
    snippet: str
    score: float
    def __init__(self, chunk_id: _Optional[str] = ..., document_id: _Optional[str] = ..., title: _Optional[str] = ..., snippet: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class AskRequest(_message.Message):
    __slots__ = ("request_id", "customer_id", "conversation_id", "question", "locale")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    conversation_id: str
    question: str
    locale: str
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., question: _Optional[str] = ..., locale: _Optional[str] = ...) -> None: ...

class AskResponse(_message.Message):
    __slots__ = ("conversation_id", "turn_id", "answer", "answer_source", "citations", "escalated", "escalation_reason", "escalation_id", "suggested_articles", "intent", "intent_confidence", "llm_available", "provenance")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    ANSWER_SOURCE_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_REASON_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_ID_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_ARTICLES_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    INTENT_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    LLM_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    turn_id: str
    answer: str
    answer_source: AnswerSource
    citations: _containers.RepeatedCompositeFieldContainer[Citation]
    escalated: bool
    escalation_reason: EscalationReason
    escalation_id: str
    suggested_articles: _containers.RepeatedCompositeFieldContainer[Citation]
    intent: str
    intent_confidence: float
    llm_available: bool
    provenance: _common_pb2.Provenance
    def __init__(self, conversation_id: _Optional[str] = ..., turn_id: _Optional[str] = ..., answer: _Optional[str] = ..., answer_source: _Optional[_Union[AnswerSource, str]] = ..., citations: _Optional[_Iterable[_Union[Citation, _Mapping]]] = ..., escalated: _Optional[bool] = ..., escalation_reason: _Optional[_Union[EscalationReason, str]] = ..., escalation_id: _Optional[str] = ..., suggested_articles: _Optional[_Iterable[_Union[Citation, _Mapping]]] = ..., intent: _Optional[str] = ..., intent_confidence: _Optional[float] = ..., llm_available: _Optional[bool] = ..., provenance: _Optional[_Union[_common_pb2.Provenance, _Mapping]] = ...) -> None: ...

class StreamAskRequest(_message.Message):
    __slots__ = ("request_id", "customer_id", "conversation_id", "question", "locale")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    conversation_id: str
    question: str
    locale: str
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., question: _Optional[str] = ..., locale: _Optional[str] = ...) -> None: ...

class AnswerDelta(_message.Message):
    __slots__ = ("text", "sentence_index")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SENTENCE_INDEX_FIELD_NUMBER: _ClassVar[int]
    text: str
    sentence_index: int
    def __init__(self, text: _Optional[str] = ..., sentence_index: _Optional[int] = ...) -> None: ...

class CitationList(_message.Message):
    __slots__ = ("citations",)
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    citations: _containers.RepeatedCompositeFieldContainer[Citation]
    def __init__(self, citations: _Optional[_Iterable[_Union[Citation, _Mapping]]] = ...) -> None: ...

class StreamAskResponse(_message.Message):
    __slots__ = ("delta", "citations", "final_result")
    DELTA_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    FINAL_RESULT_FIELD_NUMBER: _ClassVar[int]
    delta: AnswerDelta
    citations: CitationList
    final_result: AskResponse
    def __init__(self, delta: _Optional[_Union[AnswerDelta, _Mapping]] = ..., citations: _Optional[_Union[CitationList, _Mapping]] = ..., final_result: _Optional[_Union[AskResponse, _Mapping]] = ...) -> None: ...

class SubmitFeedbackRequest(_message.Message):
    __slots__ = ("request_id", "customer_id", "conversation_id", "turn_id", "rating", "comment")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    conversation_id: str
    turn_id: str
    rating: FeedbackRating
    comment: str
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., turn_id: _Optional[str] = ..., rating: _Optional[_Union[FeedbackRating, str]] = ..., comment: _Optional[str] = ...) -> None: ...

class SubmitFeedbackResponse(_message.Message):
    __slots__ = ("feedback_id",)
    FEEDBACK_ID_FIELD_NUMBER: _ClassVar[int]
    feedback_id: str
    def __init__(self, feedback_id: _Optional[str] = ...) -> None: ...

class ConversationTurn(_message.Message):
    __slots__ = ("turn_id", "speaker", "text", "create_time", "intent", "answer_source", "citations")
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    ANSWER_SOURCE_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    turn_id: str
    speaker: Speaker
    text: str
    create_time: _timestamp_pb2.Timestamp
    intent: str
    answer_source: AnswerSource
    citations: _containers.RepeatedCompositeFieldContainer[Citation]
    def __init__(self, turn_id: _Optional[str] = ..., speaker: _Optional[_Union[Speaker, str]] = ..., text: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., intent: _Optional[str] = ..., answer_source: _Optional[_Union[AnswerSource, str]] = ..., citations: _Optional[_Iterable[_Union[Citation, _Mapping]]] = ...) -> None: ...

class Escalation(_message.Message):
    __slots__ = ("escalation_id", "conversation_id", "customer_id", "reason", "status", "create_time", "resolve_time", "resolved_by", "resolution_note", "turns", "retrieved_articles", "intent")
    ESCALATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_NOTE_FIELD_NUMBER: _ClassVar[int]
    TURNS_FIELD_NUMBER: _ClassVar[int]
    RETRIEVED_ARTICLES_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    escalation_id: str
    conversation_id: str
    customer_id: str
    reason: EscalationReason
    status: EscalationStatus
    create_time: _timestamp_pb2.Timestamp
    resolve_time: _timestamp_pb2.Timestamp
    resolved_by: str
    resolution_note: str
    turns: _containers.RepeatedCompositeFieldContainer[ConversationTurn]
    retrieved_articles: _containers.RepeatedCompositeFieldContainer[Citation]
    intent: str
    def __init__(self, escalation_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., reason: _Optional[_Union[EscalationReason, str]] = ..., status: _Optional[_Union[EscalationStatus, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolve_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_by: _Optional[str] = ..., resolution_note: _Optional[str] = ..., turns: _Optional[_Iterable[_Union[ConversationTurn, _Mapping]]] = ..., retrieved_articles: _Optional[_Iterable[_Union[Citation, _Mapping]]] = ..., intent: _Optional[str] = ...) -> None: ...

class ListEscalationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status", "reason")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: EscalationStatus
    reason: EscalationReason
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[EscalationStatus, str]] = ..., reason: _Optional[_Union[EscalationReason, str]] = ...) -> None: ...

class ListEscalationsResponse(_message.Message):
    __slots__ = ("escalations", "next_page_token")
    ESCALATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    escalations: _containers.RepeatedCompositeFieldContainer[Escalation]
    next_page_token: str
    def __init__(self, escalations: _Optional[_Iterable[_Union[Escalation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetEscalationRequest(_message.Message):
    __slots__ = ("escalation_id",)
    ESCALATION_ID_FIELD_NUMBER: _ClassVar[int]
    escalation_id: str
    def __init__(self, escalation_id: _Optional[str] = ...) -> None: ...

class GetEscalationResponse(_message.Message):
    __slots__ = ("escalation",)
    ESCALATION_FIELD_NUMBER: _ClassVar[int]
    escalation: Escalation
    def __init__(self, escalation: _Optional[_Union[Escalation, _Mapping]] = ...) -> None: ...

class ResolveEscalationRequest(_message.Message):
    __slots__ = ("request_id", "escalation_id", "resolution_note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_ID_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    escalation_id: str
    resolution_note: str
    def __init__(self, request_id: _Optional[str] = ..., escalation_id: _Optional[str] = ..., resolution_note: _Optional[str] = ...) -> None: ...

class ResolveEscalationResponse(_message.Message):
    __slots__ = ("escalation",)
    ESCALATION_FIELD_NUMBER: _ClassVar[int]
    escalation: Escalation
    def __init__(self, escalation: _Optional[_Union[Escalation, _Mapping]] = ...) -> None: ...

class ApprovedAnswer(_message.Message):
    __slots__ = ("text", "owner", "version", "expire_time")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    text: str
    owner: str
    version: str
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, text: _Optional[str] = ..., owner: _Optional[str] = ..., version: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Document(_message.Message):
    __slots__ = ("document_id", "title", "locale", "intents", "body_markdown", "approved_answer", "update_time", "chunk_count", "content_sha256")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    INTENTS_FIELD_NUMBER: _ClassVar[int]
    BODY_MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    APPROVED_ANSWER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    title: str
    locale: str
    intents: _containers.RepeatedScalarFieldContainer[str]
    body_markdown: str
    approved_answer: ApprovedAnswer
    update_time: _timestamp_pb2.Timestamp
    chunk_count: int
    content_sha256: str
    def __init__(self, document_id: _Optional[str] = ..., title: _Optional[str] = ..., locale: _Optional[str] = ..., intents: _Optional[_Iterable[str]] = ..., body_markdown: _Optional[str] = ..., approved_answer: _Optional[_Union[ApprovedAnswer, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., chunk_count: _Optional[int] = ..., content_sha256: _Optional[str] = ...) -> None: ...

class UpsertDocumentRequest(_message.Message):
    __slots__ = ("request_id", "document")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    document: Document
    def __init__(self, request_id: _Optional[str] = ..., document: _Optional[_Union[Document, _Mapping]] = ...) -> None: ...

class UpsertDocumentResponse(_message.Message):
    __slots__ = ("document", "changed", "chunks_added", "chunks_removed")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_ADDED_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    document: Document
    changed: bool
    chunks_added: int
    chunks_removed: int
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ..., changed: _Optional[bool] = ..., chunks_added: _Optional[int] = ..., chunks_removed: _Optional[int] = ...) -> None: ...

class DeleteDocumentRequest(_message.Message):
    __slots__ = ("request_id", "document_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    document_id: str
    def __init__(self, request_id: _Optional[str] = ..., document_id: _Optional[str] = ...) -> None: ...

class DeleteDocumentResponse(_message.Message):
    __slots__ = ("chunks_removed",)
    CHUNKS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    chunks_removed: int
    def __init__(self, chunks_removed: _Optional[int] = ...) -> None: ...

class ListDocumentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "locale", "intent")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    locale: str
    intent: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., locale: _Optional[str] = ..., intent: _Optional[str] = ...) -> None: ...

class ListDocumentsResponse(_message.Message):
    __slots__ = ("documents", "next_page_token")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[Document]
    next_page_token: str
    def __init__(self, documents: _Optional[_Iterable[_Union[Document, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SearchKnowledgeRequest(_message.Message):
    __slots__ = ("query", "top_k", "locale", "intents", "mode")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    INTENTS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    query: str
    top_k: int
    locale: str
    intents: _containers.RepeatedScalarFieldContainer[str]
    mode: SearchMode
    def __init__(self, query: _Optional[str] = ..., top_k: _Optional[int] = ..., locale: _Optional[str] = ..., intents: _Optional[_Iterable[str]] = ..., mode: _Optional[_Union[SearchMode, str]] = ...) -> None: ...

class KnowledgeHit(_message.Message):
    __slots__ = ("chunk_id", "document_id", "title", "heading", "text", "score")
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    HEADING_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    chunk_id: str
    document_id: str
    title: str
    heading: str
    text: str
    score: float
    def __init__(self, chunk_id: _Optional[str] = ..., document_id: _Optional[str] = ..., title: _Optional[str] = ..., heading: _Optional[str] = ..., text: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class SearchKnowledgeResponse(_message.Message):
    __slots__ = ("hits",)
    HITS_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[KnowledgeHit]
    def __init__(self, hits: _Optional[_Iterable[_Union[KnowledgeHit, _Mapping]]] = ...) -> None: ...
