"""Token budgets on a real SQLite file shared by separate processes, and through the pool."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from inference.budget import BudgetCharge, SqlTokenBudgetStore
from inference.clock import SystemClock
from inference.errors import TokenBudgetExceeded
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fixtures.postgres import shared_server
from tests.integration.inference import budget_worker
from tests.integration.inference.conftest import PoolFactory, sample

REPO = Path(__file__).resolve().parents[3]


class FixedWallClock(SystemClock):
    """Real monotonic time, but wall time pinned mid-window so a minute boundary cannot split the test."""

    def now(self) -> datetime:
        return datetime(2026, 11, 25, 9, 30, 5, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The budget table on a fresh SQLite file, and on a fresh database of a real PostgreSQL server."""
    if request.param == "sqlite":
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'budget.db'}", connect_args={"timeout": 30})
    else:
        engine = create_async_engine(shared_server().create_database("inference_budget"))
    await SqlTokenBudgetStore(engine).create_table()
    yield engine
    await engine.dispose()


async def test_concurrent_reservations_on_one_engine_never_overshoot(engine: AsyncEngine) -> None:
    store = SqlTokenBudgetStore(engine)
    now = datetime(2026, 11, 25, 9, 10, 1, tzinfo=UTC)
    charge = BudgetCharge("caller:batch-job", "caller", 300)

    async def one() -> bool:
        try:
            await store.reserve([charge], 7, now)
            return True
        except TokenBudgetExceeded:
            return False

    granted = await asyncio.gather(*(one() for _ in range(60)))
    assert sum(granted) == 300 // 7 and await store.used("caller:batch-job", now) == 7 * (300 // 7)


async def test_two_processes_sharing_one_database_never_exceed_the_limit(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    setup = create_async_engine(f"sqlite+aiosqlite:///{db}")
    await SqlTokenBudgetStore(setup).create_table()
    await setup.dispose()
    start = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.inference.budget_worker",
            str(db),
            "40",
            "20",
            str(start),
            stdout=asyncio.subprocess.PIPE,
            cwd=REPO,
            env=env,
        )
        for _ in range(2)
    ]
    start.touch()
    outputs = await asyncio.wait_for(asyncio.gather(*(w.communicate() for w in workers)), timeout=120)
    granted = [int(out.strip()) for out, _ in outputs]
    # 80 attempts of 20 tokens against a limit of 1000: exactly 50 fit, split between the processes.
    assert sum(granted) == budget_worker.LIMIT // 20
    assert all(g > 0 for g in granted), granted  # both really competed
    check = create_async_engine(f"sqlite+aiosqlite:///{db}")
    used = await SqlTokenBudgetStore(check).used("caller:spiffe://fintech.local/aml", budget_worker.NOW)
    await check.dispose()
    assert used == budget_worker.LIMIT


async def test_reserve_is_all_or_nothing_across_caller_and_customer(engine: AsyncEngine) -> None:
    store = SqlTokenBudgetStore(engine)
    now = datetime(2026, 11, 25, 9, 0, 10, tzinfo=UTC)
    caller = BudgetCharge("caller:mobile-backend", "caller", 1000)
    customer = BudgetCharge("customer:C-1", "customer", 100)
    await store.reserve([caller, customer], 80, now)
    with pytest.raises(TokenBudgetExceeded) as caught:
        await store.reserve([caller, customer], 30, now)
    assert caught.value.scope == "customer" and caught.value.reason == "TOKEN_BUDGET_EXCEEDED"
    assert caught.value.retry_after_seconds == pytest.approx(50, abs=0.2)  # the window ends at :60
    # The caller's charge in the failed reservation was rolled back.
    assert await store.used("caller:mobile-backend", now) == 80
    # Another customer behind the same caller still has room; a new window starts from zero.
    await store.reserve([caller, BudgetCharge("customer:C-2", "customer", 100)], 30, now)
    assert await store.used("caller:mobile-backend", now) == 110
    await store.reserve([caller, customer], 90, now + timedelta(seconds=60))


async def test_settle_replaces_the_estimate_with_real_usage(engine: AsyncEngine) -> None:
    store = SqlTokenBudgetStore(engine)
    now = datetime(2026, 11, 25, 9, 5, 0, tzinfo=UTC)
    charge = BudgetCharge("caller:risk", "caller", 500)
    reservation = await store.reserve([charge], 400, now)
    await store.settle(reservation, 120)
    assert await store.used("caller:risk", now) == 120
    refunded = await store.reserve([charge], 300, now)
    await store.settle(refunded, 0)
    assert await store.used("caller:risk", now) == 120


async def test_pool_enforces_the_budget_with_retry_after(
    fakes: list[FakeOpenAIServer], make_pool: PoolFactory, engine: AsyncEngine
) -> None:
    a = fakes[0]
    a.script(default={"kind": "ok", "content": "x", "prompt_tokens": 40, "completion_tokens": 10})
    store = SqlTokenBudgetStore(engine)
    pool = make_pool(
        [("primary", [a.base_url])],
        budget_store=store,
        clock=FixedWallClock(),
        budgets={"caller_tokens_per_minute": 200, "customer_tokens_per_minute": 1000},
    )
    messages = [{"role": "user", "content": "q" * 40}]
    served = 0
    with pytest.raises(TokenBudgetExceeded) as caught:
        for _ in range(10):
            await pool.chat(messages, max_tokens=50, caller="spiffe://fintech.local/customer", customer="C-9")
            served += 1
    # Each call reserves 14 (estimate) + 50 (max_tokens) and settles to the 50 reported: after three calls
    # 150 are used and the fourth reservation of 64 does not fit in 200.
    assert served == 3
    assert 0 < caught.value.retry_after_seconds <= 60 and caught.value.scope == "caller"
    assert len(a.requests()) == 3  # the refused call never reached the endpoint
    assert sample(pool, "fintech_inference_budget_rejections_total", scope="caller") == 1
