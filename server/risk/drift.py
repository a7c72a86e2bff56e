"""Score drift: the population stability index of recent scores against the training distribution.

Owns :func:`population_stability_index` (pure) and :class:`ScoreDriftMonitor`, a
bounded window of recent scores that the servicer feeds and the model card and
metrics read. The reference is the artefact's training score distribution
(decile edges and shares on the development rows).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable, Sequence

import numpy as np

from server.risk.scorecard import ScorecardModel

PSI_EPSILON = 1e-4
"""Floor for an empty bin's share, so one empty bin does not make the index infinite."""


def population_stability_index(
    reference_edges: Sequence[float], reference_shares: Sequence[float], scores: Iterable[float]
) -> float:
    """PSI = sum over bins of (actual - expected) * ln(actual / expected).

    Bins are ``(-inf, e0), [e0, e1), ..., [e_last, inf)`` from the reference edges;
    shares below :data:`PSI_EPSILON` are floored. Rule of thumb: < 0.1 stable,
    0.1-0.25 watch, > 0.25 shifted.

    Args:
        reference_edges: Inner bin edges of the training scores (ascending).
        reference_shares: Training share per bin (``len(edges) + 1`` values).
        scores: Recent scores.

    Returns:
        The index (>= 0).

    Raises:
        ValueError: No scores, or shares that do not fit the edges.
    """
    if len(reference_shares) != len(reference_edges) + 1:
        raise ValueError("reference_shares must have one more entry than reference_edges")
    values = np.fromiter(scores, dtype=np.float64)
    if values.size == 0:
        raise ValueError("population_stability_index needs at least one score")
    counts = np.bincount(
        np.searchsorted(np.asarray(reference_edges), values, side="right"), minlength=len(reference_shares)
    )
    actual = np.maximum(counts / values.size, PSI_EPSILON)
    expected = np.maximum(np.asarray(reference_shares, dtype=np.float64), PSI_EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


class ScoreDriftMonitor:
    """The last ``window`` scores and their PSI against the training distribution (thread-safe)."""

    def __init__(
        self, reference_edges: Sequence[float], reference_shares: Sequence[float], *, window: int, min_scores: int
    ) -> None:
        """Create an empty monitor.

        Args:
            reference_edges: Training decile edges (from the artefact).
            reference_shares: Training shares per bin.
            window: How many recent scores to keep.
            min_scores: Fewer scores than this: :meth:`psi` returns None (not enough to say).
        """
        if window < 1 or min_scores < 1:
            raise ValueError("window and min_scores must be at least 1")
        self._edges = tuple(reference_edges)
        self._shares = tuple(reference_shares)
        self._scores: deque[float] = deque(maxlen=window)
        self._min = min_scores
        self._lock = threading.Lock()

    @classmethod
    def for_scorecard(cls, scorecard: ScorecardModel, *, window: int, min_scores: int) -> ScoreDriftMonitor:
        """A monitor against the artefact's training score distribution."""
        reference = scorecard.training["score_distribution"]
        return cls(reference["edges"], reference["shares"], window=window, min_scores=min_scores)

    def observe(self, scores: Iterable[float]) -> None:
        """Record scores of new assessments."""
        with self._lock:
            self._scores.extend(scores)

    def __len__(self) -> int:
        with self._lock:
            return len(self._scores)

    def psi(self) -> float | None:
        """PSI of the window, or None with fewer than ``min_scores`` scores."""
        with self._lock:
            snapshot = list(self._scores)
        if len(snapshot) < self._min:
            return None
        value = population_stability_index(self._edges, self._shares, snapshot)
        return value if math.isfinite(value) else None
