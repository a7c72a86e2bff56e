"""Storage of regulation analyses and contract reviews: tables and repositories.

Repositories take the caller's connection, never commit, and return domain types. Document text and
the stored results (which quote the document) are sealed with the keyring under the document's subject:
``contract/<contract_id>`` for contracts (so erasing a contract shreds its reviews), and
``system/compliance-regulations`` for regulations (published texts, sealed all the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fintech.compliance.v1 import compliance_service_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncConnection

from server.crypto.keyring import Keyring
from server.crypto.subjects import Subject
from server.runtime.errors import NotFound
from server.storage.tables import idempotency_records

DOMAIN = "compliance.fintech"
REGULATION_SUBJECT = Subject("system", "compliance-regulations")

metadata = sa.MetaData()

analyses = sa.Table(
    "compliance_analyses",
    metadata,
    sa.Column("analysis_id", sa.String(64), primary_key=True),
    sa.Column("regulation_id", sa.String(128), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("caller", sa.String(300), nullable=False),
    sa.Column("word_count", sa.Integer, nullable=False),
    sa.Column("summary_outcome", sa.String(32), nullable=False),
    sa.Column("document_sealed", sa.LargeBinary, nullable=False),
    sa.Column("analysis_sealed", sa.LargeBinary, nullable=False),
    sa.Column("audit_record_id", sa.String(40), nullable=False, server_default=""),
)

comparisons = sa.Table(
    "compliance_comparisons",
    metadata,
    sa.Column("comparison_id", sa.String(64), primary_key=True),
    sa.Column("regulation_id", sa.String(128), nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("caller", sa.String(300), nullable=False),
    sa.Column("audit_record_id", sa.String(40), nullable=False),
    sa.Column("comparison_sealed", sa.LargeBinary, nullable=False),
)

reviews = sa.Table(
    "compliance_reviews",
    metadata,
    sa.Column("review_id", sa.String(64), primary_key=True),
    sa.Column("contract_id", sa.String(128), nullable=False),
    sa.Column("playbook_id", sa.String(64), nullable=False),
    sa.Column("playbook_version", sa.String(64), nullable=False),
    sa.Column("contract_type", sa.String(32), nullable=False),
    sa.Column("max_severity", sa.Integer, nullable=False),
    sa.Column("finding_count", sa.Integer, nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("caller", sa.String(300), nullable=False),
    sa.Column("audit_record_id", sa.String(40), nullable=False),
    sa.Column("document_sealed", sa.LargeBinary, nullable=False),
    sa.Column("review_sealed", sa.LargeBinary, nullable=False),
)


_IN_CHUNK = 500  # bound parameters per IN (...) list


def _placeholders(conn: AsyncConnection, count: int) -> str:
    """``count`` positional placeholders in the driver's paramstyle (SQLite ``?``, psycopg ``%s``, asyncpg ``$n``)."""
    style = conn.dialect.paramstyle
    if style == "qmark":
        return ", ".join(["?"] * count)
    if style in ("format", "pyformat"):
        return ", ".join(["%s"] * count)
    if style == "numeric_dollar":
        return ", ".join(f"${i}" for i in range(1, count + 1))
    if style == "numeric":
        return ", ".join(f":{i}" for i in range(1, count + 1))
    raise RuntimeError(f"unsupported driver paramstyle {style!r}")


