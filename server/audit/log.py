"""The audit log services write to, inside their own transaction.

``append`` / ``append_batch`` lock the single chain-head row (``SELECT ... FOR UPDATE`` on PostgreSQL; on
SQLite the unit of work already began ``IMMEDIATE`` and holds the database's write lock), number and
chain the records, insert them and advance the head, all in the caller's transaction. Appends are
therefore serialised by the database, across processes, and a record is durable exactly when the
decision it describes commits. A batch path appends its whole batch in one call (group commit: one
transaction, one chained record per decision) and releases results only after the commit.

Call ``append`` as the last statement before the transaction ends: the head row stays locked until
commit, so work done after it holds up every other auditing transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.audit.chain import ChainVerifier, VerifyReport
from server.audit.checkpoints import Checkpoint
from server.audit.records import (
    ENCODING_LABEL,
    GENESIS_HASH,
    HASHED_FIELDS,
    STORED_FIELDS,
    AuditEntry,
    AuditReceipt,
    AuditRecord,
    record_hash,
)
from server.audit.tables import audit_records, chain_head
from server.crypto.keyring import Keyring, driver_placeholders
from server.crypto.subjects import SYSTEM_SUBJECT, Subject
from server.runtime.clock import Clock, SystemClock
from server.runtime.errors import FieldViolation, InvalidArgument, NotFound
from server.runtime.identity import current_caller
from server.storage.database import Database

_DOMAIN = "audit.fintech"
_COLUMNS = [audit_records.c[name] for name in STORED_FIELDS]


def canonical_sql(dialect: str) -> sa.ColumnElement[str] | None:
    """The record's canonical text (see :mod:`server.audit.records`) built by the database, or None.

    SQLite concatenates the columns with U+0000 separators and the payload as lowercase hex, exactly
    as :func:`~server.audit.records.canonical_bytes` does (integers print the same in decimal); verifying
    then costs Python one hash per record instead of twenty conversions. A test holds the two encodings
    equal on arbitrary records. PostgreSQL text cannot hold U+0000, so it keeps the Python encoding.
    """
    if dialect != "sqlite":
        return None
    c = audit_records.c
    # Column references and blob literals only: a function call per part (char(0), CAST) costs a third
    # more. Integers print in decimal as Python's str() does; a blob literal concatenates as its bytes.
    nul: sa.ColumnElement[Any] = sa.literal_column("x'00'")
    text: sa.ColumnElement[Any] = sa.literal(ENCODING_LABEL.decode())
    for name in HASHED_FIELDS:
        part = sa.func.lower(sa.func.hex(c.payload)) if name == "payload" else c[name]
        text = text.op("||")(nul).op("||")(part)
    return sa.type_coerce(text, sa.Text)


# Built once: json.dumps with options builds a new encoder on every call.
_encode_payload = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str).encode
_MAX = {
    "rpc": 200,
    "decision": 128,
    "request_id": 64,
    "caller": 300,
    "trace_id": 64,
    "input_digest": 128,
    "engine": 100,
    "engine_version": 100,
    "rule_set_version": 100,
    "model_id": 200,
    "prompt_template_id": 200,
    "prompt_template_digest": 128,
}


@dataclass(frozen=True)
class ChainHead:
    """The chain's identity and its last record."""

    chain_id: str
    seq: int
    head_hash: str


@dataclass(frozen=True)
class AuditFilter:
    """Filters of :meth:`AuditLog.list` (empty means any)."""

    start_us: int | None = None
    end_us: int | None = None
    subject_type: str = ""
    subject_id: str = ""
    rpc: str = ""
    caller: str = ""
    decision: str = ""
    kind: str = ""


@dataclass(frozen=True)
class VerifyProgress:
    """Progress of a long verification."""

    checked: int
    total: int


def payload_context(record_id: str) -> str:
    """Associated data binding a sealed payload to its record."""
    return f"audit.payload:{record_id}"


def _chain(
    prepared: Sequence[tuple[str, dict[str, Any]]], now_us: int, seq: int, running: str
) -> tuple[list[dict[str, Any]], list[AuditReceipt], int, str]:
    """Number and hash prepared records after the head ``(seq, running)``."""
    rows: list[dict[str, Any]] = []
    receipts: list[AuditReceipt] = []
    for record_id, fields in prepared:
        seq += 1
        values = {"seq": seq, "record_id": record_id, "time_us": now_us, **fields}
        digest = record_hash(running, [values[name] for name in HASHED_FIELDS])
        values["prev_hash"] = running
        values["record_hash"] = digest
        rows.append(values)
        receipts.append(AuditReceipt(record_id, seq, digest))
        running = digest
    return rows, receipts, seq, running


class AuditLog:
    """Appends, reads and verifies the chain.

    Args:
        keyring: Encrypts the sensitive part of each record under its subject's data key.
        clock: Record times.
        new_id: Record id factory.
    """

    def __init__(
        self, keyring: Keyring, *, clock: Clock | None = None, new_id: Callable[[], str] | None = None
    ) -> None:
        self.keyring = keyring
        self._clock = clock or SystemClock()
        self._new_id = new_id or (lambda: os.urandom(16).hex())
        # The head this process last advanced: a hint, always re-checked in the database.
        self._head_hint: tuple[int, str] | None = None

    # -- writing -----------------------------------------------------------------------------------

    async def append(self, conn: AsyncConnection, entry: AuditEntry) -> AuditReceipt:
        """Append one record in the caller's transaction (see the module docstring).

        Raises:
            InvalidArgument: a field is too long, or no caller is known.
            SubjectErased: the entry carries sensitive data for an erased subject.
        """
        return (await self.append_batch(conn, [entry]))[0]

    async def append_batch(self, conn: AsyncConnection, entries: Sequence[AuditEntry]) -> list[AuditReceipt]:
        """Append one chained record per entry, in order, in the caller's transaction (group commit).

        Raises:
            InvalidArgument: a field is too long, or no caller is known.
            SubjectErased: an entry carries sensitive data for an erased subject.
        """
        if not entries:
            return []
        now_us = int(self._clock.now().timestamp() * 1_000_000)
        if len(entries) > 1:
            await self.keyring.prefetch(
                conn, {e.subject or SYSTEM_SUBJECT for e in entries if e.llm_output or e.inputs or e.details}
            )
        prepared = [await self._prepare(conn, entry) for entry in entries]
        rows, receipts = await self._chain_onto_head(conn, prepared, now_us)
        await conn.execute(audit_records.insert(), rows)
        self._head_hint = (receipts[-1].seq, receipts[-1].record_hash)
        return receipts

    async def append_bulk(self, conn: AsyncConnection, entries: Sequence[AuditEntry]) -> list[AuditReceipt]:
        """:meth:`append_batch` for large batches: the same records, chain and checks, written in bulk.

        The records are byte-for-byte what :meth:`append_batch` would write (same fields, same payload
        format under each subject's data key, same chaining); what differs is the cost: the sensitive
        payloads are sealed with :meth:`Keyring.seal_many` (one pass, data keys loaded or created in a few
        statements), the trace id is read once, and the rows go to the driver in one ``executemany``.

        Raises:
            InvalidArgument: a field is too long, or no caller is known.
            SubjectErased: an entry carries sensitive data for an erased subject.
        """
        if not entries:
            return []
        now_us = int(self._clock.now().timestamp() * 1_000_000)
        trace_id = _current_trace_id()
        prepared: list[tuple[str, dict[str, Any]]] = []
        to_seal: list[tuple[Subject, bytes, str]] = []
        sealed_at: list[int] = []
        for entry in entries:
            record_id = self._new_id()
            fields = self._checked_fields(entry, trace_id)
            fields["payload"] = b""
            if entry.llm_output or entry.inputs or entry.details:
                document = {
                    "llm_output": entry.llm_output,
                    "inputs": entry.inputs or {},
                    "details": entry.details or {},
                }
                to_seal.append(
                    (entry.subject or SYSTEM_SUBJECT, _encode_payload(document).encode(), payload_context(record_id))
                )
                sealed_at.append(len(prepared))
            prepared.append((record_id, fields))
        for index, payload in zip(sealed_at, await self.keyring.seal_many(conn, to_seal), strict=True):
            prepared[index][1]["payload"] = payload
        rows, receipts = await self._chain_onto_head(conn, prepared, now_us)
        placeholders = driver_placeholders(conn.dialect.paramstyle, len(STORED_FIELDS))
        if placeholders is None:
            await conn.execute(audit_records.insert(), rows)
        else:
            await conn.exec_driver_sql(
                # Table and column names are this module's constants; values travel as parameters.
                f"INSERT INTO {audit_records.name} ({', '.join(STORED_FIELDS)}) VALUES ({placeholders})",  # noqa: S608
                [tuple(row[name] for name in STORED_FIELDS) for row in rows],
            )
        self._head_hint = (receipts[-1].seq, receipts[-1].record_hash)
        return receipts

    async def _chain_onto_head(
        self, conn: AsyncConnection, prepared: Sequence[tuple[str, dict[str, Any]]], now_us: int
    ) -> tuple[list[dict[str, Any]], list[AuditReceipt]]:
        """Number and hash ``prepared`` after the chain head and advance the head, in ``conn``."""
        c = chain_head.c
        chained: tuple[list[dict[str, Any]], list[AuditReceipt], int, str] | None = None
        hint = self._head_hint
        if hint is not None:
            # Fast path: chain onto the head this process last wrote and advance it only if it is still
            # the head (same seq and hash). One statement instead of a read and a write; when another
            # process appended meanwhile, or our last transaction rolled back, nothing matches.
            chained = _chain(prepared, now_us, *hint)
            advanced = await conn.execute(
                chain_head.update()
                .where(c.id == 1, c.seq == hint[0], c.head_hash == hint[1])
                .values(seq=chained[2], head_hash=chained[3])
            )
            if advanced.rowcount != 1:
                chained = None
        if chained is None:
            head_query = sa.select(c.seq, c.head_hash).where(c.id == 1)
            if conn.dialect.name == "postgresql":
                head_query = head_query.with_for_update()
            head = (await conn.execute(head_query)).one()
            chained = _chain(prepared, now_us, int(head.seq), str(head.head_hash))
            await conn.execute(chain_head.update().where(c.id == 1).values(seq=chained[2], head_hash=chained[3]))
        rows, receipts, _last_seq, _last_hash = chained
        return rows, receipts

    async def _prepare(self, conn: AsyncConnection, entry: AuditEntry) -> tuple[str, dict[str, Any]]:
        fields = self._checked_fields(entry, None)
        subject = entry.subject
        record_id = self._new_id()
        payload = b""
        if entry.llm_output or entry.inputs or entry.details:
            document = {"llm_output": entry.llm_output, "inputs": entry.inputs or {}, "details": entry.details or {}}
            plaintext = _encode_payload(document).encode()
            payload = await self.keyring.seal(
                conn, subject or SYSTEM_SUBJECT, plaintext, context=payload_context(record_id)
            )
        fields["payload"] = payload
        return record_id, fields

    def _checked_fields(self, entry: AuditEntry, trace_id: str | None) -> dict[str, Any]:
        """The record's clear fields, checked (``trace_id``: the active one, read here when None)."""
        caller = entry.caller
        if not caller:
            try:
                caller = current_caller().audit_identity
            except LookupError:
                raise InvalidArgument(
                    "audit entry has no caller and no RPC caller is bound",
                    reason="CALLER_MISSING",
                    domain=_DOMAIN,
                    violations=[FieldViolation("caller", "required")],
                ) from None
        subject = entry.subject
        fields: dict[str, Any] = {
            "kind": str(entry.kind),
            "request_id": entry.request_id,
            "caller": caller,
            "rpc": entry.rpc,
            "subject_type": subject.type if subject else "",
            "subject_id": subject.id if subject else "",
            "input_digest": entry.input_digest,
            "engine": entry.engine,
            "engine_version": entry.engine_version,
            "rule_set_version": entry.rule_set_version,
            "model_id": entry.model_id,
            "prompt_template_id": entry.prompt_template_id,
            "prompt_template_digest": entry.prompt_template_digest,
            "validation_outcome": str(entry.validation_outcome),
            "decision": entry.decision,
            "trace_id": entry.trace_id or (_current_trace_id() if trace_id is None else trace_id),
        }
        if "\x00" in "".join(fields.values()) or any(len(fields[n]) > limit for n, limit in _MAX.items()):
            for name, limit in _MAX.items():  # the slow path only to name the field
                if "\x00" in fields[name]:
                    raise InvalidArgument(
                        f"audit field {name} contains NUL",
                        reason="FIELD_INVALID",
                        domain=_DOMAIN,
                        violations=[FieldViolation(name, "must not contain U+0000")],
                    )
                if len(fields[name]) > limit:
                    raise InvalidArgument(
                        f"audit field {name} longer than {limit}",
                        reason="FIELD_TOO_LONG",
                        domain=_DOMAIN,
                        violations=[FieldViolation(name, f"at most {limit} characters")],
                    )
        return fields

    # -- reading -----------------------------------------------------------------------------------

    async def head(self, conn: AsyncConnection) -> ChainHead:
        """The chain head as committed (or as this transaction sees it)."""
        row = (
            await conn.execute(
                sa.select(chain_head.c.chain_id, chain_head.c.seq, chain_head.c.head_hash).where(chain_head.c.id == 1)
            )
        ).one()
        return ChainHead(str(row.chain_id), int(row.seq), str(row.head_hash))

    async def get(self, conn: AsyncConnection, record_id: str, *, open_payload: bool = False) -> AuditRecord:
        """One record by id; with ``open_payload`` its sensitive part decrypted into ``opened``.

        Raises:
            NotFound: no such record.
            SubjectErased: ``open_payload`` and the subject was erased.
        """
        row = (await conn.execute(sa.select(*_COLUMNS).where(audit_records.c.record_id == record_id))).first()
        if row is None:
            raise NotFound(
                f"audit record {record_id} not found",
                reason="AUDIT_RECORD_NOT_FOUND",
                domain=_DOMAIN,
                metadata={"record_id": record_id},
            )
        record = AuditRecord.from_row(row)
        if open_payload and record.payload:
            opened = await self.open_payload(conn, record)
            record = AuditRecord(**{**{f: getattr(record, f) for f in STORED_FIELDS}, "opened": opened})
        return record

    async def open_payload(self, conn: AsyncConnection, record: AuditRecord) -> Mapping[str, Any]:
        """Decrypt a record's sensitive part (``{"llm_output", "inputs", "details"}``)."""
        if not record.payload:
            return {"llm_output": "", "inputs": {}, "details": {}}
        subject = Subject(record.subject_type, record.subject_id) if record.subject_type else SYSTEM_SUBJECT
        plaintext = await self.keyring.open(conn, subject, record.payload, context=payload_context(record.record_id))
        result: Mapping[str, Any] = json.loads(plaintext)
        return result

    async def list_records(
        self, conn: AsyncConnection, query: AuditFilter, *, limit: int, after_seq: int = 0
    ) -> list[AuditRecord]:
        """Records matching ``query`` with ``seq > after_seq``, oldest first, at most ``limit``."""
        statement = sa.select(*_COLUMNS).where(audit_records.c.seq > after_seq)
        c = audit_records.c
        if query.start_us is not None:
            statement = statement.where(c.time_us >= query.start_us)
        if query.end_us is not None:
            statement = statement.where(c.time_us < query.end_us)
        for name in ("subject_type", "subject_id", "rpc", "caller", "decision", "kind"):
            value = getattr(query, name)
            if value:
                statement = statement.where(c[name] == value)
        rows = (await conn.execute(statement.order_by(c.seq).limit(limit))).all()
        return [AuditRecord.from_row(row) for row in rows]

    async def seq_range_for_time(
        self, conn: AsyncConnection, start: datetime | None, end: datetime | None
    ) -> tuple[int, int]:
        """The contiguous ``seq`` range of records in ``[start, end)`` (``(1, 0)`` when empty)."""
        c = audit_records.c
        low = sa.select(sa.func.min(c.seq))
        high = sa.select(sa.func.max(c.seq))
        if start is not None:
            low = low.where(c.time_us >= int(start.timestamp() * 1_000_000))
            high = high.where(c.time_us >= int(start.timestamp() * 1_000_000))
        if end is not None:
            low = low.where(c.time_us < int(end.timestamp() * 1_000_000))
            high = high.where(c.time_us < int(end.timestamp() * 1_000_000))
        first = (await conn.execute(low)).scalar()
        last = (await conn.execute(high)).scalar()
        if first is None or last is None:
            return 1, 0
        return int(first), int(last)

    async def rows(
        self, db: Database, *, start_seq: int, end_seq: int, batch_size: int = 5000
    ) -> AsyncGenerator[list[Sequence[Any]], None]:
        """Stored rows (``STORED_FIELDS`` order) of ``[start_seq, end_seq]`` in batches, each from its own snapshot."""
        after = start_seq - 1
        c = audit_records.c
        while after < end_seq:
            async with db.read() as conn:
                batch = (
                    await conn.execute(
                        sa.select(*_COLUMNS).where(c.seq > after, c.seq <= end_seq).order_by(c.seq).limit(batch_size)
                    )
                ).all()
            if not batch:
                return
            yield [tuple(row) for row in batch]
            after = int(batch[-1][0])

    async def encoded_rows(
        self, db: Database, canonical: sa.ColumnElement[str], *, start_seq: int, end_seq: int, batch_size: int
    ) -> AsyncGenerator[list[Sequence[Any]], None]:
        """``(seq, record_id, prev_hash, record_hash, canonical text)`` of ``[start_seq, end_seq]`` in batches."""
        after = start_seq - 1
        c = audit_records.c
        statement = sa.select(c.seq, c.record_id, c.prev_hash, c.record_hash, canonical)
        while after < end_seq:
            async with db.read() as conn:
                result = await conn.execute(
                    statement.where(c.seq > after, c.seq <= end_seq).order_by(c.seq).limit(batch_size)
                )
                batch: list[Sequence[Any]] = list(result.tuples().all())
            if not batch:
                return
            yield batch
            after = int(batch[-1][0])

    # -- verification ------------------------------------------------------------------------------

    async def verify(
        self,
        db: Database,
        *,
        start_seq: int = 1,
        end_seq: int = 0,
        checkpoints: Sequence[Checkpoint] = (),
        batch_size: int = 5000,
    ) -> AsyncIterator[VerifyProgress | VerifyReport]:
        """Verify ``[start_seq, end_seq]`` (0: to the head) in one pass, yielding progress then the report.

        The range from 1 to the head is checked against the recorded head and every checkpoint; a range
        starting later trusts its first record's link to the one before it.
        """
        if start_seq < 1:
            raise InvalidArgument(
                "start sequence must be at least 1",
                reason="BAD_RANGE",
                domain=_DOMAIN,
                violations=[FieldViolation("start_sequence_number", "must be at least 1")],
            )
        async with db.read() as conn:
            head = await self.head(conn)
        to_head = end_seq == 0 or end_seq >= head.seq
        last = head.seq if to_head else end_seq
        chain_checkpoints = [c for c in checkpoints if c.chain_id == head.chain_id]
        verifier = ChainVerifier(
            start_seq=start_seq, anchor_hash=GENESIS_HASH if start_seq == 1 else None, checkpoints=chain_checkpoints
        )
        total = max(0, last - start_seq + 1)
        yield VerifyProgress(0, total)
        head_to_check = (head.seq, head.head_hash) if to_head and start_seq == 1 else None
        canonical = canonical_sql(db.dialect)
        if canonical is not None:
            batches = self.encoded_rows(db, canonical, start_seq=start_seq, end_seq=last, batch_size=batch_size)
            feed = verifier.feed_encoded
        else:
            batches = self.rows(db, start_seq=start_seq, end_seq=last, batch_size=batch_size)
            feed = verifier.feed
        # Read the next batch (in the driver's thread or socket) while this one is hashed.
        pending: asyncio.Future[list[Sequence[Any]] | None] = asyncio.ensure_future(anext(batches, None))
        try:
            while (batch := await pending) is not None:
                pending = asyncio.ensure_future(anext(batches, None))
                if not feed(batch):
                    break
                yield VerifyProgress(verifier.checked, total)
        finally:
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await pending
            await batches.aclose()
        yield verifier.finish(head=head_to_check, end_seq=last)


def _current_trace_id() -> str:
    """The W3C trace id of the active span (the RPC's), or empty outside a trace."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""
