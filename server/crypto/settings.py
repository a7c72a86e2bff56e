"""Configuration of encryption at rest: paths to key files, never key values."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from server.runtime.section import Section


class CryptoSettings(Section):
    master_key_file: Path = Path("secrets/master.key")
    """The current master key (32 random bytes, base64) that wraps every data key; a Kubernetes Secret in
    production, escrowed separately from database backups."""
    previous_master_key_files: tuple[Path, ...] = ()
    """Master keys being rotated away from: still able to unwrap until ``fintech keys rotate`` has re-wrapped
    every data key under the current one."""
    blind_index_key_file: Path = Path("secrets/blind-index.key")
    """Key (32 bytes, base64) of the keyed HMAC index of searchable encrypted fields."""
    data_key_cache_seconds: float = Field(30.0, ge=0)
    """How long an unwrapped data key stays in process memory; bounds how long another process may still
    read a subject after it was shredded."""
    rotation_batch_size: int = Field(500, ge=1, le=100_000)
    """Data keys re-wrapped per transaction by ``fintech keys rotate``."""
