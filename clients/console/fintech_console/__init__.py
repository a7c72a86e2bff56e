"""The operations console: a web client of the platform's gRPC services for the bank's staff.

It holds no business logic and no database beyond its sessions: every decision is a service's,
every state change goes through the services' RPCs, made over mTLS with the console's own
certificate and the signed-in operator's identity forwarded as metadata.
"""

from __future__ import annotations

__all__: list[str] = []
