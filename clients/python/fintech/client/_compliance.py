"""Typed async and sync clients of ``fintech.compliance.v1.ComplianceService``.

Each method sends one RPC through the call helper (deadline, metadata, request id,
retry and error conversion come from the policy table in ``_policy``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator

from fintech.client import _policy
from fintech.client._base import AsyncServiceClient, SyncServiceClient
from fintech.client._options import DEFAULT, DefaultType, Metadata, RequestStream, Retry
from fintech.compliance.v1 import compliance_service_pb2 as compliance_pb
from fintech.compliance.v1 import compliance_service_pb2_grpc as compliance_pb_grpc


class ComplianceServiceClient(AsyncServiceClient):
    """Client of ``fintech.compliance.v1.ComplianceService`` over a ``grpc.aio`` channel.

    Open the channel with ``secure_channel``.
    """

    _stub_class = compliance_pb_grpc.ComplianceServiceStub

    async def analyze_regulation(
        self,
        *,
        request: compliance_pb.AnalyzeRegulationRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.AnalyzeRegulationResponse:
        """AnalyzeRegulation."""
        return await self._caller.unary_unary(
            _policy.ANALYZE_REGULATION,
            self._stub.AnalyzeRegulation,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def compare_regulation_versions(
        self,
        *,
        request: compliance_pb.CompareRegulationVersionsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.CompareRegulationVersionsResponse:
        """CompareRegulationVersions."""
        return await self._caller.unary_unary(
            _policy.COMPARE_REGULATION_VERSIONS,
            self._stub.CompareRegulationVersions,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def review_contract(
        self,
        *,
        request: compliance_pb.ReviewContractRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.ReviewContractResponse:
        """ReviewContract."""
        return await self._caller.unary_unary(
            _policy.REVIEW_CONTRACT,
            self._stub.ReviewContract,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def review_contracts(
        self,
        *,
        requests: RequestStream[compliance_pb.ReviewContractsRequest],
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> AsyncIterator[compliance_pb.ReviewContractsResponse]:
        """Bulk review over a bidirectional stream, with per-item errors and progress.

        Sends ``requests`` as they are produced and yields each response; never retried.
        """
        return self._caller.stream_stream(
            _policy.REVIEW_CONTRACTS,
            self._stub.ReviewContracts,
            requests,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def list_contract_reviews(
        self,
        *,
        request: compliance_pb.ListContractReviewsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.ListContractReviewsResponse:
        """ListContractReviews."""
        return await self._caller.unary_unary(
            _policy.LIST_CONTRACT_REVIEWS,
            self._stub.ListContractReviews,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def get_contract_review(
        self,
        *,
        request: compliance_pb.GetContractReviewRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.GetContractReviewResponse:
        """GetContractReview."""
        return await self._caller.unary_unary(
            _policy.GET_CONTRACT_REVIEW,
            self._stub.GetContractReview,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def list_playbooks(
        self,
        *,
        request: compliance_pb.ListPlaybooksRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.ListPlaybooksResponse:
        """ListPlaybooks."""
        return await self._caller.unary_unary(
            _policy.LIST_PLAYBOOKS,
            self._stub.ListPlaybooks,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def get_regulation_analysis(
        self,
        *,
        request: compliance_pb.GetRegulationAnalysisRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.GetRegulationAnalysisResponse:
        """A stored regulation analysis, as AnalyzeRegulation returned it."""
        return await self._caller.unary_unary(
            _policy.GET_REGULATION_ANALYSIS,
            self._stub.GetRegulationAnalysis,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def list_regulation_analyses(
        self,
        *,
        request: compliance_pb.ListRegulationAnalysesRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.ListRegulationAnalysesResponse:
        """Stored regulation analyses, newest first (``view`` FULL adds the clauses)."""
        return await self._caller.unary_unary(
            _policy.LIST_REGULATION_ANALYSES,
            self._stub.ListRegulationAnalyses,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def get_version_comparison(
        self,
        *,
        request: compliance_pb.GetVersionComparisonRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.GetVersionComparisonResponse:
        """A stored version comparison, with both versions' clauses."""
        return await self._caller.unary_unary(
            _policy.GET_VERSION_COMPARISON,
            self._stub.GetVersionComparison,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def list_version_comparisons(
        self,
        *,
        request: compliance_pb.ListVersionComparisonsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.ListVersionComparisonsResponse:
        """Stored version comparisons, newest first (``view`` FULL adds the clauses)."""
        return await self._caller.unary_unary(
            _policy.LIST_VERSION_COMPARISONS,
            self._stub.ListVersionComparisons,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )


class ComplianceServiceSyncClient(SyncServiceClient):
    """Client of ``fintech.compliance.v1.ComplianceService`` over a blocking ``grpc`` channel.

    Open the channel with ``secure_channel_sync``.
    """

    _stub_class = compliance_pb_grpc.ComplianceServiceStub

    def analyze_regulation(
        self,
        *,
        request: compliance_pb.AnalyzeRegulationRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.AnalyzeRegulationResponse:
        """AnalyzeRegulation."""
        return self._caller.unary_unary(
            _policy.ANALYZE_REGULATION,
            self._stub.AnalyzeRegulation,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def compare_regulation_versions(
        self,
        *,
        request: compliance_pb.CompareRegulationVersionsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.CompareRegulationVersionsResponse:
        """CompareRegulationVersions."""
        return self._caller.unary_unary(
            _policy.COMPARE_REGULATION_VERSIONS,
            self._stub.CompareRegulationVersions,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def review_contract(
        self,
        *,
        request: compliance_pb.ReviewContractRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.ReviewContractResponse:
        """ReviewContract."""
        return self._caller.unary_unary(
            _policy.REVIEW_CONTRACT,
            self._stub.ReviewContract,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def review_contracts(
        self,
        *,
        requests: Iterable[compliance_pb.ReviewContractsRequest],
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> Iterator[compliance_pb.ReviewContractsResponse]:
        """Bulk review over a bidirectional stream, with per-item errors and progress.

        Sends ``requests`` as they are produced and yields each response; never retried.
        """
        return self._caller.stream_stream(
            _policy.REVIEW_CONTRACTS,
            self._stub.ReviewContracts,
            requests,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )

    def list_contract_reviews(
        self,
        *,
        request: compliance_pb.ListContractReviewsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.ListContractReviewsResponse:
        """ListContractReviews."""
        return self._caller.unary_unary(
            _policy.LIST_CONTRACT_REVIEWS,
            self._stub.ListContractReviews,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def get_contract_review(
        self,
        *,
        request: compliance_pb.GetContractReviewRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.GetContractReviewResponse:
        """GetContractReview."""
        return self._caller.unary_unary(
            _policy.GET_CONTRACT_REVIEW,
            self._stub.GetContractReview,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def list_playbooks(
        self,
        *,
        request: compliance_pb.ListPlaybooksRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.ListPlaybooksResponse:
        """ListPlaybooks."""
        return self._caller.unary_unary(
            _policy.LIST_PLAYBOOKS,
            self._stub.ListPlaybooks,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def get_regulation_analysis(
        self,
        *,
        request: compliance_pb.GetRegulationAnalysisRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.GetRegulationAnalysisResponse:
        """A stored regulation analysis, as AnalyzeRegulation returned it."""
        return self._caller.unary_unary(
            _policy.GET_REGULATION_ANALYSIS,
            self._stub.GetRegulationAnalysis,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def list_regulation_analyses(
        self,
        *,
        request: compliance_pb.ListRegulationAnalysesRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.ListRegulationAnalysesResponse:
        """Stored regulation analyses, newest first (``view`` FULL adds the clauses)."""
        return self._caller.unary_unary(
            _policy.LIST_REGULATION_ANALYSES,
            self._stub.ListRegulationAnalyses,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def get_version_comparison(
        self,
        *,
        request: compliance_pb.GetVersionComparisonRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.GetVersionComparisonResponse:
        """A stored version comparison, with both versions' clauses."""
        return self._caller.unary_unary(
            _policy.GET_VERSION_COMPARISON,
            self._stub.GetVersionComparison,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def list_version_comparisons(
        self,
        *,
        request: compliance_pb.ListVersionComparisonsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> compliance_pb.ListVersionComparisonsResponse:
        """Stored version comparisons, newest first (``view`` FULL adds the clauses)."""
        return self._caller.unary_unary(
            _policy.LIST_VERSION_COMPARISONS,
            self._stub.ListVersionComparisons,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )
