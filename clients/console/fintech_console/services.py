"""The console's clients of the platform: SDK clients over mTLS acting for the signed-in operator.

One ``grpc.aio`` channel per distinct service address is opened at start-up with the console's own
certificate (``spiffe://fintech.local/console``) and shared by every request. For each request,
:meth:`Platform.for_operator` wraps those channels in SDK clients whose every call carries the
operator's staff id and role as metadata; the services trust that metadata only because the peer
certificate is the console's. Failures are the SDK's :class:`fintech.client.FintechError`
subclasses; :func:`describe_problem` turns one into what a page shows (the service named).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from fintech.client import (
    AMLServiceClient,
    AuditServiceClient,
    ComplianceServiceClient,
    CustomerServiceClient,
    DeadlineExceeded,
    FailedPrecondition,
    FintechError,
    InvalidArgument,
    NotFound,
    OperationsServiceClient,
    PermissionDenied,
    Retry,
    RiskServiceClient,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    secure_channel,
)

from fintech_console.auth.sessions import Operator
from fintech_console.settings import SERVICE_NAMES, ConsoleSettings

STAFF_ID_HEADER = "x-fintech-staff-id"
STAFF_ROLE_HEADER = "x-fintech-staff-role"

# A page never waits long on a service that is down: two quick attempts within the read deadline.
_CONSOLE_READ_RETRY = Retry(max_attempts=2, initial_backoff=0.1, max_backoff=0.5)
# gRPC's reconnect back-off grows to 120 s by default: a service restarted after a minute would stay
# "unavailable" to the console for up to two more. Operators reload pages; keep reconnecting quickly.
_CHANNEL_OPTIONS: tuple[tuple[str, int | str], ...] = (
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
)


@dataclass(frozen=True)
class OperatorServices:
    """The service clients for one request, acting for ``operator``.

    Pages pass ``**services.read`` to reads and ``**services.write`` to state changes so that the
    console's own deadlines apply (``rpc_timeout_seconds``, ``rpc_write_timeout_seconds``).
    """

    operator: Operator
    customer: CustomerServiceClient
    risk: RiskServiceClient
    aml: AMLServiceClient
    compliance: ComplianceServiceClient
    audit: AuditServiceClient
    operations: OperationsServiceClient
    read: dict[str, Any]
    write: dict[str, Any]
    stream: dict[str, Any]


class Platform:
    """The console's channels to the services, opened once and closed at shutdown."""

    def __init__(self, settings: ConsoleSettings) -> None:
        """Remember the settings; channels open in :meth:`open` (inside the event loop)."""
        self._settings = settings
        self._channels: dict[str, grpc.aio.Channel] = {}

    async def open(self) -> None:
        """Open one mTLS channel per distinct address, with the console's certificate.

        Raises:
            FileNotFoundError: a certificate or key file is missing (the message names it).
        """
        tls = self._settings.tls
        for address in {self._settings.address_of(name) for name in SERVICE_NAMES}:
            self._channels[address] = secure_channel(
                address,
                ca_file=tls.ca_file,
                cert_file=tls.cert_file,
                key_file=tls.key_file,
                server_name_override=tls.server_name_override,
                options=_CHANNEL_OPTIONS,
            )

    async def close(self) -> None:
        """Close every channel."""
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()

    def channel(self, service: str) -> grpc.aio.Channel:
        """The channel ``service`` is reached through."""
        return self._channels[self._settings.address_of(service)]

    def for_operator(self, operator: Operator) -> OperatorServices:
        """SDK clients whose every call carries ``operator``'s staff id and role."""
        metadata = ((STAFF_ID_HEADER, operator.staff_id), (STAFF_ROLE_HEADER, operator.role))
        return OperatorServices(
            operator=operator,
            customer=CustomerServiceClient(self.channel("customer"), metadata=metadata),
            risk=RiskServiceClient(self.channel("risk"), metadata=metadata),
            aml=AMLServiceClient(self.channel("aml"), metadata=metadata),
            compliance=ComplianceServiceClient(self.channel("compliance"), metadata=metadata),
            audit=AuditServiceClient(self.channel("audit"), metadata=metadata),
            operations=OperationsServiceClient(self.channel("operations"), metadata=metadata),
            read={"timeout": self._settings.rpc_timeout_seconds, "retry": _CONSOLE_READ_RETRY},
            write={"timeout": self._settings.rpc_write_timeout_seconds},
            stream={"timeout": self._settings.rpc_write_timeout_seconds},
        )


@dataclass(frozen=True)
class ServiceProblem:
    """What a page says when a call failed.

    Attributes:
        service: The service's name, for example ``RiskService``.
        headline: One sentence for the operator (``RiskService is unavailable``).
        detail: The server's message, reason and bad fields (never customer data: the services
            keep it out of errors).
        status_code: The HTTP status the page answers with.
        code: The gRPC status code's name.
        request_id: The ``x-request-id`` of the call, to quote to support.
    """

    service: str
    headline: str
    detail: str
    status_code: int
    code: str
    request_id: str


def service_of(error: FintechError) -> str:
    """The short service name of the failed call (``/fintech.risk.v1.RiskService/X`` -> ``RiskService``)."""
    method = error.method.strip("/")
    if not method:
        return "The platform"
    return method.split("/", 1)[0].rsplit(".", 1)[-1]


def describe_problem(error: FintechError) -> ServiceProblem:
    """Turn an SDK error into what the page shows and the HTTP status it answers with."""
    service = service_of(error)
    rpc = error.method.rsplit("/", 1)[-1]
    status = 502
    if isinstance(error, Unavailable):
        headline, status = f"{service} is unavailable", 503
    elif isinstance(error, DeadlineExceeded):
        headline, status = f"{service} did not answer in time", 504
    elif isinstance(error, PermissionDenied):
        headline, status = f"{service} refused {rpc}: your role may not do this", 403
    elif isinstance(error, Unauthenticated):
        headline, status = f"{service} did not accept the console's identity", 502
    elif isinstance(error, NotFound):
        headline, status = f"{service} found no such item", 404
    elif isinstance(error, InvalidArgument):
        headline, status = f"{service} rejected the request", 400
    elif isinstance(error, FailedPrecondition):
        headline, status = f"{service} refused: the item's state does not allow this", 409
    elif isinstance(error, Unimplemented):
        headline, status = f"{service} does not offer {rpc} yet", 501
    else:
        headline = f"{service} failed ({error.code.name})"
    detail = error.message
    if isinstance(error, Unavailable | DeadlineExceeded) and not error.reason:
        # Raised by the transport, not the service: its text is gRPC's connection detail, not for operators.
        detail = "The console could not reach it: it may be stopped, restarting or overloaded."
    if error.reason:
        detail = f"{detail} [{error.reason}]" if detail else error.reason
    if error.field_violations:
        detail += " " + "; ".join(f"{v.field}: {v.description}" for v in error.field_violations)
    return ServiceProblem(service, headline, detail.strip(), status, error.code.name, error.request_id)
