"""The canonical encoding, the one-pass verifier and signed checkpoints, on rows built in memory."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.audit.chain import ChainProblem, ChainVerifier
from server.audit.checkpoints import CheckpointFileError, append_checkpoint, read_checkpoints, sign_checkpoint
from server.audit.records import GENESIS_HASH, HASHED_FIELDS, canonical_bytes, record_hash


def make_chain(n: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    running = GENESIS_HASH
    for seq in range(1, n + 1):
        values: list[Any] = [seq, f"id-{seq}", 1_700_000_000_000_000 + seq]
        values += [f"{name}-{seq}" for name in HASHED_FIELDS[3:-1]]
        values.append(bytes([seq % 256]) * 5)
        digest = record_hash(running, values)
        rows.append([*values, running, digest])
        running = digest
    return rows


def rehash(rows: list[list[Any]]) -> list[list[Any]]:
    running = GENESIS_HASH
    out = []
    for row in rows:
        digest = record_hash(running, row[: len(HASHED_FIELDS)])
        out.append([*row[: len(HASHED_FIELDS)], running, digest])
        running = digest
    return out


def check(rows: list[list[Any]], **kwargs: Any) -> Any:
    verifier = ChainVerifier(**{k: v for k, v in kwargs.items() if k != "end_seq"})
    verifier.feed(rows)
    return verifier.finish(end_seq=kwargs.get("end_seq"))


def test_encoding_is_injective_across_field_boundaries() -> None:
    row = make_chain(1)[0][: len(HASHED_FIELDS)]
    shifted = list(row)
    shifted[3], shifted[4] = row[3] + row[4][:1], row[4][1:]
    assert canonical_bytes(row) != canonical_bytes(shifted)
    assert record_hash(GENESIS_HASH, row) != record_hash("1" * 64, row)


def test_intact_chain_verifies_in_batches() -> None:
    rows = make_chain(50)
    verifier = ChainVerifier()
    for start in range(0, 50, 7):
        assert verifier.feed(rows[start : start + 7])
    report = verifier.finish(end_seq=50)
    assert report.ok and report.checked == 50 and report.last_hash == rows[-1][-1]


def test_each_tampering_names_the_first_bad_record() -> None:
    rows = make_chain(10)
    edited = [list(r) for r in rows]
    edited[4][HASHED_FIELDS.index("decision")] = "FORGED"
    report = check(edited)
    assert (report.problem, report.first_bad_seq, report.first_bad_record_id) == (ChainProblem.HASH_MISMATCH, 5, "id-5")

    deleted = rows[:4] + rows[5:]
    assert (check(deleted).problem, check(deleted).first_bad_seq) == (ChainProblem.SEQUENCE_GAP, 5)

    reordered = [list(r) for r in rows]
    reordered[3], reordered[4] = reordered[4], reordered[3]
    reordered[3][0], reordered[4][0] = 4, 5
    report = check(reordered)
    assert (report.problem, report.first_bad_seq) == (ChainProblem.LINK_BROKEN, 4)

    truncated = check(rows[:8], end_seq=10)
    assert (truncated.problem, truncated.first_bad_seq) == (ChainProblem.SEQUENCE_GAP, 9)


def test_checkpoints_catch_a_consistent_rewrite(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    rows = make_chain(20)
    path = tmp_path / "cp.jsonl"
    for seq in (10, 20):
        append_checkpoint(
            path,
            sign_checkpoint(
                key, chain_id="c1", seq=seq, head_hash=rows[seq - 1][-1], now=datetime(2026, 1, 1, tzinfo=UTC)
            ),
        )
    checkpoints = read_checkpoints(path, key.public_key())
    assert check(rows, checkpoints=checkpoints).checkpoints_checked == 2

    forged = [list(r) for r in rows]
    forged[14][HASHED_FIELDS.index("decision")] = "FORGED"
    forged = rehash(forged)
    assert check(forged).ok
    report = check(forged, checkpoints=checkpoints)
    assert (report.problem, report.first_bad_seq) == (ChainProblem.CHECKPOINT_MISMATCH, 20)

    verifier = ChainVerifier(checkpoints=checkpoints)
    verifier.feed(rows[:15])
    report = verifier.finish(head=(15, rows[14][-1]))
    assert (report.problem, report.first_bad_seq) == (ChainProblem.CHECKPOINT_BEYOND_END, 16)


def test_forged_or_foreign_checkpoints_are_refused(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "cp.jsonl"
    append_checkpoint(
        path, sign_checkpoint(key, chain_id="c1", seq=3, head_hash="a" * 64, now=datetime(2026, 1, 1, tzinfo=UTC))
    )
    line = json.loads(path.read_text())
    line["head_hash"] = "b" * 64
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(CheckpointFileError, match="line 1: signature"):
        read_checkpoints(path, key.public_key())
    path.write_text(path.read_text().replace("b" * 64, "a" * 64))
    with pytest.raises(CheckpointFileError, match="signature"):
        read_checkpoints(path, Ed25519PrivateKey.generate().public_key())
    path.write_text("not json\n")
    with pytest.raises(CheckpointFileError, match="not a checkpoint"):
        read_checkpoints(path, key.public_key())
    assert read_checkpoints(tmp_path / "absent", key.public_key()) == []
