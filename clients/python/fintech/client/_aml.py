"""Typed async and sync clients of ``fintech.aml.v1.AMLService``.

Each method sends one RPC through the call helper (deadline, metadata, request id,
retry and error conversion come from the policy table in ``_policy``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator

from fintech.aml.v1 import aml_service_pb2 as aml_pb
from fintech.aml.v1 import aml_service_pb2_grpc as aml_pb_grpc
from fintech.client import _policy
from fintech.client._base import AsyncServiceClient, SyncServiceClient
from fintech.client._options import DEFAULT, DefaultType, Metadata, RequestStream, Retry


class AMLServiceClient(AsyncServiceClient):
    """Client of ``fintech.aml.v1.AMLService`` over a ``grpc.aio`` channel.

    Open the channel with ``secure_channel``.
    """

    _stub_class = aml_pb_grpc.AMLServiceStub

    def screen_transactions(
        self,
        *,
        requests: RequestStream[aml_pb.ScreenTransactionsRequest],
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> AsyncIterator[aml_pb.ScreenTransactionsResponse]:
        """One decision per transaction, in order, over a bidirectional stream.

        Sends ``requests`` as they are produced and yields each response; never retried.
        """
        return self._caller.stream_stream(
            _policy.SCREEN_TRANSACTIONS,
            self._stub.ScreenTransactions,
            requests,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def ingest_transactions(
        self,
        *,
        requests: RequestStream[aml_pb.IngestTransactionsRequest],
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.IngestTransactionsResponse:
        """Loads transactions into the shared history; acknowledged only once durably committed.

        Sends every item of ``requests``, then returns the one response; never retried.
        """
        return await self._caller.stream_unary(
            _policy.INGEST_TRANSACTIONS,
            self._stub.IngestTransactions,
            requests,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def list_alerts(
        self,
        *,
        request: aml_pb.ListAlertsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.ListAlertsResponse:
        """ListAlerts."""
        return await self._caller.unary_unary(
            _policy.LIST_ALERTS,
            self._stub.ListAlerts,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def get_alert(
        self,
        *,
        request: aml_pb.GetAlertRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.GetAlertResponse:
        """GetAlert."""
        return await self._caller.unary_unary(
            _policy.GET_ALERT,
            self._stub.GetAlert,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def update_alert(
        self,
        *,
        request: aml_pb.UpdateAlertRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.UpdateAlertResponse:
        """Moves an alert through its workflow; a reason is required."""
        return await self._caller.unary_unary(
            _policy.UPDATE_ALERT,
            self._stub.UpdateAlert,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def investigate_network(
        self,
        *,
        request: aml_pb.InvestigateNetworkRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.InvestigateNetworkResponse:
        """Expands the transaction graph around seed accounts or an alert."""
        return await self._caller.unary_unary(
            _policy.INVESTIGATE_NETWORK,
            self._stub.InvestigateNetwork,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def list_cases(
        self,
        *,
        request: aml_pb.ListCasesRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.ListCasesResponse:
        """ListCases."""
        return await self._caller.unary_unary(
            _policy.LIST_CASES,
            self._stub.ListCases,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def get_case(
        self,
        *,
        request: aml_pb.GetCaseRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.GetCaseResponse:
        """GetCase."""
        return await self._caller.unary_unary(
            _policy.GET_CASE,
            self._stub.GetCase,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def list_account_transactions(
        self,
        *,
        request: aml_pb.ListAccountTransactionsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.ListAccountTransactionsResponse:
        """The transactions behind every piece of evidence."""
        return await self._caller.unary_unary(
            _policy.LIST_ACCOUNT_TRANSACTIONS,
            self._stub.ListAccountTransactions,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def draft_suspicious_activity_report(
        self,
        *,
        request: aml_pb.DraftSuspiciousActivityReportRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.DraftSuspiciousActivityReportResponse:
        """The LLM drafts a SAR narrative from a case's facts; every claim is checked."""
        return await self._caller.unary_unary(
            _policy.DRAFT_SUSPICIOUS_ACTIVITY_REPORT,
            self._stub.DraftSuspiciousActivityReport,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )


class AMLServiceSyncClient(SyncServiceClient):
    """Client of ``fintech.aml.v1.AMLService`` over a blocking ``grpc`` channel.

    Open the channel with ``secure_channel_sync``.
    """

    _stub_class = aml_pb_grpc.AMLServiceStub

    def screen_transactions(
        self,
        *,
        requests: Iterable[aml_pb.ScreenTransactionsRequest],
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> Iterator[aml_pb.ScreenTransactionsResponse]:
        """One decision per transaction, in order, over a bidirectional stream.

        Sends ``requests`` as they are produced and yields each response; never retried.
        """
        return self._caller.stream_stream(
            _policy.SCREEN_TRANSACTIONS,
            self._stub.ScreenTransactions,
            requests,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )

    def ingest_transactions(
        self,
        *,
        requests: Iterable[aml_pb.IngestTransactionsRequest],
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.IngestTransactionsResponse:
        """Loads transactions into the shared history; acknowledged only once durably committed.

        Sends every item of ``requests``, then returns the one response; never retried.
        """
        return self._caller.stream_unary(
            _policy.INGEST_TRANSACTIONS,
            self._stub.IngestTransactions,
            requests,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )

    def list_alerts(
        self,
        *,
        request: aml_pb.ListAlertsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.ListAlertsResponse:
        """ListAlerts."""
        return self._caller.unary_unary(
            _policy.LIST_ALERTS,
            self._stub.ListAlerts,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def get_alert(
        self,
        *,
        request: aml_pb.GetAlertRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.GetAlertResponse:
        """GetAlert."""
        return self._caller.unary_unary(
            _policy.GET_ALERT,
            self._stub.GetAlert,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def update_alert(
        self,
        *,
        request: aml_pb.UpdateAlertRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.UpdateAlertResponse:
        """Moves an alert through its workflow; a reason is required."""
        return self._caller.unary_unary(
            _policy.UPDATE_ALERT,
            self._stub.UpdateAlert,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def investigate_network(
        self,
        *,
        request: aml_pb.InvestigateNetworkRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.InvestigateNetworkResponse:
        """Expands the transaction graph around seed accounts or an alert."""
        return self._caller.unary_unary(
            _policy.INVESTIGATE_NETWORK,
            self._stub.InvestigateNetwork,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def list_cases(
        self,
        *,
        request: aml_pb.ListCasesRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.ListCasesResponse:
        """ListCases."""
        return self._caller.unary_unary(
            _policy.LIST_CASES,
            self._stub.ListCases,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def get_case(
        self,
        *,
        request: aml_pb.GetCaseRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.GetCaseResponse:
        """GetCase."""
        return self._caller.unary_unary(
            _policy.GET_CASE,
            self._stub.GetCase,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def list_account_transactions(
        self,
        *,
        request: aml_pb.ListAccountTransactionsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.ListAccountTransactionsResponse:
        """The transactions behind every piece of evidence."""
        return self._caller.unary_unary(
            _policy.LIST_ACCOUNT_TRANSACTIONS,
            self._stub.ListAccountTransactions,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def draft_suspicious_activity_report(
        self,
        *,
        request: aml_pb.DraftSuspiciousActivityReportRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> aml_pb.DraftSuspiciousActivityReportResponse:
        """The LLM drafts a SAR narrative from a case's facts; every claim is checked."""
        return self._caller.unary_unary(
            _policy.DRAFT_SUSPICIOUS_ACTIVITY_REPORT,
            self._stub.DraftSuspiciousActivityReport,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )
