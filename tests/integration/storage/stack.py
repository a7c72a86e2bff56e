"""A fresh, migrated database with keys, keyring and audit log on either backend (shared with audit tests)."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from server.audit.log import AuditLog
from server.audit.settings import AuditSettings
from server.crypto.keyfiles import create_key_file, create_signing_key, read_key_file, read_signing_key
from server.crypto.keyring import Keyring, MasterKeys
from server.crypto.settings import CryptoSettings
from server.runtime.clock import FakeClock
from server.storage.database import Database, create_database
from server.storage.migrations import upgrade
from server.storage.settings import DatabaseSettings
from tests.fixtures.postgres import PostgresServer

BACKENDS = ("sqlite", "postgresql")


@dataclass
class Stack:
    """One test's storage: a migrated database and everything keyed off it."""

    backend: str
    url: str
    root: Path
    db: Database
    keyring: Keyring
    audit: AuditLog
    clock: FakeClock
    settings: Any

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    def database_settings(self) -> DatabaseSettings:
        return DatabaseSettings(url=self.url)


def write_keys(root: Path) -> None:
    """The key files a deployment needs, under ``root/secrets``."""
    root.mkdir(parents=True, exist_ok=True)
    secrets = root / "secrets"
    for name in ("master.key", "blind-index.key", "page-token.key"):
        create_key_file(secrets / name)
    create_signing_key(secrets / "audit-checkpoint.pem", secrets / "audit-checkpoint.pub.pem")


def settings_namespace(root: Path, url: str, **crypto: Any) -> Any:
    """Settings-shaped object with the database, crypto and audit sections (until ``Settings`` has them)."""
    return SimpleNamespace(
        data_dir=root,
        database=DatabaseSettings(url=url),
        crypto=CryptoSettings(
            **{
                "master_key_file": Path("secrets/master.key"),
                "blind_index_key_file": Path("secrets/blind-index.key"),
                **crypto,
            }
        ),
        audit=AuditSettings(checkpoint_file=Path("audit/checkpoints.jsonl"), checkpoint_every_records=10),
    )


# Migrated once per backend and copied per test: a fresh database costs a file copy or a
# CREATE DATABASE ... TEMPLATE instead of a full migration.
_templates: dict[str, tuple[Path, str]] = {}


async def _template(backend: str, pg: PostgresServer | None) -> tuple[Path, str]:
    key = backend if pg is None else f"{backend}:{pg.port}"
    if key not in _templates:
        root = Path(tempfile.mkdtemp(prefix="fintech-template-"))
        atexit.register(shutil.rmtree, root, True)
        await asyncio.to_thread(write_keys, root)
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{root / 'fintech.db'}"
        else:
            assert pg is not None
            url = pg.create_database("template")
        db = create_database(DatabaseSettings(url=url), root)
        await upgrade(db)
        await db.close()  # SQLite: folds the WAL into the file; PostgreSQL: a template must have no sessions
        _templates[key] = (root, url)
    return _templates[key]


async def make_stack(backend: str, root: Path, pg: PostgresServer | None) -> Stack:
    """A fresh migrated database on ``backend`` (a copy of a migrated template) with its own key files."""
    template_root, template_url = await _template(backend, pg)
    # copytree creates ``root`` too
    await asyncio.to_thread(shutil.copytree, template_root / "secrets", root / "secrets")
    if backend == "sqlite":
        await asyncio.to_thread(shutil.copyfile, template_root / "fintech.db", root / "fintech.db")
        url = f"sqlite+aiosqlite:///{root / 'fintech.db'}"
    else:
        assert pg is not None
        name = f"test_{uuid.uuid4().hex[:12]}"
        await asyncio.to_thread(pg.psql, f'CREATE DATABASE "{name}" TEMPLATE "{template_url.rsplit("/", 1)[1]}"')
        url = pg.url(name)
    db = create_database(DatabaseSettings(url=url), root)
    clock = FakeClock()
    keyring = Keyring(
        MasterKeys(read_key_file(root / "secrets" / "master.key", purpose="master key")),
        read_key_file(root / "secrets" / "blind-index.key", purpose="blind index key"),
        clock=clock,
    )
    audit = AuditLog(keyring, clock=clock)
    return Stack(backend, url, root, db, keyring, audit, clock, settings_namespace(root, url))


def signing_key(stack: Stack) -> Any:
    return read_signing_key(stack.secrets / "audit-checkpoint.pem")


def random_key() -> bytes:
    return os.urandom(32)
