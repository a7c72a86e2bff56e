"""Configuration of the AML service (the ``aml`` section of the platform settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from server.aml.rules import DEFAULT_RULES_FILE
from server.runtime.section import Section


class AmlSettings(Section):
    """The ``[aml]`` section."""

    rules_file: Path = DEFAULT_RULES_FILE
    """Versioned rule set (thresholds per currency and segment); its version goes into every decision."""
    max_stream_batch: int = Field(20_000, ge=1, le=200_000)
    """Largest micro-batch screened at once on the stream: messages already waiting (each up to 1,000
    transfers) are coalesced into one micro-batch up to this many transfers (decisions do not depend on it)."""
    stream_linger_ms: float = Field(0.0, ge=0, le=50)
    """Group commit on the stream: when a micro-batch is smaller than ``max_stream_batch``, wait at most this
    long (once) for more messages to join it before screening and committing. 0 (the default) never waits:
    a lone message is screened and committed at once, and messages that arrive meanwhile form the next
    micro-batch (under load the batches grow by themselves)."""
    state_checkpoint_batches: int = Field(20, ge=1)
    """Checkpoint the screening state blob after at least this many micro-batches (1 = every batch) and at
    least ``state_checkpoint_transactions`` transactions. Nothing is lost between checkpoints: transactions
    are committed with every batch and replayed into the state after a restart or by another replica
    (docs/aml.md)."""
    state_checkpoint_transactions: int = Field(50_000, ge=0)
    """... and after at least this many transactions since the last checkpoint (bounds the replay after a
    restart). The checkpoint is written in the background, in parts, while the stream goes on (docs/aml.md)."""
    investigation_max_accounts: int = Field(2_000, ge=1, le=20_000)
    """Default ``max_accounts`` of ``InvestigateNetwork`` when the request leaves it 0."""
    investigation_max_hops: int = Field(3, ge=1, le=8)
    """Default ``max_hops`` of ``InvestigateNetwork`` when the request leaves it 0."""
    default_currency: str = Field("USD", pattern="^[A-Z]{3}$")
    """Currency of archives loaded without one (AMLSim samples)."""
    enrichment_seed: int = 20_261_125
    """Seed of the AMLSim enrichment (countries, channels, hours) used by ``make run`` and the evaluation."""
