"""Migrations under the database lock and the start-up schema check, on both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.storage.database import Database, create_database
from server.storage.migrations import SchemaMismatchError, check_history, check_schema, upgrade
from server.storage.settings import DatabaseSettings
from tests.fixtures.postgres import PostgresServer


def fresh_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    pg: PostgresServer = request.getfixturevalue("postgres")
    return pg.create_database("migrate")


async def test_server_refuses_an_unmigrated_database_then_upgrade_makes_it_match(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = fresh_url(backend, tmp_path, request)
    dbs = [create_database(DatabaseSettings(url=url), tmp_path) for _ in range(3)]
    try:
        with pytest.raises(SchemaMismatchError, match="run `fintech db upgrade`"):
            await check_schema(dbs[0])
        # Three migrators at once (three pods' Jobs): the lock lets one migrate, the others find it done.
        states = await asyncio.gather(*(upgrade(db) for db in dbs))
        assert all(s.matches for s in states)
        assert states[0].current == frozenset(check_history())
        await check_schema(dbs[0])
        assert (await upgrade(dbs[1])).matches  # idempotent
    finally:
        for db in dbs:
            await db.close()


async def test_schema_check_says_why(stack_db: Database) -> None:
    db = stack_db
    async with db.transaction() as conn:
        await conn.execute(sa.text("DELETE FROM alembic_version WHERE version_num = 'audit_0001'"))
        await conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES ('storage_0001')"))
    with pytest.raises(SchemaMismatchError, match=r"expects .*run `fintech db upgrade`"):
        await check_schema(db)
    async with db.transaction() as conn:
        await conn.execute(
            sa.text("UPDATE alembic_version SET version_num = 'aml_9999' WHERE version_num = 'storage_0001'")
        )
    with pytest.raises(SchemaMismatchError, match="newer release"):
        await check_schema(db)


@pytest.fixture
async def stack_db(stack):  # type: ignore[no-untyped-def]
    return stack.db


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = create_database(DatabaseSettings(), tmp_path)
    try:
        async with db.read() as conn:
            assert (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(sa.text("PRAGMA secure_delete"))).scalar() == 1
        assert db.sqlite_path == (tmp_path / "fintech.db").resolve()
    finally:
        await db.close()


async def test_unreachable_database_is_reported_unavailable(tmp_path: Path) -> None:
    from tests.fixtures.postgres import free_port

    db = create_database(
        DatabaseSettings(url=f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/x", connect_timeout_seconds=2),
        tmp_path,
    )
    try:
        from server.runtime.errors import Unavailable

        with pytest.raises(Unavailable) as caught:
            async with db.read():
                pass
        assert caught.value.reason == "DATABASE_UNAVAILABLE"
        assert (await db.ping() or "").startswith("database unavailable")
    finally:
        await db.close()
