import datetime

from buf.validate import validate_pb2 as _validate_pb2
from fintech.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuditRecordKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_RECORD_KIND_UNSPECIFIED: _ClassVar[AuditRecordKind]
    AUDIT_RECORD_KIND_DECISION: _ClassVar[AuditRecordKind]
    AUDIT_RECORD_KIND_CONFIG_CHANGE: _ClassVar[AuditRecordKind]
    AUDIT_RECORD_KIND_SIGN_IN: _ClassVar[AuditRecordKind]
    AUDIT_RECORD_KIND_DATA_ACCESS: _ClassVar[AuditRecordKind]
    AUDIT_RECORD_KIND_KEY_MANAGEMENT: _ClassVar[AuditRecordKind]
    AUDIT_RECORD_KIND_RETENTION: _ClassVar[AuditRecordKind]

class PayloadState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYLOAD_STATE_UNSPECIFIED: _ClassVar[PayloadState]
    PAYLOAD_STATE_AVAILABLE: _ClassVar[PayloadState]
    PAYLOAD_STATE_EMPTY: _ClassVar[PayloadState]
    PAYLOAD_STATE_ERASED: _ClassVar[PayloadState]
    PAYLOAD_STATE_OMITTED: _ClassVar[PayloadState]

class ChainProblem(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHAIN_PROBLEM_UNSPECIFIED: _ClassVar[ChainProblem]
    CHAIN_PROBLEM_NONE: _ClassVar[ChainProblem]
    CHAIN_PROBLEM_HASH_MISMATCH: _ClassVar[ChainProblem]
    CHAIN_PROBLEM_LINK_BROKEN: _ClassVar[ChainProblem]
    CHAIN_PROBLEM_SEQUENCE_GAP: _ClassVar[ChainProblem]
    CHAIN_PROBLEM_CHECKPOINT_MISMATCH: _ClassVar[ChainProblem]
    CHAIN_PROBLEM_CHECKPOINT_BEYOND_END: _ClassVar[ChainProblem]
    CHAIN_PROBLEM_HEAD_MISMATCH: _ClassVar[ChainProblem]
    CHAIN_PROBLEM_CHECKPOINT_INVALID: _ClassVar[ChainProblem]
AUDIT_RECORD_KIND_UNSPECIFIED: AuditRecordKind
AUDIT_RECORD_KIND_DECISION: AuditRecordKind
AUDIT_RECORD_KIND_CONFIG_CHANGE: AuditRecordKind
AUDIT_RECORD_KIND_SIGN_IN: AuditRecordKind
AUDIT_RECORD_KIND_DATA_ACCESS: AuditRecordKind
AUDIT_RECORD_KIND_KEY_MANAGEMENT: AuditRecordKind
AUDIT_RECORD_KIND_RETENTION: AuditRecordKind
PAYLOAD_STATE_UNSPECIFIED: PayloadState
PAYLOAD_STATE_AVAILABLE: PayloadState
PAYLOAD_STATE_EMPTY: PayloadState
PAYLOAD_STATE_ERASED: PayloadState
PAYLOAD_STATE_OMITTED: PayloadState
CHAIN_PROBLEM_UNSPECIFIED: ChainProblem
CHAIN_PROBLEM_NONE: ChainProblem
CHAIN_PROBLEM_HASH_MISMATCH: ChainProblem
CHAIN_PROBLEM_LINK_BROKEN: ChainProblem
CHAIN_PROBLEM_SEQUENCE_GAP: ChainProblem
CHAIN_PROBLEM_CHECKPOINT_MISMATCH: ChainProblem
CHAIN_PROBLEM_CHECKPOINT_BEYOND_END: ChainProblem
CHAIN_PROBLEM_HEAD_MISMATCH: ChainProblem
CHAIN_PROBLEM_CHECKPOINT_INVALID: ChainProblem

class AuditRecord(_message.Message):
    __slots__ = ("record_id", "sequence_number", "record_time", "kind", "request_id", "caller", "rpc", "subject_type", "subject_id", "input_digest", "engine", "engine_version", "rule_set_version", "model_id", "prompt_template_id", "prompt_template_digest", "validation_outcome", "decision", "trace_id", "previous_hash", "record_hash", "payload_state", "raw_llm_output", "inputs_json", "details_json")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    RPC_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    RULE_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_HASH_FIELD_NUMBER: _ClassVar[int]
    RECORD_HASH_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_STATE_FIELD_NUMBER: _ClassVar[int]
    RAW_LLM_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    INPUTS_JSON_FIELD_NUMBER: _ClassVar[int]
    DETAILS_JSON_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    sequence_number: int
    record_time: _timestamp_pb2.Timestamp
    kind: AuditRecordKind
    request_id: str
    caller: str
    rpc: str
    subject_type: str
    subject_id: str
    input_digest: str
    engine: str
    engine_version: str
    rule_set_version: str
    model_id: str
    prompt_template_id: str
    prompt_template_digest: str
    validation_outcome: _common_pb2.ValidationOutcome
    decision: str
    trace_id: str
    previous_hash: str
    record_hash: str
    payload_state: PayloadState
    raw_llm_output: str
    inputs_json: str
    details_json: str
    def __init__(self, record_id: _Optional[str] = ..., sequence_number: _Optional[int] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[AuditRecordKind, str]] = ..., request_id: _Optional[str] = ..., caller: _Optional[str] = ..., rpc: _Optional[str] = ..., subject_type: _Optional[str] = ..., subject_id: _Optional[str] = ..., input_digest: _Optional[str] = ..., engine: _Optional[str] = ..., engine_version: _Optional[str] = ..., rule_set_version: _Optional[str] = ..., model_id: _Optional[str] = ..., prompt_template_id: _Optional[str] = ..., prompt_template_digest: _Optional[str] = ..., validation_outcome: _Optional[_Union[_common_pb2.ValidationOutcome, str]] = ..., decision: _Optional[str] = ..., trace_id: _Optional[str] = ..., previous_hash: _Optional[str] = ..., record_hash: _Optional[str] = ..., payload_state: _Optional[_Union[PayloadState, str]] = ..., raw_llm_output: _Optional[str] = ..., inputs_json: _Optional[str] = ..., details_json: _Optional[str] = ...) -> None: ...

class ListAuditRecordsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "time_range", "subject_type", "subject_id", "rpc", "caller", "decision", "kind")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    RPC_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    time_range: _common_pb2.TimeRange
    subject_type: str
    subject_id: str
    rpc: str
    caller: str
    decision: str
    kind: AuditRecordKind
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., subject_type: _Optional[str] = ..., subject_id: _Optional[str] = ..., rpc: _Optional[str] = ..., caller: _Optional[str] = ..., decision: _Optional[str] = ..., kind: _Optional[_Union[AuditRecordKind, str]] = ...) -> None: ...

class ListAuditRecordsResponse(_message.Message):
    __slots__ = ("audit_records", "next_page_token")
    AUDIT_RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    audit_records: _containers.RepeatedCompositeFieldContainer[AuditRecord]
    next_page_token: str
    def __init__(self, audit_records: _Optional[_Iterable[_Union[AuditRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetAuditRecordRequest(_message.Message):
    __slots__ = ("record_id",)
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    def __init__(self, record_id: _Optional[str] = ...) -> None: ...

class GetAuditRecordResponse(_message.Message):
    __slots__ = ("audit_record",)
    AUDIT_RECORD_FIELD_NUMBER: _ClassVar[int]
    audit_record: AuditRecord
    def __init__(self, audit_record: _Optional[_Union[AuditRecord, _Mapping]] = ...) -> None: ...

class VerifyAuditChainRequest(_message.Message):
    __slots__ = ("start_sequence_number", "end_sequence_number")
    START_SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    END_SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    start_sequence_number: int
    end_sequence_number: int
    def __init__(self, start_sequence_number: _Optional[int] = ..., end_sequence_number: _Optional[int] = ...) -> None: ...

class VerifyAuditChainResult(_message.Message):
    __slots__ = ("ok", "problem", "first_bad_sequence_number", "first_bad_record_id", "detail", "checkpoints_checked", "last_sequence_number", "last_hash")
    OK_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    FIRST_BAD_SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FIRST_BAD_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINTS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LAST_HASH_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    problem: ChainProblem
    first_bad_sequence_number: int
    first_bad_record_id: str
    detail: str
    checkpoints_checked: int
    last_sequence_number: int
    last_hash: str
    def __init__(self, ok: _Optional[bool] = ..., problem: _Optional[_Union[ChainProblem, str]] = ..., first_bad_sequence_number: _Optional[int] = ..., first_bad_record_id: _Optional[str] = ..., detail: _Optional[str] = ..., checkpoints_checked: _Optional[int] = ..., last_sequence_number: _Optional[int] = ..., last_hash: _Optional[str] = ...) -> None: ...

class VerifyAuditChainResponse(_message.Message):
    __slots__ = ("checked_count", "total_count", "result")
    CHECKED_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    checked_count: int
    total_count: int
    result: VerifyAuditChainResult
    def __init__(self, checked_count: _Optional[int] = ..., total_count: _Optional[int] = ..., result: _Optional[_Union[VerifyAuditChainResult, _Mapping]] = ...) -> None: ...
