"""One-pass verification of the hash chain, independent of where the records come from.

:class:`ChainVerifier` is fed records in ``seq`` order (from the database or an export file) and stops
at the first bad one, naming it and saying what is wrong:

* ``HASH_MISMATCH``: the record's content does not hash to its stored hash (edited in place);
* ``LINK_BROKEN``: its ``prev_hash`` is not the previous record's hash (inserted, reordered, or the
  previous record deleted and the rest renumbered);
* ``SEQUENCE_GAP``: a sequence number is missing (deleted);
* ``CHECKPOINT_MISMATCH``: the recomputed chain disagrees with a signed checkpoint (history rewritten
  and re-hashed);
* ``CHECKPOINT_BEYOND_END``: a signed checkpoint lies past the last record (the tail was deleted);
* ``HEAD_MISMATCH``: the last record is not the head the database recorded.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from server.audit.checkpoints import Checkpoint
from server.audit.records import CANONICAL_SEPARATORS, GENESIS_HASH, HASHED_FIELDS, record_hash

_SEQ = 0
_RECORD_ID = 1
_N_HASHED = len(HASHED_FIELDS)
_sha256 = hashlib.sha256
# (seq, record_id, prev_hash, stored record_hash, recomputed hash) for one record.
_Checked = tuple[int, str, str, str, str]


def _from_stored(rows: Sequence[Sequence[Any]]) -> Iterator[_Checked]:
    for row in rows:
        try:
            computed = record_hash(row[_N_HASHED], row[:_N_HASHED])
        except ValueError:  # a NUL smuggled into a text column: never written by an append
            computed = ""
        yield row[_SEQ], row[_RECORD_ID], row[_N_HASHED], row[_N_HASHED + 1], computed


def _from_encoded(rows: Sequence[Sequence[Any]]) -> Iterator[_Checked]:
    for seq, record_id, prev_hash, stored_hash, canonical in rows:
        # The database built the canonical text; a NUL inside a field shows as an extra separator and a
        # NULL column as no text at all: either way the record cannot hash to what an append wrote.
        if canonical is None or canonical.count("\x00") != CANONICAL_SEPARATORS:
            computed = ""
        else:
            computed = _sha256(f"{prev_hash}{canonical}".encode()).hexdigest()
        yield seq, record_id, prev_hash, stored_hash, computed


class ChainProblem(enum.StrEnum):
    """What verification found wrong first."""

    NONE = "NONE"
    HASH_MISMATCH = "HASH_MISMATCH"
    LINK_BROKEN = "LINK_BROKEN"
    SEQUENCE_GAP = "SEQUENCE_GAP"
    CHECKPOINT_MISMATCH = "CHECKPOINT_MISMATCH"
    CHECKPOINT_BEYOND_END = "CHECKPOINT_BEYOND_END"
    HEAD_MISMATCH = "HEAD_MISMATCH"
    CHECKPOINT_INVALID = "CHECKPOINT_INVALID"


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of a verification.

    Attributes:
        ok: True when nothing was wrong.
        checked: Records checked.
        checkpoints_checked: Signed checkpoints compared.
        first_bad_seq: Sequence number of the first bad record (0 when ok).
        first_bad_record_id: Its record id, when the record exists.
        problem: What is wrong.
        detail: One sentence for people (ids and hashes only).
        last_seq: Last sequence number checked.
        last_hash: The chain hash after the last record checked.
    """

    ok: bool
    checked: int
    checkpoints_checked: int
    first_bad_seq: int = 0
    first_bad_record_id: str = ""
    problem: ChainProblem = ChainProblem.NONE
    detail: str = ""
    last_seq: int = 0
    last_hash: str = GENESIS_HASH


