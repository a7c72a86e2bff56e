"""Envelope encryption: per-subject AES-256-GCM data keys wrapped by a master key from a file.

A value is sealed as ``0x01 || nonce(12) || AES-256-GCM(data key, value, aad=context)``. The context (for
example ``audit.payload:<record id>``) is authenticated, so a ciphertext moved to another row or column
does not open. Data keys live in ``crypto_data_keys``, wrapped under the master key with the subject as
associated data; the master key never touches the database. Searchable fields get a keyed HMAC blind
index instead of plaintext.

Erasing a subject overwrites its wrapped key (crypto-shredding): everything sealed for it becomes
unreadable while the ciphertext, and any hash chain over it, stays as stored.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from server.crypto.keyfiles import read_key_file
from server.crypto.settings import CryptoSettings
from server.crypto.subjects import Subject
from server.crypto.tables import data_keys
from server.runtime.clock import Clock, SystemClock
from server.runtime.errors import FailedPrecondition

FORMAT_V1 = b"\x01"
NONCE_BYTES = 12
_DOMAIN = "crypto.fintech"


class SubjectErased(FailedPrecondition):
    """The subject's data key was destroyed: its values are gone for good."""


class DecryptionFailed(FailedPrecondition):
    """A ciphertext does not open under its subject's key and context (tampered or misplaced)."""


def master_key_id(key: bytes) -> str:
    """Public fingerprint of a master key (16 hex digits of SHA-256 over a label and the key)."""
    return hashlib.sha256(b"fintech-master-key-id/1" + key).hexdigest()[:16]


def _wrap_aad(subject: Subject) -> bytes:
    return f"fintech-data-key/1|{subject.type}|{subject.id}".encode()


@dataclass(frozen=True)
class MasterKeys:
    """The current master key and those still accepted for unwrapping during a rotation."""

    current: bytes
    previous: Sequence[bytes] = ()

    @property
    def current_id(self) -> str:
        return master_key_id(self.current)

    def by_id(self, key_id: str) -> bytes | None:
        for key in (self.current, *self.previous):
            if master_key_id(key) == key_id:
                return key
        return None


