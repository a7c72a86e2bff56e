"""Logical backup and restore of the whole database, the same on SQLite and PostgreSQL.

A backup is gzip-compressed JSON Lines: a header (format, schema revisions, tables), then one line per row
``{"t": table, "r": {column: value}}`` with bytes and timestamps tagged. It is taken in one read
transaction (a consistent snapshot on both backends) and holds the wrapped data keys but never the
master key, which is escrowed separately. Restore goes into a database already migrated to the same
revisions, replacing every table's content in one transaction, so a failed restore changes nothing.
"""

from __future__ import annotations

import base64
import gzip
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from server.storage.database import Database
from server.storage.migrations import SchemaMismatchError, schema_state

FORMAT = "fintech-db-backup/1"
_SKIP = frozenset({"alembic_version"})


class BackupFormatError(ValueError):
    """The file is not a backup, or does not match this database."""


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "$b":
            return base64.b64decode(raw)
        if tag == "$dt":
            return datetime.fromisoformat(raw)
        if tag == "$d":
            return date.fromisoformat(raw)
        if tag == "$dec":
            return Decimal(raw)
    return value


def _reflect(sync_conn: Connection) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(sync_conn)
    return metadata


async def backup(db: Database, path: Path, *, batch_size: int = 5000) -> dict[str, int]:
    """Write a consistent backup of every table to ``path``; returns rows per table."""
    state = await schema_state(db)
    counts: dict[str, int] = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".partial")
    async with db.read() as conn:
        if db.dialect == "postgresql":
            await conn.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        metadata = await conn.run_sync(_reflect)
        tables = [t for t in metadata.sorted_tables if t.name not in _SKIP]
        with gzip.open(tmp, "wt", encoding="utf-8") as out:
            out.write(
                json.dumps({"format": FORMAT, "revisions": sorted(state.current), "tables": [t.name for t in tables]})
                + "\n"
            )
            for table in tables:
                order = list(table.primary_key.columns) or list(table.columns)
                result = await conn.stream(sa.select(table).order_by(*order))
                count = 0
                async for partition in result.partitions(batch_size):
                    for row in partition:
                        out.write(
                            json.dumps(
                                {"t": table.name, "r": {k: _encode(v) for k, v in row._mapping.items()}},
                                separators=(",", ":"),
                            )
                            + "\n"
                        )
                    count += len(partition)
                counts[table.name] = count
    tmp.replace(path)
    return counts


async def restore(db: Database, path: Path, *, batch_size: int = 2000) -> dict[str, int]:
    """Replace the content of every table with the backup at ``path`` (one transaction).

    Raises:
        BackupFormatError: not a backup, or it names tables this database does not have.
        SchemaMismatchError: the database is not at the backup's schema revisions (run ``db upgrade``).
    """
    state = await schema_state(db)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        try:
            header = json.loads(handle.readline())
        except (ValueError, OSError):
            raise BackupFormatError(f"{path} is not a database backup") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise BackupFormatError(f"{path} is not a database backup")
        if sorted(state.current) != header["revisions"]:
            raise SchemaMismatchError(
                f"backup is at schema {header['revisions']} but the database is at {sorted(state.current)}; "
                "migrate an empty database to the backup's release first"
            )
        counts: dict[str, int] = {}
        async with db.transaction() as conn:
            metadata = await conn.run_sync(_reflect)
            missing = sorted(set(header["tables"]) - set(metadata.tables))
            if missing:
                raise BackupFormatError(f"backup holds tables this database lacks: {missing}")
            tables = [t for t in metadata.sorted_tables if t.name not in _SKIP]
            for table in reversed(tables):
                await conn.execute(table.delete())
            # Lines come table by table in dependency order; flush a table before the next one starts.
            current = ""
            rows: list[dict[str, Any]] = []
            for line in handle:
                item = json.loads(line)
                if item["t"] != current or len(rows) >= batch_size:
                    await _flush(conn, metadata, current, rows, counts)
                    current, rows = item["t"], []
                rows.append({k: _decode(v) for k, v in item["r"].items()})
            await _flush(conn, metadata, current, rows, counts)
            if db.dialect == "postgresql":
                await _reset_sequences(conn, tables)
    return counts


async def _flush(
    conn: Any, metadata: sa.MetaData, name: str, rows: list[dict[str, Any]], counts: dict[str, int]
) -> None:
    if rows:
        await conn.execute(metadata.tables[name].insert(), rows)
        counts[name] = counts.get(name, 0) + len(rows)


async def _reset_sequences(conn: Any, tables: list[sa.Table]) -> None:
    # Rows were inserted with explicit ids: move serial/identity sequences past them.
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, sa.Integer):
                continue
            sequence = (
                await conn.execute(
                    sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
                )
            ).scalar()
            if sequence:
                # Table and column names come from the database's own catalogue, not from input.
                highest = f'SELECT MAX("{column.name}") FROM "{table.name}"'  # noqa: S608
                await conn.execute(sa.text(f"SELECT setval(:s, COALESCE(({highest}), 0) + 1, false)"), {"s": sequence})
