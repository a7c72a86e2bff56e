import datetime

from buf.validate import validate_pb2 as _validate_pb2
from fintech.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EmploymentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EMPLOYMENT_TYPE_UNSPECIFIED: _ClassVar[EmploymentType]
    EMPLOYMENT_TYPE_EMPLOYED: _ClassVar[EmploymentType]
    EMPLOYMENT_TYPE_SELF_EMPLOYED: _ClassVar[EmploymentType]
    EMPLOYMENT_TYPE_CONTRACTOR: _ClassVar[EmploymentType]
    EMPLOYMENT_TYPE_UNEMPLOYED: _ClassVar[EmploymentType]
    EMPLOYMENT_TYPE_RETIRED: _ClassVar[EmploymentType]
    EMPLOYMENT_TYPE_STUDENT: _ClassVar[EmploymentType]

class HousingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HOUSING_STATUS_UNSPECIFIED: _ClassVar[HousingStatus]
    HOUSING_STATUS_OWNER: _ClassVar[HousingStatus]
    HOUSING_STATUS_MORTGAGED: _ClassVar[HousingStatus]
    HOUSING_STATUS_RENTING: _ClassVar[HousingStatus]
    HOUSING_STATUS_LIVING_WITH_FAMILY: _ClassVar[HousingStatus]
    HOUSING_STATUS_OTHER: _ClassVar[HousingStatus]

