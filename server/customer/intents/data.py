"""Labelled intent data: reading ``text,category`` CSV files and the fixed held-out split.

This module owns the CSV format (shared with ``fintech eval intents``), its validation (a bad row is
an error naming the row and the column), where the shared BANKING77 data lives, and the stratified
held-out split. The split is a pure function of the rows: within each intent, rows are ordered by the
sha256 of their text and every fifth one (the 1st, 6th, 11th...) is held out, so it is the same on
every machine and with every library version, and about 20% of each intent.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HOLDOUT_EVERY = 5


class DataError(ValueError):
    """A labelled data file is malformed; the message names the file, row and column."""


@dataclass(frozen=True)
class LabelledText:
    """One question with its intent."""

    text: str
    intent: str


def repo_root() -> Path:
    """The repository root (three levels above this package)."""
    return Path(__file__).resolve().parents[3]


def shared_data_dir() -> Path:
    """``../shared/data`` beside the checkout; scripts may override it with ``FINTECH_SHARED_DATA``."""
    override = os.environ.get("FINTECH_SHARED_DATA")
    if override:
        return Path(override)
    return repo_root().parent / "shared" / "data"


def banking77_dir() -> Path:
    """Folder with ``train.csv`` and ``categories.json``."""
    return shared_data_dir() / "banking77"


def load_categories(path: Path | None = None) -> list[str]:
    """The 77 intent names, in the file's order."""
    source = path or banking77_dir() / "categories.json"
    names = json.loads(source.read_text(encoding="utf-8"))
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DataError(f"{source}: expected a JSON list of intent names")
    return names


def read_labelled_csv(path: Path, known_intents: Sequence[str] | None = None) -> list[LabelledText]:
    """Reads a ``text,category`` CSV.

    Args:
        path: The file (UTF-8, with a header row naming at least ``text`` and ``category``).
        known_intents: When given, every category must be one of these.

    Raises:
        DataError: A missing column, an empty text or category, or an unknown category.
    """
    known = None if known_intents is None else set(known_intents)
    rows: list[LabelledText] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for column in ("text", "category"):
            if column not in header:
                raise DataError(f"{path}: missing column {column!r} (header: {header})")
        for number, row in enumerate(reader, start=2):
            text = (row.get("text") or "").strip()
            intent = (row.get("category") or "").strip()
            if not text:
                raise DataError(f"{path}: row {number}: column 'text' is empty")
            if not intent:
                raise DataError(f"{path}: row {number}: column 'category' is empty")
            if known is not None and intent not in known:
                raise DataError(f"{path}: row {number}: column 'category' has unknown intent {intent!r}")
            rows.append(LabelledText(text=text, intent=intent))
    if not rows:
        raise DataError(f"{path}: no rows")
    return rows


def holdout_split(rows: Sequence[LabelledText]) -> tuple[list[LabelledText], list[LabelledText]]:
    """Splits ``rows`` into (train, held-out), stratified by intent and independent of row order.

    Returns:
        Training rows and held-out rows, each in the input order.
    """
    by_intent: dict[str, list[int]] = defaultdict(list)
    for position, row in enumerate(rows):
        by_intent[row.intent].append(position)
    held: set[int] = set()
    for positions in by_intent.values():
        ordered = sorted(positions, key=lambda i: (hashlib.sha256(rows[i].text.encode()).hexdigest(), i))
        held.update(ordered[::HOLDOUT_EVERY])
    train = [row for i, row in enumerate(rows) if i not in held]
    test = [row for i, row in enumerate(rows) if i in held]
    return train, test


def load_banking77_split() -> tuple[list[LabelledText], list[LabelledText]]:
    """The shared BANKING77 training file, split into (train, held-out)."""
    rows = read_labelled_csv(banking77_dir() / "train.csv", load_categories())
    return holdout_split(rows)
