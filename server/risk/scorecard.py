"""The trained scorecard at run time: loading the artefact and scoring, one row or a batch.

The artefact (``server/risk/artefacts/scorecard.json``, written by
``python -m server.risk.train``) holds, per feature, the bins and their points
in integer hundredths of a point ("centipoints"). Integer points make a score
an exact integer sum, so the single path (``bisect`` and dict look-ups) and the
vectorised NumPy path give bit-identical scores, bins and rankings; the
probability of default comes from the score through one shared NumPy function.

The model id is ``sha256:`` plus the SHA-256 of the canonical JSON of the
artefact's ``model`` section (the part that decides); it is checked on load.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from server.risk.features import FEATURES, FeatureKind, FeatureValue

ARTEFACT_SCHEMA = "fintech.risk.scorecard/1"
DEFAULT_ARTEFACT = Path(__file__).resolve().parent / "artefacts" / "scorecard.json"


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, UTF-8) used for the content hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def model_id_of(model_section: dict[str, Any]) -> str:
    """The content hash of a ``model`` section: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(canonical_json(model_section)).hexdigest()


@dataclass(frozen=True)
class FeatureBins:
    """The bins of one feature; the last index is the missing/unknown bin.

    Attributes:
        name: Feature name.
        kind: Numeric or categorical.
        splits: Numeric bin edges; bin ``i`` is ``[splits[i-1], splits[i])``.
        category_bin: Categorical label -> bin index.
        labels: Human-readable label of each bin (missing bin last).
        points_cp: Points of each bin in centipoints (missing bin last).
    """

    name: str
    kind: FeatureKind
    splits: tuple[float, ...]
    category_bin: dict[str, int]
    labels: tuple[str, ...]
    points_cp: tuple[int, ...]

    @property
    def missing_bin(self) -> int:
        """Index of the missing/unknown bin."""
        return len(self.points_cp) - 1

    @property
    def max_points_cp(self) -> int:
        """The best points any applicant can get on this feature."""
        return max(self.points_cp)

    def bin_of(self, value: FeatureValue) -> int:
        """The bin index of one value (the single, non-vectorised path)."""
        if self.kind is FeatureKind.NUMERIC:
            if value is None or isinstance(value, str) or math.isnan(value):
                return self.missing_bin
            return bisect.bisect_right(self.splits, value)
        if not isinstance(value, str):
            return self.missing_bin
        return self.category_bin.get(value, self.missing_bin)


@dataclass(frozen=True)
class ScoredRow:
    """The scorecard's view of one application (single path)."""

    bins: tuple[int, ...]
    points_cp: tuple[int, ...]
    total_cp: int


@dataclass(frozen=True)
class ScoredBatch:
    """The scorecard's view of a batch (vectorised path); row ``i`` matches :class:`ScoredRow`."""

    bins: NDArray[np.int64]
    points_cp: NDArray[np.int64]
    total_cp: NDArray[np.int64]


@dataclass(frozen=True)
class Scaling:
    """Points-to-odds scaling: ``score = offset + factor * ln(odds good:bad)``, ``factor = pdo / ln 2``."""

    pdo: float
    odds: float
    base_score: float

    @property
    def factor(self) -> float:
        """Points per unit of log-odds."""
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        """Score at even odds."""
        return self.base_score - self.factor * math.log(self.odds)

    def score_for_pd(self, probability_of_default: float) -> float:
        """The (unrounded) score whose PD is ``probability_of_default``."""
        return self.offset + self.factor * math.log((1.0 - probability_of_default) / probability_of_default)


