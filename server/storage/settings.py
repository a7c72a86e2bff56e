"""Configuration of the database: URL, pool, key files and retention periods."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from server.runtime.section import Section


class DatabaseSettings(Section):
    url: str = ""
    """SQLAlchemy async URL (``postgresql+asyncpg://user@host:5432/fintech``). Empty: SQLite in WAL mode at
    ``<data_dir>/fintech.db``. Never put a password here: use ``password_file``."""
    password_file: Path | None = None
    """File holding the database password (a Kubernetes Secret); added to the URL at start-up."""
    pool_size: int = Field(10, ge=1, le=200)
    """Connections kept open per process (PostgreSQL)."""
    connect_timeout_seconds: float = Field(10.0, gt=0)
    """How long to wait for a connection before reporting the database unavailable."""
    sqlite_busy_timeout_ms: int = Field(30_000, ge=0)
    """How long a SQLite writer waits for another process's write transaction."""
    sqlite_synchronous: str = "FULL"
    """SQLite ``PRAGMA synchronous``: FULL survives power loss, NORMAL only process crashes."""
    page_token_key_file: Path = Path("secrets/page-token.key")
    """Key (32 bytes, base64) signing page tokens."""
    migration_lock_timeout_seconds: float = Field(300.0, gt=0)
    """How long ``fintech db upgrade`` waits for another migrator's lock."""
    retention_days: dict[str, int] = {"idempotency": 30}
    """Retention per record type (name as registered with the purge job) in days; types not named are kept."""

    @field_validator("sqlite_synchronous")
    @classmethod
    def _synchronous(cls, value: str) -> str:
        if value.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError("must be one of OFF, NORMAL, FULL, EXTRA")
        return value.upper()

    @field_validator("retention_days")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        bad = sorted(k for k, v in value.items() if v < 1)
        if bad:
            raise ValueError(f"retention must be at least 1 day: {bad}")
        return value
