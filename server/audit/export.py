"""JSON Lines export of a range of the chain, verifiable offline with the same code as the database.

Line 1 is a header (format, chain id, range); each further line is one record with every stored column
(the sealed payload in base64) and both hashes. Verification re-runs :class:`ChainVerifier` over the
file, anchored at genesis when the export starts at record 1, and against signed checkpoints when given.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from server.audit.chain import ChainProblem, ChainVerifier, VerifyReport
from server.audit.checkpoints import Checkpoint
from server.audit.log import AuditLog
from server.audit.records import GENESIS_HASH, STORED_FIELDS
from server.storage.database import Database

FORMAT = "fintech-audit-export/1"
_PAYLOAD = STORED_FIELDS.index("payload")


class ExportFormatError(ValueError):
    """The file is not an audit export (line number named)."""


def record_line(row: Sequence[Any]) -> str:
    """One record as a JSON line."""
    document = dict(zip(STORED_FIELDS, row, strict=True))
    document["payload"] = base64.b64encode(bytes(row[_PAYLOAD])).decode("ascii")
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def parse_record(line: str, number: int) -> tuple[Any, ...]:
    """A JSON line back to a stored row."""
    try:
        document = json.loads(line)
        values = [document[name] for name in STORED_FIELDS]
        values[_PAYLOAD] = base64.b64decode(values[_PAYLOAD], validate=True)
        values[0] = int(values[0])
        values[2] = int(values[2])
    except (ValueError, KeyError, TypeError):
        raise ExportFormatError(f"line {number}: not an audit record") from None
    return tuple(values)


async def export_range(
    audit: AuditLog, db: Database, out: TextIO, *, start_seq: int, end_seq: int, batch_size: int = 5000
) -> int:
    """Write records ``[start_seq, end_seq]`` to ``out``; returns how many."""
    async with db.read() as conn:
        head = await audit.head(conn)
    end_seq = min(end_seq, head.seq)
    out.write(
        json.dumps(
            {"format": FORMAT, "chain_id": head.chain_id, "start_seq": start_seq, "end_seq": end_seq}, sort_keys=True
        )
        + "\n"
    )
    count = 0
    async for batch in audit.rows(db, start_seq=start_seq, end_seq=end_seq, batch_size=batch_size):
        out.write("\n".join(record_line(row) for row in batch) + "\n")
        count += len(batch)
    return count


def _records(lines: Iterator[str]) -> Iterator[tuple[Any, ...]]:
    for number, line in enumerate(lines, start=2):
        if line.strip():
            yield parse_record(line, number)


def verify_export(
    lines: Iterable[str], *, checkpoints: Sequence[Checkpoint] = (), batch_size: int = 5000
) -> VerifyReport:
    """Verify an export file's records and, where given, the checkpoints inside its range.

    Raises:
        ExportFormatError: the file is not an audit export.
    """
    iterator = iter(lines)
    try:
        header = json.loads(next(iterator))
        if header.get("format") != FORMAT:
            raise ValueError
        chain_id, start_seq, end_seq = str(header["chain_id"]), int(header["start_seq"]), int(header["end_seq"])
    except (StopIteration, ValueError, KeyError, TypeError):
        raise ExportFormatError("line 1: not an audit export header") from None
    verifier = ChainVerifier(
        start_seq=start_seq,
        anchor_hash=GENESIS_HASH if start_seq == 1 else None,
        checkpoints=[c for c in checkpoints if c.chain_id == chain_id and c.seq <= end_seq],
    )
    batch: list[tuple[Any, ...]] = []
    for row in _records(iterator):
        if row[0] > end_seq:
            return VerifyReport(
                False,
                verifier.checked,
                verifier.checkpoints_checked,
                int(row[0]),
                str(row[1]),
                ChainProblem.LINK_BROKEN,
                f"record {row[0]} lies outside the exported range",
            )
        batch.append(row)
        if len(batch) >= batch_size:
            if not verifier.feed(batch):
                return verifier.finish()
            batch = []
    verifier.feed(batch)
    return verifier.finish(end_seq=end_seq)


def verify_export_file(path: Path, *, checkpoints: Sequence[Checkpoint] = ()) -> VerifyReport:
    """:func:`verify_export` over a file."""
    with path.open(encoding="utf-8") as handle:
        return verify_export(handle, checkpoints=checkpoints)
