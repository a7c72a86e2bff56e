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

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_BRANCH: _ClassVar[Channel]
    CHANNEL_ONLINE: _ClassVar[Channel]
    CHANNEL_MOBILE: _ClassVar[Channel]
    CHANNEL_ATM: _ClassVar[Channel]
    CHANNEL_WIRE: _ClassVar[Channel]
    CHANNEL_CARD: _ClassVar[Channel]

class ScreeningDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCREENING_DECISION_UNSPECIFIED: _ClassVar[ScreeningDecision]
    SCREENING_DECISION_CLEAR: _ClassVar[ScreeningDecision]
    SCREENING_DECISION_REVIEW: _ClassVar[ScreeningDecision]
    SCREENING_DECISION_BLOCK: _ClassVar[ScreeningDecision]

class AlertStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_STATUS_UNSPECIFIED: _ClassVar[AlertStatus]
    ALERT_STATUS_OPEN: _ClassVar[AlertStatus]
    ALERT_STATUS_INVESTIGATING: _ClassVar[AlertStatus]
    ALERT_STATUS_ESCALATED: _ClassVar[AlertStatus]
    ALERT_STATUS_CLOSED_FALSE_POSITIVE: _ClassVar[AlertStatus]
    ALERT_STATUS_SAR_FILED: _ClassVar[AlertStatus]

class CaseStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CASE_STATUS_UNSPECIFIED: _ClassVar[CaseStatus]
    CASE_STATUS_OPEN: _ClassVar[CaseStatus]
    CASE_STATUS_CLOSED: _ClassVar[CaseStatus]

class AccountRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_ROLE_UNSPECIFIED: _ClassVar[AccountRole]
    ACCOUNT_ROLE_ORIGIN: _ClassVar[AccountRole]
    ACCOUNT_ROLE_MULE: _ClassVar[AccountRole]
    ACCOUNT_ROLE_HUB: _ClassVar[AccountRole]
    ACCOUNT_ROLE_BENEFICIARY: _ClassVar[AccountRole]
    ACCOUNT_ROLE_PERIPHERAL: _ClassVar[AccountRole]

class PatternType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PATTERN_TYPE_UNSPECIFIED: _ClassVar[PatternType]
    PATTERN_TYPE_FAN_IN: _ClassVar[PatternType]
    PATTERN_TYPE_FAN_OUT: _ClassVar[PatternType]
    PATTERN_TYPE_CYCLE: _ClassVar[PatternType]
    PATTERN_TYPE_SCATTER_GATHER: _ClassVar[PatternType]
    PATTERN_TYPE_GATHER_SCATTER: _ClassVar[PatternType]
    PATTERN_TYPE_BIPARTITE: _ClassVar[PatternType]
    PATTERN_TYPE_LAYERING_CHAIN: _ClassVar[PatternType]
    PATTERN_TYPE_COMMUNITY: _ClassVar[PatternType]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_BRANCH: Channel
CHANNEL_ONLINE: Channel
CHANNEL_MOBILE: Channel
CHANNEL_ATM: Channel
CHANNEL_WIRE: Channel
CHANNEL_CARD: Channel
SCREENING_DECISION_UNSPECIFIED: ScreeningDecision
SCREENING_DECISION_CLEAR: ScreeningDecision
SCREENING_DECISION_REVIEW: ScreeningDecision
SCREENING_DECISION_BLOCK: ScreeningDecision
ALERT_STATUS_UNSPECIFIED: AlertStatus
ALERT_STATUS_OPEN: AlertStatus
ALERT_STATUS_INVESTIGATING: AlertStatus
ALERT_STATUS_ESCALATED: AlertStatus
ALERT_STATUS_CLOSED_FALSE_POSITIVE: AlertStatus
ALERT_STATUS_SAR_FILED: AlertStatus
CASE_STATUS_UNSPECIFIED: CaseStatus
CASE_STATUS_OPEN: CaseStatus
CASE_STATUS_CLOSED: CaseStatus
ACCOUNT_ROLE_UNSPECIFIED: AccountRole
ACCOUNT_ROLE_ORIGIN: AccountRole
ACCOUNT_ROLE_MULE: AccountRole
ACCOUNT_ROLE_HUB: AccountRole
ACCOUNT_ROLE_BENEFICIARY: AccountRole
ACCOUNT_ROLE_PERIPHERAL: AccountRole
PATTERN_TYPE_UNSPECIFIED: PatternType
PATTERN_TYPE_FAN_IN: PatternType
PATTERN_TYPE_FAN_OUT: PatternType
PATTERN_TYPE_CYCLE: PatternType
PATTERN_TYPE_SCATTER_GATHER: PatternType
PATTERN_TYPE_GATHER_SCATTER: PatternType
PATTERN_TYPE_BIPARTITE: PatternType
PATTERN_TYPE_LAYERING_CHAIN: PatternType
PATTERN_TYPE_COMMUNITY: PatternType

