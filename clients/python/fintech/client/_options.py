"""Per-call options: the "not given" sentinel, the retry policy and the metadata type.

A caller may leave an option out (the RPC's default from the policy table
applies), or disable it explicitly (``timeout=None``: no deadline;
``retry=None``: a single attempt). The sentinel keeps those two apart.
"""

from __future__ import annotations

import enum
import math
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, TypeVar

from google.protobuf.message import Message


class _DefaultType(enum.Enum):
    # An enum member so that ``Literal[DEFAULT]`` types precisely and the sentinel survives copy/pickle.
    DEFAULT = "DEFAULT"

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Final = _DefaultType.DEFAULT
"""Sentinel: "use the RPC's default" (distinct from ``None``, which disables)."""

DefaultType: TypeAlias = Literal[_DefaultType.DEFAULT]

MetadataValue: TypeAlias = str | bytes
Metadata: TypeAlias = Mapping[str, MetadataValue] | Sequence[tuple[str, MetadataValue]]
"""Call metadata: a mapping or a sequence of ``(key, value)`` pairs (repeated keys allowed)."""


@dataclass(frozen=True)
class Retry:
    """How often and how patiently a retryable call is repeated after ``UNAVAILABLE``.

    The delay before attempt ``n + 1`` is drawn uniformly from
    ``[0, min(max_backoff, initial_backoff * multiplier ** (n - 1))]`` ("full jitter").
    The call's timeout is one overall deadline bounding every attempt and every pause.

    Attributes:
        max_attempts: Attempts in total, the first included (at least 1).
        initial_backoff: Upper bound of the first pause, in seconds.
        max_backoff: Cap on the upper bound of any pause, in seconds.
        multiplier: Growth of the upper bound per attempt.
    """

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"Retry.max_attempts must be at least 1, got {self.max_attempts}")
        for name in ("initial_backoff", "max_backoff"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"Retry.{name} must be a finite number >= 0, got {value}")
        if not math.isfinite(self.multiplier) or self.multiplier < 1:
            raise ValueError(f"Retry.multiplier must be a finite number >= 1, got {self.multiplier}")

    def backoff_ceiling(self, attempt: int) -> float:
        """Upper bound of the pause after failed attempt ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError(f"attempt must be at least 1, got {attempt}")
        # Bound the exponent so huge attempt counts cannot overflow a float.
        exponent = min(attempt - 1, 64)
        return float(min(self.max_backoff, self.initial_backoff * self.multiplier**exponent))


def validate_timeout(timeout: float | None) -> None:
    """Reject a timeout that is not a positive finite number (``None`` means no deadline)."""
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds or None, got {type(timeout).__name__}")
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout}")


_MessageT = TypeVar("_MessageT", bound=Message)

RequestStream: TypeAlias = AsyncIterable[_MessageT] | Iterable[_MessageT]
"""What an async streaming method sends: an async or plain iterable of request messages."""
