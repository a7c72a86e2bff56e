"""Typed async and sync clients of ``fintech.operations.v1.OperationsService``.

Each method sends one RPC through the call helper (deadline, metadata, request id,
retry and error conversion come from the policy table in ``_policy``).
"""

from __future__ import annotations

from fintech.client import _policy
from fintech.client._base import AsyncServiceClient, SyncServiceClient
from fintech.client._options import DEFAULT, DefaultType, Metadata, Retry
from fintech.operations.v1 import operations_service_pb2 as operations_pb
from fintech.operations.v1 import operations_service_pb2_grpc as operations_pb_grpc


class OperationsServiceClient(AsyncServiceClient):
    """Client of ``fintech.operations.v1.OperationsService`` over a ``grpc.aio`` channel.

    Open the channel with ``secure_channel``.
    """

    _stub_class = operations_pb_grpc.OperationsServiceStub

    async def get_platform_status(
        self,
        *,
        request: operations_pb.GetPlatformStatusRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> operations_pb.GetPlatformStatusResponse:
        """GetPlatformStatus."""
        return await self._caller.unary_unary(
            _policy.GET_PLATFORM_STATUS,
            self._stub.GetPlatformStatus,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def get_daily_figures(
        self,
        *,
        request: operations_pb.GetDailyFiguresRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> operations_pb.GetDailyFiguresResponse:
        """GetDailyFigures."""
        return await self._caller.unary_unary(
            _policy.GET_DAILY_FIGURES,
            self._stub.GetDailyFigures,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def run_inference_drill(
        self,
        *,
        request: operations_pb.RunInferenceDrillRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> operations_pb.RunInferenceDrillResponse:
        """Takes the primary model group out under a steady load and reports the switch."""
        return await self._caller.unary_unary(
            _policy.RUN_INFERENCE_DRILL,
            self._stub.RunInferenceDrill,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )


class OperationsServiceSyncClient(SyncServiceClient):
    """Client of ``fintech.operations.v1.OperationsService`` over a blocking ``grpc`` channel.

    Open the channel with ``secure_channel_sync``.
    """

    _stub_class = operations_pb_grpc.OperationsServiceStub

    def get_platform_status(
        self,
        *,
        request: operations_pb.GetPlatformStatusRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> operations_pb.GetPlatformStatusResponse:
        """GetPlatformStatus."""
        return self._caller.unary_unary(
            _policy.GET_PLATFORM_STATUS,
            self._stub.GetPlatformStatus,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def get_daily_figures(
        self,
        *,
        request: operations_pb.GetDailyFiguresRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> operations_pb.GetDailyFiguresResponse:
        """GetDailyFigures."""
        return self._caller.unary_unary(
            _policy.GET_DAILY_FIGURES,
            self._stub.GetDailyFigures,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def run_inference_drill(
        self,
        *,
        request: operations_pb.RunInferenceDrillRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> operations_pb.RunInferenceDrillResponse:
        """Takes the primary model group out under a steady load and reports the switch."""
        return self._caller.unary_unary(
            _policy.RUN_INFERENCE_DRILL,
            self._stub.RunInferenceDrill,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )
