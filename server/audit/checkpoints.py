"""Signed checkpoints of the chain head, kept in an append-only file outside the database.

Anyone able to write the database could rewrite a record and re-hash everything after it; the chain
alone would then verify. A checkpoint is ``(chain id, seq, head hash, time)`` signed with an Ed25519
key the database never sees, appended as one JSON line (``O_APPEND``, ``flock``, ``fsync``). Verification
compares the recomputed chain with every checkpoint it passes, so a rewritten history contradicts the
signed head of its time.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "fintech-audit-checkpoint/1"


class CheckpointFileError(ValueError):
    """The checkpoint file is unreadable, malformed or carries a bad signature."""


@dataclass(frozen=True)
class Checkpoint:
    """A signed chain head."""

    chain_id: str
    seq: int
    head_hash: str
    time: str
    key_id: str
    signature: str

    def message(self) -> bytes:
        """The bytes that are signed."""
        return f"{FORMAT}|{self.chain_id}|{self.seq}|{self.head_hash}|{self.time}".encode()

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "chain_id": self.chain_id,
                "seq": self.seq,
                "head_hash": self.head_hash,
                "time": self.time,
                "key_id": self.key_id,
                "signature": self.signature,
            },
            sort_keys=True,
            separators=(",", ":"),
        )


def public_key_id(key: Ed25519PublicKey) -> str:
    """Fingerprint of a checkpoint public key (16 hex digits)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_checkpoint(key: Ed25519PrivateKey, *, chain_id: str, seq: int, head_hash: str, now: datetime) -> Checkpoint:
    """A checkpoint of ``(seq, head_hash)`` signed with ``key``."""
    unsigned = Checkpoint(
        chain_id, seq, head_hash, now.astimezone(UTC).isoformat(), public_key_id(key.public_key()), ""
    )
    signature = base64.b64encode(key.sign(unsigned.message())).decode("ascii")
    return Checkpoint(chain_id, seq, head_hash, unsigned.time, unsigned.key_id, signature)


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line to ``path`` durably (exclusive flock so lines of two writers never interleave)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (checkpoint.to_json() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def parse_checkpoints(
    lines: Iterable[str], public_key: Ed25519PublicKey, *, source: str = "checkpoints"
) -> list[Checkpoint]:
    """Parse and verify checkpoint lines, sorted by seq.

    Raises:
        CheckpointFileError: a malformed line or a signature that does not verify (naming the line).
    """
    result: list[Checkpoint] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if data.get("format") != FORMAT:
                raise ValueError("format")
            checkpoint = Checkpoint(
                str(data["chain_id"]),
                int(data["seq"]),
                str(data["head_hash"]),
                str(data["time"]),
                str(data["key_id"]),
                str(data["signature"]),
            )
            signature = base64.b64decode(checkpoint.signature, validate=True)
        except (ValueError, KeyError, TypeError):
            raise CheckpointFileError(f"{source} line {number}: not a checkpoint") from None
        try:
            public_key.verify(signature, checkpoint.message())
        except InvalidSignature:
            raise CheckpointFileError(
                f"{source} line {number}: signature does not verify (seq {checkpoint.seq})"
            ) from None
        result.append(checkpoint)
    return sorted(result, key=lambda c: c.seq)


def read_checkpoints(path: Path, public_key: Ed25519PublicKey) -> list[Checkpoint]:
    """Read and verify every checkpoint in ``path`` (none when the file does not exist yet)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return parse_checkpoints(handle, public_key, source=str(path))
