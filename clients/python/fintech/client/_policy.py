"""The one table that gives every RPC its call shape, default deadline and retry.

An RPC may be retried only if repeating it is harmless: reads, and mutations
whose request carries a ``request_id`` the server deduplicates (AIP-155). They
are retried only on ``UNAVAILABLE`` (the server never saw the call, or cannot
serve it now), never on any other code. Streaming RPCs are never retried: a
stream that broke may already have delivered part of its work and the request
iterator cannot be replayed.

The table is checked against the generated service descriptors by a unit
test: every RPC has exactly one entry, the shape matches the contract, and a
``DEDUPLICATED`` RPC's request has a ``request_id`` field.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from fintech.aml.v1 import aml_service_pb2 as aml
from fintech.audit.v1 import audit_service_pb2 as audit
from fintech.client._options import Retry
from fintech.compliance.v1 import compliance_service_pb2 as compliance
from fintech.customer.v1 import customer_service_pb2 as customer
from fintech.operations.v1 import operations_service_pb2 as operations
from fintech.risk.v1 import risk_service_pb2 as risk

RequestT = TypeVar("RequestT", bound=Message)
ResponseT = TypeVar("ResponseT", bound=Message)


class CallShape(enum.Enum):
    """Which side streams."""

    UNARY_UNARY = "unary-unary"
    UNARY_STREAM = "unary-stream"
    STREAM_UNARY = "stream-unary"
    STREAM_STREAM = "stream-stream"


class Idempotency(enum.Enum):
    """Whether repeating a call is harmless."""

    READ = "read"
    """Changes nothing."""
    DEDUPLICATED = "deduplicated"
    """Changes state, but the server answers a repeated ``request_id`` with the stored result."""
    UNSAFE = "unsafe"
    """Repeating it could act twice; never retried."""


# Defaults. Deadlines are generous where an LLM or a batch is on the path; callers tighten them per call.
_READ_TIMEOUT = 10.0
_WRITE_TIMEOUT = 30.0
_LLM_TIMEOUT = 120.0
_DEFAULT_RETRY = Retry()


@dataclass(frozen=True)
class MethodPolicy(Generic[RequestT, ResponseT]):
    """How one RPC is called by default.

    Attributes:
        method: Full gRPC method name, ``/package.Service/Method``.
        shape: Which side streams.
        idempotency: Whether a repeat is harmless (decides whether ``retry`` may be set).
        request_type: The request message class (checked before sending).
        response_type: The response message class.
        timeout: Default overall deadline in seconds; None means none.
        retry: Default retry policy; None for RPCs that are never retried.
    """

    method: str
    shape: CallShape
    idempotency: Idempotency
    request_type: type[RequestT]
    response_type: type[ResponseT]
    timeout: float | None
    retry: Retry | None

    def __post_init__(self) -> None:
        if self.retry is not None and not self.retryable:
            raise ValueError(f"{self.method} may not have a retry policy: it is not safe to repeat")

    @property
    def retryable(self) -> bool:
        """Whether this RPC may ever be retried."""
        return self.shape is CallShape.UNARY_UNARY and self.idempotency is not Idempotency.UNSAFE

    @property
    def name(self) -> str:
        """The method's short name, for example ``"GetAlert"``."""
        return self.method.rsplit("/", 1)[-1]


def _method(service: str, name: str) -> str:
    return f"/{service}/{name}"


def _read(
    service: str, name: str, req: type[RequestT], resp: type[ResponseT], timeout: float = _READ_TIMEOUT
) -> MethodPolicy[RequestT, ResponseT]:
    return MethodPolicy(
        _method(service, name), CallShape.UNARY_UNARY, Idempotency.READ, req, resp, timeout, _DEFAULT_RETRY
    )


