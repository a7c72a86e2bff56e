"""Storage fixtures: one throwaway PostgreSQL server per session, and a fresh database per test on each backend.

Other areas reuse them: ``from tests.integration.storage.conftest import postgres, stack`` in their own
conftest, or call :func:`tests.fixtures.postgres.shared_server`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fixtures.postgres import PostgresServer, shared_server
from tests.integration.storage.stack import BACKENDS, Stack, make_stack


@pytest.fixture(scope="session")
def postgres() -> PostgresServer:
    """A real PostgreSQL server (installed with apt-get when missing), shared by the whole session."""
    return shared_server()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test runs once on SQLite and once on PostgreSQL."""
    return str(request.param)


@pytest.fixture
async def stack(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Stack]:
    """A fresh migrated database with keys, keyring and audit log."""
    pg = request.getfixturevalue("postgres") if backend == "postgresql" else None
    created = await make_stack(backend, tmp_path / "state", pg)
    try:
        yield created
    finally:
        await created.db.close()
