"""Writes signed checkpoints of the committed chain head at an interval (a background task of one process)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.audit.checkpoints import Checkpoint, append_checkpoint, read_checkpoints, sign_checkpoint
from server.audit.log import AuditLog
from server.runtime.clock import Clock, SystemClock
from server.storage.database import Database

_log = logging.getLogger(__name__)


class Checkpointer:
    """Signs the committed head when it grew by ``every_records`` or ``every_seconds`` passed since the last.

    Only committed heads are signed (read in a fresh snapshot), so a rolled-back append is never
    checkpointed. Several processes may checkpoint into one file: lines are appended under ``flock``.
    """

    def __init__(
        self,
        db: Database,
        audit: AuditLog,
        signing_key: Ed25519PrivateKey,
        path: Path,
        *,
        every_records: int = 1000,
        every_seconds: float = 60.0,
        clock: Clock | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._key = signing_key
        self.path = path
        self._every_records = every_records
        self._every_seconds = every_seconds
        self._clock = clock or SystemClock()
        existing = read_checkpoints(path, signing_key.public_key())
        self._last_seq = existing[-1].seq if existing else 0
        self._last_time = self._clock.monotonic()

    async def checkpoint_now(self) -> Checkpoint | None:
        """Sign and append the committed head; None when it has not moved since the last checkpoint."""
        async with self._db.read() as conn:
            head = await self._audit.head(conn)
        self._last_time = self._clock.monotonic()
        if head.seq == 0 or head.seq == self._last_seq:
            return None
        checkpoint = sign_checkpoint(
            self._key, chain_id=head.chain_id, seq=head.seq, head_hash=head.head_hash, now=self._clock.now()
        )
        await asyncio.to_thread(append_checkpoint, self.path, checkpoint)
        self._last_seq = head.seq
        return checkpoint

    async def maybe_checkpoint(self) -> Checkpoint | None:
        """Checkpoint if the interval (records or seconds) has passed."""
        async with self._db.read() as conn:
            head = await self._audit.head(conn)
        grown = head.seq - self._last_seq
        due = grown >= self._every_records or (
            grown > 0 and self._clock.monotonic() - self._last_time >= self._every_seconds
        )
        return await self.checkpoint_now() if due else None

    async def run(self, stop: asyncio.Event, *, poll_seconds: float = 1.0) -> None:
        """Loop until ``stop`` is set, then write a final checkpoint. Failures are logged and retried."""
        while not stop.is_set():
            try:
                await self.maybe_checkpoint()
            except Exception:  # a down database must not kill the loop; it is reported and retried
                _log.exception("audit checkpoint failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except TimeoutError:
                pass
        await self.checkpoint_now()
