"""Storage of the AML domain: repositories that take a connection, never commit, return domain types.

The caller (the monitor or the servicer's unit of work) owns the transaction. Counterparty names and
alert-status reasons are stored sealed under the account's data key (``server.crypto.Keyring``); the
rest is stored in clear for search.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.aml.screening import TRANSACTION_SCHEMA
from server.aml.tables import alert_history, alerts, cases, screening_state, state_chunks, transactions

# SQLite allows 32,766 host parameters per statement; id look-ups go in chunks well below it.
_IN_CHUNK = 900


@dataclass(frozen=True)
class StoredState:
    """The persisted screening state and its optimistic version."""

    version: int
    rule_set_version: str
    blob: bytes
    covered_seq: int
    """The last history ``seq`` the blob has absorbed; later transactions are replayed into it."""


@dataclass(frozen=True)
class StatusChange:
    """One entry of an alert's status history (reason still sealed)."""

    from_status: int
    to_status: int
    reason_sealed: bytes
    changed_by: str
    change_us: int


@dataclass(frozen=True)
class StoredAlert:
    """An account alert with its evidence (``hits``: JSON-ready rule hits)."""

    seq: int
    alert_id: str
    alert_key: str
    account_id: str
    status: int
    score: float
    rules: tuple[str, ...]
    hits: tuple[dict[str, Any], ...]
    transaction_ids: tuple[str, ...]
    first_time_us: int
    last_time_us: int
    rule_set_version: str
    case_id: str
    create_us: int
    update_us: int
    history: tuple[StatusChange, ...] = ()


@dataclass(frozen=True)
class StoredCase:
    """A case: related alerts and the facts of its last network investigation."""

    seq: int
    case_id: str
    title: str
    status: int
    account_ids: tuple[str, ...]
    total_minor: int
    currency: str
    facts: dict[str, Any]
    create_us: int
    update_us: int
    alert_ids: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class AlertQuery:
    """Filters of ``ListAlerts`` (empty / None = any)."""

    status: int = 0
    rule_id: str = ""
    account_id: str = ""
    start_us: int | None = None
    end_us: int | None = None
    min_score: float = 0.0


# ---------------------------------------------------------------------------------------- transactions
async def known_transactions(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, tuple[int, float]]:
    """Stored decision and score of every id in ``ids`` that is already in the history."""
    found: dict[str, tuple[int, float]] = {}
    unique = list(dict.fromkeys(ids))
    if not unique:
        return found
    # One statement with the ids as one parameter (a JSON array on SQLite, an array on PostgreSQL):
    # 900-id IN lists cost a round trip and a statement each, ~25 ms per 1,000 ids.
    table = transactions.name
    dialect = conn.dialect.name
    statement: str | None = None
    parameter: Any = None
    if dialect == "sqlite" and conn.dialect.paramstyle == "qmark":
        statement = (
            f"SELECT transaction_id, decision, score FROM {table} "  # noqa: S608 - constant names
            "WHERE transaction_id IN (SELECT value FROM json_each(?))"
        )
        parameter = json.dumps(unique)
    elif dialect == "postgresql" and conn.dialect.paramstyle == "numeric_dollar":
        statement = f"SELECT transaction_id, decision, score FROM {table} WHERE transaction_id = ANY($1::varchar[])"  # noqa: S608
        parameter = unique
    if statement is not None:
        result = await conn.exec_driver_sql(statement, (parameter,))
        row: Any
        for row in result:
            found[str(row[0])] = (int(row[1]), float(row[2]))
        return found
    c = transactions.c
    for start in range(0, len(unique), _IN_CHUNK):
        chunk = unique[start : start + _IN_CHUNK]
        rows = await conn.execute(sa.select(c.transaction_id, c.decision, c.score).where(c.transaction_id.in_(chunk)))
        for row in rows:
            found[row.transaction_id] = (int(row.decision), float(row.score))
    return found


