import datetime

from buf.validate import validate_pb2 as _validate_pb2
from fintech.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DocumentFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_FORMAT_UNSPECIFIED: _ClassVar[DocumentFormat]
    DOCUMENT_FORMAT_PLAIN_TEXT: _ClassVar[DocumentFormat]
    DOCUMENT_FORMAT_MARKDOWN: _ClassVar[DocumentFormat]
    DOCUMENT_FORMAT_PDF: _ClassVar[DocumentFormat]
    DOCUMENT_FORMAT_DOCX: _ClassVar[DocumentFormat]

class ClauseLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLAUSE_LEVEL_UNSPECIFIED: _ClassVar[ClauseLevel]
    CLAUSE_LEVEL_CHAPTER: _ClassVar[ClauseLevel]
    CLAUSE_LEVEL_ARTICLE: _ClassVar[ClauseLevel]
    CLAUSE_LEVEL_PARAGRAPH: _ClassVar[ClauseLevel]
    CLAUSE_LEVEL_ITEM: _ClassVar[ClauseLevel]
    CLAUSE_LEVEL_SECTION: _ClassVar[ClauseLevel]

class Modality(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODALITY_UNSPECIFIED: _ClassVar[Modality]
    MODALITY_SHALL: _ClassVar[Modality]
    MODALITY_MUST: _ClassVar[Modality]
    MODALITY_SHALL_NOT: _ClassVar[Modality]
    MODALITY_MAY: _ClassVar[Modality]

class TimelineEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIMELINE_EVENT_TYPE_UNSPECIFIED: _ClassVar[TimelineEventType]
    TIMELINE_EVENT_TYPE_EFFECTIVE: _ClassVar[TimelineEventType]
    TIMELINE_EVENT_TYPE_TRANSITION_DEADLINE: _ClassVar[TimelineEventType]
    TIMELINE_EVENT_TYPE_RECURRING_DEADLINE: _ClassVar[TimelineEventType]
    TIMELINE_EVENT_TYPE_OTHER: _ClassVar[TimelineEventType]

class ClauseChangeType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLAUSE_CHANGE_TYPE_UNSPECIFIED: _ClassVar[ClauseChangeType]
    CLAUSE_CHANGE_TYPE_ADDED: _ClassVar[ClauseChangeType]
    CLAUSE_CHANGE_TYPE_REMOVED: _ClassVar[ClauseChangeType]
    CLAUSE_CHANGE_TYPE_MODIFIED: _ClassVar[ClauseChangeType]
    CLAUSE_CHANGE_TYPE_MOVED: _ClassVar[ClauseChangeType]

class StrictnessChange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STRICTNESS_CHANGE_UNSPECIFIED: _ClassVar[StrictnessChange]
    STRICTNESS_CHANGE_STRICTER: _ClassVar[StrictnessChange]
    STRICTNESS_CHANGE_LOOSER: _ClassVar[StrictnessChange]
    STRICTNESS_CHANGE_CHANGED: _ClassVar[StrictnessChange]

class ContractType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTRACT_TYPE_UNSPECIFIED: _ClassVar[ContractType]
    CONTRACT_TYPE_LOAN: _ClassVar[ContractType]
    CONTRACT_TYPE_GUARANTEE: _ClassVar[ContractType]
    CONTRACT_TYPE_WEALTH_MANAGEMENT: _ClassVar[ContractType]
    CONTRACT_TYPE_INVESTMENT: _ClassVar[ContractType]
    CONTRACT_TYPE_OUTSOURCING: _ClassVar[ContractType]

class FindingType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINDING_TYPE_UNSPECIFIED: _ClassVar[FindingType]
    FINDING_TYPE_MISSING_CLAUSE: _ClassVar[FindingType]
    FINDING_TYPE_PROHIBITED_TERM: _ClassVar[FindingType]
    FINDING_TYPE_LIMIT_EXCEEDED: _ClassVar[FindingType]
    FINDING_TYPE_INCONSISTENCY: _ClassVar[FindingType]
    FINDING_TYPE_ADVISORY: _ClassVar[FindingType]

class ResultView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESULT_VIEW_UNSPECIFIED: _ClassVar[ResultView]
    RESULT_VIEW_BASIC: _ClassVar[ResultView]
    RESULT_VIEW_FULL: _ClassVar[ResultView]
DOCUMENT_FORMAT_UNSPECIFIED: DocumentFormat
DOCUMENT_FORMAT_PLAIN_TEXT: DocumentFormat
DOCUMENT_FORMAT_MARKDOWN: DocumentFormat
DOCUMENT_FORMAT_PDF: DocumentFormat
DOCUMENT_FORMAT_DOCX: DocumentFormat
CLAUSE_LEVEL_UNSPECIFIED: ClauseLevel
CLAUSE_LEVEL_CHAPTER: ClauseLevel
CLAUSE_LEVEL_ARTICLE: ClauseLevel
CLAUSE_LEVEL_PARAGRAPH: ClauseLevel
CLAUSE_LEVEL_ITEM: ClauseLevel
CLAUSE_LEVEL_SECTION: ClauseLevel
MODALITY_UNSPECIFIED: Modality
MODALITY_SHALL: Modality
MODALITY_MUST: Modality
MODALITY_SHALL_NOT: Modality
MODALITY_MAY: Modality
TIMELINE_EVENT_TYPE_UNSPECIFIED: TimelineEventType
TIMELINE_EVENT_TYPE_EFFECTIVE: TimelineEventType
TIMELINE_EVENT_TYPE_TRANSITION_DEADLINE: TimelineEventType
TIMELINE_EVENT_TYPE_RECURRING_DEADLINE: TimelineEventType
TIMELINE_EVENT_TYPE_OTHER: TimelineEventType
CLAUSE_CHANGE_TYPE_UNSPECIFIED: ClauseChangeType
CLAUSE_CHANGE_TYPE_ADDED: ClauseChangeType
CLAUSE_CHANGE_TYPE_REMOVED: ClauseChangeType
CLAUSE_CHANGE_TYPE_MODIFIED: ClauseChangeType
CLAUSE_CHANGE_TYPE_MOVED: ClauseChangeType
STRICTNESS_CHANGE_UNSPECIFIED: StrictnessChange
STRICTNESS_CHANGE_STRICTER: StrictnessChange
STRICTNESS_CHANGE_LOOSER: StrictnessChange
STRICTNESS_CHANGE_CHANGED: StrictnessChange
CONTRACT_TYPE_UNSPECIFIED: ContractType
CONTRACT_TYPE_LOAN: ContractType
CONTRACT_TYPE_GUARANTEE: ContractType
CONTRACT_TYPE_WEALTH_MANAGEMENT: ContractType
CONTRACT_TYPE_INVESTMENT: ContractType
CONTRACT_TYPE_OUTSOURCING: ContractType
FINDING_TYPE_UNSPECIFIED: FindingType
FINDING_TYPE_MISSING_CLAUSE: FindingType
FINDING_TYPE_PROHIBITED_TERM: FindingType
FINDING_TYPE_LIMIT_EXCEEDED: FindingType
FINDING_TYPE_INCONSISTENCY: FindingType
FINDING_TYPE_ADVISORY: FindingType
RESULT_VIEW_UNSPECIFIED: ResultView
RESULT_VIEW_BASIC: ResultView
RESULT_VIEW_FULL: ResultView

class DocumentContent(_message.Message):
    __slots__ = ("filename", "format", "content")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    filename: str
    format: DocumentFormat
    content: bytes
    def __init__(self, filename: _Optional[str] = ..., format: _Optional[_Union[DocumentFormat, str]] = ..., content: _Optional[bytes] = ...) -> None: ...

class Clause(_message.Message):
    __slots__ = ("clause_id", "level", "number", "heading", "text", "parent_clause_id")
    CLAUSE_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    HEADING_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PARENT_CLAUSE_ID_FIELD_NUMBER: _ClassVar[int]
    clause_id: str
    level: ClauseLevel
    number: str
    heading: str
    text: str
    parent_clause_id: str
    def __init__(self, clause_id: _Optional[str] = ..., level: _Optional[_Union[ClauseLevel, str]] = ..., number: _Optional[str] = ..., heading: _Optional[str] = ..., text: _Optional[str] = ..., parent_clause_id: _Optional[str] = ...) -> None: ...

class Obligation(_message.Message):
    __slots__ = ("obligation_id", "clause_id", "modality", "subject", "action", "condition", "source_text")
    OBLIGATION_ID_FIELD_NUMBER: _ClassVar[int]
    CLAUSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODALITY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TEXT_FIELD_NUMBER: _ClassVar[int]
    obligation_id: str
    clause_id: str
    modality: Modality
    subject: str
    action: str
    condition: str
    source_text: str
    def __init__(self, obligation_id: _Optional[str] = ..., clause_id: _Optional[str] = ..., modality: _Optional[_Union[Modality, str]] = ..., subject: _Optional[str] = ..., action: _Optional[str] = ..., condition: _Optional[str] = ..., source_text: _Optional[str] = ...) -> None: ...

class TimelineEvent(_message.Message):
    __slots__ = ("clause_id", "event_type", "date", "description", "source_text")
    CLAUSE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TEXT_FIELD_NUMBER: _ClassVar[int]
    clause_id: str
    event_type: TimelineEventType
    date: _date_pb2.Date
    description: str
    source_text: str
    def __init__(self, clause_id: _Optional[str] = ..., event_type: _Optional[_Union[TimelineEventType, str]] = ..., date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., description: _Optional[str] = ..., source_text: _Optional[str] = ...) -> None: ...

class ProcessImpact(_message.Message):
    __slots__ = ("business_line", "process", "score", "clause_ids")
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    CLAUSE_IDS_FIELD_NUMBER: _ClassVar[int]
    business_line: str
    process: str
    score: float
    clause_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, business_line: _Optional[str] = ..., process: _Optional[str] = ..., score: _Optional[float] = ..., clause_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RiskPoint(_message.Message):
    __slots__ = ("clause_id", "severity", "description")
    CLAUSE_ID_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    clause_id: str
    severity: _common_pb2.Severity
    description: str
    def __init__(self, clause_id: _Optional[str] = ..., severity: _Optional[_Union[_common_pb2.Severity, str]] = ..., description: _Optional[str] = ...) -> None: ...

class ClauseSummary(_message.Message):
    __slots__ = ("clause_ids", "summary", "validation_outcome", "unsupported_spans")
    CLAUSE_IDS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    UNSUPPORTED_SPANS_FIELD_NUMBER: _ClassVar[int]
    clause_ids: _containers.RepeatedScalarFieldContainer[str]
    summary: str
    validation_outcome: _common_pb2.ValidationOutcome
    unsupported_spans: _containers.RepeatedCompositeFieldContainer[_common_pb2.UnsupportedSpan]
    def __init__(self, clause_ids: _Optional[_Iterable[str]] = ..., summary: _Optional[str] = ..., validation_outcome: _Optional[_Union[_common_pb2.ValidationOutcome, str]] = ..., unsupported_spans: _Optional[_Iterable[_Union[_common_pb2.UnsupportedSpan, _Mapping]]] = ...) -> None: ...

class RegulationAnalysis(_message.Message):
    __slots__ = ("analysis_id", "regulation_id", "title", "clauses", "obligations", "timeline", "impacts", "risk_points", "summaries", "overall_summary", "word_count", "provenance", "create_time")
    ANALYSIS_ID_FIELD_NUMBER: _ClassVar[int]
    REGULATION_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CLAUSES_FIELD_NUMBER: _ClassVar[int]
    OBLIGATIONS_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    IMPACTS_FIELD_NUMBER: _ClassVar[int]
    RISK_POINTS_FIELD_NUMBER: _ClassVar[int]
    SUMMARIES_FIELD_NUMBER: _ClassVar[int]
    OVERALL_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    WORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    analysis_id: str
    regulation_id: str
    title: str
    clauses: _containers.RepeatedCompositeFieldContainer[Clause]
    obligations: _containers.RepeatedCompositeFieldContainer[Obligation]
    timeline: _containers.RepeatedCompositeFieldContainer[TimelineEvent]
    impacts: _containers.RepeatedCompositeFieldContainer[ProcessImpact]
    risk_points: _containers.RepeatedCompositeFieldContainer[RiskPoint]
    summaries: _containers.RepeatedCompositeFieldContainer[ClauseSummary]
    overall_summary: ClauseSummary
    word_count: int
    provenance: _common_pb2.Provenance
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, analysis_id: _Optional[str] = ..., regulation_id: _Optional[str] = ..., title: _Optional[str] = ..., clauses: _Optional[_Iterable[_Union[Clause, _Mapping]]] = ..., obligations: _Optional[_Iterable[_Union[Obligation, _Mapping]]] = ..., timeline: _Optional[_Iterable[_Union[TimelineEvent, _Mapping]]] = ..., impacts: _Optional[_Iterable[_Union[ProcessImpact, _Mapping]]] = ..., risk_points: _Optional[_Iterable[_Union[RiskPoint, _Mapping]]] = ..., summaries: _Optional[_Iterable[_Union[ClauseSummary, _Mapping]]] = ..., overall_summary: _Optional[_Union[ClauseSummary, _Mapping]] = ..., word_count: _Optional[int] = ..., provenance: _Optional[_Union[_common_pb2.Provenance, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AnalyzeRegulationRequest(_message.Message):
    __slots__ = ("request_id", "regulation_id", "document", "reference_date", "include_summaries")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REGULATION_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SUMMARIES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    regulation_id: str
    document: DocumentContent
    reference_date: _date_pb2.Date
    include_summaries: bool
    def __init__(self, request_id: _Optional[str] = ..., regulation_id: _Optional[str] = ..., document: _Optional[_Union[DocumentContent, _Mapping]] = ..., reference_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., include_summaries: _Optional[bool] = ...) -> None: ...

class AnalyzeRegulationResponse(_message.Message):
    __slots__ = ("analysis",)
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    analysis: RegulationAnalysis
    def __init__(self, analysis: _Optional[_Union[RegulationAnalysis, _Mapping]] = ...) -> None: ...

class CompareRegulationVersionsRequest(_message.Message):
    __slots__ = ("request_id", "old_version", "new_version", "regulation_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OLD_VERSION_FIELD_NUMBER: _ClassVar[int]
    NEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    REGULATION_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    old_version: DocumentContent
    new_version: DocumentContent
    regulation_id: str
    def __init__(self, request_id: _Optional[str] = ..., old_version: _Optional[_Union[DocumentContent, _Mapping]] = ..., new_version: _Optional[_Union[DocumentContent, _Mapping]] = ..., regulation_id: _Optional[str] = ...) -> None: ...

class ClauseChange(_message.Message):
    __slots__ = ("change_type", "old_clause_id", "new_clause_id", "old_text", "new_text", "similarity")
    CHANGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    OLD_CLAUSE_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_CLAUSE_ID_FIELD_NUMBER: _ClassVar[int]
    OLD_TEXT_FIELD_NUMBER: _ClassVar[int]
    NEW_TEXT_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    change_type: ClauseChangeType
    old_clause_id: str
    new_clause_id: str
    old_text: str
    new_text: str
    similarity: float
    def __init__(self, change_type: _Optional[_Union[ClauseChangeType, str]] = ..., old_clause_id: _Optional[str] = ..., new_clause_id: _Optional[str] = ..., old_text: _Optional[str] = ..., new_text: _Optional[str] = ..., similarity: _Optional[float] = ...) -> None: ...

class ObligationChange(_message.Message):
    __slots__ = ("strictness", "old_obligation", "new_obligation", "explanation")
    STRICTNESS_FIELD_NUMBER: _ClassVar[int]
    OLD_OBLIGATION_FIELD_NUMBER: _ClassVar[int]
    NEW_OBLIGATION_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    strictness: StrictnessChange
    old_obligation: Obligation
    new_obligation: Obligation
    explanation: str
    def __init__(self, strictness: _Optional[_Union[StrictnessChange, str]] = ..., old_obligation: _Optional[_Union[Obligation, _Mapping]] = ..., new_obligation: _Optional[_Union[Obligation, _Mapping]] = ..., explanation: _Optional[str] = ...) -> None: ...

class TimelineChange(_message.Message):
    __slots__ = ("old_event", "new_event", "explanation")
    OLD_EVENT_FIELD_NUMBER: _ClassVar[int]
    NEW_EVENT_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    old_event: TimelineEvent
    new_event: TimelineEvent
    explanation: str
    def __init__(self, old_event: _Optional[_Union[TimelineEvent, _Mapping]] = ..., new_event: _Optional[_Union[TimelineEvent, _Mapping]] = ..., explanation: _Optional[str] = ...) -> None: ...

class CompareRegulationVersionsResponse(_message.Message):
    __slots__ = ("clause_changes", "obligation_changes", "timeline_changes", "provenance", "comparison_id")
    CLAUSE_CHANGES_FIELD_NUMBER: _ClassVar[int]
    OBLIGATION_CHANGES_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_CHANGES_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_ID_FIELD_NUMBER: _ClassVar[int]
    clause_changes: _containers.RepeatedCompositeFieldContainer[ClauseChange]
    obligation_changes: _containers.RepeatedCompositeFieldContainer[ObligationChange]
    timeline_changes: _containers.RepeatedCompositeFieldContainer[TimelineChange]
    provenance: _common_pb2.Provenance
    comparison_id: str
    def __init__(self, clause_changes: _Optional[_Iterable[_Union[ClauseChange, _Mapping]]] = ..., obligation_changes: _Optional[_Iterable[_Union[ObligationChange, _Mapping]]] = ..., timeline_changes: _Optional[_Iterable[_Union[TimelineChange, _Mapping]]] = ..., provenance: _Optional[_Union[_common_pb2.Provenance, _Mapping]] = ..., comparison_id: _Optional[str] = ...) -> None: ...

class VersionComparison(_message.Message):
    __slots__ = ("comparison_id", "regulation_id", "old_filename", "new_filename", "clause_changes", "obligation_changes", "timeline_changes", "provenance", "create_time", "old_clauses", "new_clauses")
    COMPARISON_ID_FIELD_NUMBER: _ClassVar[int]
    REGULATION_ID_FIELD_NUMBER: _ClassVar[int]
    OLD_FILENAME_FIELD_NUMBER: _ClassVar[int]
    NEW_FILENAME_FIELD_NUMBER: _ClassVar[int]
    CLAUSE_CHANGES_FIELD_NUMBER: _ClassVar[int]
    OBLIGATION_CHANGES_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_CHANGES_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    OLD_CLAUSES_FIELD_NUMBER: _ClassVar[int]
    NEW_CLAUSES_FIELD_NUMBER: _ClassVar[int]
    comparison_id: str
    regulation_id: str
    old_filename: str
    new_filename: str
    clause_changes: _containers.RepeatedCompositeFieldContainer[ClauseChange]
    obligation_changes: _containers.RepeatedCompositeFieldContainer[ObligationChange]
    timeline_changes: _containers.RepeatedCompositeFieldContainer[TimelineChange]
    provenance: _common_pb2.Provenance
    create_time: _timestamp_pb2.Timestamp
    old_clauses: _containers.RepeatedCompositeFieldContainer[Clause]
    new_clauses: _containers.RepeatedCompositeFieldContainer[Clause]
    def __init__(self, comparison_id: _Optional[str] = ..., regulation_id: _Optional[str] = ..., old_filename: _Optional[str] = ..., new_filename: _Optional[str] = ..., clause_changes: _Optional[_Iterable[_Union[ClauseChange, _Mapping]]] = ..., obligation_changes: _Optional[_Iterable[_Union[ObligationChange, _Mapping]]] = ..., timeline_changes: _Optional[_Iterable[_Union[TimelineChange, _Mapping]]] = ..., provenance: _Optional[_Union[_common_pb2.Provenance, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., old_clauses: _Optional[_Iterable[_Union[Clause, _Mapping]]] = ..., new_clauses: _Optional[_Iterable[_Union[Clause, _Mapping]]] = ...) -> None: ...

class GetRegulationAnalysisRequest(_message.Message):
    __slots__ = ("analysis_id",)
    ANALYSIS_ID_FIELD_NUMBER: _ClassVar[int]
    analysis_id: str
    def __init__(self, analysis_id: _Optional[str] = ...) -> None: ...

class GetRegulationAnalysisResponse(_message.Message):
    __slots__ = ("analysis",)
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    analysis: RegulationAnalysis
    def __init__(self, analysis: _Optional[_Union[RegulationAnalysis, _Mapping]] = ...) -> None: ...

class ListRegulationAnalysesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "regulation_id", "view")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REGULATION_ID_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    regulation_id: str
    view: ResultView
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., regulation_id: _Optional[str] = ..., view: _Optional[_Union[ResultView, str]] = ...) -> None: ...

class ListRegulationAnalysesResponse(_message.Message):
    __slots__ = ("analyses", "next_page_token")
    ANALYSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    analyses: _containers.RepeatedCompositeFieldContainer[RegulationAnalysis]
    next_page_token: str
    def __init__(self, analyses: _Optional[_Iterable[_Union[RegulationAnalysis, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetVersionComparisonRequest(_message.Message):
    __slots__ = ("comparison_id",)
    COMPARISON_ID_FIELD_NUMBER: _ClassVar[int]
    comparison_id: str
    def __init__(self, comparison_id: _Optional[str] = ...) -> None: ...

class GetVersionComparisonResponse(_message.Message):
    __slots__ = ("comparison",)
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    comparison: VersionComparison
    def __init__(self, comparison: _Optional[_Union[VersionComparison, _Mapping]] = ...) -> None: ...

class ListVersionComparisonsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "regulation_id", "view")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REGULATION_ID_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    regulation_id: str
    view: ResultView
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., regulation_id: _Optional[str] = ..., view: _Optional[_Union[ResultView, str]] = ...) -> None: ...

class ListVersionComparisonsResponse(_message.Message):
    __slots__ = ("comparisons", "next_page_token")
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    comparisons: _containers.RepeatedCompositeFieldContainer[VersionComparison]
    next_page_token: str
    def __init__(self, comparisons: _Optional[_Iterable[_Union[VersionComparison, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Finding(_message.Message):
    __slots__ = ("finding_id", "check_id", "finding_type", "severity", "clause_id", "evidence", "suggested_fix", "advisory", "start", "end")
    FINDING_ID_FIELD_NUMBER: _ClassVar[int]
    CHECK_ID_FIELD_NUMBER: _ClassVar[int]
    FINDING_TYPE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    CLAUSE_ID_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_FIX_FIELD_NUMBER: _ClassVar[int]
    ADVISORY_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    finding_id: str
    check_id: str
    finding_type: FindingType
    severity: _common_pb2.Severity
    clause_id: str
    evidence: str
    suggested_fix: str
    advisory: bool
    start: int
    end: int
    def __init__(self, finding_id: _Optional[str] = ..., check_id: _Optional[str] = ..., finding_type: _Optional[_Union[FindingType, str]] = ..., severity: _Optional[_Union[_common_pb2.Severity, str]] = ..., clause_id: _Optional[str] = ..., evidence: _Optional[str] = ..., suggested_fix: _Optional[str] = ..., advisory: _Optional[bool] = ..., start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class ContractReview(_message.Message):
    __slots__ = ("review_id", "contract_id", "contract_type", "playbook_id", "playbook_version", "findings", "clauses", "create_time", "max_severity", "provenance")
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PLAYBOOK_ID_FIELD_NUMBER: _ClassVar[int]
    PLAYBOOK_VERSION_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    CLAUSES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    MAX_SEVERITY_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    contract_id: str
    contract_type: ContractType
    playbook_id: str
    playbook_version: str
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    clauses: _containers.RepeatedCompositeFieldContainer[Clause]
    create_time: _timestamp_pb2.Timestamp
    max_severity: _common_pb2.Severity
    provenance: _common_pb2.Provenance
    def __init__(self, review_id: _Optional[str] = ..., contract_id: _Optional[str] = ..., contract_type: _Optional[_Union[ContractType, str]] = ..., playbook_id: _Optional[str] = ..., playbook_version: _Optional[str] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., clauses: _Optional[_Iterable[_Union[Clause, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., max_severity: _Optional[_Union[_common_pb2.Severity, str]] = ..., provenance: _Optional[_Union[_common_pb2.Provenance, _Mapping]] = ...) -> None: ...

class ReviewContractRequest(_message.Message):
    __slots__ = ("request_id", "contract_id", "document", "playbook_id", "contract_type", "include_llm_advice")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    PLAYBOOK_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_TYPE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_LLM_ADVICE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    contract_id: str
    document: DocumentContent
    playbook_id: str
    contract_type: ContractType
    include_llm_advice: bool
    def __init__(self, request_id: _Optional[str] = ..., contract_id: _Optional[str] = ..., document: _Optional[_Union[DocumentContent, _Mapping]] = ..., playbook_id: _Optional[str] = ..., contract_type: _Optional[_Union[ContractType, str]] = ..., include_llm_advice: _Optional[bool] = ...) -> None: ...

class ReviewContractResponse(_message.Message):
    __slots__ = ("review",)
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    review: ContractReview
    def __init__(self, review: _Optional[_Union[ContractReview, _Mapping]] = ...) -> None: ...

class ReviewContractsRequest(_message.Message):
    __slots__ = ("item_id", "contract")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    contract: ReviewContractRequest
    def __init__(self, item_id: _Optional[str] = ..., contract: _Optional[_Union[ReviewContractRequest, _Mapping]] = ...) -> None: ...

class BatchProgress(_message.Message):
    __slots__ = ("completed", "failed")
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    completed: int
    failed: int
    def __init__(self, completed: _Optional[int] = ..., failed: _Optional[int] = ...) -> None: ...

class ReviewContractsResponse(_message.Message):
    __slots__ = ("item_id", "review", "error", "progress")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    review: ContractReview
    error: _status_pb2.Status
    progress: BatchProgress
    def __init__(self, item_id: _Optional[str] = ..., review: _Optional[_Union[ContractReview, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., progress: _Optional[_Union[BatchProgress, _Mapping]] = ...) -> None: ...

class ListContractReviewsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "playbook_id", "min_severity")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PLAYBOOK_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_SEVERITY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    playbook_id: str
    min_severity: _common_pb2.Severity
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., playbook_id: _Optional[str] = ..., min_severity: _Optional[_Union[_common_pb2.Severity, str]] = ...) -> None: ...

class ListContractReviewsResponse(_message.Message):
    __slots__ = ("reviews", "next_page_token")
    REVIEWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    reviews: _containers.RepeatedCompositeFieldContainer[ContractReview]
    next_page_token: str
    def __init__(self, reviews: _Optional[_Iterable[_Union[ContractReview, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetContractReviewRequest(_message.Message):
    __slots__ = ("review_id",)
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    def __init__(self, review_id: _Optional[str] = ...) -> None: ...

class GetContractReviewResponse(_message.Message):
    __slots__ = ("review",)
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    review: ContractReview
    def __init__(self, review: _Optional[_Union[ContractReview, _Mapping]] = ...) -> None: ...

class PlaybookCheck(_message.Message):
    __slots__ = ("check_id", "finding_type", "severity", "description")
    CHECK_ID_FIELD_NUMBER: _ClassVar[int]
    FINDING_TYPE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    check_id: str
    finding_type: FindingType
    severity: _common_pb2.Severity
    description: str
    def __init__(self, check_id: _Optional[str] = ..., finding_type: _Optional[_Union[FindingType, str]] = ..., severity: _Optional[_Union[_common_pb2.Severity, str]] = ..., description: _Optional[str] = ...) -> None: ...

class Playbook(_message.Message):
    __slots__ = ("playbook_id", "version", "title", "contract_types", "checks")
    PLAYBOOK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_TYPES_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    playbook_id: str
    version: str
    title: str
    contract_types: _containers.RepeatedScalarFieldContainer[ContractType]
    checks: _containers.RepeatedCompositeFieldContainer[PlaybookCheck]
    def __init__(self, playbook_id: _Optional[str] = ..., version: _Optional[str] = ..., title: _Optional[str] = ..., contract_types: _Optional[_Iterable[_Union[ContractType, str]]] = ..., checks: _Optional[_Iterable[_Union[PlaybookCheck, _Mapping]]] = ...) -> None: ...

class ListPlaybooksRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPlaybooksResponse(_message.Message):
    __slots__ = ("playbooks", "next_page_token")
    PLAYBOOKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    playbooks: _containers.RepeatedCompositeFieldContainer[Playbook]
    next_page_token: str
    def __init__(self, playbooks: _Optional[_Iterable[_Union[Playbook, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
