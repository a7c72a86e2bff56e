"""Tokens-per-minute budgets per caller identity and per end customer, in a store all replicas share.

The store is the platform database, so a limit does not multiply with the number of replicas.
Each subject (``caller:<identity>`` or ``customer:<id>``) has one row per fixed window; a
reservation is one conditional ``UPDATE ... SET used = used + n WHERE used + n <= limit`` per
subject, all in one transaction, so two processes can never overshoot together (the database
serialises the updates; on SQLite the writer lock, on PostgreSQL the row lock).

The pool reserves an estimate before a request (prompt size plus ``max_tokens``) and settles the
difference when the answer reports its real usage; a failed request refunds its reservation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, and_, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from inference.errors import TokenBudgetExceeded

metadata = MetaData()

token_budget_table = Table(
    "inference_token_budget",
    metadata,
    Column("subject", String(300), primary_key=True, doc="caller:<identity> or customer:<id>"),
    Column("window_start", BigInteger, primary_key=True, doc="Unix seconds at the window's start"),
    Column("used", BigInteger, nullable=False, default=0, doc="Tokens reserved or used in the window"),
    Column("token_limit", Integer, nullable=False, doc="The limit in force when the row was created"),
)
"""The shared budget table; the lead's Alembic migration creates it from this definition."""


@dataclass(frozen=True)
class BudgetCharge:
    """Tokens charged to one subject in one window.

    Attributes:
        subject: ``caller:<identity>`` or ``customer:<id>``.
        scope: ``caller`` or ``customer`` (for the error and metrics).
        limit: Tokens per window.
    """

    subject: str
    scope: str
    limit: int


@dataclass(frozen=True)
class Reservation:
    """What :meth:`TokenBudgetStore.reserve` took, so it can be settled or refunded in the same window."""

    charges: tuple[BudgetCharge, ...]
    window_start: int
    tokens: int


class TokenBudgetStore(Protocol):
    """The seam between the pool and the shared budget storage."""

    async def reserve(self, charges: Sequence[BudgetCharge], tokens: int, now: datetime) -> Reservation:
        """Take ``tokens`` from every subject of ``charges`` atomically, or from none.

        Raises:
            TokenBudgetExceeded: one subject lacks room; carries the seconds until its window ends.
        """
        ...

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None:
        """Replace the reserved amount with ``actual_tokens`` (0 refunds it)."""
        ...


class SqlTokenBudgetStore:
    """:class:`TokenBudgetStore` on a SQLAlchemy 2.0 async engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine, *, window_seconds: int = 60, keep_windows: int = 5) -> None:
        self._engine = engine
        self._window = window_seconds
        self._keep = keep_windows
        self._last_cleanup = 0

    async def create_table(self) -> None:
        """Create the table when missing (tests and development; production uses the migration)."""
        async with self._engine.begin() as connection:
            await connection.run_sync(metadata.create_all, tables=[token_budget_table])

    def window_of(self, now: datetime) -> int:
        """Start (Unix seconds) of the window containing ``now``."""
        seconds = int(now.timestamp())
        return seconds - seconds % self._window

    async def reserve(self, charges: Sequence[BudgetCharge], tokens: int, now: datetime) -> Reservation:
        window = self.window_of(now)
        if tokens <= 0 or not charges:
            return Reservation(tuple(charges), window, 0)
        async with self._engine.begin() as connection:
            for charge in charges:
                if tokens > charge.limit:
                    # A single request larger than the whole budget can never fit: say so, don't loop.
                    raise TokenBudgetExceeded(
                        f"request needs {tokens} tokens, more than the {charge.scope} budget of {charge.limit}",
                        retry_after_seconds=float(self._window),
                        scope=charge.scope,
                    )
                await self._ensure_row(connection, charge, window)
                result = await connection.execute(
                    update(token_budget_table)
                    .where(
                        and_(
                            token_budget_table.c.subject == charge.subject,
                            token_budget_table.c.window_start == window,
                            token_budget_table.c.used + tokens <= charge.limit,
                        )
                    )
                    .values(used=token_budget_table.c.used + tokens)
                )
                if result.rowcount != 1:
                    retry_after = max(0.0, window + self._window - now.timestamp())
                    # Leaving the block by exception rolls back the charges already applied.
                    raise TokenBudgetExceeded(
                        f"{charge.scope} token budget of {charge.limit} per {self._window}s is used up",
                        retry_after_seconds=math.ceil(retry_after * 10) / 10,
                        scope=charge.scope,
                        metadata={"scope": charge.scope, "limit": str(charge.limit)},
                    )
            if window - self._last_cleanup >= self._window * self._keep:
                self._last_cleanup = window
                await connection.execute(
                    delete(token_budget_table).where(
                        token_budget_table.c.window_start < window - self._window * self._keep
                    )
                )
        return Reservation(tuple(charges), window, tokens)

    async def settle(self, reservation: Reservation, actual_tokens: int) -> None:
        delta = actual_tokens - reservation.tokens
        if delta == 0 or not reservation.charges:
            return
        async with self._engine.begin() as connection:
            for charge in reservation.charges:
                # Settling may push usage past the limit (the answer was longer than estimated):
                # that is real consumption and delays the next reservation, as it should.
                await connection.execute(
                    update(token_budget_table)
                    .where(
                        and_(
                            token_budget_table.c.subject == charge.subject,
                            token_budget_table.c.window_start == reservation.window_start,
                        )
                    )
                    .values(used=token_budget_table.c.used + delta)
                )

    async def used(self, subject: str, now: datetime) -> int:
        """Tokens used by ``subject`` in the window containing ``now`` (operations and tests)."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    token_budget_table.select().where(
                        and_(
                            token_budget_table.c.subject == subject,
                            token_budget_table.c.window_start == self.window_of(now),
                        )
                    )
                )
            ).first()
        return int(row.used) if row is not None else 0

    async def _ensure_row(self, connection: AsyncConnection, charge: BudgetCharge, window: int) -> None:
        values = {"subject": charge.subject, "window_start": window, "used": 0, "token_limit": charge.limit}
        dialect = connection.dialect.name
        if dialect == "postgresql":
            await connection.execute(pg_insert(token_budget_table).values(**values).on_conflict_do_nothing())
        elif dialect == "sqlite":
            await connection.execute(sqlite_insert(token_budget_table).values(**values).on_conflict_do_nothing())
        else:
            raise ValueError(f"unsupported database dialect {dialect!r}; use sqlite or postgresql")