class Keyring:
    """Seals and opens values per subject, keeps blind indexes, and shreds subjects.

    Args:
        master_keys: The master key(s).
        index_key: Key of the blind index HMAC.
        clock: Time source (timestamps and cache expiry).
        cache_seconds: How long unwrapped data keys stay in memory.
    """

    def __init__(
        self, master_keys: MasterKeys, index_key: bytes, *, clock: Clock | None = None, cache_seconds: float = 30.0
    ) -> None:
        self.master_keys = master_keys
        self._index_key = index_key
        self._clock = clock or SystemClock()
        self._cache_seconds = cache_seconds
        self._cache: dict[Subject, tuple[AESGCM, float]] = {}

    @classmethod
    def from_settings(cls, settings: CryptoSettings, *, clock: Clock | None = None) -> Keyring:
        """Load the keys named by ``settings``.

        Raises:
            KeyFileError: a key file is missing or malformed.
        """
        current = read_key_file(settings.master_key_file, purpose="master key")
        previous = [read_key_file(p, purpose="previous master key") for p in settings.previous_master_key_files]
        index_key = read_key_file(settings.blind_index_key_file, purpose="blind index key")
        return cls(MasterKeys(current, previous), index_key, clock=clock, cache_seconds=settings.data_key_cache_seconds)

    # -- blind index -------------------------------------------------------------------------------

    def blind_index(self, field: str, value: str) -> str:
        """Keyed HMAC-SHA256 (hex) of a normalised value (NFKC, case-folded, trimmed), per field.

        Equal values give equal indexes within one field, so a column of these supports exact-match
        search without storing the plaintext; without the key the index reveals nothing.
        """
        normalised = unicodedata.normalize("NFKC", value).strip().casefold()
        return hmac.new(self._index_key, f"{field}\x00{normalised}".encode(), hashlib.sha256).hexdigest()

    # -- data keys ---------------------------------------------------------------------------------

    def _now_us(self) -> int:
        return int(self._clock.now().timestamp() * 1_000_000)

    def _cached(self, subject: Subject) -> AESGCM | None:
        hit = self._cache.get(subject)
        if hit is None:
            return None
        cipher, expires = hit
        if self._clock.monotonic() >= expires:
            del self._cache[subject]
            return None
        return cipher

    def _remember(self, subject: Subject, cipher: AESGCM) -> None:
        if self._cache_seconds > 0:
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[subject] = (cipher, self._clock.monotonic() + self._cache_seconds)

    def _unwrap(self, subject: Subject, master_id: str, wrapped: bytes) -> AESGCM:
        if not wrapped:
            raise SubjectErased(f"data of {subject.type} subject was erased", reason="SUBJECT_ERASED", domain=_DOMAIN)
        master = self.master_keys.by_id(master_id)
        if master is None:
            raise FailedPrecondition(
                f"data key wrapped by master key {master_id}, which is not configured "
                "(add it to crypto.previous_master_key_files until `fintech keys rotate` finishes)",
                reason="MASTER_KEY_MISSING",
                domain=_DOMAIN,
            )
        try:
            key = AESGCM(master).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(subject))
        except InvalidTag:
            raise DecryptionFailed(
                "wrapped data key does not open", reason="DATA_KEY_CORRUPT", domain=_DOMAIN
            ) from None
        return AESGCM(key)

    def _wrap(self, subject: Subject, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.master_keys.current).encrypt(nonce, key, _wrap_aad(subject))

    async def _data_key(self, conn: AsyncConnection, subject: Subject, *, create: bool) -> AESGCM:
        cached = self._cached(subject)
        if cached is not None:
            return cached
        select = sa.select(data_keys.c.master_key_id, data_keys.c.wrapped_key).where(
            data_keys.c.subject_type == subject.type, data_keys.c.subject_id == subject.id
        )
        row = (await conn.execute(select)).first()
        if row is None:
            if not create:
                raise SubjectErased(
                    f"no data key for this {subject.type} subject", reason="SUBJECT_ERASED", domain=_DOMAIN
                )
            key = AESGCM.generate_key(bit_length=256)
            values = {
                "subject_type": subject.type,
                "subject_id": subject.id,
                "master_key_id": self.master_keys.current_id,
                "wrapped_key": self._wrap(subject, key),
                "created_us": self._now_us(),
            }
            insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(data_keys)
            await conn.execute(insert.values(**values).on_conflict_do_nothing())
            row = (await conn.execute(select)).one()  # ours, or a concurrent creator's
        cipher = self._unwrap(subject, row.master_key_id, bytes(row.wrapped_key))
        self._remember(subject, cipher)
        return cipher

    async def prefetch(self, conn: AsyncConnection, subjects: Iterable[Subject]) -> None:
        """Load (creating where missing) the data keys of many subjects in a few statements.

        Batch paths call this before sealing a batch so that each new subject does not cost its own
        round trips. Erased subjects are left out; sealing for them still fails.
        """
        missing = sorted({s for s in subjects if self._cached(s) is None})
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            rows = await self._select_keys(conn, chunk)
            absent = [s for s in chunk if s not in rows]
            if absent:
                now = self._now_us()
                values = [
                    {
                        "subject_type": s.type,
                        "subject_id": s.id,
                        "master_key_id": self.master_keys.current_id,
                        "wrapped_key": self._wrap(s, AESGCM.generate_key(bit_length=256)),
                        "created_us": now,
                    }
                    for s in absent
                ]
                insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(data_keys)
                await conn.execute(insert.on_conflict_do_nothing(), values)
                rows |= await self._select_keys(conn, absent)
            for subject, (master_id, wrapped) in rows.items():
                if wrapped:
                    self._remember(subject, self._unwrap(subject, master_id, wrapped))

    async def _select_keys(
        self, conn: AsyncConnection, subjects: Sequence[Subject]
    ) -> dict[Subject, tuple[str, bytes]]:
        c = data_keys.c
        result = await conn.execute(
            sa.select(c.subject_type, c.subject_id, c.master_key_id, c.wrapped_key).where(
                sa.tuple_(c.subject_type, c.subject_id).in_([(s.type, s.id) for s in subjects])
            )
        )
        return {Subject(r.subject_type, r.subject_id): (r.master_key_id, bytes(r.wrapped_key)) for r in result}

    async def data_keys_for(self, conn: AsyncConnection, subjects: Iterable[Subject]) -> dict[Subject, AESGCM]:
        """The data keys of many subjects, creating missing ones, in a few statements per 500 subjects.

        The batch counterpart of the lookup behind :meth:`seal`: one master-key cipher per batch, keys
        created here are used as generated (no unwrap of what was just wrapped), and a key a concurrent
        creator stored first is read back and unwrapped instead of ours. Each subject keeps its own data
        key, so erasing one still leaves every other readable.

        Raises:
            SubjectErased: a subject was erased; nothing new is sealed for it.
        """
        found: dict[Subject, AESGCM] = {}
        missing: list[Subject] = []
        for subject in set(subjects):
            cached = self._cached(subject)
            if cached is None:
                missing.append(subject)
            else:
                found[subject] = cached
        missing.sort(key=lambda subject: (subject.type, subject.id))  # plain tuples: cheaper than dataclass order
        master_id = self.master_keys.current_id
        wrapper = AESGCM(self.master_keys.current)
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            stored = await _select_keys_by_type(conn, chunk)
            created: dict[Subject, tuple[bytes, bytes]] = {}
            for subject in chunk:
                if subject not in stored:
                    key = AESGCM.generate_key(bit_length=256)
                    nonce = os.urandom(NONCE_BYTES)
                    created[subject] = (key, nonce + wrapper.encrypt(nonce, key, _wrap_aad(subject)))
            if created:
                now = self._now_us()
                inserted = await _insert_keys_ignoring_conflicts(
                    conn, [(s.type, s.id, master_id, wrapped, now) for s, (_key, wrapped) in created.items()]
                )
                if inserted == len(created):  # every row is ours: nothing to read back
                    stored |= {subject: (master_id, wrapped) for subject, (_key, wrapped) in created.items()}
                else:  # a concurrent creator won some (or the driver does not say): read what is stored
                    stored |= await _select_keys_by_type(conn, list(created))
            for subject in chunk:
                row_master, wrapped = stored[subject]
                ours = created.get(subject)
                if ours is not None and wrapped == ours[1]:
                    cipher = AESGCM(ours[0])  # our insert won: no need to unwrap what we just wrapped
                else:
                    cipher = self._unwrap(subject, row_master, wrapped)  # raises SubjectErased when shredded
                self._remember(subject, cipher)
                found[subject] = cipher
        return found

    async def seal_many(self, conn: AsyncConnection, items: Sequence[tuple[Subject, bytes, str]]) -> list[bytes]:
        """:meth:`seal` for many ``(subject, plaintext, context)`` items at once (same format, same keys).

        Data keys come from :meth:`data_keys_for` (a few statements per batch instead of round trips per
        new subject); each value gets its own nonce and is bound to its own context.

        Raises:
            SubjectErased: a subject was erased; nothing new is sealed for it.
        """
        keys = await self.data_keys_for(conn, (subject for subject, _plaintext, _context in items))
        sealed = []
        for subject, plaintext, context in items:
            nonce = os.urandom(NONCE_BYTES)
            sealed.append(FORMAT_V1 + nonce + keys[subject].encrypt(nonce, plaintext, context.encode()))
        return sealed

    # -- values ------------------------------------------------------------------------------------

    async def seal(self, conn: AsyncConnection, subject: Subject, plaintext: bytes, *, context: str) -> bytes:
        """Encrypt ``plaintext`` for ``subject`` (creating its data key on first use) bound to ``context``.

        Raises:
            SubjectErased: the subject was erased; nothing new is stored for it.
        """
        cipher = await self._data_key(conn, subject, create=True)
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT_V1 + nonce + cipher.encrypt(nonce, plaintext, context.encode())

    async def open(self, conn: AsyncConnection, subject: Subject, sealed: bytes, *, context: str) -> bytes:
        """Decrypt what :meth:`seal` produced for the same subject and context.

        Raises:
            SubjectErased: the subject's data key was destroyed.
            DecryptionFailed: the ciphertext was altered or belongs elsewhere.
        """
        if not sealed.startswith(FORMAT_V1) or len(sealed) < 1 + NONCE_BYTES + 16:
            raise DecryptionFailed("not a sealed value", reason="CIPHERTEXT_MALFORMED", domain=_DOMAIN)
        cipher = await self._data_key(conn, subject, create=False)
        try:
            return cipher.decrypt(sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], context.encode())
        except InvalidTag:
            raise DecryptionFailed("ciphertext does not open", reason="CIPHERTEXT_CORRUPT", domain=_DOMAIN) from None

    async def seal_text(self, conn: AsyncConnection, subject: Subject, text: str, *, context: str) -> bytes:
        """:meth:`seal` for UTF-8 text."""
        return await self.seal(conn, subject, text.encode("utf-8"), context=context)

    async def open_text(self, conn: AsyncConnection, subject: Subject, sealed: bytes, *, context: str) -> str:
        """:meth:`open` for UTF-8 text."""
        return (await self.open(conn, subject, sealed, context=context)).decode("utf-8")

    # -- erasure -----------------------------------------------------------------------------------

    async def shred(self, conn: AsyncConnection, subject: Subject) -> bool:
        """Destroy ``subject``'s data key in the caller's transaction (audit it in the same one).

        Returns:
            True when a live key was destroyed, False when there was none or it was already gone.
        """
        self._cache.pop(subject, None)
        result = await conn.execute(
            data_keys.update()
            .where(
                data_keys.c.subject_type == subject.type,
                data_keys.c.subject_id == subject.id,
                data_keys.c.destroyed_us.is_(None),
            )
            .values(wrapped_key=b"", destroyed_us=self._now_us())
        )
        return bool(result.rowcount)

    async def is_erased(self, conn: AsyncConnection, subject: Subject) -> bool:
        """Whether ``subject``'s data key was destroyed."""
        row = (
            await conn.execute(
                sa.select(data_keys.c.destroyed_us).where(
                    data_keys.c.subject_type == subject.type, data_keys.c.subject_id == subject.id
                )
            )
        ).first()
        return row is not None and row.destroyed_us is not None

    def forget_cached(self) -> None:
        """Drop every unwrapped key from memory (after a rotation or erasure elsewhere)."""
        self._cache.clear()

    # -- rotation ----------------------------------------------------------------------------------

    async def rewrap_batch(self, conn: AsyncConnection, *, limit: int) -> int:
        """Re-wrap up to ``limit`` data keys not yet under the current master key; returns how many.

        Values sealed under those data keys are untouched: only the wrapping changes.
        """
        current = self.master_keys.current_id
        rows = (
            await conn.execute(
                sa.select(
                    data_keys.c.subject_type, data_keys.c.subject_id, data_keys.c.master_key_id, data_keys.c.wrapped_key
                )
                .where(data_keys.c.master_key_id != current)
                .order_by(data_keys.c.subject_type, data_keys.c.subject_id)
                .limit(limit)
            )
        ).all()
        for row in rows:
            subject = Subject(row.subject_type, row.subject_id)
            wrapped = bytes(row.wrapped_key)
            if wrapped:
                master = self.master_keys.by_id(row.master_key_id)
                if master is None:
                    raise FailedPrecondition(
                        f"data keys wrapped by master key {row.master_key_id}, which is not configured",
                        reason="MASTER_KEY_MISSING",
                        domain=_DOMAIN,
                    )
                key = AESGCM(master).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(subject))
                wrapped = self._wrap(subject, key)
            await conn.execute(
                data_keys.update()
                .where(
                    data_keys.c.subject_type == row.subject_type,
                    data_keys.c.subject_id == row.subject_id,
                    data_keys.c.master_key_id == row.master_key_id,
                )
                .values(master_key_id=current, wrapped_key=wrapped)
            )
        self._cache.clear()
        return len(rows)

    async def pending_rewrap(self, conn: AsyncConnection) -> int:
        """Data keys not yet wrapped by the current master key."""
        return int(
            (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(data_keys)
                    .where(data_keys.c.master_key_id != self.master_keys.current_id)
                )
            ).scalar_one()
        )


