"""Typed async and sync clients of ``fintech.customer.v1.CustomerService``.

Each method sends one RPC through the call helper (deadline, metadata, request id,
retry and error conversion come from the policy table in ``_policy``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from fintech.client import _policy
from fintech.client._base import AsyncServiceClient, SyncServiceClient
from fintech.client._options import DEFAULT, DefaultType, Metadata, Retry
from fintech.customer.v1 import customer_service_pb2 as customer_pb
from fintech.customer.v1 import customer_service_pb2_grpc as customer_pb_grpc


class CustomerServiceClient(AsyncServiceClient):
    """Client of ``fintech.customer.v1.CustomerService`` over a ``grpc.aio`` channel.

    Open the channel with ``secure_channel``.
    """

    _stub_class = customer_pb_grpc.CustomerServiceStub

    async def ask(
        self,
        *,
        request: customer_pb.AskRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.AskResponse:
        """Answers one question in a conversation."""
        return await self._caller.unary_unary(
            _policy.ASK,
            self._stub.Ask,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def stream_ask(
        self,
        *,
        request: customer_pb.StreamAskRequest,
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> AsyncIterator[customer_pb.StreamAskResponse]:
        """Answers one question, streaming checked sentences, then citations, then the final result.

        Yields each response as it arrives; never retried.
        """
        return self._caller.unary_stream(
            _policy.STREAM_ASK,
            self._stub.StreamAsk,
            request,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def submit_feedback(
        self,
        *,
        request: customer_pb.SubmitFeedbackRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.SubmitFeedbackResponse:
        """Records whether an answer helped."""
        return await self._caller.unary_unary(
            _policy.SUBMIT_FEEDBACK,
            self._stub.SubmitFeedback,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def list_escalations(
        self,
        *,
        request: customer_pb.ListEscalationsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.ListEscalationsResponse:
        """Lists escalations for customer-service agents."""
        return await self._caller.unary_unary(
            _policy.LIST_ESCALATIONS,
            self._stub.ListEscalations,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def get_escalation(
        self,
        *,
        request: customer_pb.GetEscalationRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.GetEscalationResponse:
        """Gets one escalation with its conversation."""
        return await self._caller.unary_unary(
            _policy.GET_ESCALATION,
            self._stub.GetEscalation,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def resolve_escalation(
        self,
        *,
        request: customer_pb.ResolveEscalationRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.ResolveEscalationResponse:
        """Resolves an escalation with a note."""
        return await self._caller.unary_unary(
            _policy.RESOLVE_ESCALATION,
            self._stub.ResolveEscalation,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def upsert_document(
        self,
        *,
        request: customer_pb.UpsertDocumentRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.UpsertDocumentResponse:
        """Creates or replaces a knowledge-base article and re-indexes it."""
        return await self._caller.unary_unary(
            _policy.UPSERT_DOCUMENT,
            self._stub.UpsertDocument,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def delete_document(
        self,
        *,
        request: customer_pb.DeleteDocumentRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.DeleteDocumentResponse:
        """Deletes a knowledge-base article and all of its chunks."""
        return await self._caller.unary_unary(
            _policy.DELETE_DOCUMENT,
            self._stub.DeleteDocument,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def list_documents(
        self,
        *,
        request: customer_pb.ListDocumentsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.ListDocumentsResponse:
        """Lists knowledge-base articles."""
        return await self._caller.unary_unary(
            _policy.LIST_DOCUMENTS,
            self._stub.ListDocuments,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    async def search_knowledge(
        self,
        *,
        request: customer_pb.SearchKnowledgeRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.SearchKnowledgeResponse:
        """Runs retrieval on its own."""
        return await self._caller.unary_unary(
            _policy.SEARCH_KNOWLEDGE,
            self._stub.SearchKnowledge,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )


class CustomerServiceSyncClient(SyncServiceClient):
    """Client of ``fintech.customer.v1.CustomerService`` over a blocking ``grpc`` channel.

    Open the channel with ``secure_channel_sync``.
    """

    _stub_class = customer_pb_grpc.CustomerServiceStub

    def ask(
        self,
        *,
        request: customer_pb.AskRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.AskResponse:
        """Answers one question in a conversation."""
        return self._caller.unary_unary(
            _policy.ASK,
            self._stub.Ask,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def stream_ask(
        self,
        *,
        request: customer_pb.StreamAskRequest,
        timeout: float | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> Iterator[customer_pb.StreamAskResponse]:
        """Answers one question, streaming checked sentences, then citations, then the final result.

        Yields each response as it arrives; never retried.
        """
        return self._caller.unary_stream(
            _policy.STREAM_ASK,
            self._stub.StreamAsk,
            request,
            timeout=timeout,
            retry=None,
            metadata=metadata,
            traceparent=traceparent,
        )

    def submit_feedback(
        self,
        *,
        request: customer_pb.SubmitFeedbackRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.SubmitFeedbackResponse:
        """Records whether an answer helped."""
        return self._caller.unary_unary(
            _policy.SUBMIT_FEEDBACK,
            self._stub.SubmitFeedback,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def list_escalations(
        self,
        *,
        request: customer_pb.ListEscalationsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.ListEscalationsResponse:
        """Lists escalations for customer-service agents."""
        return self._caller.unary_unary(
            _policy.LIST_ESCALATIONS,
            self._stub.ListEscalations,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def get_escalation(
        self,
        *,
        request: customer_pb.GetEscalationRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.GetEscalationResponse:
        """Gets one escalation with its conversation."""
        return self._caller.unary_unary(
            _policy.GET_ESCALATION,
            self._stub.GetEscalation,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def resolve_escalation(
        self,
        *,
        request: customer_pb.ResolveEscalationRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.ResolveEscalationResponse:
        """Resolves an escalation with a note."""
        return self._caller.unary_unary(
            _policy.RESOLVE_ESCALATION,
            self._stub.ResolveEscalation,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def upsert_document(
        self,
        *,
        request: customer_pb.UpsertDocumentRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.UpsertDocumentResponse:
        """Creates or replaces a knowledge-base article and re-indexes it."""
        return self._caller.unary_unary(
            _policy.UPSERT_DOCUMENT,
            self._stub.UpsertDocument,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def delete_document(
        self,
        *,
        request: customer_pb.DeleteDocumentRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.DeleteDocumentResponse:
        """Deletes a knowledge-base article and all of its chunks."""
        return self._caller.unary_unary(
            _policy.DELETE_DOCUMENT,
            self._stub.DeleteDocument,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def list_documents(
        self,
        *,
        request: customer_pb.ListDocumentsRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.ListDocumentsResponse:
        """Lists knowledge-base articles."""
        return self._caller.unary_unary(
            _policy.LIST_DOCUMENTS,
            self._stub.ListDocuments,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )

    def search_knowledge(
        self,
        *,
        request: customer_pb.SearchKnowledgeRequest,
        timeout: float | DefaultType | None = DEFAULT,
        retry: Retry | DefaultType | None = DEFAULT,
        metadata: Metadata = (),
        traceparent: str | None = None,
    ) -> customer_pb.SearchKnowledgeResponse:
        """Runs retrieval on its own."""
        return self._caller.unary_unary(
            _policy.SEARCH_KNOWLEDGE,
            self._stub.SearchKnowledge,
            request,
            timeout=timeout,
            retry=retry,
            metadata=metadata,
            traceparent=traceparent,
        )
