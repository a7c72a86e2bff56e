"""Everything is wired here, once, at start-up.

Creates the shared resources of a process (database, audit trail, keyring,
inference pool, knowledge index) from the settings and registers their
clean-up. A resource that is not configured is absent from the context and
the services that need it fail at build time, loudly.
"""

from __future__ import annotations

from server.runtime.clock import Clock, SystemClock
from server.runtime.config import Settings
from server.runtime.context import AppContext


async def build_context(settings: Settings, *, clock: Clock | None = None) -> AppContext:
    """The AppContext of a server process."""
    ctx = AppContext(settings=settings, clock=clock or SystemClock())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return ctx