class Transaction(_message.Message):
    __slots__ = ("transaction_id", "source_account_id", "target_account_id", "amount", "execute_time", "channel", "origin_country_code", "counterparty_country_code", "counterparty_name")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EXECUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_NAME_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    source_account_id: str
    target_account_id: str
    amount: _common_pb2.Money
    execute_time: _timestamp_pb2.Timestamp
    channel: Channel
    origin_country_code: str
    counterparty_country_code: str
    counterparty_name: str
    def __init__(self, transaction_id: _Optional[str] = ..., source_account_id: _Optional[str] = ..., target_account_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., execute_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channel: _Optional[_Union[Channel, str]] = ..., origin_country_code: _Optional[str] = ..., counterparty_country_code: _Optional[str] = ..., counterparty_name: _Optional[str] = ...) -> None: ...

class Evidence(_message.Message):
    __slots__ = ("transaction_ids", "total_amount", "window", "summary")
    TRANSACTION_IDS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    transaction_ids: _containers.RepeatedScalarFieldContainer[str]
    total_amount: _common_pb2.Money
    window: _common_pb2.TimeRange
    summary: str
    def __init__(self, transaction_ids: _Optional[_Iterable[str]] = ..., total_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., window: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., summary: _Optional[str] = ...) -> None: ...

class RuleHit(_message.Message):
    __slots__ = ("rule_id", "reason_code", "score_contribution", "evidence")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    SCORE_CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    reason_code: str
    score_contribution: float
    evidence: Evidence
    def __init__(self, rule_id: _Optional[str] = ..., reason_code: _Optional[str] = ..., score_contribution: _Optional[float] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class ScreeningResult(_message.Message):
    __slots__ = ("transaction_id", "decision", "score", "rule_hits", "alert_id")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    RULE_HITS_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    decision: ScreeningDecision
    score: float
    rule_hits: _containers.RepeatedCompositeFieldContainer[RuleHit]
    alert_id: str
    def __init__(self, transaction_id: _Optional[str] = ..., decision: _Optional[_Union[ScreeningDecision, str]] = ..., score: _Optional[float] = ..., rule_hits: _Optional[_Iterable[_Union[RuleHit, _Mapping]]] = ..., alert_id: _Optional[str] = ...) -> None: ...

class ScreenTransactionsRequest(_message.Message):
    __slots__ = ("transactions",)
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[Transaction]
    def __init__(self, transactions: _Optional[_Iterable[_Union[Transaction, _Mapping]]] = ...) -> None: ...

class ScreenTransactionsResponse(_message.Message):
    __slots__ = ("results", "rule_set_version")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    RULE_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ScreeningResult]
    rule_set_version: str
    def __init__(self, results: _Optional[_Iterable[_Union[ScreeningResult, _Mapping]]] = ..., rule_set_version: _Optional[str] = ...) -> None: ...

class IngestTransactionsRequest(_message.Message):
    __slots__ = ("batch_id", "transactions")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    transactions: _containers.RepeatedCompositeFieldContainer[Transaction]
    def __init__(self, batch_id: _Optional[str] = ..., transactions: _Optional[_Iterable[_Union[Transaction, _Mapping]]] = ...) -> None: ...