# One statement per subject type with an expanding IN: compiled once and cached, where a literal list
# (or a tuple IN) is coerced and compiled again for every batch.
_KEYS_OF_TYPE = sa.select(data_keys.c.subject_id, data_keys.c.master_key_id, data_keys.c.wrapped_key).where(
    data_keys.c.subject_type == sa.bindparam("subject_type"),
    data_keys.c.subject_id.in_(sa.bindparam("subject_ids", expanding=True)),
)


async def _select_keys_by_type(conn: AsyncConnection, subjects: Sequence[Subject]) -> dict[Subject, tuple[str, bytes]]:
    by_type: dict[str, list[str]] = {}
    for subject in subjects:
        by_type.setdefault(subject.type, []).append(subject.id)
    found: dict[Subject, tuple[str, bytes]] = {}
    for subject_type, ids in by_type.items():
        result = await conn.execute(_KEYS_OF_TYPE, {"subject_type": subject_type, "subject_ids": ids})
        for subject_id, master_id, wrapped in result:
            found[Subject(subject_type, subject_id)] = (master_id, bytes(wrapped))
    return found


async def _insert_keys_ignoring_conflicts(
    conn: AsyncConnection, rows: Sequence[tuple[str, str, str, bytes, int]]
) -> int:
    """Insert data-key rows (type, id, master key id, wrapped key, created) with one ``executemany``.

    A row whose subject already has a key is skipped (a concurrent creator won). Returns the rows the
    driver reports inserted (-1 when it does not say); the caller reads back unless it equals ``len(rows)``.
    The statement is written for the driver directly: per-row parameter processing in the SQL layer
    costs more than the insert itself at batch sizes.
    """
    columns = "subject_type, subject_id, master_key_id, wrapped_key, created_us"
    placeholders = driver_placeholders(conn.dialect.paramstyle, 5)
    if placeholders is None:  # a paramstyle this helper does not write: let SQLAlchemy render it
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(data_keys)
        names = columns.split(", ")
        await conn.execute(insert.on_conflict_do_nothing(), [dict(zip(names, row, strict=True)) for row in rows])
        return -1
    result = await conn.exec_driver_sql(
        # Table, columns and placeholders are constants of this module; values travel as parameters.
        f"INSERT INTO {data_keys.name} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",  # noqa: S608
        list(rows),
    )
    # sqlite3 and psycopg sum executemany's row counts; a driver that reports less only costs a read-back.
    return int(result.rowcount) if result.rowcount is not None else -1


def driver_placeholders(paramstyle: str, count: int) -> str | None:
    """``count`` positional placeholders in the driver's ``paramstyle`` (None for named styles)."""
    if paramstyle == "qmark":
        return ", ".join(["?"] * count)
    if paramstyle == "format":
        return ", ".join(["%s"] * count)
    if paramstyle == "numeric":
        return ", ".join(f":{i}" for i in range(1, count + 1))
    if paramstyle == "numeric_dollar":
        return ", ".join(f"${i}" for i in range(1, count + 1))
    return None
