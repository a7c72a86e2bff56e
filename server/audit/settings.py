"""Configuration of the audit trail: checkpoint keys and files (paths only, never key values)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from server.runtime.section import Section


class AuditSettings(Section):
    checkpoint_file: Path = Path("audit/checkpoints.jsonl")
    """Append-only file of signed chain-head checkpoints, outside the database (relative: under data_dir).
    In production a volume the database administrators cannot write, shipped to WORM storage."""
    checkpoint_signing_key_file: Path | None = Path("secrets/audit-checkpoint.pem")
    """Ed25519 private key (PEM) signing checkpoints; a key the database never sees. None: this process
    writes no checkpoints (only one writer per deployment needs it)."""
    checkpoint_public_key_file: Path = Path("secrets/audit-checkpoint.pub.pem")
    """Ed25519 public key (PEM) that verification checks checkpoints against."""
    checkpoint_every_records: int = Field(1000, ge=1)
    """Write a checkpoint once the chain has grown by this many records since the last one..."""
    checkpoint_every_seconds: float = Field(60.0, gt=0)
    """...or this long after the last one, if the chain has grown at all."""
    verify_batch_size: int = Field(5000, ge=100, le=100_000)
    """Records read per query while verifying."""
