"""A separate process hammering the shared token budget (used by the two-process budget test).

``python -m tests.integration.inference.budget_worker DB_PATH ATTEMPTS TOKENS START_FILE`` waits for
START_FILE to exist (so both workers start together), then tries ATTEMPTS reservations of TOKENS for one
caller within one fixed window, and prints how many were granted.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

from inference.budget import BudgetCharge, SqlTokenBudgetStore
from inference.errors import TokenBudgetExceeded

NOW = datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)  # one fixed window for both processes
LIMIT = 1000


async def main(db_path: str, attempts: int, tokens: int) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{db_path}", connect_args={"timeout": 30})
    store = SqlTokenBudgetStore(engine)
    charge = BudgetCharge("caller:spiffe://fintech.local/aml", "caller", LIMIT)
    granted = 0
    for _ in range(attempts):
        try:
            await store.reserve([charge], tokens, NOW)
            granted += 1
        except TokenBudgetExceeded:
            pass
    await engine.dispose()
    print(granted, flush=True)


def wait_for_start(start_file: str) -> None:
    """Block until the test says go, so both workers contend from the first reservation."""
    while not Path(start_file).exists():
        time.sleep(0.005)


if __name__ == "__main__":
    wait_for_start(sys.argv[4])
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
