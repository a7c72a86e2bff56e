import datetime

from buf.validate import validate_pb2 as _validate_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ValidationOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALIDATION_OUTCOME_UNSPECIFIED: _ClassVar[ValidationOutcome]
    VALIDATION_OUTCOME_PASSED: _ClassVar[ValidationOutcome]
    VALIDATION_OUTCOME_FAILED: _ClassVar[ValidationOutcome]
    VALIDATION_OUTCOME_NOT_APPLICABLE: _ClassVar[ValidationOutcome]

class ExplanationSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPLANATION_SOURCE_UNSPECIFIED: _ClassVar[ExplanationSource]
    EXPLANATION_SOURCE_LLM: _ClassVar[ExplanationSource]
    EXPLANATION_SOURCE_TEMPLATE: _ClassVar[ExplanationSource]
    EXPLANATION_SOURCE_NONE: _ClassVar[ExplanationSource]

class ServingState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVING_STATE_UNSPECIFIED: _ClassVar[ServingState]
    SERVING_STATE_SERVING: _ClassVar[ServingState]
    SERVING_STATE_NOT_SERVING: _ClassVar[ServingState]
    SERVING_STATE_DEGRADED: _ClassVar[ServingState]

class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEVERITY_UNSPECIFIED: _ClassVar[Severity]
    SEVERITY_LOW: _ClassVar[Severity]
    SEVERITY_MEDIUM: _ClassVar[Severity]
    SEVERITY_HIGH: _ClassVar[Severity]
    SEVERITY_CRITICAL: _ClassVar[Severity]
VALIDATION_OUTCOME_UNSPECIFIED: ValidationOutcome
VALIDATION_OUTCOME_PASSED: ValidationOutcome
VALIDATION_OUTCOME_FAILED: ValidationOutcome
VALIDATION_OUTCOME_NOT_APPLICABLE: ValidationOutcome
EXPLANATION_SOURCE_UNSPECIFIED: ExplanationSource
EXPLANATION_SOURCE_LLM: ExplanationSource
EXPLANATION_SOURCE_TEMPLATE: ExplanationSource
EXPLANATION_SOURCE_NONE: ExplanationSource
SERVING_STATE_UNSPECIFIED: ServingState
SERVING_STATE_SERVING: ServingState
SERVING_STATE_NOT_SERVING: ServingState
SERVING_STATE_DEGRADED: ServingState
SEVERITY_UNSPECIFIED: Severity
SEVERITY_LOW: Severity
SEVERITY_MEDIUM: Severity
SEVERITY_HIGH: Severity
SEVERITY_CRITICAL: Severity

class Money(_message.Message):
    __slots__ = ("currency_code", "units", "nanos")
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    NANOS_FIELD_NUMBER: _ClassVar[int]
    currency_code: str
    units: int
    nanos: int
    def __init__(self, currency_code: _Optional[str] = ..., units: _Optional[int] = ..., nanos: _Optional[int] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UnsupportedSpan(_message.Message):
    __slots__ = ("start", "end", "text", "reason")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    text: str
    reason: str
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ..., text: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Provenance(_message.Message):
    __slots__ = ("engine", "engine_version", "rule_set_version", "model_id", "prompt_template_id", "prompt_template_version", "llm_model", "llm_endpoint", "validation_outcome", "audit_record_id", "trace_id")
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    RULE_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    LLM_MODEL_FIELD_NUMBER: _ClassVar[int]
    LLM_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    AUDIT_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    engine: str
    engine_version: str
    rule_set_version: str
    model_id: str
    prompt_template_id: str
    prompt_template_version: str
    llm_model: str
    llm_endpoint: str
    validation_outcome: ValidationOutcome
    audit_record_id: str
    trace_id: str
    def __init__(self, engine: _Optional[str] = ..., engine_version: _Optional[str] = ..., rule_set_version: _Optional[str] = ..., model_id: _Optional[str] = ..., prompt_template_id: _Optional[str] = ..., prompt_template_version: _Optional[str] = ..., llm_model: _Optional[str] = ..., llm_endpoint: _Optional[str] = ..., validation_outcome: _Optional[_Union[ValidationOutcome, str]] = ..., audit_record_id: _Optional[str] = ..., trace_id: _Optional[str] = ...) -> None: ...