async def _insert_many(
    conn: AsyncConnection, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """One ``executemany`` INSERT through the driver, in the caller's transaction (no per-row SQL compilation)."""
    if rows:
        await conn.exec_driver_sql(
            # Table and column names are constants of this module; the values travel as parameters.
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({_placeholders(conn, len(columns))})",  # noqa: S608
            rows,
        )


async def stored_responses(conn: AsyncConnection, rpc: str, request_ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
    """Remembered responses of many request ids of ``rpc`` (AIP-155), in a few statements.

    Returns:
        ``request_id -> (payload digest, sealed response)`` for the ids already used.
    """
    found: dict[str, tuple[str, bytes]] = {}
    unique = sorted(set(request_ids))
    c = idempotency_records.c
    for start in range(0, len(unique), _IN_CHUNK):
        rows = await conn.execute(
            sa.select(c.request_id, c.payload_digest, c.response).where(
                c.rpc == rpc, c.request_id.in_(unique[start : start + _IN_CHUNK])
            )
        )
        for row in rows:
            found[row.request_id] = (row.payload_digest, bytes(row.response))
    return found


async def remember_many(conn: AsyncConnection, rpc: str, rows: Sequence[tuple[str, str, bytes, int]]) -> None:
    """Remember many responses of ``rpc``: ``(request_id, payload digest, sealed response, created_us)``.

    The batch counterpart of ``server.storage.idempotency.remember`` (same table and columns), in the caller's
    transaction; a request id stored meanwhile by another transaction fails the insert (IntegrityError).
    """
    await _insert_many(
        conn,
        idempotency_records,
        ("rpc", "request_id", "payload_digest", "response", "created_us"),
        [(rpc, request_id, digest, response, created_us) for request_id, digest, response, created_us in rows],
    )


def contract_subject(contract_id: str) -> Subject:
    """The data subject a contract's text and reviews are sealed under."""
    return Subject("contract", contract_id)


@dataclass(frozen=True)
class StoredAnalysis:
    """A regulation analysis to store."""

    analysis_id: str
    regulation_id: str
    created_us: int
    caller: str
    word_count: int
    summary_outcome: str
    document_text: str
    analysis: pb.RegulationAnalysis


@dataclass(frozen=True)
class StoredReview:
    """A contract review to store (``review.review_id`` is its key)."""

    review: pb.ContractReview
    created_us: int
    caller: str
    document_text: str
    audit_record_id: str = ""


_REVIEW_COLUMNS = (
    "review_id",
    "contract_id",
    "playbook_id",
    "playbook_version",
    "contract_type",
    "max_severity",
    "finding_count",
    "created_us",
    "caller",
    "audit_record_id",
    "document_sealed",
    "review_sealed",
)


@dataclass(frozen=True)
class ReviewCursor:
    """Keyset position in the newest-first review list."""

    created_us: int
    review_id: str


@dataclass(frozen=True)
class Cursor:
    """Keyset position in a newest-first list (analyses, comparisons): creation time, then id."""

    created_us: int
    key: str


def _newest_first_after(created: Any, key: Any, after: Cursor | None) -> Any:
    """The keyset condition for rows after ``after`` in (created desc, key desc) order; None for the first page."""
    if after is None:
        return None
    return sa.or_(created < after.created_us, sa.and_(created == after.created_us, key < after.key))


def _timestamp(message: Any, created_us: int) -> None:
    """Set ``message.create_time`` from microseconds since the epoch."""
    message.create_time.FromMicroseconds(created_us)


class AnalysisRepository:
    """Stored regulation analyses."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    async def add(self, conn: AsyncConnection, stored: StoredAnalysis) -> None:
        """Insert one analysis, sealing its text and result."""
        context = f"compliance_analyses:{stored.analysis_id}"
        await conn.execute(
            analyses.insert().values(
                analysis_id=stored.analysis_id,
                regulation_id=stored.regulation_id,
                created_us=stored.created_us,
                caller=stored.caller,
                word_count=stored.word_count,
                summary_outcome=stored.summary_outcome,
                document_sealed=await self._keyring.seal_text(
                    conn, REGULATION_SUBJECT, stored.document_text, context=f"{context}:document"
                ),
                analysis_sealed=await self._keyring.seal(
                    conn,
                    REGULATION_SUBJECT,
                    stored.analysis.SerializeToString(deterministic=True),
                    context=f"{context}:analysis",
                ),
                audit_record_id="",
            )
        )

    async def link_audit(self, conn: AsyncConnection, analysis_id: str, record_id: str) -> None:
        """Record the analysis's audit record id (after the audit append, in the same transaction)."""
        await conn.execute(
            analyses.update().where(analyses.c.analysis_id == analysis_id).values(audit_record_id=record_id)
        )

    async def get(self, conn: AsyncConnection, analysis_id: str) -> pb.RegulationAnalysis:
        """One stored analysis.

        Raises:
            NotFound: no such analysis.
        """
        row = (
            await conn.execute(
                sa.select(
                    analyses.c.analysis_id,
                    analyses.c.analysis_sealed,
                    analyses.c.created_us,
                    analyses.c.audit_record_id,
                ).where(analyses.c.analysis_id == analysis_id)
            )
        ).first()
        if row is None:
            raise NotFound("regulation analysis not found", reason="ANALYSIS_NOT_FOUND", domain=DOMAIN)
        return await self._open(conn, row, with_clauses=True)

    async def _open(self, conn: AsyncConnection, row: Any, *, with_clauses: bool) -> pb.RegulationAnalysis:
        blob = await self._keyring.open(
            conn, REGULATION_SUBJECT, row.analysis_sealed, context=f"compliance_analyses:{row.analysis_id}:analysis"
        )
        message = pb.RegulationAnalysis()
        message.ParseFromString(blob)
        _timestamp(message, row.created_us)
        message.provenance.audit_record_id = row.audit_record_id
        if not with_clauses:
            del message.clauses[:]
        return message

    async def page(
        self,
        conn: AsyncConnection,
        *,
        limit: int,
        after: Cursor | None,
        regulation_id: str = "",
        with_clauses: bool = False,
    ) -> tuple[list[pb.RegulationAnalysis], Cursor | None]:
        """Analyses newest first, after ``after``, optionally of one regulation; and the next page's cursor."""
        query = sa.select(
            analyses.c.analysis_id, analyses.c.analysis_sealed, analyses.c.created_us, analyses.c.audit_record_id
        )
        if regulation_id:
            query = query.where(analyses.c.regulation_id == regulation_id)
        condition = _newest_first_after(analyses.c.created_us, analyses.c.analysis_id, after)
        if condition is not None:
            query = query.where(condition)
        query = query.order_by(analyses.c.created_us.desc(), analyses.c.analysis_id.desc()).limit(limit + 1)
        rows = list((await conn.execute(query)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        result = [await self._open(conn, row, with_clauses=with_clauses) for row in rows]
        cursor = Cursor(rows[-1].created_us, rows[-1].analysis_id) if more and rows else None
        return result, cursor

    async def document_text(self, conn: AsyncConnection, analysis_id: str) -> str:
        """The stored regulation text of an analysis (decrypted).

        Raises:
            NotFound: no such analysis.
        """
        row = (
            await conn.execute(sa.select(analyses.c.document_sealed).where(analyses.c.analysis_id == analysis_id))
        ).first()
        if row is None:
            raise NotFound("regulation analysis not found", reason="ANALYSIS_NOT_FOUND", domain=DOMAIN)
        return await self._keyring.open_text(
            conn, REGULATION_SUBJECT, row.document_sealed, context=f"compliance_analyses:{analysis_id}:document"
        )


class ComparisonRepository:
    """Stored version comparisons (sealed under the regulation subject)."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    async def add(
        self, conn: AsyncConnection, comparison: pb.VersionComparison, *, created_us: int, caller: str
    ) -> None:
        """Insert one comparison, sealing it (its audit record is linked afterwards, see ``link_audit``)."""
        await conn.execute(
            comparisons.insert().values(
                comparison_id=comparison.comparison_id,
                regulation_id=comparison.regulation_id,
                created_us=created_us,
                caller=caller,
                audit_record_id="",
                comparison_sealed=await self._keyring.seal(
                    conn,
                    REGULATION_SUBJECT,
                    comparison.SerializeToString(deterministic=True),
                    context=f"compliance_comparisons:{comparison.comparison_id}",
                ),
            )
        )

    async def link_audit(self, conn: AsyncConnection, comparison_id: str, record_id: str) -> None:
        """Record the comparison's audit record id (after the audit append, in the same transaction)."""
        await conn.execute(
            comparisons.update().where(comparisons.c.comparison_id == comparison_id).values(audit_record_id=record_id)
        )

    async def _open(self, conn: AsyncConnection, row: Any, *, with_clauses: bool) -> pb.VersionComparison:
        blob = await self._keyring.open(
            conn, REGULATION_SUBJECT, row.comparison_sealed, context=f"compliance_comparisons:{row.comparison_id}"
        )
        message = pb.VersionComparison()
        message.ParseFromString(blob)
        message.provenance.audit_record_id = row.audit_record_id
        if not with_clauses:
            del message.old_clauses[:]
            del message.new_clauses[:]
        return message

    async def get(self, conn: AsyncConnection, comparison_id: str) -> pb.VersionComparison:
        """One stored comparison, with both versions' clauses.

        Raises:
            NotFound: no such comparison.
        """
        row = (
            await conn.execute(
                sa.select(
                    comparisons.c.comparison_id, comparisons.c.comparison_sealed, comparisons.c.audit_record_id
                ).where(comparisons.c.comparison_id == comparison_id)
            )
        ).first()
        if row is None:
            raise NotFound("version comparison not found", reason="COMPARISON_NOT_FOUND", domain=DOMAIN)
        return await self._open(conn, row, with_clauses=True)

    async def page(
        self,
        conn: AsyncConnection,
        *,
        limit: int,
        after: Cursor | None,
        regulation_id: str = "",
        with_clauses: bool = False,
    ) -> tuple[list[pb.VersionComparison], Cursor | None]:
        """Comparisons newest first, after ``after``, optionally of one regulation; and the next page's cursor."""
        query = sa.select(
            comparisons.c.comparison_id,
            comparisons.c.comparison_sealed,
            comparisons.c.created_us,
            comparisons.c.audit_record_id,
        )
        if regulation_id:
            query = query.where(comparisons.c.regulation_id == regulation_id)
        condition = _newest_first_after(comparisons.c.created_us, comparisons.c.comparison_id, after)
        if condition is not None:
            query = query.where(condition)
        query = query.order_by(comparisons.c.created_us.desc(), comparisons.c.comparison_id.desc()).limit(limit + 1)
        rows = list((await conn.execute(query)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        result = [await self._open(conn, row, with_clauses=with_clauses) for row in rows]
        cursor = Cursor(rows[-1].created_us, rows[-1].comparison_id) if more and rows else None
        return result, cursor


class ReviewRepository:
    """Stored contract reviews."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    async def add_many(self, conn: AsyncConnection, stored: Sequence[StoredReview]) -> None:
        """Insert reviews (one driver ``executemany``), sealing text and result under each contract's subject."""
        if not stored:
            return
        await self._keyring.prefetch(conn, {contract_subject(s.review.contract_id) for s in stored})
        rows: list[tuple[Any, ...]] = []
        for item in stored:
            review = item.review
            subject = contract_subject(review.contract_id)
            context = f"compliance_reviews:{review.review_id}"
            rows.append(
                (
                    review.review_id,
                    review.contract_id,
                    review.playbook_id,
                    review.playbook_version,
                    pb.ContractType.Name(review.contract_type).removeprefix("CONTRACT_TYPE_"),
                    int(review.max_severity),
                    len(review.findings),
                    item.created_us,
                    item.caller,
                    item.audit_record_id,
                    await self._keyring.seal_text(conn, subject, item.document_text, context=f"{context}:document"),
                    await self._keyring.seal(
                        conn, subject, review.SerializeToString(deterministic=True), context=f"{context}:review"
                    ),
                )
            )
        await _insert_many(conn, reviews, _REVIEW_COLUMNS, rows)

    async def link_audit(self, conn: AsyncConnection, record_ids: dict[str, str]) -> None:
        """Record each review's audit record id (written after the audit append, in the same transaction)."""
        if record_ids:
            first, second = _placeholders(conn, 2).split(", ")
            await conn.exec_driver_sql(
                # Constant SQL of this module; the values travel as parameters (one executemany).
                f"UPDATE {reviews.name} SET audit_record_id = {first} WHERE review_id = {second}",  # noqa: S608
                [(aid, rid) for rid, aid in record_ids.items()],
            )

    async def _open(self, conn: AsyncConnection, row: Any) -> pb.ContractReview:
        blob = await self._keyring.open(
            conn,
            contract_subject(row.contract_id),
            row.review_sealed,
            context=f"compliance_reviews:{row.review_id}:review",
        )
        message = pb.ContractReview()
        message.ParseFromString(blob)
        message.provenance.audit_record_id = row.audit_record_id
        return message

    async def get(self, conn: AsyncConnection, review_id: str) -> pb.ContractReview:
        """One stored review.

        Raises:
            NotFound: no such review.
        """
        row = (
            await conn.execute(
                sa.select(
                    reviews.c.review_id, reviews.c.contract_id, reviews.c.review_sealed, reviews.c.audit_record_id
                ).where(reviews.c.review_id == review_id)
            )
        ).first()
        if row is None:
            raise NotFound("contract review not found", reason="REVIEW_NOT_FOUND", domain=DOMAIN)
        return await self._open(conn, row)

    async def page(
        self,
        conn: AsyncConnection,
        *,
        limit: int,
        after: ReviewCursor | None,
        playbook_id: str = "",
        min_severity: int = 0,
    ) -> tuple[list[pb.ContractReview], ReviewCursor | None]:
        """Reviews newest first, after ``after``, filtered; and the cursor of the next page (None at the end)."""
        query = sa.select(
            reviews.c.review_id,
            reviews.c.contract_id,
            reviews.c.review_sealed,
            reviews.c.audit_record_id,
            reviews.c.created_us,
        )
        if playbook_id:
            query = query.where(reviews.c.playbook_id == playbook_id)
        if min_severity:
            query = query.where(reviews.c.max_severity >= min_severity)
        if after is not None:
            query = query.where(
                sa.or_(
                    reviews.c.created_us < after.created_us,
                    sa.and_(reviews.c.created_us == after.created_us, reviews.c.review_id < after.review_id),
                )
            )
        query = query.order_by(reviews.c.created_us.desc(), reviews.c.review_id.desc()).limit(limit + 1)
        rows = list((await conn.execute(query)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        result = [await self._open(conn, row) for row in rows]
        cursor = ReviewCursor(rows[-1].created_us, rows[-1].review_id) if more and rows else None
        return result, cursor