class ChainVerifier:
    """Checks records fed in order; see the module docstring for the problems it names.

    Args:
        start_seq: The first sequence number expected.
        anchor_hash: The chain hash before ``start_seq`` (genesis for 1); None trusts the first record's
            ``prev_hash`` (a partial range verified on its own).
        checkpoints: Verified checkpoints of this chain (any order).
    """

    def __init__(
        self, *, start_seq: int = 1, anchor_hash: str | None = GENESIS_HASH, checkpoints: Iterable[Checkpoint] = ()
    ) -> None:
        self._expected_seq = start_seq
        self._running = anchor_hash
        self._checkpoints = {c.seq: c for c in checkpoints if c.seq >= start_seq}
        self.checked = 0
        self.checkpoints_checked = 0
        self.failure: VerifyReport | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def _fail(self, seq: int, record_id: str, problem: ChainProblem, detail: str) -> None:
        self.failure = VerifyReport(
            False,
            self.checked,
            self.checkpoints_checked,
            seq,
            record_id,
            problem,
            detail,
            self._expected_seq - 1,
            self._running or "",
        )

    def feed(self, rows: Sequence[Sequence[Any]]) -> bool:
        """Check rows (``HASHED_FIELDS`` then ``prev_hash``, ``record_hash``); False once something is wrong."""
        return self._check(_from_stored(rows))

    def feed_encoded(self, rows: Sequence[Sequence[Any]]) -> bool:
        """Check rows of ``(seq, record_id, prev_hash, record_hash, canonical text)``.

        The canonical text (:func:`server.audit.records.canonical_bytes` decoded) is built by the database
        in the query (:func:`server.audit.log.canonical_sql`), which spares Python one string conversion
        per column; the hash itself is always recomputed here.
        """
        return self._check(_from_encoded(rows))

    def _check(self, records: Iterator[_Checked]) -> bool:
        if self.failure is not None:
            return False
        expected = self._expected_seq
        running = self._running
        checkpoints = self._checkpoints
        for seq, record_id, prev_hash, stored_hash, computed in records:
            if seq != expected:
                self._expected_seq, self._running = expected, running
                self._fail(
                    expected,
                    "",
                    ChainProblem.SEQUENCE_GAP,
                    f"records {expected}..{seq - 1} are missing (next present: {seq}, {record_id})",
                )
                return False
            if running is not None and prev_hash != running:
                self._expected_seq, self._running = expected, running
                self._fail(
                    seq,
                    record_id,
                    ChainProblem.LINK_BROKEN,
                    f"record {seq} does not follow record {seq - 1}: inserted, reordered, or its predecessor changed",
                )
                return False
            if computed != stored_hash:
                self._expected_seq, self._running = expected, running
                self._fail(
                    seq,
                    record_id,
                    ChainProblem.HASH_MISMATCH,
                    f"record {seq} was changed after it was written (content does not match its hash)",
                )
                return False
            checkpoint = checkpoints.get(seq)
            if checkpoint is not None:
                self.checkpoints_checked += 1
                if checkpoint.head_hash != computed:
                    self._expected_seq, self._running = expected, running
                    self._fail(
                        seq,
                        record_id,
                        ChainProblem.CHECKPOINT_MISMATCH,
                        f"the chain up to record {seq} differs from the checkpoint signed at {checkpoint.time}: "
                        "history up to here was rewritten and re-hashed",
                    )
                    return False
            running = computed
            expected = seq + 1
            self.checked += 1
        self._expected_seq, self._running = expected, running
        return True

    def finish(self, *, head: tuple[int, str] | None = None, end_seq: int | None = None) -> VerifyReport:
        """The report, after checking the end of the range against the head and later checkpoints.

        Args:
            head: ``(seq, hash)`` the database records as its head, when the range runs to it.
            end_seq: The last sequence number the range should hold.
        """
        if self.failure is not None:
            return self.failure
        last = self._expected_seq - 1
        if end_seq is not None and last < end_seq:
            self._fail(last + 1, "", ChainProblem.SEQUENCE_GAP, f"records {last + 1}..{end_seq} are missing")
            return self.failure  # type: ignore[return-value]
        if head is not None and (head[0] != last or (self._running is not None and head[1] != self._running)):
            self._fail(
                last + 1 if head[0] > last else head[0],
                "",
                ChainProblem.HEAD_MISMATCH,
                f"the recorded chain head is {head[0]} but the records end at {last}, or their hashes differ",
            )
            return self.failure  # type: ignore[return-value]
        beyond = sorted(s for s in self._checkpoints if s > last) if head is not None or end_seq is None else []
        if beyond:
            self._fail(
                last + 1,
                "",
                ChainProblem.CHECKPOINT_BEYOND_END,
                f"a signed checkpoint covers record {beyond[-1]} but the chain ends at {last}: records were deleted",
            )
            return self.failure  # type: ignore[return-value]
        return VerifyReport(
            True, self.checked, self.checkpoints_checked, last_seq=last, last_hash=self._running or GENESIS_HASH
        )