class LoanPurpose(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOAN_PURPOSE_UNSPECIFIED: _ClassVar[LoanPurpose]
    LOAN_PURPOSE_NEW_CAR: _ClassVar[LoanPurpose]
    LOAN_PURPOSE_USED_CAR: _ClassVar[LoanPurpose]
    LOAN_PURPOSE_FURNITURE: _ClassVar[LoanPurpose]
    LOAN_PURPOSE_ELECTRONICS: _ClassVar[LoanPurpose]
    LOAN_PURPOSE_HOME_APPLIANCES: _ClassVar[LoanPurpose]
    LOAN_PURPOSE_HOME_IMPROVEMENT: _ClassVar[LoanPurpose]
    LOAN_PURPOSE_EDUCATION: _ClassVar[LoanPurpose]
    LOAN_PURPOSE_RETRAINING: _ClassVar[LoanPurpose]
    LOAN_PURPOSE_BUSINESS: _ClassVar[LoanPurpose]
    LOAN_PURPOSE_DEBT_CONSOLIDATION: _ClassVar[LoanPurpose]
    LOAN_PURPOSE_OTHER: _ClassVar[LoanPurpose]

class CheckingAccountStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHECKING_ACCOUNT_STATUS_UNSPECIFIED: _ClassVar[CheckingAccountStatus]
    CHECKING_ACCOUNT_STATUS_NONE: _ClassVar[CheckingAccountStatus]
    CHECKING_ACCOUNT_STATUS_OVERDRAWN: _ClassVar[CheckingAccountStatus]
    CHECKING_ACCOUNT_STATUS_LOW_BALANCE: _ClassVar[CheckingAccountStatus]
    CHECKING_ACCOUNT_STATUS_HEALTHY_BALANCE: _ClassVar[CheckingAccountStatus]

class RiskLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RISK_LEVEL_UNSPECIFIED: _ClassVar[RiskLevel]
    RISK_LEVEL_LOW: _ClassVar[RiskLevel]
    RISK_LEVEL_MEDIUM: _ClassVar[RiskLevel]
    RISK_LEVEL_HIGH: _ClassVar[RiskLevel]

class Recommendation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECOMMENDATION_UNSPECIFIED: _ClassVar[Recommendation]
    RECOMMENDATION_APPROVE: _ClassVar[Recommendation]
    RECOMMENDATION_REFER: _ClassVar[Recommendation]
    RECOMMENDATION_DECLINE: _ClassVar[Recommendation]

class LoanReviewStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOAN_REVIEW_STATUS_UNSPECIFIED: _ClassVar[LoanReviewStatus]
    LOAN_REVIEW_STATUS_PENDING: _ClassVar[LoanReviewStatus]
    LOAN_REVIEW_STATUS_DECIDED: _ClassVar[LoanReviewStatus]
EMPLOYMENT_TYPE_UNSPECIFIED: EmploymentType
EMPLOYMENT_TYPE_EMPLOYED: EmploymentType
EMPLOYMENT_TYPE_SELF_EMPLOYED: EmploymentType
EMPLOYMENT_TYPE_CONTRACTOR: EmploymentType
EMPLOYMENT_TYPE_UNEMPLOYED: EmploymentType
EMPLOYMENT_TYPE_RETIRED: EmploymentType
EMPLOYMENT_TYPE_STUDENT: EmploymentType
HOUSING_STATUS_UNSPECIFIED: HousingStatus
HOUSING_STATUS_OWNER: HousingStatus
HOUSING_STATUS_MORTGAGED: HousingStatus
HOUSING_STATUS_RENTING: HousingStatus
HOUSING_STATUS_LIVING_WITH_FAMILY: HousingStatus
HOUSING_STATUS_OTHER: HousingStatus
LOAN_PURPOSE_UNSPECIFIED: LoanPurpose
LOAN_PURPOSE_NEW_CAR: LoanPurpose
LOAN_PURPOSE_USED_CAR: LoanPurpose
LOAN_PURPOSE_FURNITURE: LoanPurpose
LOAN_PURPOSE_ELECTRONICS: LoanPurpose
LOAN_PURPOSE_HOME_APPLIANCES: LoanPurpose
LOAN_PURPOSE_HOME_IMPROVEMENT: LoanPurpose
LOAN_PURPOSE_EDUCATION: LoanPurpose
LOAN_PURPOSE_RETRAINING: LoanPurpose
LOAN_PURPOSE_BUSINESS: LoanPurpose
LOAN_PURPOSE_DEBT_CONSOLIDATION: LoanPurpose
LOAN_PURPOSE_OTHER: LoanPurpose
CHECKING_ACCOUNT_STATUS_UNSPECIFIED: CheckingAccountStatus
CHECKING_ACCOUNT_STATUS_NONE: CheckingAccountStatus
CHECKING_ACCOUNT_STATUS_OVERDRAWN: CheckingAccountStatus
CHECKING_ACCOUNT_STATUS_LOW_BALANCE: CheckingAccountStatus
CHECKING_ACCOUNT_STATUS_HEALTHY_BALANCE: CheckingAccountStatus
RISK_LEVEL_UNSPECIFIED: RiskLevel
RISK_LEVEL_LOW: RiskLevel
RISK_LEVEL_MEDIUM: RiskLevel
RISK_LEVEL_HIGH: RiskLevel
RECOMMENDATION_UNSPECIFIED: Recommendation
RECOMMENDATION_APPROVE: Recommendation
RECOMMENDATION_REFER: Recommendation
RECOMMENDATION_DECLINE: Recommendation
LOAN_REVIEW_STATUS_UNSPECIFIED: LoanReviewStatus
LOAN_REVIEW_STATUS_PENDING: LoanReviewStatus
LOAN_REVIEW_STATUS_DECIDED: LoanReviewStatus

class Applicant(_message.Message):
    __slots__ = ("applicant_id", "age", "employment_type", "employment_tenure_months", "monthly_income", "existing_monthly_debt_payments", "credit_score", "dependants", "housing_status", "savings_balance", "checking_account_status", "existing_credits_count")
    APPLICANT_ID_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    EMPLOYMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    EMPLOYMENT_TENURE_MONTHS_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_INCOME_FIELD_NUMBER: _ClassVar[int]
    EXISTING_MONTHLY_DEBT_PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    CREDIT_SCORE_FIELD_NUMBER: _ClassVar[int]
    DEPENDANTS_FIELD_NUMBER: _ClassVar[int]
    HOUSING_STATUS_FIELD_NUMBER: _ClassVar[int]
    SAVINGS_BALANCE_FIELD_NUMBER: _ClassVar[int]
    CHECKING_ACCOUNT_STATUS_FIELD_NUMBER: _ClassVar[int]
    EXISTING_CREDITS_COUNT_FIELD_NUMBER: _ClassVar[int]
    applicant_id: str
    age: int
    employment_type: EmploymentType
    employment_tenure_months: int
    monthly_income: _common_pb2.Money
    existing_monthly_debt_payments: _common_pb2.Money
    credit_score: int
    dependants: int
    housing_status: HousingStatus
    savings_balance: _common_pb2.Money
    checking_account_status: CheckingAccountStatus
    existing_credits_count: int
    def __init__(self, applicant_id: _Optional[str] = ..., age: _Optional[int] = ..., employment_type: _Optional[_Union[EmploymentType, str]] = ..., employment_tenure_months: _Optional[int] = ..., monthly_income: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., existing_monthly_debt_payments: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., credit_score: _Optional[int] = ..., dependants: _Optional[int] = ..., housing_status: _Optional[_Union[HousingStatus, str]] = ..., savings_balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., checking_account_status: _Optional[_Union[CheckingAccountStatus, str]] = ..., existing_credits_count: _Optional[int] = ...) -> None: ...

class Loan(_message.Message):
    __slots__ = ("amount", "term_months", "purpose", "product_code", "annual_rate_bps")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TERM_MONTHS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_CODE_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    amount: _common_pb2.Money
    term_months: int
    purpose: LoanPurpose
    product_code: str
    annual_rate_bps: int
    def __init__(self, amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., term_months: _Optional[int] = ..., purpose: _Optional[_Union[LoanPurpose, str]] = ..., product_code: _Optional[str] = ..., annual_rate_bps: _Optional[int] = ...) -> None: ...

class BureauAttributes(_message.Message):
    __slots__ = ("open_credit_lines", "delinquencies_24m", "revolving_utilisation_percent")
    OPEN_CREDIT_LINES_FIELD_NUMBER: _ClassVar[int]
    DELINQUENCIES_24M_FIELD_NUMBER: _ClassVar[int]
    REVOLVING_UTILISATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    open_credit_lines: int
    delinquencies_24m: int
    revolving_utilisation_percent: int
    def __init__(self, open_credit_lines: _Optional[int] = ..., delinquencies_24m: _Optional[int] = ..., revolving_utilisation_percent: _Optional[int] = ...) -> None: ...

class AssessLoanApplicationRequest(_message.Message):
    __slots__ = ("request_id", "application_id", "applicant", "loan", "bureau", "include_explanation")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_FIELD_NUMBER: _ClassVar[int]
    LOAN_FIELD_NUMBER: _ClassVar[int]
    BUREAU_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    application_id: str
    applicant: Applicant
    loan: Loan
    bureau: BureauAttributes
    include_explanation: bool
    def __init__(self, request_id: _Optional[str] = ..., application_id: _Optional[str] = ..., applicant: _Optional[_Union[Applicant, _Mapping]] = ..., loan: _Optional[_Union[Loan, _Mapping]] = ..., bureau: _Optional[_Union[BureauAttributes, _Mapping]] = ..., include_explanation: _Optional[bool] = ...) -> None: ...

class RepaymentAbility(_message.Message):
    __slots__ = ("monthly_instalment", "debt_to_income_before", "debt_to_income_after", "disposable_income", "loan_to_income", "living_cost_allowance", "total_repayable")
    MONTHLY_INSTALMENT_FIELD_NUMBER: _ClassVar[int]
    DEBT_TO_INCOME_BEFORE_FIELD_NUMBER: _ClassVar[int]
    DEBT_TO_INCOME_AFTER_FIELD_NUMBER: _ClassVar[int]
    DISPOSABLE_INCOME_FIELD_NUMBER: _ClassVar[int]
    LOAN_TO_INCOME_FIELD_NUMBER: _ClassVar[int]
    LIVING_COST_ALLOWANCE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REPAYABLE_FIELD_NUMBER: _ClassVar[int]
    monthly_instalment: _common_pb2.Money
    debt_to_income_before: str
    debt_to_income_after: str
    disposable_income: _common_pb2.Money
    loan_to_income: str
    living_cost_allowance: _common_pb2.Money
    total_repayable: _common_pb2.Money
    def __init__(self, monthly_instalment: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., debt_to_income_before: _Optional[str] = ..., debt_to_income_after: _Optional[str] = ..., disposable_income: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., loan_to_income: _Optional[str] = ..., living_cost_allowance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total_repayable: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class ReasonCode(_message.Message):
    __slots__ = ("code", "description", "value", "points_lost", "rank")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    POINTS_LOST_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    code: str
    description: str
    value: str
    points_lost: float
    rank: int
    def __init__(self, code: _Optional[str] = ..., description: _Optional[str] = ..., value: _Optional[str] = ..., points_lost: _Optional[float] = ..., rank: _Optional[int] = ...) -> None: ...

class PolicyRuleHit(_message.Message):
    __slots__ = ("rule_id", "outcome", "description", "value")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    outcome: Recommendation
    description: str
    value: str
    def __init__(self, rule_id: _Optional[str] = ..., outcome: _Optional[_Union[Recommendation, str]] = ..., description: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class ScorecardPoints(_message.Message):
    __slots__ = ("feature", "bin", "points", "max_points")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    BIN_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTS_FIELD_NUMBER: _ClassVar[int]
    feature: str
    bin: str
    points: float
    max_points: float
    def __init__(self, feature: _Optional[str] = ..., bin: _Optional[str] = ..., points: _Optional[float] = ..., max_points: _Optional[float] = ...) -> None: ...

class LoanAssessment(_message.Message):
    __slots__ = ("application_id", "repayment", "risk_level", "recommendation", "key_risk_points", "probability_of_default", "score", "confidence", "rule_hits", "points", "explanation", "explanation_source", "review_id", "assess_time", "provenance")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    REPAYMENT_FIELD_NUMBER: _ClassVar[int]
    RISK_LEVEL_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_FIELD_NUMBER: _ClassVar[int]
    KEY_RISK_POINTS_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_OF_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    RULE_HITS_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_SOURCE_FIELD_NUMBER: _ClassVar[int]
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    ASSESS_TIME_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    repayment: RepaymentAbility
    risk_level: RiskLevel
    recommendation: Recommendation
    key_risk_points: _containers.RepeatedCompositeFieldContainer[ReasonCode]
    probability_of_default: float
    score: int
    confidence: float
    rule_hits: _containers.RepeatedCompositeFieldContainer[PolicyRuleHit]
    points: _containers.RepeatedCompositeFieldContainer[ScorecardPoints]
    explanation: str
    explanation_source: _common_pb2.ExplanationSource
    review_id: str
    assess_time: _timestamp_pb2.Timestamp
    provenance: _common_pb2.Provenance
    def __init__(self, application_id: _Optional[str] = ..., repayment: _Optional[_Union[RepaymentAbility, _Mapping]] = ..., risk_level: _Optional[_Union[RiskLevel, str]] = ..., recommendation: _Optional[_Union[Recommendation, str]] = ..., key_risk_points: _Optional[_Iterable[_Union[ReasonCode, _Mapping]]] = ..., probability_of_default: _Optional[float] = ..., score: _Optional[int] = ..., confidence: _Optional[float] = ..., rule_hits: _Optional[_Iterable[_Union[PolicyRuleHit, _Mapping]]] = ..., points: _Optional[_Iterable[_Union[ScorecardPoints, _Mapping]]] = ..., explanation: _Optional[str] = ..., explanation_source: _Optional[_Union[_common_pb2.ExplanationSource, str]] = ..., review_id: _Optional[str] = ..., assess_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provenance: _Optional[_Union[_common_pb2.Provenance, _Mapping]] = ...) -> None: ...

class AssessLoanApplicationResponse(_message.Message):
    __slots__ = ("assessment",)
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    assessment: LoanAssessment
    def __init__(self, assessment: _Optional[_Union[LoanAssessment, _Mapping]] = ...) -> None: ...

class AssessLoanApplicationsRequest(_message.Message):
    __slots__ = ("item_id", "application", "items")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    application: AssessLoanApplicationRequest
    items: _containers.RepeatedCompositeFieldContainer[AssessLoanApplicationsRequest]
    def __init__(self, item_id: _Optional[str] = ..., application: _Optional[_Union[AssessLoanApplicationRequest, _Mapping]] = ..., items: _Optional[_Iterable[_Union[AssessLoanApplicationsRequest, _Mapping]]] = ...) -> None: ...

class AssessLoanApplicationsResponse(_message.Message):
    __slots__ = ("item_id", "assessment", "error", "results")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    assessment: LoanAssessment
    error: _status_pb2.Status
    results: _containers.RepeatedCompositeFieldContainer[AssessLoanApplicationsResponse]
    def __init__(self, item_id: _Optional[str] = ..., assessment: _Optional[_Union[LoanAssessment, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., results: _Optional[_Iterable[_Union[AssessLoanApplicationsResponse, _Mapping]]] = ...) -> None: ...

class GetModelCardRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelMetric(_message.Message):
    __slots__ = ("name", "mean", "std", "protocol")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STD_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    name: str
    mean: float
    std: float
    protocol: str
    def __init__(self, name: _Optional[str] = ..., mean: _Optional[float] = ..., std: _Optional[float] = ..., protocol: _Optional[str] = ...) -> None: ...

class ModelCard(_message.Message):
    __slots__ = ("model_id", "version", "training_data", "metrics", "features", "excluded_attributes", "intended_use", "limitations", "training_time", "population_stability_index", "rule_set_version")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATA_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    INTENDED_USE_FIELD_NUMBER: _ClassVar[int]
    LIMITATIONS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_TIME_FIELD_NUMBER: _ClassVar[int]
    POPULATION_STABILITY_INDEX_FIELD_NUMBER: _ClassVar[int]
    RULE_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    version: str
    training_data: str
    metrics: _containers.RepeatedCompositeFieldContainer[ModelMetric]
    features: _containers.RepeatedScalarFieldContainer[str]
    excluded_attributes: _containers.RepeatedScalarFieldContainer[str]
    intended_use: str
    limitations: _containers.RepeatedScalarFieldContainer[str]
    training_time: _timestamp_pb2.Timestamp
    population_stability_index: float
    rule_set_version: str
    def __init__(self, model_id: _Optional[str] = ..., version: _Optional[str] = ..., training_data: _Optional[str] = ..., metrics: _Optional[_Iterable[_Union[ModelMetric, _Mapping]]] = ..., features: _Optional[_Iterable[str]] = ..., excluded_attributes: _Optional[_Iterable[str]] = ..., intended_use: _Optional[str] = ..., limitations: _Optional[_Iterable[str]] = ..., training_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., population_stability_index: _Optional[float] = ..., rule_set_version: _Optional[str] = ...) -> None: ...

class GetModelCardResponse(_message.Message):
    __slots__ = ("model_card",)
    MODEL_CARD_FIELD_NUMBER: _ClassVar[int]
    model_card: ModelCard
    def __init__(self, model_card: _Optional[_Union[ModelCard, _Mapping]] = ...) -> None: ...

class LoanReview(_message.Message):
    __slots__ = ("review_id", "application_id", "assessment", "status", "final_decision", "justification", "decided_by", "create_time", "decide_time")
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FINAL_DECISION_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DECIDE_TIME_FIELD_NUMBER: _ClassVar[int]
    review_id: str
    application_id: str
    assessment: LoanAssessment
    status: LoanReviewStatus
    final_decision: Recommendation
    justification: str
    decided_by: str
    create_time: _timestamp_pb2.Timestamp
    decide_time: _timestamp_pb2.Timestamp
    def __init__(self, review_id: _Optional[str] = ..., application_id: _Optional[str] = ..., assessment: _Optional[_Union[LoanAssessment, _Mapping]] = ..., status: _Optional[_Union[LoanReviewStatus, str]] = ..., final_decision: _Optional[_Union[Recommendation, str]] = ..., justification: _Optional[str] = ..., decided_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decide_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListLoanReviewsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: LoanReviewStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[LoanReviewStatus, str]] = ...) -> None: ...

class ListLoanReviewsResponse(_message.Message):
    __slots__ = ("reviews", "next_page_token")
    REVIEWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    reviews: _containers.RepeatedCompositeFieldContainer[LoanReview]
    next_page_token: str
    def __init__(self, reviews: _Optional[_Iterable[_Union[LoanReview, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DecideLoanReviewRequest(_message.Message):
    __slots__ = ("request_id", "review_id", "decision", "justification")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    review_id: str
    decision: Recommendation
    justification: str
    def __init__(self, request_id: _Optional[str] = ..., review_id: _Optional[str] = ..., decision: _Optional[_Union[Recommendation, str]] = ..., justification: _Optional[str] = ...) -> None: ...

class DecideLoanReviewResponse(_message.Message):
    __slots__ = ("review",)
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    review: LoanReview
    def __init__(self, review: _Optional[_Union[LoanReview, _Mapping]] = ...) -> None: ...
