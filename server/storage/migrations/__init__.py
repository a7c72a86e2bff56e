"""The one Alembic history of the platform, run programmatically under a database-wide lock.

Layout and merge policy (so parallel work never produces two heads on one branch):

* ``server/storage/migrations/versions`` holds the base revision ``storage_0001`` (branch ``storage``).
* Every domain keeps its revisions in ``server/<domain>/migrations/versions``. Its first revision has
  ``down_revision = "storage_0001"`` and ``branch_labels = ("<domain>",)``; each later revision's
  ``down_revision`` is the previous head of that same domain. Revision ids are ``<domain>_<NNNN>``.
* The history therefore has one head per domain branch, and ``upgrade`` goes to ``heads``. Branches
  never merge into each other. A revision that needs another domain's table names that revision in
  ``depends_on`` instead. Two heads carrying the same branch label (two people added ``aml_0003``
  in parallel) is a conflict the author of the second resolves by re-parenting theirs before merging;
  :func:`check_history` fails (and a unit test with it) when that happens.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from server.storage.database import Database

SCRIPT_LOCATION = Path(__file__).resolve().parent
SERVER_ROOT = SCRIPT_LOCATION.parent.parent
BASE_REVISION = "storage_0001"
# Key of pg_advisory_lock held while migrating (an arbitrary constant: "fintech" in ASCII).
ADVISORY_LOCK_KEY = 0x66696E74656368


class SchemaMismatchError(RuntimeError):
    """The database schema does not match this code; the message says why and what to run."""


@dataclass(frozen=True)
class SchemaState:
    """Revisions the code expects and the database holds."""

    expected: frozenset[str]
    current: frozenset[str]

    @property
    def matches(self) -> bool:
        return self.expected == self.current


def version_locations(server_root: Path = SERVER_ROOT) -> list[Path]:
    """Every ``server/<area>/migrations/versions`` folder, storage's first."""
    base = server_root / "storage" / "migrations" / "versions"
    others = sorted(p for p in server_root.glob("*/migrations/versions") if p.is_dir() and p != base)
    return [base, *others]


def alembic_config(server_root: Path = SERVER_ROOT) -> Config:
    """An Alembic configuration built in code (there is no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    # os.pathsep-separated list; paths may contain spaces, so pick the separator explicitly.
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in version_locations(server_root)))
    return config


def check_history(config: Config | None = None) -> list[str]:
    """The heads of the history, after checking each branch has exactly one.

    Raises:
        SchemaMismatchError: two heads share a branch (a parallel-work conflict), or a head has no branch label.
    """
    script = ScriptDirectory.from_config(config or alembic_config())
    heads = list(script.get_heads())
    by_branch: dict[str, list[str]] = {}
    for head in heads:
        labels = _branch_of(script, head)
        if not labels:
            raise SchemaMismatchError(
                f"migration head {head} belongs to no labelled branch; see server/storage/migrations"
            )
        for label in labels:
            by_branch.setdefault(label, []).append(head)
    forked = {k: v for k, v in by_branch.items() if len(v) > 1}
    if forked:
        raise SchemaMismatchError(f"migration branches with two heads (re-parent one revision): {forked}")
    return sorted(heads)


def _branch_of(script: ScriptDirectory, head: str) -> set[str]:
    labels: set[str] = set()
    for rev in script.iterate_revisions(head, "base"):
        if rev is not None and rev.branch_labels:
            labels |= set(rev.branch_labels)
            if rev.revision != BASE_REVISION:
                return labels - {"storage"} or labels
    return labels


def _schema_state(sync_conn: Connection, config: Config) -> SchemaState:
    script = ScriptDirectory.from_config(config)
    current = MigrationContext.configure(sync_conn).get_current_heads()
    return SchemaState(expected=frozenset(script.get_heads()), current=frozenset(current))


async def schema_state(db: Database, config: Config | None = None) -> SchemaState:
    """Revisions the code expects and the database is at."""
    cfg = config or alembic_config()
    async with db.read() as conn:
        return await conn.run_sync(_schema_state, cfg)


async def check_schema(db: Database, config: Config | None = None) -> None:
    """Refuse to serve when the database schema does not match the code.

    Raises:
        SchemaMismatchError: saying which revisions are missing or unknown and what to run.
    """
    cfg = config or alembic_config()
    state = await schema_state(db, cfg)
    if state.matches:
        return
    if not state.current:
        raise SchemaMismatchError(f"database {db.url!r} has no schema; run `fintech db upgrade` first")
    script = ScriptDirectory.from_config(cfg)
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = sorted(state.current - known)
    if unknown:
        raise SchemaMismatchError(
            f"database is at revisions {unknown} that this code does not know: it was migrated by a newer release; "
            "deploy that release or restore a matching backup"
        )
    raise SchemaMismatchError(
        f"database is at {sorted(state.current)} but this code expects {sorted(state.expected)}; "
        "run `fintech db upgrade`"
    )


def _run_upgrade(sync_conn: Connection, config: Config, target: str) -> None:
    config.attributes["connection"] = sync_conn
    command.upgrade(config, target)


async def upgrade(db: Database, *, target: str = "heads", lock_timeout_seconds: float = 300.0) -> SchemaState:
    """Migrate to ``target`` (every branch's head by default) under a database-wide lock.

    PostgreSQL: ``pg_advisory_lock`` held on a dedicated connection for the whole run, so two pre-upgrade
    Jobs (or a Job and a developer) never migrate at once. SQLite: an exclusive ``flock`` on a lock file
    beside the database.

    Raises:
        SchemaMismatchError: the history has a forked branch.
        TimeoutError: the lock was not obtained in ``lock_timeout_seconds``.
    """
    config = alembic_config()
    check_history(config)
    if db.dialect == "postgresql":
        async with db.engine.connect() as lock_conn:
            lock_conn = await lock_conn.execution_options(isolation_level="AUTOCOMMIT")
            await lock_conn.execute(text(f"SET lock_timeout = '{int(lock_timeout_seconds * 1000)}ms'"))
            await lock_conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            try:
                async with db.engine.connect() as conn:
                    await conn.run_sync(_run_upgrade, config, target)
                    await conn.commit()
            finally:
                await lock_conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
    else:
        path = db.sqlite_path
        lock_path = Path(f"{path}.migrate-lock") if path else None
        async with _file_lock(lock_path, lock_timeout_seconds):
            async with db.engine.connect() as conn:
                await conn.run_sync(_run_upgrade, config, target)
                await conn.commit()
    return await schema_state(db, config)


class _file_lock:
    """An exclusive flock on ``path`` (no-op for an in-memory database), waited for off the event loop."""

    def __init__(self, path: Path | None, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._fd: int | None = None

    async def __aenter__(self) -> None:
        if self._path is None:
            return
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = asyncio.get_running_loop().time() + self._timeout
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if asyncio.get_running_loop().time() > deadline:
                    os.close(self._fd)
                    self._fd = None
                    raise TimeoutError(f"another migration holds {self._path}") from None
                await asyncio.sleep(0.05)

    async def __aexit__(self, *exc: Any) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
