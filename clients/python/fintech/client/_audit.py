"""Typed async and sync clients of ``fintech.audit.v1.AuditService``.

Each method sends one RPC through the call helper (deadline, metadata, request id,
retry and error conversion come from the policy table in ``_policy``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from fintech.audit.v1 import audit_service_pb2 as audit_pb
from fintech.audit.v1 import audit_service_pb2_grpc as audit_pb_grpc
from fintech.client import _policy
from fintech.client._base import AsyncServiceClient, SyncServiceClient
from fintech.client._options import DEFAULT, DefaultType, Metadata, Retry


class AuditServiceClient(AsyncServiceClient):
    """Client of ``fintech.audit.v1.AuditService`` over a ``grpc.aio`` channel.

    Open the channel with ``secure_channel``.
    """

    _stub_class = audit_pb_grpc.AuditServiceStub

    async def list_audit_records(
        self,
        *,
        request: audit_pb.ListAuditRecordsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> audit_pb.ListAuditRecordsResponse:
        """Records matching the filters, oldest first; metadata only (no decrypted payload)."""
        return await self._caller.unary_unary(
            _policy.LIST_AUDIT_RECORDS,
            self._stub.ListAuditRecords,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def get_audit_record(
        self,
        *,
        request: audit_pb.GetAuditRecordRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> audit_pb.GetAuditRecordResponse:
        """One record, with its decrypted inputs and raw LLM output; the read is itself audited."""
        return await self._caller.unary_unary(
            _policy.GET_AUDIT_RECORD,
            self._stub.GetAuditRecord,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def verify_audit_chain(
        self,
        *,
        request: audit_pb.VerifyAuditChainRequest,
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> AsyncIterator[audit_pb.VerifyAuditChainResponse]:
        """Verifies the hash chain and the signed checkpoints in one pass, streaming progress; the last message carries
        the result.

        Yields each response as it arrives; never retried.
        """
        return self._caller.unary_stream(
            _policy.VERIFY_AUDIT_CHAIN,
            self._stub.VerifyAuditChain,
            request,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )


class AuditServiceSyncClient(SyncServiceClient):
    """Client of ``fintech.audit.v1.AuditService`` over a blocking ``grpc`` channel.

    Open the channel with ``secure_channel_sync``.
    """

    _stub_class = audit_pb_grpc.AuditServiceStub

    def list_audit_records(
        self,
        *,
        request: audit_pb.ListAuditRecordsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> audit_pb.ListAuditRecordsResponse:
        """Records matching the filters, oldest first; metadata only (no decrypted payload)."""
        return self._caller.unary_unary(
            _policy.LIST_AUDIT_RECORDS,
            self._stub.ListAuditRecords,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def get_audit_record(
        self,
        *,
        request: audit_pb.GetAuditRecordRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> audit_pb.GetAuditRecordResponse:
        """One record, with its decrypted inputs and raw LLM output; the read is itself audited."""
        return self._caller.unary_unary(
            _policy.GET_AUDIT_RECORD,
            self._stub.GetAuditRecord,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def verify_audit_chain(
        self,
        *,
        request: audit_pb.VerifyAuditChainRequest,
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> Iterator[audit_pb.VerifyAuditChainResponse]:
        """Verifies the hash chain and the signed checkpoints in one pass, streaming progress; the last message carries
        the result.

        Yields each response as it arrives; never retried.
        """
        return self._caller.unary_stream(
            _policy.VERIFY_AUDIT_CHAIN,
            self._stub.VerifyAuditChain,
            request,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )
