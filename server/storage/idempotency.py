"""Idempotent mutations (AIP-155).

Each mutating RPC carries a ``request_id``. The first call stores ``(rpc, request_id)``, a SHA-256 digest of
the request and the serialized response in the same transaction as the mutation itself, so the mutation
and its idempotency record commit or vanish together. A retry with the same id and the same payload gets
the stored response and changes nothing; the same id with another payload is ``ALREADY_EXISTS`` /
``REQUEST_ID_REUSED``.

Two concurrent first attempts with one id: both run, one insert wins on the primary key, the loser's whole
transaction (its mutation included) rolls back, and it answers from the winner's stored response.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.crypto.subjects import SYSTEM_SUBJECT, Subject
from server.runtime.clock import Clock, SystemClock
from server.runtime.errors import Aborted, AlreadyExists, FieldViolation, InvalidArgument
from server.storage.database import Database
from server.storage.tables import idempotency_records

ResponseT = TypeVar("ResponseT", bound=Message)


class ResponseSealer(Protocol):
    """Encryption of stored responses, which may hold customer data (``server.crypto.Keyring`` is one)."""

    async def seal(self, conn: AsyncConnection, subject: Subject, plaintext: bytes, *, context: str) -> bytes:
        """Encrypt ``plaintext`` under ``subject``'s data key."""
        ...

    async def open(self, conn: AsyncConnection, subject: Subject, sealed: bytes, *, context: str) -> bytes:
        """Decrypt what :meth:`seal` produced."""
        ...


class _Raced(Exception):
    """Another transaction stored this request id first."""


def payload_digest(request: Message) -> str:
    """SHA-256 (hex) of the request's deterministic serialization."""
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


def _reused(rpc: str, request_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"request_id {request_id} was already used for {rpc} with a different payload",
        reason="REQUEST_ID_REUSED",
        domain="storage.fintech",
        metadata={"request_id": request_id, "rpc": rpc},
    )


async def lookup(conn: AsyncConnection, *, rpc: str, request_id: str, digest: str) -> bytes | None:
    """The stored response for ``(rpc, request_id)``, or None when the id is new.

    Raises:
        AlreadyExists: REQUEST_ID_REUSED when the stored payload digest differs.
    """
    row = (
        await conn.execute(
            sa.select(idempotency_records.c.payload_digest, idempotency_records.c.response).where(
                idempotency_records.c.rpc == rpc, idempotency_records.c.request_id == request_id
            )
        )
    ).first()
    if row is None:
        return None
    if row.payload_digest != digest:
        raise _reused(rpc, request_id)
    return bytes(row.response)


async def remember(
    conn: AsyncConnection, *, rpc: str, request_id: str, digest: str, response: bytes, created_us: int
) -> None:
    """Store the response of ``(rpc, request_id)`` in the caller's transaction (IntegrityError on a race)."""
    await conn.execute(
        idempotency_records.insert().values(
            rpc=rpc, request_id=request_id, payload_digest=digest, response=response, created_us=created_us
        )
    )


class Idempotency:
    """Runs a mutation at most once per ``(rpc, request_id)``.

    Example::

        response = await idempotency.run(
            rpc="/fintech.aml.v1.AMLService/UpdateAlert", request_id=request.request_id, request=request,
            response_type=UpdateAlertResponse, work=lambda conn: engine.update_alert(conn, ...),
        )
    """

    def __init__(self, db: Database, *, sealer: ResponseSealer | None = None, clock: Clock | None = None) -> None:
        self._db = db
        self._sealer = sealer
        self._clock = clock or SystemClock()

    async def run(
        self,
        *,
        rpc: str,
        request_id: str,
        request: Message,
        response_type: type[ResponseT],
        work: Callable[[AsyncConnection], Awaitable[ResponseT]],
        subject: Subject | None = None,
    ) -> ResponseT:
        """Run ``work`` in one transaction and remember its response, or return the remembered one.

        Args:
            rpc: Full method name, the scope of the id.
            request_id: The client-chosen id.
            request: The request, whose digest detects a reused id.
            response_type: The response message class.
            work: The mutation; runs in the transaction it is given and returns the response.
            subject: Whose data key encrypts the stored response (when a sealer is configured).

        Raises:
            Aborted: the id raced twice (retry).
            InvalidArgument: ``request_id`` is empty.
            AlreadyExists: REQUEST_ID_REUSED.
        """
        if not request_id:
            raise InvalidArgument(
                "request_id is required",
                reason="REQUEST_ID_MISSING",
                domain="storage.fintech",
                violations=[FieldViolation("request_id", "required for a mutating request")],
            )
        digest = payload_digest(request)
        context = f"idempotency:{rpc}:{request_id}"
        owner = subject or SYSTEM_SUBJECT
        for _attempt in range(2):
            try:
                async with self._db.transaction() as conn:
                    stored = await lookup(conn, rpc=rpc, request_id=request_id, digest=digest)
                    if stored is not None:
                        if self._sealer is not None:
                            stored = await self._sealer.open(conn, owner, stored, context=context)
                        replay: ResponseT = response_type()
                        replay.ParseFromString(stored)
                        return replay
                    response = await work(conn)
                    blob = response.SerializeToString(deterministic=True)
                    if self._sealer is not None:
                        blob = await self._sealer.seal(conn, owner, blob, context=context)
                    created_us = int(self._clock.now().timestamp() * 1_000_000)
                    try:
                        await remember(
                            conn, rpc=rpc, request_id=request_id, digest=digest, response=blob, created_us=created_us
                        )
                    except IntegrityError:
                        raise _Raced from None
                    return response
            except _Raced:
                # A concurrent first attempt with this id committed first: this transaction (and its
                # mutation) rolled back; answer from the winner's record on the next pass.
                continue
        raise Aborted(
            "request_id raced with a concurrent attempt; retry", reason="REQUEST_ID_RACE", domain="storage.fintech"
        )


async def run_journaled(
    idempotency: Idempotency,
    *,
    rpc: str,
    request_id: str,
    request: Message,
    response_type: type[ResponseT],
    work: Callable[[], Awaitable[ResponseT]],
    subject: Subject | None = None,
) -> ResponseT:
    """AIP-155 for a mutation whose repository opens its own transaction (so it cannot join ours).

    Looks the id up first (a stored response is returned; another payload is REQUEST_ID_REUSED), runs
    ``work``, then records its response. Unlike :meth:`Idempotency.run` the record is not in the
    mutation's transaction: if the process dies between the two, a retry runs the mutation again. Use it
    only for mutations that are safe to repeat (re-storing an identical article changes nothing; a second
    resolution or deletion is refused with a clear error, not applied twice).
    """
    if not request_id:
        raise InvalidArgument(
            "request_id is required",
            reason="REQUEST_ID_MISSING",
            domain="storage.fintech",
            violations=[FieldViolation("request_id", "required for a mutating request")],
        )
    digest = payload_digest(request)
    context = f"idempotency:{rpc}:{request_id}"
    owner = subject or SYSTEM_SUBJECT
    sealer = idempotency._sealer

    async def stored_response() -> ResponseT | None:
        async with idempotency._db.read() as conn:
            stored = await lookup(conn, rpc=rpc, request_id=request_id, digest=digest)
            if stored is None:
                return None
            if sealer is not None:
                stored = await sealer.open(conn, owner, stored, context=context)
        replay: ResponseT = response_type()
        replay.ParseFromString(stored)
        return replay

    earlier = await stored_response()
    if earlier is not None:
        return earlier
    response = await work()
    async with idempotency._db.transaction() as conn:
        blob = response.SerializeToString(deterministic=True)
        if sealer is not None:
            blob = await sealer.seal(conn, owner, blob, context=context)
        created_us = int(idempotency._clock.now().timestamp() * 1_000_000)
        try:
            async with conn.begin_nested():
                await remember(
                    conn, rpc=rpc, request_id=request_id, digest=digest, response=blob, created_us=created_us
                )
        except IntegrityError:
            pass  # a concurrent attempt with this id recorded first; both mutations were safe to repeat
    return response
