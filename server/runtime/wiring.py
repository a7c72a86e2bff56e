"""Everything is wired here, once, at start-up.

Creates the shared resources of a process (database, audit trail, keyring,
inference pool, knowledge index) from the settings and registers their
clean-up. A resource that is not configured is absent from the context and
the services that need it say so when called, loudly, never with a stand-in.
"""

from __future__ import annotations

from server.runtime.clock import Clock, SystemClock
from server.runtime.config import Settings
from server.runtime.context import AppContext


async def build_context(settings: Settings, *, clock: Clock | None = None) -> AppContext:
    """The AppContext of a server process."""
    ctx = AppContext(settings=settings, clock=clock or SystemClock())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await _inference(ctx)
    return ctx


async def _inference(ctx: AppContext) -> None:
    """The LLM inference pool, when model groups are configured."""
    if not ctx.settings.inference.groups:
        return
    from inference.pool import InferencePool

    budget_store = ctx.resources.get("token_budgets")
    pool = InferencePool(ctx.settings.inference, clock=ctx.clock, budget_store=budget_store)
    await pool.start()
    ctx.resources["inference"] = pool
    ctx.closers.append(pool.close)