def _deduplicated(
    service: str, name: str, req: type[RequestT], resp: type[ResponseT], timeout: float = _WRITE_TIMEOUT
) -> MethodPolicy[RequestT, ResponseT]:
    return MethodPolicy(
        _method(service, name), CallShape.UNARY_UNARY, Idempotency.DEDUPLICATED, req, resp, timeout, _DEFAULT_RETRY
    )


def _stream(
    service: str,
    name: str,
    shape: CallShape,
    idempotency: Idempotency,
    req: type[RequestT],
    resp: type[ResponseT],
    timeout: float | None,
) -> MethodPolicy[RequestT, ResponseT]:
    return MethodPolicy(_method(service, name), shape, idempotency, req, resp, timeout, None)


_CUSTOMER = "fintech.customer.v1.CustomerService"
ASK = _deduplicated(_CUSTOMER, "Ask", customer.AskRequest, customer.AskResponse, _LLM_TIMEOUT)
STREAM_ASK = _stream(
    _CUSTOMER,
    "StreamAsk",
    CallShape.UNARY_STREAM,
    Idempotency.DEDUPLICATED,
    customer.StreamAskRequest,
    customer.StreamAskResponse,
    _LLM_TIMEOUT,
)
SUBMIT_FEEDBACK = _deduplicated(
    _CUSTOMER, "SubmitFeedback", customer.SubmitFeedbackRequest, customer.SubmitFeedbackResponse
)
LIST_ESCALATIONS = _read(
    _CUSTOMER, "ListEscalations", customer.ListEscalationsRequest, customer.ListEscalationsResponse
)
GET_ESCALATION = _read(_CUSTOMER, "GetEscalation", customer.GetEscalationRequest, customer.GetEscalationResponse)
RESOLVE_ESCALATION = _deduplicated(
    _CUSTOMER, "ResolveEscalation", customer.ResolveEscalationRequest, customer.ResolveEscalationResponse
)
# Re-indexing embeds every chunk of the article: slower than an ordinary write.
UPSERT_DOCUMENT = _deduplicated(
    _CUSTOMER, "UpsertDocument", customer.UpsertDocumentRequest, customer.UpsertDocumentResponse, 60.0
)
DELETE_DOCUMENT = _deduplicated(
    _CUSTOMER, "DeleteDocument", customer.DeleteDocumentRequest, customer.DeleteDocumentResponse
)
LIST_DOCUMENTS = _read(_CUSTOMER, "ListDocuments", customer.ListDocumentsRequest, customer.ListDocumentsResponse)
SEARCH_KNOWLEDGE = _read(
    _CUSTOMER, "SearchKnowledge", customer.SearchKnowledgeRequest, customer.SearchKnowledgeResponse
)

_RISK = "fintech.risk.v1.RiskService"
ASSESS_LOAN_APPLICATION = _deduplicated(
    _RISK, "AssessLoanApplication", risk.AssessLoanApplicationRequest, risk.AssessLoanApplicationResponse, 60.0
)
ASSESS_LOAN_APPLICATIONS = _stream(
    _RISK,
    "AssessLoanApplications",
    CallShape.STREAM_STREAM,
    Idempotency.UNSAFE,
    risk.AssessLoanApplicationsRequest,
    risk.AssessLoanApplicationsResponse,
    1800.0,
)
GET_MODEL_CARD = _read(_RISK, "GetModelCard", risk.GetModelCardRequest, risk.GetModelCardResponse)
LIST_LOAN_REVIEWS = _read(_RISK, "ListLoanReviews", risk.ListLoanReviewsRequest, risk.ListLoanReviewsResponse)
DECIDE_LOAN_REVIEW = _deduplicated(
    _RISK, "DecideLoanReview", risk.DecideLoanReviewRequest, risk.DecideLoanReviewResponse
)

