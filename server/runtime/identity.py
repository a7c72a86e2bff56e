"""Who is calling: the peer's certificate identity and whom it acts for.

The peer identity always comes from the verified client certificate (a
SPIFFE-style URI SAN such as ``spiffe://fintech.local/core-banking``). Two
peers are trusted to forward someone else's identity: ``envoy`` (the
downstream caller's certificate identity, and the end customer it names) and
``console`` (the signed-in staff member and their role). From any other peer
the forwarding headers are ignored.

Servicers and engines read the caller with :func:`current_caller`; the
authentication interceptor sets it for the duration of one RPC.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

# Metadata keys (lower case, as gRPC delivers them).
FORWARDED_CLIENT_CERT = "x-forwarded-client-cert"  # set by Envoy: ...;URI=spiffe://.../mobile-backend
ON_BEHALF_OF_CUSTOMER = "x-fintech-customer-id"  # the end customer behind the mobile backend
ON_BEHALF_OF_STAFF = "x-fintech-staff-id"  # the console's signed-in operator
ON_BEHALF_OF_STAFF_ROLE = "x-fintech-staff-role"  # and their role

# Roles staff may hold when signed in to the console.
STAFF_ROLES = frozenset({"agent", "loan-officer", "investigator", "compliance-officer", "auditor", "sre"})


@dataclass(frozen=True)
class Caller:
    """The identity an RPC runs under.

    Attributes:
        peer: SPIFFE id of the certificate on the connection (``spiffe://fintech.local/envoy``).
        peer_role: The last path segment of ``peer`` (``envoy``).
        role: The role the role policy is checked against. For a direct caller,
            its own ``peer_role``; behind Envoy, the downstream certificate's role;
            behind the console, the staff member's role.
        principal: Who the decision is attributed to in audit records: the
            SPIFFE id, or ``staff:<id>`` / ``customer:<id>`` when acting for someone.
        customer_id: The end customer forwarded by Envoy, when there is one.
        staff_id: The operator forwarded by the console, when there is one.
        forwarded_by: ``envoy`` or ``console`` when identity was forwarded, else empty.
    """

    peer: str
    peer_role: str
    role: str
    principal: str
    customer_id: str = ""
    staff_id: str = ""
    forwarded_by: str = ""

    @property
    def audit_identity(self) -> str:
        """The identity written into audit records: the person and the forwarding peer."""
        if self.forwarded_by:
            return f"{self.principal} via {self.peer}"
        return self.principal


_current: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("fintech_caller", default=None)


def current_caller() -> Caller:
    """The caller of the RPC being served.

    Raises:
        LookupError: outside an RPC (a bug: the auth interceptor always sets it).
    """
    caller = _current.get()
    if caller is None:
        raise LookupError("no caller: not inside an authenticated RPC")
    return caller


def set_caller(caller: Caller | None) -> contextvars.Token[Caller | None]:
    """Bind ``caller`` to the current context (used by the interceptor and tests)."""
    return _current.set(caller)


def reset_caller(token: contextvars.Token[Caller | None]) -> None:
    """Undo :func:`set_caller`."""
    _current.reset(token)


def role_of(spiffe_id: str, trust_domain: str) -> str | None:
    """The role named by a SPIFFE id of our trust domain, or None for a foreign id."""
    prefix = f"spiffe://{trust_domain}/"
    if not spiffe_id.startswith(prefix):
        return None
    role = spiffe_id[len(prefix) :]
    if not role or "/" in role:
        return None
    return role