class ScorecardModel:
    """A loaded scorecard artefact."""

    def __init__(self, document: dict[str, Any]) -> None:
        """Build from a parsed artefact; verifies the schema and the content hash.

        Raises:
            ValueError: Wrong schema, a hash mismatch, or features that differ from the code's.
        """
        if document.get("schema") != ARTEFACT_SCHEMA:
            raise ValueError(f"scorecard artefact: schema must be {ARTEFACT_SCHEMA!r}")
        model = document["model"]
        expected = model_id_of(model)
        if document.get("model_id") != expected:
            raise ValueError("scorecard artefact: model_id does not match its content (edited or corrupted)")
        self.document = document
        self.model_id: str = expected
        self.version: str = model["version"]
        scaling = model["scaling"]
        self.scaling = Scaling(float(scaling["pdo"]), float(scaling["odds"]), float(scaling["base_score"]))
        by_name = {feature["name"]: feature for feature in model["features"]}
        known = {spec.name for spec in FEATURES}
        unknown = sorted(set(by_name) - known)
        if unknown:
            raise ValueError(f"scorecard artefact: features {unknown} are not defined in server.risk.features")
        # Features the selection dropped are simply absent; the order follows FEATURES.
        self.feature_index: tuple[int, ...] = tuple(i for i, spec in enumerate(FEATURES) if spec.name in by_name)
        self.bins: tuple[FeatureBins, ...] = tuple(
            _feature_bins(by_name[FEATURES[i].name], FEATURES[i].kind) for i in self.feature_index
        )
        self.max_points_cp = np.asarray([feature.max_points_cp for feature in self.bins], dtype=np.int64)
        width = max(len(feature.points_cp) for feature in self.bins)
        # Padded points table for vectorised look-ups: points[feature, bin].
        self._points_table = np.zeros((len(self.bins), width), dtype=np.int64)
        for row, feature in enumerate(self.bins):
            self._points_table[row, : len(feature.points_cp)] = feature.points_cp
        self._splits = [np.asarray(feature.splits, dtype=np.float64) for feature in self.bins]

    @classmethod
    def from_file(cls, path: Path = DEFAULT_ARTEFACT) -> ScorecardModel:
        """Load an artefact file.

        Raises:
            ValueError: The file is unreadable or invalid.
        """
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read scorecard artefact {path}: {exc}") from exc
        return cls(document)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the features the scorecard uses, in scoring order."""
        return tuple(feature.name for feature in self.bins)

    @property
    def training(self) -> dict[str, Any]:
        """The artefact's training section (metrics, data, dates); documentation, not decision."""
        training: dict[str, Any] = self.document["training"]
        return training

    @property
    def training_time(self) -> datetime:
        """When the artefact was trained."""
        return datetime.fromisoformat(self.training["trained_at"])

    def score_one(self, values: Sequence[FeatureValue]) -> ScoredRow:
        """Score one row of feature values (in :data:`~server.risk.features.FEATURES` order)."""
        bins = tuple(feature.bin_of(values[i]) for feature, i in zip(self.bins, self.feature_index, strict=True))
        points = tuple(feature.points_cp[b] for feature, b in zip(self.bins, bins, strict=True))
        return ScoredRow(bins=bins, points_cp=points, total_cp=sum(points))

    def score_batch(self, rows: Sequence[Sequence[FeatureValue]]) -> ScoredBatch:
        """Score many rows at once with NumPy (same results as :meth:`score_one`, row by row)."""
        count = len(rows)
        bins = np.empty((count, len(self.bins)), dtype=np.int64)
        for column, (feature, i) in enumerate(zip(self.bins, self.feature_index, strict=True)):
            if feature.kind is FeatureKind.NUMERIC:
                values = np.fromiter(
                    (math.nan if not isinstance(row[i], float) else row[i] for row in rows), np.float64, count
                )
                index = np.searchsorted(self._splits[column], values, side="right")
                bins[:, column] = np.where(np.isnan(values), feature.missing_bin, index)
            else:
                lookup = feature.category_bin
                missing = feature.missing_bin
                labels = (row[i] for row in rows)
                bins[:, column] = np.fromiter(
                    (lookup.get(v, missing) if isinstance(v, str) else missing for v in labels), np.int64, count
                )
        points = self._points_table[np.arange(len(self.bins))[None, :], bins]
        return ScoredBatch(bins=bins, points_cp=points, total_cp=points.sum(axis=1))

    def probability_of_default(self, total_cp: NDArray[np.int64]) -> NDArray[np.float64]:
        """PD for scores in centipoints; the one function both paths use."""
        score = total_cp.astype(np.float64) / 100.0
        result: NDArray[np.float64] = 1.0 / (1.0 + np.exp((score - self.scaling.offset) / self.scaling.factor))
        return result

    def threshold_cp(self, probability_of_default: float) -> int:
        """The integer centipoint threshold ``T`` with ``PD < p  <=>  total_cp > T``."""
        return math.floor(100.0 * self.scaling.score_for_pd(probability_of_default))


def _feature_bins(feature: dict[str, Any], kind: FeatureKind) -> FeatureBins:
    if feature["kind"] != kind.value:
        raise ValueError(f"scorecard artefact: feature {feature['name']!r} must be {kind.value}")
    bins = feature["bins"]
    labels = (*(str(b["label"]) for b in bins), "missing or unknown")
    points = (*(int(b["points_cp"]) for b in bins), int(feature["missing_points_cp"]))
    category_bin: dict[str, int] = {}
    splits: tuple[float, ...] = ()
    if kind is FeatureKind.CATEGORICAL:
        for index, entry in enumerate(bins):
            for category in entry["categories"]:
                category_bin[str(category)] = index
    else:
        splits = tuple(float(edge) for edge in feature["splits"])
        if len(splits) != len(bins) - 1:
            raise ValueError(f"scorecard artefact: feature {feature['name']!r} needs one split fewer than bins")
    return FeatureBins(
        name=feature["name"], kind=kind, splits=splits, category_bin=category_bin, labels=labels, points_cp=points
    )
