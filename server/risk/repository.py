"""Storage of the risk service: assessments and the manual-review queue.

Functions here take the caller's connection (the unit of work is the servicer's transaction), never
commit, and return domain records. The full ``LoanAssessment`` and an officer's justification are
sealed under the applicant's data key (``Subject("applicant", applicant_id)``), so erasing an applicant
makes both unreadable; decision, score and versions stay in clear for search and drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from fintech.risk.v1 import risk_service_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncConnection

from server.crypto.keyring import Keyring
from server.crypto.subjects import Subject
from server.risk.tables import assessments, reviews

PENDING = "PENDING"
DECIDED = "DECIDED"


def applicant_subject(applicant_id: str) -> Subject:
    """Whose data an assessment is."""
    return Subject("applicant", applicant_id)


def _payload_context(assessment_id: str) -> str:
    return f"risk_assessments.payload:{assessment_id}"


def _justification_context(review_id: str) -> str:
    return f"risk_reviews.justification:{review_id}"


@dataclass(frozen=True)
class NewAssessment:
    """An assessment to store (``message`` already carries explanation, review id and time)."""

    assessment_id: str
    request_id: str
    input_digest: str
    applicant_id: str
    explanation_source: str
    created_us: int
    message: pb.LoanAssessment


@dataclass(frozen=True)
class StoredAssessment:
    """An assessment as stored."""

    assessment_id: str
    request_id: str
    input_digest: str
    applicant_id: str
    message: pb.LoanAssessment


@dataclass(frozen=True)
class ReviewRecord:
    """One entry of the manual-review queue, with the assessment that was referred."""

    review_id: str
    assessment_id: str
    application_id: str
    applicant_id: str
    status: str
    created_us: int
    final_decision: str | None
    decided_by: str | None
    decided_us: int | None
    justification: str
    assessment: pb.LoanAssessment


async def insert_assessments(conn: AsyncConnection, keyring: Keyring, rows: Sequence[NewAssessment]) -> None:
    """Store assessments (one statement), each sealed under its applicant's data key.

    Raises:
        SubjectErased: an applicant was erased; nothing new is stored for them.
        IntegrityError: a ``request_id`` is already stored (the caller checks first; a race rolls back).
    """
    if not rows:
        return
    if len(rows) > 1:
        await keyring.prefetch(conn, {applicant_subject(r.applicant_id) for r in rows})
    values = []
    for row in rows:
        message = row.message
        sealed = await keyring.seal(
            conn,
            applicant_subject(row.applicant_id),
            message.SerializeToString(deterministic=True),
            context=_payload_context(row.assessment_id),
        )
        values.append(
            {
                "assessment_id": row.assessment_id,
                "request_id": row.request_id,
                "input_digest": row.input_digest,
                "application_id": message.application_id,
                "applicant_id": row.applicant_id,
                "recommendation": pb.Recommendation.Name(message.recommendation).removeprefix("RECOMMENDATION_"),
                "risk_level": pb.RiskLevel.Name(message.risk_level).removeprefix("RISK_LEVEL_"),
                "score": message.score,
                "model_id": message.provenance.model_id,
                "rule_set_version": message.provenance.rule_set_version,
                "explanation_source": row.explanation_source,
                "review_id": message.review_id or None,
                "created_us": row.created_us,
                "payload": sealed,
            }
        )
    await conn.execute(assessments.insert(), values)


async def _open_assessment(
    conn: AsyncConnection, keyring: Keyring, assessment_id: str, applicant_id: str, payload: bytes
) -> pb.LoanAssessment:
    blob = await keyring.open(conn, applicant_subject(applicant_id), payload, context=_payload_context(assessment_id))
    message = pb.LoanAssessment()
    message.ParseFromString(blob)
    return message


async def find_by_request_ids(
    conn: AsyncConnection, keyring: Keyring, request_ids: Iterable[str]
) -> dict[str, StoredAssessment]:
    """Stored assessments by ``request_id`` (absent ids are left out)."""
    wanted = sorted(set(request_ids))
    found: dict[str, StoredAssessment] = {}
    c = assessments.c
    for start in range(0, len(wanted), 500):
        result = await conn.execute(
            sa.select(c.assessment_id, c.request_id, c.input_digest, c.applicant_id, c.payload).where(
                c.request_id.in_(wanted[start : start + 500])
            )
        )
        for row in result:
            message = await _open_assessment(conn, keyring, row.assessment_id, row.applicant_id, bytes(row.payload))
            found[row.request_id] = StoredAssessment(
                row.assessment_id, row.request_id, row.input_digest, row.applicant_id, message
            )
    return found


async def insert_reviews(
    conn: AsyncConnection, entries: Sequence[tuple[str, str, str, str]], *, created_us: int
) -> None:
    """Open reviews: ``(review_id, assessment_id, application_id, applicant_id)`` each, status PENDING."""
    if not entries:
        return
    await conn.execute(
        reviews.insert(),
        [
            {
                "review_id": review_id,
                "assessment_id": assessment_id,
                "application_id": application_id,
                "applicant_id": applicant_id,
                "status": PENDING,
                "created_us": created_us,
            }
            for review_id, assessment_id, application_id, applicant_id in entries
        ],
    )


_REVIEW_COLUMNS = (
    reviews.c.review_id,
    reviews.c.assessment_id,
    reviews.c.application_id,
    reviews.c.applicant_id,
    reviews.c.status,
    reviews.c.created_us,
    reviews.c.final_decision,
    reviews.c.decided_by,
    reviews.c.decided_us,
    reviews.c.justification,
    assessments.c.payload,
)


async def _review(conn: AsyncConnection, keyring: Keyring, row: sa.Row[tuple[object, ...]]) -> ReviewRecord:
    m = row._mapping
    justification = ""
    if m["justification"] is not None:
        justification = await keyring.open_text(
            conn,
            applicant_subject(str(m["applicant_id"])),
            bytes(m["justification"]),
            context=_justification_context(str(m["review_id"])),
        )
    return ReviewRecord(
        review_id=str(m["review_id"]),
        assessment_id=str(m["assessment_id"]),
        application_id=str(m["application_id"]),
        applicant_id=str(m["applicant_id"]),
        status=str(m["status"]),
        created_us=int(m["created_us"]),
        final_decision=m["final_decision"],
        decided_by=m["decided_by"],
        decided_us=m["decided_us"],
        justification=justification,
        assessment=await _open_assessment(
            conn, keyring, str(m["assessment_id"]), str(m["applicant_id"]), bytes(m["payload"])
        ),
    )


def _joined() -> sa.Select[tuple[object, ...]]:
    return sa.select(*_REVIEW_COLUMNS).select_from(
        reviews.join(assessments, assessments.c.assessment_id == reviews.c.assessment_id)
    )


async def get_review(conn: AsyncConnection, keyring: Keyring, review_id: str) -> ReviewRecord | None:
    """One review, or None."""
    row = (await conn.execute(_joined().where(reviews.c.review_id == review_id))).first()
    return None if row is None else await _review(conn, keyring, row)


async def list_reviews(
    conn: AsyncConnection,
    keyring: Keyring,
    *,
    status: str | None,
    after: tuple[int, str] | None,
    limit: int,
) -> list[ReviewRecord]:
    """Reviews oldest first (keyset order ``created_us, review_id``), after the cursor, at most ``limit``."""
    query = _joined()
    if status is not None:
        query = query.where(reviews.c.status == status)
    if after is not None:
        query = query.where(sa.tuple_(reviews.c.created_us, reviews.c.review_id) > sa.tuple_(*after))
    query = query.order_by(reviews.c.created_us, reviews.c.review_id).limit(limit)
    return [await _review(conn, keyring, row) for row in await conn.execute(query)]


async def decide_review(
    conn: AsyncConnection,
    keyring: Keyring,
    *,
    review: ReviewRecord,
    decision: str,
    decided_by: str,
    justification: str,
    decided_us: int,
) -> bool:
    """Record the officer's decision on a PENDING review; False when it was decided meanwhile."""
    sealed = await keyring.seal_text(
        conn,
        applicant_subject(review.applicant_id),
        justification,
        context=_justification_context(review.review_id),
    )
    result = await conn.execute(
        reviews.update()
        .where(reviews.c.review_id == review.review_id, reviews.c.status == PENDING)
        .values(
            status=DECIDED,
            final_decision=decision,
            decided_by=decided_by,
            decided_us=decided_us,
            justification=sealed,
        )
    )
    return bool(result.rowcount == 1)


async def recent_scores(conn: AsyncConnection, limit: int) -> list[int]:
    """Scores of the most recent assessments (for the drift monitor after a restart)."""
    result = await conn.execute(sa.select(assessments.c.score).order_by(assessments.c.created_us.desc()).limit(limit))
    return [int(score) for (score,) in result]
