"""The credit training data: where it lives, how a row becomes features, and the fixed split.

Owns reading ``credit/germancredit.csv`` from the shared data folder (beside the
checkout, ``FINTECH_SHARED_DATA`` overrides it in scripts), converting it to the
scorecard's feature columns (:mod:`server.risk.features`), the protected
attributes kept *only* for fairness measurement, and the fixed hold-out split by
row index.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from server.risk.features import (
    CHECKING_FROM_DATASET,
    EMPLOYMENT_FROM_DATASET,
    FEATURES,
    HOUSING_FROM_DATASET,
    PURPOSE_FROM_DATASET,
    SAVINGS_FROM_DATASET,
    FeatureKind,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DATASET_RELATIVE = Path("credit") / "germancredit.csv"
HOLDOUT_RESIDUES = (2, 5, 8)
"""Rows whose index mod 10 is 2, 5 or 8 (300 of 1,000) are held out; the other 700 develop the model.

Not a contiguous tail: the file is grouped by ``personal_status_and_sex`` (rows 400-899 are all
"male : single", 900-991 hold every "male : married/widowed"), so the last 300 rows would be all
male, leave a whole group out of training and make fairness on the hold-out unmeasurable.
"""
HOLDOUT_DESCRIPTION = "rows with index mod 10 in {2, 5, 8} (300 of 1,000), never used in training"


def shared_data_dir() -> Path:
    """The shared data folder: ``FINTECH_SHARED_DATA`` if set, else ``<repo>/../shared/data``."""
    override = os.environ.get("FINTECH_SHARED_DATA")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data"


def dataset_path() -> Path:
    """Path of the German credit CSV."""
    return shared_data_dir() / DATASET_RELATIVE


@dataclass(frozen=True)
class CreditData:
    """The dataset as feature columns, target and protected attributes.

    Attributes:
        columns: Feature name -> column (float64 for numeric, object for categorical; None is missing).
        bad: 1 for a bad credit, 0 for good.
        sex: "female" or "male" (from personal_status_and_sex; fairness only).
        personal_status: The raw sex-and-marital-status label (fairness only).
        foreign_worker: "yes" or "no" (fairness only).
        age: Age in years (a feature, and a fairness grouping).
        sha256: Hash of the file read.
    """

    columns: dict[str, NDArray[np.generic]]
    bad: NDArray[np.int64]
    sex: NDArray[np.object_]
    personal_status: NDArray[np.object_]
    foreign_worker: NDArray[np.object_]
    age: NDArray[np.float64]
    sha256: str

    def __len__(self) -> int:
        return int(self.bad.shape[0])

    def subset(self, rows: NDArray[np.intp]) -> CreditData:
        """The rows ``rows`` (in that order)."""
        return CreditData(
            columns={name: column[rows] for name, column in self.columns.items()},
            bad=self.bad[rows],
            sex=self.sex[rows],
            personal_status=self.personal_status[rows],
            foreign_worker=self.foreign_worker[rows],
            age=self.age[rows],
            sha256=self.sha256,
        )


def _lookup(mapping: Mapping[str, object], label: str, column: str) -> object:
    try:
        return mapping[label]
    except KeyError:
        raise ValueError(f"credit data: unexpected value {label!r} in column {column!r}") from None


def load_credit_data(path: Path | None = None) -> CreditData:
    """Read the German credit CSV into feature columns.

    Args:
        path: The CSV; defaults to :func:`dataset_path`.

    Returns:
        The data in file order (row index is the split key).

    Raises:
        FileNotFoundError: The file is missing (the message names the path and the override).
        ValueError: A column or label the mapping does not know.
    """
    path = path or dataset_path()
    if not path.is_file():
        raise FileNotFoundError(f"credit data not found at {path} (set FINTECH_SHARED_DATA to the shared data folder)")
    raw = path.read_bytes()
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    derived: dict[str, list[object]] = {spec.name: [] for spec in FEATURES}
    for row in rows:
        derived["checking_account"].append(
            _lookup(CHECKING_FROM_DATASET, row["status_of_existing_checking_account"], "checking")
        )
        derived["term_months"].append(float(row["duration_in_month"]))
        derived["amount_dm"].append(float(row["credit_amount"]))
        derived["age_years"].append(float(row["age_in_years"]))
        derived["employment_band"].append(
            _lookup(EMPLOYMENT_FROM_DATASET, row["present_employment_since"], "employment")
        )
        derived["housing"].append(_lookup(HOUSING_FROM_DATASET, row["housing"], "housing"))
        derived["existing_credits"].append(float(row["number_of_existing_credits_at_this_bank"]))
        derived["instalment_burden"].append(float(row["installment_rate_in_percentage_of_disposable_income"]))
        derived["purpose"].append(_lookup(PURPOSE_FROM_DATASET, row["purpose"], "purpose"))
        derived["savings_band"].append(_lookup(SAVINGS_FROM_DATASET, row["savings_account_and_bonds"], "savings"))
    columns: dict[str, NDArray[np.generic]] = {}
    for spec in FEATURES:
        dtype = np.float64 if spec.kind is FeatureKind.NUMERIC else object
        columns[spec.name] = np.asarray(derived[spec.name], dtype=dtype)
    labels = {row["creditability"] for row in rows}
    if labels != {"good", "bad"}:
        raise ValueError(f"credit data: creditability must be good/bad, found {sorted(labels)}")
    personal = np.asarray([row["personal_status_and_sex"] for row in rows], dtype=object)
    return CreditData(
        columns=columns,
        bad=np.asarray([1 if row["creditability"] == "bad" else 0 for row in rows], dtype=np.int64),
        sex=np.asarray([label.split(":")[0].strip() for label in personal], dtype=object),
        personal_status=personal,
        foreign_worker=np.asarray([row["foreign_worker"] for row in rows], dtype=object),
        age=np.asarray([float(row["age_in_years"]) for row in rows], dtype=np.float64),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _is_holdout(data: CreditData) -> NDArray[np.bool_]:
    return np.isin(np.arange(len(data)) % 10, HOLDOUT_RESIDUES)


def development_rows(data: CreditData) -> NDArray[np.intp]:
    """Row indices used to develop the model (cross-validation and the final fit)."""
    return np.flatnonzero(~_is_holdout(data)).astype(np.intp)


def holdout_rows(data: CreditData) -> NDArray[np.intp]:
    """Row indices of the fixed hold-out split (:data:`HOLDOUT_RESIDUES`); never used in training."""
    return np.flatnonzero(_is_holdout(data)).astype(np.intp)