_AML = "fintech.aml.v1.AMLService"
# A screening feed stays open for as long as core banking sends transactions; an hour bounds a stuck one.
SCREEN_TRANSACTIONS = _stream(
    _AML,
    "ScreenTransactions",
    CallShape.STREAM_STREAM,
    Idempotency.UNSAFE,
    aml.ScreenTransactionsRequest,
    aml.ScreenTransactionsResponse,
    3600.0,
)
INGEST_TRANSACTIONS = _stream(
    _AML,
    "IngestTransactions",
    CallShape.STREAM_UNARY,
    Idempotency.UNSAFE,
    aml.IngestTransactionsRequest,
    aml.IngestTransactionsResponse,
    1800.0,
)
LIST_ALERTS = _read(_AML, "ListAlerts", aml.ListAlertsRequest, aml.ListAlertsResponse)
GET_ALERT = _read(_AML, "GetAlert", aml.GetAlertRequest, aml.GetAlertResponse)
UPDATE_ALERT = _deduplicated(_AML, "UpdateAlert", aml.UpdateAlertRequest, aml.UpdateAlertResponse)
INVESTIGATE_NETWORK = _deduplicated(
    _AML, "InvestigateNetwork", aml.InvestigateNetworkRequest, aml.InvestigateNetworkResponse, 60.0
)
LIST_CASES = _read(_AML, "ListCases", aml.ListCasesRequest, aml.ListCasesResponse)
GET_CASE = _read(_AML, "GetCase", aml.GetCaseRequest, aml.GetCaseResponse)
LIST_ACCOUNT_TRANSACTIONS = _read(
    _AML, "ListAccountTransactions", aml.ListAccountTransactionsRequest, aml.ListAccountTransactionsResponse, 30.0
)
DRAFT_SUSPICIOUS_ACTIVITY_REPORT = _deduplicated(
    _AML,
    "DraftSuspiciousActivityReport",
    aml.DraftSuspiciousActivityReportRequest,
    aml.DraftSuspiciousActivityReportResponse,
    _LLM_TIMEOUT,
)

_COMPLIANCE = "fintech.compliance.v1.ComplianceService"
ANALYZE_REGULATION = _deduplicated(
    _COMPLIANCE,
    "AnalyzeRegulation",
    compliance.AnalyzeRegulationRequest,
    compliance.AnalyzeRegulationResponse,
    _LLM_TIMEOUT,
)
COMPARE_REGULATION_VERSIONS = _deduplicated(
    _COMPLIANCE,
    "CompareRegulationVersions",
    compliance.CompareRegulationVersionsRequest,
    compliance.CompareRegulationVersionsResponse,
    _LLM_TIMEOUT,
)
REVIEW_CONTRACT = _deduplicated(
    _COMPLIANCE, "ReviewContract", compliance.ReviewContractRequest, compliance.ReviewContractResponse, _LLM_TIMEOUT
)
REVIEW_CONTRACTS = _stream(
    _COMPLIANCE,
    "ReviewContracts",
    CallShape.STREAM_STREAM,
    Idempotency.UNSAFE,
    compliance.ReviewContractsRequest,
    compliance.ReviewContractsResponse,
    1800.0,
)
LIST_CONTRACT_REVIEWS = _read(
    _COMPLIANCE, "ListContractReviews", compliance.ListContractReviewsRequest, compliance.ListContractReviewsResponse
)
GET_CONTRACT_REVIEW = _read(
    _COMPLIANCE, "GetContractReview", compliance.GetContractReviewRequest, compliance.GetContractReviewResponse
)
LIST_PLAYBOOKS = _read(_COMPLIANCE, "ListPlaybooks", compliance.ListPlaybooksRequest, compliance.ListPlaybooksResponse)
GET_REGULATION_ANALYSIS = _read(
    _COMPLIANCE,
    "GetRegulationAnalysis",
    compliance.GetRegulationAnalysisRequest,
    compliance.GetRegulationAnalysisResponse,
)
LIST_REGULATION_ANALYSES = _read(
    _COMPLIANCE,
    "ListRegulationAnalyses",
    compliance.ListRegulationAnalysesRequest,
    compliance.ListRegulationAnalysesResponse,
)
GET_VERSION_COMPARISON = _read(
    _COMPLIANCE, "GetVersionComparison", compliance.GetVersionComparisonRequest, compliance.GetVersionComparisonResponse
)
LIST_VERSION_COMPARISONS = _read(
    _COMPLIANCE,
    "ListVersionComparisons",
    compliance.ListVersionComparisonsRequest,
    compliance.ListVersionComparisonsResponse,
)