async def insert_transactions(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Append transactions to the history (ids must be new: the unique index refuses a repeat)."""
    if rows:
        await conn.execute(transactions.insert(), list(rows))


_INSERT_COLUMNS = [c.name for c in transactions.columns if c.name != "seq"]
# SQLite allows 32,766 host parameters per statement.
_SQLITE_ROWS_PER_INSERT = 32_766 // len(_INSERT_COLUMNS)


def _placeholders(paramstyle: str, count: int) -> str | None:
    """``count`` positional placeholders in the driver's style (None for a named style)."""
    if paramstyle == "qmark":  # sqlite3 / aiosqlite
        return ", ".join(["?"] * count)
    if paramstyle == "numeric_dollar":  # asyncpg
        return ", ".join(f"${i}" for i in range(1, count + 1))
    if paramstyle == "format":
        return ", ".join(["%s"] * count)
    return None


async def insert_transaction_columns(conn: AsyncConnection, columns: Mapping[str, Sequence[Any]]) -> None:
    """Append transactions given column-wise (every column but ``seq``), in order, in one ``executemany``.

    The rows go to the driver as tuples through the caller's transaction: SQLAlchemy's per-row
    parameter processing cost ~30 us a row, more than screening it.

    Raises:
        ValueError: a column is missing.
    """
    missing = [name for name in _INSERT_COLUMNS if name not in columns]
    if missing:
        raise ValueError(f"transaction columns missing: {missing}")
    ordered = [columns[name] for name in _INSERT_COLUMNS]
    if not ordered[0]:
        return
    placeholders = _placeholders(conn.dialect.paramstyle, len(_INSERT_COLUMNS))
    if placeholders is None:
        await insert_transactions(
            conn, [dict(zip(_INSERT_COLUMNS, row, strict=True)) for row in zip(*ordered, strict=True)]
        )
        return
    # Table and column names are this module's constants; values travel as parameters.
    head = f"INSERT INTO {transactions.name} ({', '.join(_INSERT_COLUMNS)}) VALUES "  # noqa: S608
    rows = list(zip(*ordered, strict=True))
    if conn.dialect.name == "sqlite":
        # Many rows per statement: sqlite3 gives up the GIL around every step, and with another busy
        # thread in the process (the stream's validation) an executemany then waits for the GIL once
        # per row (1.4 s against 3.3 s for 20,000 rows measured here; the same without contention).
        group = f"({placeholders})"
        for start in range(0, len(rows), _SQLITE_ROWS_PER_INSERT):
            chunk = rows[start : start + _SQLITE_ROWS_PER_INSERT]
            await conn.exec_driver_sql(
                head + ", ".join([group] * len(chunk)), tuple(value for row in chunk for value in row)
            )
        return
    await conn.exec_driver_sql(head + f"({placeholders})", rows)


async def history_frame(conn: AsyncConnection, after_seq: int = 0) -> tuple[pl.DataFrame, int]:
    """The stored history (after ``after_seq``) as a screening frame in arrival order, and its last seq."""
    c = transactions.c
    result = await conn.execute(
        sa.select(
            c.seq,
            c.transaction_id,
            c.source_account_id,
            c.target_account_id,
            c.amount_minor,
            c.currency,
            c.execute_time_us,
            c.channel,
            c.origin_country,
            c.counterparty_country,
        )
        .where(c.seq > after_seq)
        .order_by(c.seq)
    )
    rows = result.all()
    columns = ["seq", *TRANSACTION_SCHEMA]
    frame = pl.DataFrame(rows, schema=columns, orient="row") if rows else pl.DataFrame(schema=columns)
    last = int(frame["seq"].max()) if frame.height else after_seq  # type: ignore[arg-type]
    return frame.drop("seq").cast(TRANSACTION_SCHEMA), last  # type: ignore[arg-type]


_LAST_SEQ = sa.select(sa.func.max(transactions.c.seq))
# Built once: constructing the expression cost more than running it on a one-transfer micro-batch.
_SYNC_POINT_SQLITE = sa.select(
    screening_state.c.version,
    screening_state.c.covered_seq,
    sa.select(sa.func.max(transactions.c.seq)).scalar_subquery(),
).where(screening_state.c.id == 1)


async def last_transaction_seq(conn: AsyncConnection) -> int:
    """Sequence number of the latest stored transaction (0 when none)."""
    value = (await conn.execute(_LAST_SEQ)).scalar()
    return int(value or 0)


async def watermark_us(conn: AsyncConnection) -> int:
    """Latest execution time in the history (0 when empty)."""
    value = (await conn.execute(sa.select(sa.func.max(transactions.c.execute_time_us)))).scalar()
    return int(value or 0)


async def account_transactions(
    conn: AsyncConnection,
    account_id: str,
    *,
    start_us: int | None,
    end_us: int | None,
    counterparty_id: str,
    after_seq: int,
    limit: int,
) -> list[sa.Row[Any]]:
    """Transfers to or from ``account_id`` in arrival order, keyset-paginated by ``seq``."""
    c = transactions.c
    if counterparty_id:
        involved = sa.or_(
            sa.and_(c.source_account_id == account_id, c.target_account_id == counterparty_id),
            sa.and_(c.source_account_id == counterparty_id, c.target_account_id == account_id),
        )
    else:
        involved = sa.or_(c.source_account_id == account_id, c.target_account_id == account_id)
    query = sa.select(transactions).where(involved, c.seq > after_seq)
    if start_us is not None:
        query = query.where(c.execute_time_us >= start_us)
    if end_us is not None:
        query = query.where(c.execute_time_us < end_us)
    return list((await conn.execute(query.order_by(c.seq).limit(limit))).all())


async def transactions_by_id(conn: AsyncConnection, ids: Sequence[str]) -> list[sa.Row[Any]]:
    """Stored transfers with these ids, in arrival order."""
    out: list[sa.Row[Any]] = []
    c = transactions.c
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _IN_CHUNK):
        rows = await conn.execute(
            sa.select(transactions).where(c.transaction_id.in_(unique[start : start + _IN_CHUNK]))
        )
        out.extend(rows.all())
    return sorted(out, key=lambda r: int(r.seq))


