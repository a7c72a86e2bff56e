import datetime

from buf.validate import validate_pb2 as _validate_pb2
from fintech.common.v1 import common_pb2 as _common_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EndpointState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENDPOINT_STATE_UNSPECIFIED: _ClassVar[EndpointState]
    ENDPOINT_STATE_HEALTHY: _ClassVar[EndpointState]
    ENDPOINT_STATE_EJECTED: _ClassVar[EndpointState]
    ENDPOINT_STATE_CIRCUIT_OPEN: _ClassVar[EndpointState]
    ENDPOINT_STATE_HALF_OPEN: _ClassVar[EndpointState]
    ENDPOINT_STATE_DRAINING: _ClassVar[EndpointState]
ENDPOINT_STATE_UNSPECIFIED: EndpointState
ENDPOINT_STATE_HEALTHY: EndpointState
ENDPOINT_STATE_EJECTED: EndpointState
ENDPOINT_STATE_CIRCUIT_OPEN: EndpointState
ENDPOINT_STATE_HALF_OPEN: EndpointState
ENDPOINT_STATE_DRAINING: EndpointState

class ServiceHealth(_message.Message):
    __slots__ = ("service", "state", "detail")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    service: str
    state: _common_pb2.ServingState
    detail: str
    def __init__(self, service: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.ServingState, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class InferenceEndpointStatus(_message.Message):
    __slots__ = ("endpoint_id", "model_group", "url", "state", "outstanding_requests", "concurrency_limit", "weight", "ejections", "requests_waiting", "requests_running", "kv_cache_usage", "last_probe_time", "requests_total", "errors_total")
    ENDPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_GROUP_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    EJECTIONS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_WAITING_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    KV_CACHE_USAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_PROBE_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ERRORS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    endpoint_id: str
    model_group: str
    url: str
    state: EndpointState
    outstanding_requests: int
    concurrency_limit: int
    weight: int
    ejections: int
    requests_waiting: int
    requests_running: int
    kv_cache_usage: float
    last_probe_time: _timestamp_pb2.Timestamp
    requests_total: int
    errors_total: int
    def __init__(self, endpoint_id: _Optional[str] = ..., model_group: _Optional[str] = ..., url: _Optional[str] = ..., state: _Optional[_Union[EndpointState, str]] = ..., outstanding_requests: _Optional[int] = ..., concurrency_limit: _Optional[int] = ..., weight: _Optional[int] = ..., ejections: _Optional[int] = ..., requests_waiting: _Optional[int] = ..., requests_running: _Optional[int] = ..., kv_cache_usage: _Optional[float] = ..., last_probe_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., requests_total: _Optional[int] = ..., errors_total: _Optional[int] = ...) -> None: ...

class GetPlatformStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetPlatformStatusResponse(_message.Message):
    __slots__ = ("services", "endpoints", "status_time")
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_TIME_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[ServiceHealth]
    endpoints: _containers.RepeatedCompositeFieldContainer[InferenceEndpointStatus]
    status_time: _timestamp_pb2.Timestamp
    def __init__(self, services: _Optional[_Iterable[_Union[ServiceHealth, _Mapping]]] = ..., endpoints: _Optional[_Iterable[_Union[InferenceEndpointStatus, _Mapping]]] = ..., status_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetDailyFiguresRequest(_message.Message):
    __slots__ = ("start_date", "end_date")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    start_date: _date_pb2.Date
    end_date: _date_pb2.Date
    def __init__(self, start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class ReasonCount(_message.Message):
    __slots__ = ("reason", "count")
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    reason: str
    count: int
    def __init__(self, reason: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class DailyFigures(_message.Message):
    __slots__ = ("date", "answers", "escalations", "escalations_by_reason", "feedback_helpful", "feedback_not_helpful", "loan_assessments", "loan_referrals", "aml_alerts", "contract_reviews", "regulation_analyses")
    DATE_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    ESCALATIONS_FIELD_NUMBER: _ClassVar[int]
    ESCALATIONS_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_HELPFUL_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_NOT_HELPFUL_FIELD_NUMBER: _ClassVar[int]
    LOAN_ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    LOAN_REFERRALS_FIELD_NUMBER: _ClassVar[int]
    AML_ALERTS_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_REVIEWS_FIELD_NUMBER: _ClassVar[int]
    REGULATION_ANALYSES_FIELD_NUMBER: _ClassVar[int]
    date: _date_pb2.Date
    answers: int
    escalations: int
    escalations_by_reason: _containers.RepeatedCompositeFieldContainer[ReasonCount]
    feedback_helpful: int
    feedback_not_helpful: int
    loan_assessments: int
    loan_referrals: int
    aml_alerts: int
    contract_reviews: int
    regulation_analyses: int
    def __init__(self, date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., answers: _Optional[int] = ..., escalations: _Optional[int] = ..., escalations_by_reason: _Optional[_Iterable[_Union[ReasonCount, _Mapping]]] = ..., feedback_helpful: _Optional[int] = ..., feedback_not_helpful: _Optional[int] = ..., loan_assessments: _Optional[int] = ..., loan_referrals: _Optional[int] = ..., aml_alerts: _Optional[int] = ..., contract_reviews: _Optional[int] = ..., regulation_analyses: _Optional[int] = ...) -> None: ...

class GetDailyFiguresResponse(_message.Message):
    __slots__ = ("days",)
    DAYS_FIELD_NUMBER: _ClassVar[int]
    days: _containers.RepeatedCompositeFieldContainer[DailyFigures]
    def __init__(self, days: _Optional[_Iterable[_Union[DailyFigures, _Mapping]]] = ...) -> None: ...

class RunInferenceDrillRequest(_message.Message):
    __slots__ = ("request_id", "primary_group", "outage_seconds", "requests_per_second")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_GROUP_FIELD_NUMBER: _ClassVar[int]
    OUTAGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    primary_group: str
    outage_seconds: int
    requests_per_second: int
    def __init__(self, request_id: _Optional[str] = ..., primary_group: _Optional[str] = ..., outage_seconds: _Optional[int] = ..., requests_per_second: _Optional[int] = ...) -> None: ...

class DrillPhase(_message.Message):
    __slots__ = ("name", "requests_sent", "requests_failed", "served_by_group")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_SENT_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FAILED_FIELD_NUMBER: _ClassVar[int]
    SERVED_BY_GROUP_FIELD_NUMBER: _ClassVar[int]
    name: str
    requests_sent: int
    requests_failed: int
    served_by_group: _containers.RepeatedCompositeFieldContainer[ReasonCount]
    def __init__(self, name: _Optional[str] = ..., requests_sent: _Optional[int] = ..., requests_failed: _Optional[int] = ..., served_by_group: _Optional[_Iterable[_Union[ReasonCount, _Mapping]]] = ...) -> None: ...

class RunInferenceDrillResponse(_message.Message):
    __slots__ = ("phases", "requests_sent", "requests_failed", "switch_over_duration", "switch_back_duration")
    PHASES_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_SENT_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FAILED_FIELD_NUMBER: _ClassVar[int]
    SWITCH_OVER_DURATION_FIELD_NUMBER: _ClassVar[int]
    SWITCH_BACK_DURATION_FIELD_NUMBER: _ClassVar[int]
    phases: _containers.RepeatedCompositeFieldContainer[DrillPhase]
    requests_sent: int
    requests_failed: int
    switch_over_duration: _duration_pb2.Duration
    switch_back_duration: _duration_pb2.Duration
    def __init__(self, phases: _Optional[_Iterable[_Union[DrillPhase, _Mapping]]] = ..., requests_sent: _Optional[int] = ..., requests_failed: _Optional[int] = ..., switch_over_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., switch_back_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...
