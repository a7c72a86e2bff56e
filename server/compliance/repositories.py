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


@dataclass(frozen=True)
class ReviewCursor:
    """Keyset position in the newest-first review list."""

    created_us: int
    review_id: str


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
            )
        )

    async def get(self, conn: AsyncConnection, analysis_id: str) -> pb.RegulationAnalysis:
        """One stored analysis.

        Raises:
            NotFound: no such analysis.
        """
        row = (
            await conn.execute(sa.select(analyses.c.analysis_sealed).where(analyses.c.analysis_id == analysis_id))
        ).first()
        if row is None:
            raise NotFound("regulation analysis not found", reason="ANALYSIS_NOT_FOUND", domain=DOMAIN)
        blob = await self._keyring.open(
            conn, REGULATION_SUBJECT, row.analysis_sealed, context=f"compliance_analyses:{analysis_id}:analysis"
        )
        message = pb.RegulationAnalysis()
        message.ParseFromString(blob)
        return message

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


class ReviewRepository:
    """Stored contract reviews."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    async def add_many(self, conn: AsyncConnection, stored: Sequence[StoredReview]) -> None:
        """Insert reviews (one statement), sealing text and result under each contract's subject."""
        if not stored:
            return
        await self._keyring.prefetch(conn, {contract_subject(s.review.contract_id) for s in stored})
        rows = []
        for item in stored:
            review = item.review
            subject = contract_subject(review.contract_id)
            context = f"compliance_reviews:{review.review_id}"
            rows.append(
                {
                    "review_id": review.review_id,
                    "contract_id": review.contract_id,
                    "playbook_id": review.playbook_id,
                    "playbook_version": review.playbook_version,
                    "contract_type": pb.ContractType.Name(review.contract_type).removeprefix("CONTRACT_TYPE_"),
                    "max_severity": int(review.max_severity),
                    "finding_count": len(review.findings),
                    "created_us": item.created_us,
                    "caller": item.caller,
                    "audit_record_id": "",
                    "document_sealed": await self._keyring.seal_text(
                        conn, subject, item.document_text, context=f"{context}:document"
                    ),
                    "review_sealed": await self._keyring.seal(
                        conn, subject, review.SerializeToString(deterministic=True), context=f"{context}:review"
                    ),
                }
            )
        await conn.execute(reviews.insert(), rows)

    async def link_audit(self, conn: AsyncConnection, record_ids: dict[str, str]) -> None:
        """Record each review's audit record id (written after the audit append, in the same transaction)."""
        if record_ids:
            await conn.execute(
                reviews.update()
                .where(reviews.c.review_id == sa.bindparam("rid"))
                .values(audit_record_id=sa.bindparam("aid")),
                [{"rid": rid, "aid": aid} for rid, aid in record_ids.items()],
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