# ---------------------------------------------------------------------------------------- state
async def load_state(conn: AsyncConnection, *, for_update: bool = False) -> StoredState | None:
    """The persisted screening state, or None before the first micro-batch.

    ``for_update`` locks the row on PostgreSQL so replicas screen one after another (SQLite's write
    transaction already serialises them).
    """
    c = screening_state.c
    query = sa.select(c.version, c.rule_set_version, c.blob, c.covered_seq).where(c.id == 1)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    blob = bytes(row.blob)
    if blob.startswith(CHUNK_MANIFEST_PREFIX):
        blob = await _assemble_chunks(conn, blob)
    return StoredState(int(row.version), str(row.rule_set_version), blob, int(row.covered_seq))


# A state blob written in parts is stored as this prefix and a JSON manifest (an ``.npz`` blob starts
# with ``PK``, so the two cannot be confused).
CHUNK_MANIFEST_PREFIX = b"AML-STATE-CHUNKS\n"


def chunk_manifest(generation: str, parts: int, blob: bytes) -> bytes:
    """The ``blob`` value that names a checkpoint written in ``parts`` parts under ``generation``."""
    body = {"generation": generation, "parts": parts, "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
    return CHUNK_MANIFEST_PREFIX + json.dumps(body, sort_keys=True).encode()


async def _assemble_chunks(conn: AsyncConnection, manifest: bytes) -> bytes:
    """The whole blob a manifest names, checked against its length and digest.

    Raises:
        ValueError: parts are missing or the assembled blob does not match the manifest.
    """
    body = json.loads(manifest[len(CHUNK_MANIFEST_PREFIX) :].decode())
    c = state_chunks.c
    rows = (
        await conn.execute(sa.select(c.part, c.data).where(c.generation == body["generation"]).order_by(c.part))
    ).all()
    if [int(r.part) for r in rows] != list(range(int(body["parts"]))):
        raise ValueError(f"state checkpoint {body['generation']!r}: {len(rows)} of {body['parts']} parts stored")
    blob = b"".join(bytes(r.data) for r in rows)
    if len(blob) != int(body["bytes"]) or hashlib.sha256(blob).hexdigest() != body["sha256"]:
        raise ValueError(f"state checkpoint {body['generation']!r}: assembled blob does not match its manifest")
    return blob


async def insert_state_chunk(conn: AsyncConnection, *, generation: str, version: int, part: int, data: bytes) -> None:
    """Store one part of a checkpoint that is not published yet."""
    await conn.execute(state_chunks.insert().values(generation=generation, version=version, part=part, data=data))


async def count_state_chunks(conn: AsyncConnection, generation: str) -> int:
    """Parts stored under ``generation`` (checked before a checkpoint is published)."""
    c = state_chunks.c
    return int((await conn.execute(sa.select(sa.func.count()).where(c.generation == generation))).scalar() or 0)


async def stale_state_chunks(
    conn: AsyncConnection, *, published_version: int, published_generation: str
) -> list[tuple[str, int]]:
    """``(generation, part)`` of parts no published state can name any more (superseded or abandoned).

    That is every part written for a version up to ``published_version`` other than the published
    generation's; parts for a later version (another replica writing its next checkpoint) are left alone.
    """
    c = state_chunks.c
    query = sa.select(c.generation, c.part).where(c.version <= published_version, c.generation != published_generation)
    rows = (await conn.execute(query)).all()
    return [(str(r.generation), int(r.part)) for r in rows]


async def delete_state_chunk(conn: AsyncConnection, generation: str, part: int) -> None:
    """Delete one stale part (one per transaction: ``secure_delete`` zeroes its pages)."""
    c = state_chunks.c
    await conn.execute(state_chunks.delete().where(c.generation == generation, c.part == part))


async def state_version(conn: AsyncConnection, *, for_update: bool = False) -> tuple[int, int] | None:
    """``(version, covered_seq)`` of the persisted state without its blob, or None before the first batch.

    ``for_update`` locks the row on PostgreSQL (see :func:`load_state`).
    """
    c = screening_state.c
    query = sa.select(c.version, c.covered_seq).where(c.id == 1)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else (int(row.version), int(row.covered_seq))


async def sync_point(conn: AsyncConnection) -> tuple[tuple[int, int] | None, int]:
    """The state's ``(version, covered_seq)`` (None before the first checkpoint) and the last history seq.

    Call it first in a write transaction. On SQLite the write lock is already held, so one statement
    reads both; on PostgreSQL the state row is locked first (``FOR UPDATE``) and the history read after
    the lock, so that a writer that committed while we waited is seen.
    """
    if conn.dialect.name == "sqlite":
        row = (await conn.execute(_SYNC_POINT_SQLITE)).first()
        if row is not None:
            return (int(row[0]), int(row[1])), int(row[2] or 0)
        return None, await last_transaction_seq(conn)
    current = await state_version(conn, for_update=True)
    return current, await last_transaction_seq(conn)


async def save_state(
    conn: AsyncConnection,
    *,
    expected_version: int,
    blob: bytes,
    covered_seq: int,
    rule_set_version: str,
    now_us: int,
) -> bool:
    """Write the state if it is still at ``expected_version`` (optimistic); False when another writer won."""
    c = screening_state.c
    if expected_version == 0:
        exists = (await conn.execute(sa.select(c.version).where(c.id == 1))).first()
        if exists is not None:
            return False
        await conn.execute(
            screening_state.insert().values(
                id=1,
                version=1,
                rule_set_version=rule_set_version,
                blob=blob,
                covered_seq=covered_seq,
                updated_us=now_us,
            )
        )
        return True
    result = await conn.execute(
        screening_state.update()
        .where(c.id == 1, c.version == expected_version)
        .values(
            version=expected_version + 1,
            rule_set_version=rule_set_version,
            blob=blob,
            covered_seq=covered_seq,
            updated_us=now_us,
        )
    )
    return bool(result.rowcount == 1)


# ---------------------------------------------------------------------------------------- alerts
def _alert(row: sa.Row[Any], history: Iterable[StatusChange] = ()) -> StoredAlert:
    return StoredAlert(
        seq=int(row.seq),
        alert_id=row.alert_id,
        alert_key=row.alert_key,
        account_id=row.account_id,
        status=int(row.status),
        score=float(row.score),
        rules=tuple(r for r in row.rules.split(",") if r),
        hits=tuple(json.loads(row.hits_json)),
        transaction_ids=tuple(json.loads(row.transaction_ids_json)),
        first_time_us=int(row.first_time_us),
        last_time_us=int(row.last_time_us),
        rule_set_version=row.rule_set_version,
        case_id=row.case_id or "",
        create_us=int(row.create_us),
        update_us=int(row.update_us),
        history=tuple(history),
    )


async def alerts_by_key(conn: AsyncConnection, keys: Sequence[str]) -> dict[str, StoredAlert]:
    """Stored alerts by ``alert_key``."""
    out: dict[str, StoredAlert] = {}
    for start in range(0, len(keys), _IN_CHUNK):
        rows = await conn.execute(
            sa.select(alerts).where(alerts.c.alert_key.in_(list(keys[start : start + _IN_CHUNK])))
        )
        for row in rows:
            out[row.alert_key] = _alert(row)
    return out


def _rules_column(rules: Iterable[str]) -> str:
    # Delimited on both sides so a rule filter is one LIKE ",rule," without false prefixes.
    return "," + ",".join(sorted(set(rules))) + ","


async def insert_alert(conn: AsyncConnection, alert: StoredAlert) -> None:
    """Store a new alert."""
    await conn.execute(
        alerts.insert().values(
            alert_id=alert.alert_id,
            alert_key=alert.alert_key,
            account_id=alert.account_id,
            status=alert.status,
            score=alert.score,
            rules=_rules_column(alert.rules),
            hits_json=json.dumps(list(alert.hits), sort_keys=True),
            transaction_ids_json=json.dumps(list(alert.transaction_ids)),
            first_time_us=alert.first_time_us,
            last_time_us=alert.last_time_us,
            rule_set_version=alert.rule_set_version,
            case_id=alert.case_id or None,
            create_us=alert.create_us,
            update_us=alert.update_us,
        )
    )


async def replace_alert_evidence(conn: AsyncConnection, alert: StoredAlert) -> None:
    """Overwrite an alert's score, rules, evidence and time span (after a later micro-batch extended it)."""
    await conn.execute(
        alerts.update()
        .where(alerts.c.alert_id == alert.alert_id)
        .values(
            score=alert.score,
            rules=_rules_column(alert.rules),
            hits_json=json.dumps(list(alert.hits), sort_keys=True),
            transaction_ids_json=json.dumps(list(alert.transaction_ids)),
            first_time_us=alert.first_time_us,
            last_time_us=alert.last_time_us,
            rule_set_version=alert.rule_set_version,
            update_us=alert.update_us,
        )
    )


def _evidence_values(alert: StoredAlert) -> dict[str, Any]:
    return {
        "score": alert.score,
        "rules": _rules_column(alert.rules),
        "hits_json": json.dumps(list(alert.hits), sort_keys=True),
        "transaction_ids_json": json.dumps(list(alert.transaction_ids)),
        "first_time_us": alert.first_time_us,
        "last_time_us": alert.last_time_us,
        "rule_set_version": alert.rule_set_version,
        "update_us": alert.update_us,
    }


async def insert_alerts(conn: AsyncConnection, new: Sequence[StoredAlert]) -> None:
    """Store new alerts in one ``executemany`` (a micro-batch raises many at once)."""
    if new:
        await conn.execute(
            alerts.insert(),
            [
                {
                    **_evidence_values(a),
                    "alert_id": a.alert_id,
                    "alert_key": a.alert_key,
                    "account_id": a.account_id,
                    "status": a.status,
                    "case_id": a.case_id or None,
                    "create_us": a.create_us,
                }
                for a in new
            ],
        )


async def replace_alerts_evidence(conn: AsyncConnection, extended: Sequence[StoredAlert]) -> None:
    """:func:`replace_alert_evidence` for many alerts in one ``executemany``."""
    if extended:
        values = _evidence_values(extended[0])
        await conn.execute(
            alerts.update()
            .where(alerts.c.alert_id == sa.bindparam("target_alert_id"))
            .values({name: sa.bindparam(name) for name in values}),
            [{**_evidence_values(a), "target_alert_id": a.alert_id} for a in extended],
        )


async def get_alert(conn: AsyncConnection, alert_id: str, *, for_update: bool = False) -> StoredAlert | None:
    """One alert with its status history, or None."""
    query = sa.select(alerts).where(alerts.c.alert_id == alert_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    h = alert_history.c
    changes = await conn.execute(sa.select(alert_history).where(h.alert_id == alert_id).order_by(h.id))
    history = [
        StatusChange(int(r.from_status), int(r.to_status), bytes(r.reason_sealed), r.changed_by, int(r.change_us))
        for r in changes
    ]
    return _alert(row, history)


async def list_alerts(conn: AsyncConnection, query: AlertQuery, *, after_seq: int, limit: int) -> list[StoredAlert]:
    """Alerts matching ``query`` in creation order, keyset-paginated by ``seq``."""
    c = alerts.c
    stmt = sa.select(alerts).where(c.seq > after_seq)
    if query.status:
        stmt = stmt.where(c.status == query.status)
    if query.rule_id:
        stmt = stmt.where(c.rules.like(f"%,{query.rule_id.lower()},%"))
    if query.account_id:
        stmt = stmt.where(c.account_id == query.account_id)
    if query.start_us is not None:
        stmt = stmt.where(c.create_us >= query.start_us)
    if query.end_us is not None:
        stmt = stmt.where(c.create_us < query.end_us)
    if query.min_score:
        stmt = stmt.where(c.score >= query.min_score)
    return [_alert(r) for r in (await conn.execute(stmt.order_by(c.seq).limit(limit))).all()]


async def set_alert_status(conn: AsyncConnection, alert_id: str, status: int, change: StatusChange) -> None:
    """Move an alert to ``status`` and append the change to its history."""
    await conn.execute(
        alerts.update().where(alerts.c.alert_id == alert_id).values(status=status, update_us=change.change_us)
    )
    await conn.execute(
        alert_history.insert().values(
            alert_id=alert_id,
            from_status=change.from_status,
            to_status=change.to_status,
            reason_sealed=change.reason_sealed,
            changed_by=change.changed_by,
            change_us=change.change_us,
        )
    )


async def attach_alerts(conn: AsyncConnection, account_ids: Sequence[str], case_id: str, now_us: int) -> None:
    """Give every alert on these accounts that has no case yet the case ``case_id``."""
    c = alerts.c
    for start in range(0, len(account_ids), _IN_CHUNK):
        await conn.execute(
            alerts.update()
            .where(c.account_id.in_(list(account_ids[start : start + _IN_CHUNK])), c.case_id.is_(None))
            .values(case_id=case_id, update_us=now_us)
        )


async def alerts_of_case(conn: AsyncConnection, case_id: str) -> list[StoredAlert]:
    """The alerts grouped in a case."""
    rows = await conn.execute(sa.select(alerts).where(alerts.c.case_id == case_id).order_by(alerts.c.seq))
    return [_alert(r) for r in rows]


# ---------------------------------------------------------------------------------------- cases
def _case(row: sa.Row[Any], alert_ids: Sequence[str] = ()) -> StoredCase:
    return StoredCase(
        seq=int(row.seq),
        case_id=row.case_id,
        title=row.title,
        status=int(row.status),
        account_ids=tuple(json.loads(row.account_ids_json)),
        total_minor=int(row.total_minor),
        currency=row.currency,
        facts=json.loads(row.facts_json),
        create_us=int(row.create_us),
        update_us=int(row.update_us),
        alert_ids=tuple(alert_ids),
    )


async def upsert_case(conn: AsyncConnection, case: StoredCase) -> None:
    """Create the case, or replace its title, accounts, total and facts."""
    c = cases.c
    values = {
        "title": case.title,
        "status": case.status,
        "account_ids_json": json.dumps(list(case.account_ids)),
        "total_minor": case.total_minor,
        "currency": case.currency,
        "facts_json": json.dumps(case.facts, sort_keys=True),
        "update_us": case.update_us,
    }
    updated = await conn.execute(cases.update().where(c.case_id == case.case_id).values(**values))
    if updated.rowcount == 0:
        await conn.execute(cases.insert().values(case_id=case.case_id, create_us=case.create_us, **values))


async def get_case(conn: AsyncConnection, case_id: str) -> StoredCase | None:
    """One case with the ids of its alerts, or None."""
    row = (await conn.execute(sa.select(cases).where(cases.c.case_id == case_id))).first()
    if row is None:
        return None
    ids = await conn.execute(sa.select(alerts.c.alert_id).where(alerts.c.case_id == case_id).order_by(alerts.c.seq))
    return _case(row, [r.alert_id for r in ids])


async def list_cases(conn: AsyncConnection, *, status: int, after_seq: int, limit: int) -> list[StoredCase]:
    """Cases in creation order, keyset-paginated by ``seq``."""
    c = cases.c
    stmt = sa.select(cases).where(c.seq > after_seq)
    if status:
        stmt = stmt.where(c.status == status)
    rows = (await conn.execute(stmt.order_by(c.seq).limit(limit))).all()
    out = []
    for row in rows:
        ids = await conn.execute(
            sa.select(alerts.c.alert_id).where(alerts.c.case_id == row.case_id).order_by(alerts.c.seq)
        )
        out.append(_case(row, [r.alert_id for r in ids]))
    return out
