"""The engine factory and the unit of work.

A :class:`Database` wraps one SQLAlchemy async engine. The domain engine opens the transaction with
``async with db.transaction() as conn:`` and hands ``conn`` to repositories, which execute statements,
never commit, and return domain types. The transaction commits when the block exits normally and rolls
back on any exception.

SQLite: WAL mode, foreign keys on, ``secure_delete`` on (freed pages are zeroed, so a destroyed key does
not linger in the file), and the driver's own transaction handling replaced by explicit ``BEGIN
IMMEDIATE`` for writes, so writers from several processes serialise in the database instead of failing
half-way with ``database is locked``. PostgreSQL: asyncpg with a pool; writers serialise where they need
to with row locks (``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from server.runtime.errors import Unavailable
from server.storage.settings import DatabaseSettings

_tracer = trace.get_tracer("fintech.storage")

# Execution option choosing how a SQLite transaction begins: IMMEDIATE takes the write lock up front.
_SQLITE_BEGIN = "fintech_sqlite_begin"


def resolve_url(settings: DatabaseSettings, data_dir: Path) -> URL:
    """The database URL: the configured one (with the password from its file), else SQLite under ``data_dir``.

    Raises:
        ValueError: the URL names a driver other than aiosqlite or asyncpg, or the password file is unreadable.
    """
    if not settings.url:
        data_dir.mkdir(parents=True, exist_ok=True)
        return make_url(f"sqlite+aiosqlite:///{(data_dir / 'fintech.db').resolve()}")
    url = make_url(settings.url)
    if url.drivername not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
        raise ValueError(
            f"database.url: driver {url.drivername!r} unsupported; use sqlite+aiosqlite or postgresql+asyncpg"
        )
    if url.password is not None:
        raise ValueError("database.url: must not contain a password; use database.password_file")
    if settings.password_file is not None:
        try:
            password = settings.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(
                f"database.password_file {settings.password_file} unreadable: {type(exc).__name__}"
            ) from None
        url = url.set(password=password)
    return url


class Database:
    """One database: the engine, its dialect, and units of work over it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return str(self.engine.dialect.name)

    @property
    def url(self) -> URL:
        """The URL (password hidden when rendered)."""
        return self.engine.url

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None on PostgreSQL."""
        if self.dialect != "sqlite" or not self.engine.url.database:
            return None
        return Path(self.engine.url.database)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """The unit of work: a write transaction committed on normal exit, rolled back on an exception.

        Raises:
            Unavailable: the database cannot be reached.
        """
        with _tracer.start_as_current_span("db.transaction", kind=SpanKind.CLIENT) as span:
            span.set_attribute("db.system", self.dialect)
            async with self._connect("IMMEDIATE") as conn, conn.begin():
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only unit of work: one consistent snapshot, never taking SQLite's write lock.

        Raises:
            Unavailable: the database cannot be reached.
        """
        with _tracer.start_as_current_span("db.read", kind=SpanKind.CLIENT) as span:
            span.set_attribute("db.system", self.dialect)
            async with self._connect("DEFERRED") as conn, conn.begin():
                yield conn

    @asynccontextmanager
    async def _connect(self, begin: str) -> AsyncIterator[AsyncConnection]:
        try:
            conn = await self.engine.connect()
        except (OperationalError, InterfaceError, OSError) as exc:
            raise Unavailable("database unavailable", reason="DATABASE_UNAVAILABLE", domain="storage.fintech") from exc
        try:
            if self.dialect == "sqlite":
                await conn.execution_options(**{_SQLITE_BEGIN: begin})
            yield conn
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise Unavailable(
                    "database connection lost", reason="DATABASE_UNAVAILABLE", domain="storage.fintech"
                ) from exc
            raise
        finally:
            await conn.close()

    async def ping(self) -> str | None:
        """Readiness probe: None when the database answers, else a short reason."""
        try:
            async with self.read() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not ready"; the reason names only the type
            return f"database unavailable ({type(exc).__name__})"
        return None

    async def close(self) -> None:
        """Dispose of the engine's connections."""
        await self.engine.dispose()


def create_database(settings: DatabaseSettings, data_dir: Path, *, echo: bool = False) -> Database:
    """Create the engine for the configured URL (SQLite under ``data_dir`` by default).

    The engine connects lazily; call :func:`server.storage.migrations.check_schema` at start-up.
    """
    url = resolve_url(settings, data_dir)
    kwargs: dict[str, Any] = {"echo": echo}
    if url.get_backend_name() == "postgresql":
        kwargs |= {
            "pool_size": settings.pool_size,
            "max_overflow": settings.pool_size,
            "pool_pre_ping": True,
            "connect_args": {"timeout": settings.connect_timeout_seconds},
        }
    else:
        kwargs["connect_args"] = {"timeout": settings.sqlite_busy_timeout_ms / 1000}
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine, settings)
    return Database(engine)


def _configure_sqlite(engine: AsyncEngine, settings: DatabaseSettings) -> None:
    busy = settings.sqlite_busy_timeout_ms
    synchronous = settings.sqlite_synchronous

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver: it would BEGIN lazily and DEFERRED.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA busy_timeout={int(busy)}",
            f"PRAGMA synchronous={synchronous}",
            "PRAGMA foreign_keys=ON",
            "PRAGMA secure_delete=ON",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")