_OPERATIONS = "fintech.operations.v1.OperationsService"
GET_PLATFORM_STATUS = _read(
    _OPERATIONS,
    "GetPlatformStatus",
    operations.GetPlatformStatusRequest,
    operations.GetPlatformStatusResponse,
    5.0,
)
GET_DAILY_FIGURES = _read(
    _OPERATIONS, "GetDailyFigures", operations.GetDailyFiguresRequest, operations.GetDailyFiguresResponse
)
RUN_INFERENCE_DRILL = _deduplicated(
    _OPERATIONS,
    "RunInferenceDrill",
    operations.RunInferenceDrillRequest,
    operations.RunInferenceDrillResponse,
    _LLM_TIMEOUT,
)

_AUDIT = "fintech.audit.v1.AuditService"
LIST_AUDIT_RECORDS = _read(_AUDIT, "ListAuditRecords", audit.ListAuditRecordsRequest, audit.ListAuditRecordsResponse)
GET_AUDIT_RECORD = _read(_AUDIT, "GetAuditRecord", audit.GetAuditRecordRequest, audit.GetAuditRecordResponse)
# Re-hashes a stretch of the chain on the server: long, but a read, so a broken stream can simply be re-run.
VERIFY_AUDIT_CHAIN = _stream(
    _AUDIT,
    "VerifyAuditChain",
    CallShape.UNARY_STREAM,
    Idempotency.READ,
    audit.VerifyAuditChainRequest,
    audit.VerifyAuditChainResponse,
    600.0,
)

POLICIES: Mapping[str, MethodPolicy[Any, Any]] = MappingProxyType(
    {
        policy.method: policy
        for policy in (
            ASK,
            STREAM_ASK,
            SUBMIT_FEEDBACK,
            LIST_ESCALATIONS,
            GET_ESCALATION,
            RESOLVE_ESCALATION,
            UPSERT_DOCUMENT,
            DELETE_DOCUMENT,
            LIST_DOCUMENTS,
            SEARCH_KNOWLEDGE,
            ASSESS_LOAN_APPLICATION,
            ASSESS_LOAN_APPLICATIONS,
            GET_MODEL_CARD,
            LIST_LOAN_REVIEWS,
            DECIDE_LOAN_REVIEW,
            SCREEN_TRANSACTIONS,
            INGEST_TRANSACTIONS,
            LIST_ALERTS,
            GET_ALERT,
            UPDATE_ALERT,
            INVESTIGATE_NETWORK,
            LIST_CASES,
            GET_CASE,
            LIST_ACCOUNT_TRANSACTIONS,
            DRAFT_SUSPICIOUS_ACTIVITY_REPORT,
            ANALYZE_REGULATION,
            COMPARE_REGULATION_VERSIONS,
            REVIEW_CONTRACT,
            REVIEW_CONTRACTS,
            LIST_CONTRACT_REVIEWS,
            GET_CONTRACT_REVIEW,
            LIST_PLAYBOOKS,
            GET_REGULATION_ANALYSIS,
            LIST_REGULATION_ANALYSES,
            GET_VERSION_COMPARISON,
            LIST_VERSION_COMPARISONS,
            GET_PLATFORM_STATUS,
            GET_DAILY_FIGURES,
            RUN_INFERENCE_DRILL,
            LIST_AUDIT_RECORDS,
            GET_AUDIT_RECORD,
            VERIFY_AUDIT_CHAIN,
        )
    }
)
"""Every RPC's policy by full method name."""
