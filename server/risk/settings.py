"""Settings of the risk service: the ``risk`` section of the platform configuration.

A leaf module (only pydantic and the ``Section`` base), so the configuration can
import it without pulling in NumPy or the engine.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from server.runtime.section import Section

_HERE = Path(__file__).resolve().parent


class RiskSettings(Section):
    """Where the risk engine's artefact and rules are, and how it monitors drift."""

    scorecard_file: Path = _HERE / "artefacts" / "scorecard.json"
    """The trained scorecard artefact (JSON; its content hash is the model id)."""
    policy_file: Path = _HERE / "policy.toml"
    """The versioned policy rules (TOML)."""
    drift_window: int = Field(10_000, ge=100)
    """How many recent scores the population stability index is computed over."""
    drift_min_scores: int = Field(500, ge=10)
    """Below this many recent scores the PSI is reported as unavailable, not guessed."""
    batch_chunk_size: int = Field(1024, ge=1, le=65_536)
    """Applications scored together by the vectorised path (bounds memory per chunk)."""
    explanation_attempts: int = Field(2, ge=1, le=5)
    """LLM explanation attempts before the template explanation is used."""
    stream_micro_batch: int = Field(256, ge=1, le=4096)
    """Stream items assessed, stored and audited together (one transaction, one audit ``append_bulk``)."""
    stream_max_in_flight: int = Field(2048, ge=1, le=65_536)
    """Stream items read but whose results are not yet written to the transport, per stream. At this many
    the server stops reading the client's requests, so a client that does not read its results is held
    back by gRPC flow control instead of growing the server's memory."""
    stream_decide_processes: int = Field(1, ge=0, le=16)
    """Worker processes that validate, map and assess stream micro-batches (0: in the engine thread of the
    server process, which then shares one core with gRPC and storage)."""
