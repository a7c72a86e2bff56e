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

from server.crypto.keyring import Keyring, driver_placeholders
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


_ASSESSMENT_COLUMNS = (
    "assessment_id",
    "request_id",
    "input_digest",
    "application_id",
    "applicant_id",
    "recommendation",
    "risk_level",
    "score",
    "model_id",
    "rule_set_version",
    "explanation_source",
    "review_id",
    "created_us",
    "payload",
)
_REVIEW_INSERT_COLUMNS = ("review_id", "assessment_id", "application_id", "applicant_id", "status", "created_us")
_RECOMMENDATION_NAMES = {value: name.removeprefix("RECOMMENDATION_") for name, value in pb.Recommendation.items()}
_RISK_LEVEL_NAMES = {value: name.removeprefix("RISK_LEVEL_") for name, value in pb.RiskLevel.items()}


async def _insert_rows(
    conn: AsyncConnection, table: sa.Table, columns: Sequence[str], rows: list[tuple[object, ...]]
) -> None:
    """One ``executemany`` straight to the driver (the SQL layer's per-row work costs more than the insert)."""
    placeholders = driver_placeholders(conn.dialect.paramstyle, len(columns))
    if placeholders is None:  # a named paramstyle: let SQLAlchemy render the statement
        await conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    await conn.exec_driver_sql(
        # Table and column names are constants of this module; values travel as parameters.
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
        rows,
    )


async def insert_assessments(conn: AsyncConnection, keyring: Keyring, rows: Sequence[NewAssessment]) -> None:
    """Store assessments (one statement), each sealed under its applicant's data key.

    The payloads are sealed in one pass (:meth:`Keyring.seal_many`: one data key per applicant, loaded or
    created for the whole batch in a few statements).

    Raises:
        SubjectErased: an applicant was erased; nothing new is stored for them.
        IntegrityError: a ``request_id`` is already stored (the caller checks first; a race rolls back).
    """
    if not rows:
        return
    sealed = await keyring.seal_many(
        conn,
        [
            (
                applicant_subject(row.applicant_id),
                row.message.SerializeToString(deterministic=True),
                _payload_context(row.assessment_id),
            )
            for row in rows
        ],
    )
    values: list[tuple[object, ...]] = []
    for row, payload in zip(rows, sealed, strict=True):
        message = row.message
        values.append(
            (
                row.assessment_id,
                row.request_id,
                row.input_digest,
                message.application_id,
                row.applicant_id,
                _RECOMMENDATION_NAMES[message.recommendation],
                _RISK_LEVEL_NAMES[message.risk_level],
                message.score,
                message.provenance.model_id,
                message.provenance.rule_set_version,
                row.explanation_source,
                message.review_id or None,
                row.created_us,
                payload,
            )
        )
    await _insert_rows(conn, assessments, _ASSESSMENT_COLUMNS, values)


async def insert_sealed_rows(
    conn: AsyncConnection,
    keyring: Keyring,
    rows: Sequence[tuple[str, str, str, str, str, str, str, int, str, str, str, str | None, int]],
    payloads: Sequence[bytes],
) -> list[bytes]:
    """Store assessments given as row values and their serialized ``LoanAssessment`` (one statement).

    The bulk form of :func:`insert_assessments` for the micro-batch stream, where the payload was
    finished and serialized by the decide worker: ``rows`` hold every column but the payload, in
    ``_ASSESSMENT_COLUMNS`` order (``applicant_id`` fifth); each payload is sealed under its applicant's
    data key (:meth:`Keyring.seal_many`) with the same context as :func:`insert_assessments`.

    Returns:
        The sealed payloads as stored (the audit record hashes them).

    Raises:
        SubjectErased: an applicant was erased; nothing new is stored for them.
        IntegrityError: a ``request_id`` is already stored (the caller checks first; a race rolls back).
    """
    if not rows:
        return []
    sealed = await keyring.seal_many(
        conn,
        [
            (applicant_subject(row[4]), payload, _payload_context(row[0]))
            for row, payload in zip(rows, payloads, strict=True)
        ],
    )
    await _insert_rows(
        conn, assessments, _ASSESSMENT_COLUMNS, [(*row, blob) for row, blob in zip(rows, sealed, strict=True)]
    )
    return sealed


async def _open_assessment(
    conn: AsyncConnection, keyring: Keyring, assessment_id: str, applicant_id: str, payload: bytes
) -> pb.LoanAssessment:
    blob = await keyring.open(conn, applicant_subject(applicant_id), payload, context=_payload_context(assessment_id))
    message = pb.LoanAssessment()
    message.ParseFromString(blob)
    return message


# Compiled once (an expanding IN); a literal list would be coerced and compiled again for every batch.
_BY_REQUEST_IDS = sa.select(
    assessments.c.assessment_id,
    assessments.c.request_id,
    assessments.c.input_digest,
    assessments.c.applicant_id,
    assessments.c.payload,
).where(assessments.c.request_id.in_(sa.bindparam("request_ids", expanding=True)))


async def find_by_request_ids(
    conn: AsyncConnection, keyring: Keyring, request_ids: Iterable[str]
) -> dict[str, StoredAssessment]:
    """Stored assessments by ``request_id`` (absent ids are left out)."""
    wanted = sorted(set(request_ids))
    found: dict[str, StoredAssessment] = {}
    for start in range(0, len(wanted), 500):
        result = await conn.execute(_BY_REQUEST_IDS, {"request_ids": wanted[start : start + 500]})
        for row in result:
            message = await _open_assessment(conn, keyring, row.assessment_id, row.applicant_id, bytes(row.payload))
            found[row.request_id] = StoredAssessment(
                row.assessment_id, row.request_id, row.input_digest, row.applicant_id, message
            )
    return found


async def stored_request_ids(conn: AsyncConnection, request_ids: Sequence[str]) -> list[str]:
    """Which of ``request_ids`` are stored (a few statements of up to 500 ids, straight to the driver)."""
    found: list[str] = []
    for start in range(0, len(request_ids), 500):
        chunk = list(request_ids[start : start + 500])
        placeholders = driver_placeholders(conn.dialect.paramstyle, len(chunk))
        if placeholders is None:  # a named paramstyle: let SQLAlchemy render it
            result = await conn.execute(sa.select(assessments.c.request_id).where(assessments.c.request_id.in_(chunk)))
        else:
            result = await conn.exec_driver_sql(
                # Table and column names are constants of this module; values travel as parameters.
                f"SELECT request_id FROM {assessments.name} WHERE request_id IN ({placeholders})",  # noqa: S608
                tuple(chunk),
            )
        found += [str(row[0]) for row in result]
    return found


async def insert_reviews(
    conn: AsyncConnection, entries: Sequence[tuple[str, str, str, str]], *, created_us: int
) -> None:
    """Open reviews: ``(review_id, assessment_id, application_id, applicant_id)`` each, status PENDING."""
    if not entries:
        return
    await _insert_rows(
        conn,
        reviews,
        _REVIEW_INSERT_COLUMNS,
        [
            (review_id, assessment_id, application_id, applicant_id, PENDING, created_us)
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
