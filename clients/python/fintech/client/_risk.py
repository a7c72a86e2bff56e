"""Typed async and sync clients of ``fintech.risk.v1.RiskService``.

Each method sends one RPC through the call helper (deadline, metadata, request id,
retry and error conversion come from the policy table in ``_policy``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator

from fintech.client import _policy
from fintech.client._base import AsyncServiceClient, SyncServiceClient
from fintech.client._options import DEFAULT, DefaultType, Metadata, RequestStream, Retry
from fintech.risk.v1 import risk_service_pb2 as risk_pb
from fintech.risk.v1 import risk_service_pb2_grpc as risk_pb_grpc


class RiskServiceClient(AsyncServiceClient):
    """Client of ``fintech.risk.v1.RiskService`` over a ``grpc.aio`` channel.

    Open the channel with ``secure_channel``.
    """

    _stub_class = risk_pb_grpc.RiskServiceStub

    async def assess_loan_application(
        self,
        *,
        request: risk_pb.AssessLoanApplicationRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> risk_pb.AssessLoanApplicationResponse:
        """Assesses one application."""
        return await self._caller.unary_unary(
            _policy.ASSESS_LOAN_APPLICATION,
            self._stub.AssessLoanApplication,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def assess_loan_applications(
        self,
        *,
        requests: RequestStream[risk_pb.AssessLoanApplicationsRequest],
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> AsyncIterator[risk_pb.AssessLoanApplicationsResponse]:
        """Assesses a batch over a bidirectional stream; a bad item yields a per-item error.

        Each request is one application, or a micro-batch of up to 1,000 (``items``, answered by one
        response whose ``results`` hold one result per item, in order): micro-batches save the
        per-message transport cost and are the fast way to score many applications. Sends ``requests``
        as they are produced and yields each response; never retried.
        """
        return self._caller.stream_stream(
            _policy.ASSESS_LOAN_APPLICATIONS,
            self._stub.AssessLoanApplications,
            requests,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def get_model_card(
        self,
        *,
        request: risk_pb.GetModelCardRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> risk_pb.GetModelCardResponse:
        """The scorecard's model card (SR 11-7 style documentation)."""
        return await self._caller.unary_unary(
            _policy.GET_MODEL_CARD,
            self._stub.GetModelCard,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def list_loan_reviews(
        self,
        *,
        request: risk_pb.ListLoanReviewsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> risk_pb.ListLoanReviewsResponse:
        """The manual-review queue of REFER decisions."""
        return await self._caller.unary_unary(
            _policy.LIST_LOAN_REVIEWS,
            self._stub.ListLoanReviews,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def decide_loan_review(
        self,
        *,
        request: risk_pb.DecideLoanReviewRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> risk_pb.DecideLoanReviewResponse:
        """A loan officer's decision on a REFER, with a mandatory justification."""
        return await self._caller.unary_unary(
            _policy.DECIDE_LOAN_REVIEW,
            self._stub.DecideLoanReview,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )


class RiskServiceSyncClient(SyncServiceClient):
    """Client of ``fintech.risk.v1.RiskService`` over a blocking ``grpc`` channel.

    Open the channel with ``secure_channel_sync``.
    """

    _stub_class = risk_pb_grpc.RiskServiceStub

    def assess_loan_application(
        self,
        *,
        request: risk_pb.AssessLoanApplicationRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> risk_pb.AssessLoanApplicationResponse:
        """Assesses one application."""
        return self._caller.unary_unary(
            _policy.ASSESS_LOAN_APPLICATION,
            self._stub.AssessLoanApplication,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def assess_loan_applications(
        self,
        *,
        requests: Iterable[risk_pb.AssessLoanApplicationsRequest],
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> Iterator[risk_pb.AssessLoanApplicationsResponse]:
        """Assesses a batch over a bidirectional stream; a bad item yields a per-item error.

        Each request is one application, or a micro-batch of up to 1,000 (``items``, answered by one
        response whose ``results`` hold one result per item, in order): micro-batches save the
        per-message transport cost and are the fast way to score many applications. Sends ``requests``
        as they are produced and yields each response; never retried.
        """
        return self._caller.stream_stream(
            _policy.ASSESS_LOAN_APPLICATIONS,
            self._stub.AssessLoanApplications,
            requests,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )

    def get_model_card(
        self,
        *,
        request: risk_pb.GetModelCardRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> risk_pb.GetModelCardResponse:
        """The scorecard's model card (SR 11-7 style documentation)."""
        return self._caller.unary_unary(
            _policy.GET_MODEL_CARD,
            self._stub.GetModelCard,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def list_loan_reviews(
        self,
        *,
        request: risk_pb.ListLoanReviewsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> risk_pb.ListLoanReviewsResponse:
        """The manual-review queue of REFER decisions."""
        return self._caller.unary_unary(
            _policy.LIST_LOAN_REVIEWS,
            self._stub.ListLoanReviews,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def decide_loan_review(
        self,
        *,
        request: risk_pb.DecideLoanReviewRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> risk_pb.DecideLoanReviewResponse:
        """A loan officer's decision on a REFER, with a mandatory justification."""
        return self._caller.unary_unary(
            _policy.DECIDE_LOAN_REVIEW,
            self._stub.DecideLoanReview,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )
