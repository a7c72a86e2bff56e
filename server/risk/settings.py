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
