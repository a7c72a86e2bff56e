"""What every service is built from: settings and the shared resources of one process.

Everything is wired in one place (:mod:`server.runtime.wiring`); a domain's
``server/<domain>/service.py`` exposes ``async def build(ctx: AppContext) ->
ServiceBinding`` and takes what it needs from ``ctx``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from server.runtime.clock import Clock, SystemClock
from server.runtime.config import Settings

# A readiness probe: None when ready, else a short reason ("knowledge base unavailable").
ReadinessProbe = Callable[[], Awaitable[str | None]]


@dataclass
class AppContext:
    """Shared resources of one server process.

    Attributes:
        settings: The loaded configuration.
        clock: Time source (tests pass a fake).
        resources: Shared components by name, created once at start-up by the
            wiring: ``"database"`` (server.storage), ``"audit"`` (server.audit),
            ``"keyring"`` (envelope encryption), ``"inference"`` (the LLM pool).
            A component that is not configured is absent, never faked.
    """

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    resources: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def require(self, name: str) -> Any:
        """The resource ``name``; a KeyError naming it when the wiring did not create it."""
        try:
            return self.resources[name]
        except KeyError:
            raise KeyError(f"resource {name!r} is not wired in this process") from None


@dataclass
class ServiceBinding:
    """One gRPC service ready to be added to a server.

    Attributes:
        name: Short name as in ``server.services`` (``"aml"``).
        full_name: Fully-qualified service name (``"fintech.aml.v1.AMLService"``).
        servicer: The servicer instance.
        add_to_server: The generated ``add_<Service>Servicer_to_server``.
        readiness: Optional dependency check; health turns NOT_SERVING when it fails.
        close: Optional clean-up on shutdown.
    """

    name: str
    full_name: str
    servicer: Any
    add_to_server: Callable[[Any, Any], None]
    readiness: ReadinessProbe | None = None
    close: Callable[[], Awaitable[None]] | None = None
