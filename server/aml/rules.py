"""The versioned AML rule set: thresholds per currency and customer segment, loaded from TOML.

The shipped rule set is ``server/aml/rules.toml``. Its ``version`` travels with every
decision and alert. Unknown keys are an error so that a typo never falls back to a default.
"""

from __future__ import annotations

import enum
import tomllib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_RULES_FILE = Path(__file__).resolve().parent / "rules.toml"


class ReasonCode(enum.IntEnum):
    """Stable reason codes; the integer is the bit position in a decision's hit mask."""

    LARGE_RAPID_MOVEMENT = 0
    VELOCITY_SPIKE = 1
    UNUSUAL_HOUR = 2
    NEW_CHANNEL = 3
    FIRST_SEEN_COUNTRY = 4
    HIGH_RISK_JURISDICTION = 5
    STRUCTURING_BELOW_THRESHOLD = 6
    FREQUENT_SMALL_TRANSFERS = 7
    FAN_IN = 8
    FAN_OUT = 9
    ROUND_TRIP = 10


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Windows(_Frozen):
    """Rolling window lengths in seconds."""

    velocity_seconds: int = Field(gt=0)
    structuring_seconds: int = Field(gt=0)
    fan_seconds: int = Field(gt=0)
    pass_through_seconds: int = Field(gt=0)
    round_trip_seconds: int = Field(gt=0)
    alert_cooldown_seconds: int = Field(ge=0)

    @property
    def lookback_seconds(self) -> int:
        """The longest window: how much history the incremental state must keep."""
        return max(
            self.velocity_seconds,
            self.structuring_seconds,
            self.fan_seconds,
            self.pass_through_seconds,
            self.round_trip_seconds,
        )


class History(_Frozen):
    """When an account's own baseline is trusted."""

    min_transactions: int = Field(ge=1)
    min_baseline_days: int = Field(ge=0)
    rare_hour_share: float = Field(ge=0, le=1)
    rare_hour_min_history: int = Field(ge=1)


class RoundTrip(_Frozen):
    """Bounds of the time-respecting, amount-conserving cycle search."""

    max_hops: int = Field(ge=2, le=8)
    min_hop_ratio: float = Field(gt=0)
    max_hop_ratio: float = Field(gt=0)
    min_return_ratio: float = Field(gt=0)
    max_frontier: int = Field(ge=1000)


class Currency(_Frozen):
    """Per-currency reporting threshold (minor units)."""

    minor_digits: int = Field(ge=0, le=4)
    reporting_threshold: int = Field(gt=0)


class SegmentThresholds(_Frozen):
    """Per-segment thresholds; absolute amounts are multiples of the currency's reporting threshold."""

    large_threshold_factor: float = Field(gt=0)
    large_own_multiple: float = Field(gt=1)
    pass_through_ratio: float = Field(gt=0, le=1)
    structuring_band: float = Field(gt=0, lt=1)
    structuring_min_count: int = Field(ge=2)
    small_ratio: float = Field(gt=0, lt=1)
    small_min_count: int = Field(ge=2)
    fan_min_counterparties: int = Field(ge=2)
    fan_rate_multiple: float = Field(ge=1)
    velocity_min_count: int = Field(ge=2)
    velocity_multiple: float = Field(ge=1)
    review_score: float = Field(gt=0)
    block_score: float = Field(gt=0)


class HighRisk(_Frozen):
    """High-risk jurisdictions."""

    countries: tuple[str, ...]


class RuleSet(_Frozen):
    """A complete, versioned rule set."""

    version: str = Field(min_length=1)
    segments: tuple[str, ...]
    default_segment: str
    windows: Windows
    history: History
    round_trip: RoundTrip
    scores: dict[str, float]
    high_risk: HighRisk
    currencies: dict[str, Currency]
    segments_config: dict[str, SegmentThresholds]

    @model_validator(mode="after")
    def _consistent(self) -> RuleSet:
        if self.default_segment not in self.segments:
            raise ValueError(f"default_segment {self.default_segment!r} is not in segments")
        missing = [s for s in self.segments if s not in self.segments_config]
        if missing:
            raise ValueError(f"segments_config lacks {missing}")
        unknown = sorted(set(self.scores) - {r.name for r in ReasonCode})
        if unknown:
            raise ValueError(f"scores: unknown reason codes {unknown}")
        absent = sorted({r.name for r in ReasonCode} - set(self.scores))
        if absent:
            raise ValueError(f"scores: missing reason codes {absent}")
        return self

    def score_vector(self) -> NDArray[np.float64]:
        """Score contribution per :class:`ReasonCode`, indexed by its value."""
        return np.array([self.scores[r.name] for r in ReasonCode], dtype=np.float64)

    def currency_index(self) -> dict[str, int]:
        """Currency code -> row in the threshold tables."""
        return {code: i for i, code in enumerate(sorted(self.currencies))}

    def segment_index(self) -> dict[str, int]:
        """Segment -> column in the threshold tables."""
        return {seg: i for i, seg in enumerate(self.segments)}

    def table(self, name: str) -> NDArray[np.float64]:
        """A per-segment parameter as an array indexed by segment index."""
        return np.array([getattr(self.segments_config[s], name) for s in self.segments], dtype=np.float64)

    def reporting_thresholds(self) -> NDArray[np.int64]:
        """Reporting threshold (minor units) per currency index."""
        cur = self.currency_index()
        out = np.zeros(len(cur), dtype=np.int64)
        for code, i in cur.items():
            out[i] = self.currencies[code].reporting_threshold
        return out


def load_rule_set(path: Path = DEFAULT_RULES_FILE) -> RuleSet:
    """Load and validate a rule set.

    Args:
        path: The TOML file; the shipped one by default.

    Raises:
        ValueError: an unknown key, a missing section or an inconsistent value (pydantic names the field).
    """
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    return RuleSet.model_validate(raw)
