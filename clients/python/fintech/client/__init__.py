"""The typed Python client of the fintech platform.

Open one mTLS channel per address, wrap it in the clients of the services
behind it, and call keyword-only methods that take and return the generated
protobuf messages::

    from fintech.client import RiskServiceClient, secure_channel
    from fintech.risk.v1 import risk_service_pb2 as risk

    async with secure_channel("risk.bank:8443", ca_file=..., cert_file=..., key_file=...) as channel:
        risk_client = RiskServiceClient(channel)
        card = await risk_client.get_model_card(request=risk.GetModelCardRequest())

Every call has a default deadline and, where repeating it is harmless, a retry
on ``UNAVAILABLE`` (see ``DEFAULT``, ``Retry``); failures raise a
:class:`FintechError` subclass. Everything not listed in ``__all__`` is internal.
"""

from __future__ import annotations

from fintech.client._aml import AMLServiceClient, AMLServiceSyncClient
from fintech.client._audit import AuditServiceClient, AuditServiceSyncClient
from fintech.client._channel import (
    DEFAULT_KEEPALIVE_TIME_S,
    DEFAULT_KEEPALIVE_TIMEOUT_S,
    DEFAULT_MAX_MESSAGE_BYTES,
    secure_channel,
    secure_channel_sync,
)
from fintech.client._compliance import ComplianceServiceClient, ComplianceServiceSyncClient
from fintech.client._customer import CustomerServiceClient, CustomerServiceSyncClient
from fintech.client._errors import (
    Aborted,
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    FieldViolation,
    FintechError,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    UnknownError,
)
from fintech.client._operations import OperationsServiceClient, OperationsServiceSyncClient
from fintech.client._options import DEFAULT, Metadata, Retry
from fintech.client._risk import RiskServiceClient, RiskServiceSyncClient

__all__ = [
    "DEFAULT",
    "DEFAULT_KEEPALIVE_TIMEOUT_S",
    "DEFAULT_KEEPALIVE_TIME_S",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "AMLServiceClient",
    "AMLServiceSyncClient",
    "Aborted",
    "AlreadyExists",
    "AuditServiceClient",
    "AuditServiceSyncClient",
    "ComplianceServiceClient",
    "ComplianceServiceSyncClient",
    "CustomerServiceClient",
    "CustomerServiceSyncClient",
    "DeadlineExceeded",
    "FailedPrecondition",
    "FieldViolation",
    "FintechError",
    "Internal",
    "InvalidArgument",
    "Metadata",
    "NotFound",
    "OperationsServiceClient",
    "OperationsServiceSyncClient",
    "PermissionDenied",
    "ResourceExhausted",
    "Retry",
    "RiskServiceClient",
    "RiskServiceSyncClient",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "UnknownError",
    "secure_channel",
    "secure_channel_sync",
]
