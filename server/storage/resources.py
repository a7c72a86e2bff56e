"""Creating and closing the stateful resources of one process: database, keyring, audit log, checkpoints.

The lead's wiring calls :func:`open_state` once at start-up and puts the parts into
``AppContext.resources`` (``"database"``, ``"keyring"``, ``"audit"``, ``"idempotency"``, ``"page_tokens"``);
the CLI uses the same function. Relative paths in the database, crypto and audit sections are resolved
against ``data_dir``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from server.audit.checkpointer import Checkpointer
from server.audit.checkpoints import Checkpoint, read_checkpoints
from server.audit.log import AuditLog
from server.audit.settings import AuditSettings
from server.crypto.keyfiles import read_key_file, read_public_key, read_signing_key
from server.crypto.keyring import Keyring
from server.crypto.settings import CryptoSettings
from server.runtime.clock import Clock, SystemClock
from server.storage.database import Database, create_database
from server.storage.idempotency import Idempotency
from server.storage.migrations import check_schema
from server.storage.page_tokens import PageTokenCodec
from server.storage.settings import DatabaseSettings

SectionT = TypeVar("SectionT", bound=BaseModel)


def section(settings: Any, name: str, model: type[SectionT]) -> SectionT:
    """``settings.<name>`` when the Settings model has that field, else the section's defaults."""
    value = getattr(settings, name, None)
    return value if isinstance(value, model) else model()


def resolve(data_dir: Path, path: Path) -> Path:
    """``path`` as is when absolute, else under ``data_dir``."""
    return path if path.is_absolute() else data_dir / path


@dataclass
class PlatformState:
    """The stateful resources of one process."""

    database: Database
    keyring: Keyring
    audit: AuditLog
    idempotency: Idempotency
    page_tokens: PageTokenCodec
    audit_settings: AuditSettings
    checkpoint_file: Path
    checkpoint_public_key_file: Path
    checkpointer: Checkpointer | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def resources(self) -> dict[str, Any]:
        """Entries for ``AppContext.resources``."""
        return {
            "database": self.database,
            "keyring": self.keyring,
            "audit": self.audit,
            "idempotency": self.idempotency,
            "page_tokens": self.page_tokens,
            "platform_state": self,
        }

    def checkpoints(self) -> list[Checkpoint]:
        """Verified checkpoints from the configured file."""
        return read_checkpoints(self.checkpoint_file, read_public_key(self.checkpoint_public_key_file))

    def start_checkpointing(self) -> None:
        """Start the background checkpoint loop (when this process has the signing key)."""
        if self.checkpointer is not None and self._task is None:
            self._task = asyncio.create_task(self.checkpointer.run(self._stop), name="audit-checkpoints")

    async def close(self) -> None:
        """Stop checkpointing (writing a last checkpoint) and close the database."""
        if self._task is not None:
            self._stop.set()
            with contextlib.suppress(Exception):
                await self._task
            self._task = None
        await self.database.close()


async def open_state(
    settings: Any, *, clock: Clock | None = None, check: bool = True, checkpoints: bool = True
) -> PlatformState:
    """Create the database, keyring, audit log and checkpointer from ``settings``.

    Args:
        settings: The process's ``Settings`` (reads ``data_dir``, ``database``, ``crypto``, ``audit``).
        clock: Time source.
        check: Refuse (raise) when the schema does not match the code.
        checkpoints: Create the checkpointer when a signing key is configured.

    Raises:
        SchemaMismatchError: the schema does not match (``check``).
        KeyFileError: a key file is missing or malformed.
    """
    clock = clock or SystemClock()
    data_dir = Path(getattr(settings, "data_dir", Path("var")))
    db_settings = section(settings, "database", DatabaseSettings)
    crypto_settings = section(settings, "crypto", CryptoSettings)
    audit_settings = section(settings, "audit", AuditSettings)
    crypto_settings = crypto_settings.model_copy(
        update={
            "master_key_file": resolve(data_dir, crypto_settings.master_key_file),
            "previous_master_key_files": tuple(resolve(data_dir, p) for p in crypto_settings.previous_master_key_files),
            "blind_index_key_file": resolve(data_dir, crypto_settings.blind_index_key_file),
        }
    )
    keyring = Keyring.from_settings(crypto_settings, clock=clock)
    page_key = read_key_file(resolve(data_dir, db_settings.page_token_key_file), purpose="page token key")
    database = create_database(db_settings, data_dir)
    try:
        if check:
            await check_schema(database)
        audit = AuditLog(keyring, clock=clock)
        checkpoint_file = resolve(data_dir, audit_settings.checkpoint_file)
        checkpointer = None
        if checkpoints and audit_settings.checkpoint_signing_key_file is not None:
            key = read_signing_key(resolve(data_dir, audit_settings.checkpoint_signing_key_file))
            checkpointer = Checkpointer(
                database,
                audit,
                key,
                checkpoint_file,
                every_records=audit_settings.checkpoint_every_records,
                every_seconds=audit_settings.checkpoint_every_seconds,
                clock=clock,
            )
    except BaseException:
        await database.close()
        raise
    return PlatformState(
        database=database,
        keyring=keyring,
        audit=audit,
        idempotency=Idempotency(database, sealer=keyring, clock=clock),
        page_tokens=PageTokenCodec(page_key),
        audit_settings=audit_settings,
        checkpoint_file=checkpoint_file,
        checkpoint_public_key_file=resolve(data_dir, audit_settings.checkpoint_public_key_file),
        checkpointer=checkpointer,
    )