class IngestTransactionsResponse(_message.Message):
    __slots__ = ("received_count", "inserted_count", "duplicate_count", "watermark")
    RECEIVED_COUNT_FIELD_NUMBER: _ClassVar[int]
    INSERTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_COUNT_FIELD_NUMBER: _ClassVar[int]
    WATERMARK_FIELD_NUMBER: _ClassVar[int]
    received_count: int
    inserted_count: int
    duplicate_count: int
    watermark: _timestamp_pb2.Timestamp
    def __init__(self, received_count: _Optional[int] = ..., inserted_count: _Optional[int] = ..., duplicate_count: _Optional[int] = ..., watermark: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AlertStatusChange(_message.Message):
    __slots__ = ("from_status", "to_status", "reason", "changed_by", "change_time")
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    from_status: AlertStatus
    to_status: AlertStatus
    reason: str
    changed_by: str
    change_time: _timestamp_pb2.Timestamp
    def __init__(self, from_status: _Optional[_Union[AlertStatus, str]] = ..., to_status: _Optional[_Union[AlertStatus, str]] = ..., reason: _Optional[str] = ..., changed_by: _Optional[str] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("alert_id", "account_id", "status", "score", "rule_hits", "create_time", "update_time", "history", "case_id", "rule_set_version", "severity")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    RULE_HITS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    account_id: str
    status: AlertStatus
    score: float
    rule_hits: _containers.RepeatedCompositeFieldContainer[RuleHit]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    history: _containers.RepeatedCompositeFieldContainer[AlertStatusChange]
    case_id: str
    rule_set_version: str
    severity: _common_pb2.Severity
    def __init__(self, alert_id: _Optional[str] = ..., account_id: _Optional[str] = ..., status: _Optional[_Union[AlertStatus, str]] = ..., score: _Optional[float] = ..., rule_hits: _Optional[_Iterable[_Union[RuleHit, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., history: _Optional[_Iterable[_Union[AlertStatusChange, _Mapping]]] = ..., case_id: _Optional[str] = ..., rule_set_version: _Optional[str] = ..., severity: _Optional[_Union[_common_pb2.Severity, str]] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status", "rule_id", "account_id", "create_time_range", "min_score")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: AlertStatus
    rule_id: str
    account_id: str
    create_time_range: _common_pb2.TimeRange
    min_score: float
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[AlertStatus, str]] = ..., rule_id: _Optional[str] = ..., account_id: _Optional[str] = ..., create_time_range: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., min_score: _Optional[float] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts", "next_page_token")
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    next_page_token: str
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetAlertRequest(_message.Message):
    __slots__ = ("alert_id",)
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    def __init__(self, alert_id: _Optional[str] = ...) -> None: ...

class GetAlertResponse(_message.Message):
    __slots__ = ("alert",)
    ALERT_FIELD_NUMBER: _ClassVar[int]
    alert: Alert
    def __init__(self, alert: _Optional[_Union[Alert, _Mapping]] = ...) -> None: ...

class UpdateAlertRequest(_message.Message):
    __slots__ = ("request_id", "alert_id", "status", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    alert_id: str
    status: AlertStatus
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., alert_id: _Optional[str] = ..., status: _Optional[_Union[AlertStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class UpdateAlertResponse(_message.Message):
    __slots__ = ("alert",)
    ALERT_FIELD_NUMBER: _ClassVar[int]
    alert: Alert
    def __init__(self, alert: _Optional[_Union[Alert, _Mapping]] = ...) -> None: ...

class InvestigateNetworkRequest(_message.Message):
    __slots__ = ("request_id", "seed_account_ids", "alert_id", "max_hops", "window", "min_amount", "max_accounts")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SEED_ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_HOPS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    MIN_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    seed_account_ids: _containers.RepeatedScalarFieldContainer[str]
    alert_id: str
    max_hops: int
    window: _common_pb2.TimeRange
    min_amount: _common_pb2.Money
    max_accounts: int
    def __init__(self, request_id: _Optional[str] = ..., seed_account_ids: _Optional[_Iterable[str]] = ..., alert_id: _Optional[str] = ..., max_hops: _Optional[int] = ..., window: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., min_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., max_accounts: _Optional[int] = ...) -> None: ...

class NetworkAccount(_message.Message):
    __slots__ = ("account_id", "role", "involvement_score", "total_in", "total_out", "community", "distance")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    INVOLVEMENT_SCORE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_IN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_OUT_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    role: AccountRole
    involvement_score: float
    total_in: _common_pb2.Money
    total_out: _common_pb2.Money
    community: int
    distance: int
    def __init__(self, account_id: _Optional[str] = ..., role: _Optional[_Union[AccountRole, str]] = ..., involvement_score: _Optional[float] = ..., total_in: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total_out: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., community: _Optional[int] = ..., distance: _Optional[int] = ...) -> None: ...

class NetworkEdge(_message.Message):
    __slots__ = ("source_account_id", "target_account_id", "total_amount", "transaction_count", "transaction_ids", "first_time", "last_time")
    SOURCE_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_IDS_FIELD_NUMBER: _ClassVar[int]
    FIRST_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_TIME_FIELD_NUMBER: _ClassVar[int]
    source_account_id: str
    target_account_id: str
    total_amount: _common_pb2.Money
    transaction_count: int
    transaction_ids: _containers.RepeatedScalarFieldContainer[str]
    first_time: _timestamp_pb2.Timestamp
    last_time: _timestamp_pb2.Timestamp
    def __init__(self, source_account_id: _Optional[str] = ..., target_account_id: _Optional[str] = ..., total_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., transaction_count: _Optional[int] = ..., transaction_ids: _Optional[_Iterable[str]] = ..., first_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MoneyPath(_message.Message):
    __slots__ = ("account_ids", "amount", "transaction_ids")
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_IDS_FIELD_NUMBER: _ClassVar[int]
    account_ids: _containers.RepeatedScalarFieldContainer[str]
    amount: _common_pb2.Money
    transaction_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, account_ids: _Optional[_Iterable[str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., transaction_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class NetworkPattern(_message.Message):
    __slots__ = ("pattern_type", "account_ids", "description")
    PATTERN_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    pattern_type: PatternType
    account_ids: _containers.RepeatedScalarFieldContainer[str]
    description: str
    def __init__(self, pattern_type: _Optional[_Union[PatternType, str]] = ..., account_ids: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ...) -> None: ...

class InvestigateNetworkResponse(_message.Message):
    __slots__ = ("accounts", "edges", "money_paths", "patterns", "case_id", "truncated", "provenance")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    MONEY_PATHS_FIELD_NUMBER: _ClassVar[int]
    PATTERNS_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[NetworkAccount]
    edges: _containers.RepeatedCompositeFieldContainer[NetworkEdge]
    money_paths: _containers.RepeatedCompositeFieldContainer[MoneyPath]
    patterns: _containers.RepeatedCompositeFieldContainer[NetworkPattern]
    case_id: str
    truncated: bool
    provenance: _common_pb2.Provenance
    def __init__(self, accounts: _Optional[_Iterable[_Union[NetworkAccount, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[NetworkEdge, _Mapping]]] = ..., money_paths: _Optional[_Iterable[_Union[MoneyPath, _Mapping]]] = ..., patterns: _Optional[_Iterable[_Union[NetworkPattern, _Mapping]]] = ..., case_id: _Optional[str] = ..., truncated: _Optional[bool] = ..., provenance: _Optional[_Union[_common_pb2.Provenance, _Mapping]] = ...) -> None: ...

class Case(_message.Message):
    __slots__ = ("case_id", "title", "status", "alert_ids", "account_ids", "create_time", "update_time", "total_amount")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ALERT_IDS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    TOTAL_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    title: str
    status: CaseStatus
    alert_ids: _containers.RepeatedScalarFieldContainer[str]
    account_ids: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    total_amount: _common_pb2.Money
    def __init__(self, case_id: _Optional[str] = ..., title: _Optional[str] = ..., status: _Optional[_Union[CaseStatus, str]] = ..., alert_ids: _Optional[_Iterable[str]] = ..., account_ids: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., total_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class ListCasesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: CaseStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[CaseStatus, str]] = ...) -> None: ...

class ListCasesResponse(_message.Message):
    __slots__ = ("cases", "next_page_token")
    CASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    cases: _containers.RepeatedCompositeFieldContainer[Case]
    next_page_token: str
    def __init__(self, cases: _Optional[_Iterable[_Union[Case, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCaseRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class GetCaseResponse(_message.Message):
    __slots__ = ("case", "alerts")
    CASE_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    case: Case
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    def __init__(self, case: _Optional[_Union[Case, _Mapping]] = ..., alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ...) -> None: ...

class ListAccountTransactionsRequest(_message.Message):
    __slots__ = ("account_id", "page_size", "page_token", "window", "counterparty_account_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    page_size: int
    page_token: str
    window: _common_pb2.TimeRange
    counterparty_account_id: str
    def __init__(self, account_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., window: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., counterparty_account_id: _Optional[str] = ...) -> None: ...

class ListAccountTransactionsResponse(_message.Message):
    __slots__ = ("transactions", "next_page_token")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[Transaction]
    next_page_token: str
    def __init__(self, transactions: _Optional[_Iterable[_Union[Transaction, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SarClaim(_message.Message):
    __slots__ = ("start", "end", "transaction_ids")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_IDS_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    transaction_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ..., transaction_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SarDraft(_message.Message):
    __slots__ = ("case_id", "narrative", "validation_outcome", "unsupported_spans", "claims", "provenance")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    NARRATIVE_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    UNSUPPORTED_SPANS_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    narrative: str
    validation_outcome: _common_pb2.ValidationOutcome
    unsupported_spans: _containers.RepeatedCompositeFieldContainer[_common_pb2.UnsupportedSpan]
    claims: _containers.RepeatedCompositeFieldContainer[SarClaim]
    provenance: _common_pb2.Provenance
    def __init__(self, case_id: _Optional[str] = ..., narrative: _Optional[str] = ..., validation_outcome: _Optional[_Union[_common_pb2.ValidationOutcome, str]] = ..., unsupported_spans: _Optional[_Iterable[_Union[_common_pb2.UnsupportedSpan, _Mapping]]] = ..., claims: _Optional[_Iterable[_Union[SarClaim, _Mapping]]] = ..., provenance: _Optional[_Union[_common_pb2.Provenance, _Mapping]] = ...) -> None: ...

class DraftSuspiciousActivityReportRequest(_message.Message):
    __slots__ = ("request_id", "case_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    case_id: str
    def __init__(self, request_id: _Optional[str] = ..., case_id: _Optional[str] = ...) -> None: ...

class DraftSuspiciousActivityReportResponse(_message.Message):
    __slots__ = ("draft",)
    DRAFT_FIELD_NUMBER: _ClassVar[int]
    draft: SarDraft
    def __init__(self, draft: _Optional[_Union[SarDraft, _Mapping]] = ...) -> None: ...
