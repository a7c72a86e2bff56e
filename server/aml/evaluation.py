"""Screen an AMLSim archive from scratch with the shipped rule set and score it against its labels.

The engine never sees the labels: they are read only to score. ``fintech eval aml`` and
``eval/aml.py`` call :func:`evaluate_archive`. Figures, at account level (an account counts as
flagged when the screening raised at least one alert on it): precision, recall and F1 for
laundering accounts; alerts and flagged accounts per 1,000 accounts; recall per laundering
pattern where the archive names it; which rules fired; decisions per transaction; time taken.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import polars as pl

from server.aml.amlsim import load_archive
from server.aml.enrichment import EnrichmentConfig, enrich
from server.aml.rules import DEFAULT_RULES_FILE, load_rule_set
from server.aml.screening import ENGINE_VERSION, ScreeningEngine

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_data() -> Path:
    """``../shared/data`` beside the checkout, or ``FINTECH_SHARED_DATA``."""
    override = os.environ.get("FINTECH_SHARED_DATA")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data"


def default_archive() -> Path:
    """The development simulation."""
    return shared_data() / "amlsim" / "20K_fanin200.tgz"


def _ratio(num: float, den: float) -> float:
    return round(num / den, 4) if den else 0.0


def evaluate_archive(
    archive_path: Path, out_path: Path | None = None, *, rules_file: Path = DEFAULT_RULES_FILE
) -> dict[str, Any]:
    """Screen an AMLSim archive from scratch and score the alerts against its labels.

    Args:
        archive_path: The ``.tgz`` archive.
        out_path: Where to write the JSON figures (not written when None).
        rules_file: The rule set (the shipped one by default).

    Returns:
        The figures written.
    """
    started = time.perf_counter()
    archive = load_archive(archive_path)
    loaded = time.perf_counter()
    enriched = enrich(archive, EnrichmentConfig())
    enriched_at = time.perf_counter()
    rules = load_rule_set(rules_file)
    engine = ScreeningEngine(rules)
    engine.set_segments(enriched.segments)
    result = engine.screen(enriched.transactions.drop("row", "step"))
    screened = time.perf_counter()

    labels = archive.labels
    accounts = labels.height
    positives = set(labels.filter(pl.col("is_laundering"))["account_id"].to_list())
    flagged = set(result.alerts["account_id"].to_list())
    tp = len(flagged & positives)
    precision = _ratio(tp, len(flagged))
    recall = _ratio(tp, len(positives))
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0

    per_pattern: dict[str, Any] = {}
    if labels["pattern"].null_count() < labels.height:
        for pattern, members in (
            labels.filter(pl.col("is_laundering") & pl.col("pattern").is_not_null())
            .group_by("pattern")
            .agg(pl.col("account_id"))
            .sort("pattern")
            .iter_rows()
        ):
            found = len(set(members) & flagged)
            per_pattern[str(pattern)] = {
                "accounts": len(members),
                "flagged": found,
                "recall": _ratio(found, len(members)),
            }
    # Laundering accounts that moved money at all (an upper bound for any transaction monitoring).
    active = set(enriched.transactions["source_account_id"].to_list()) | set(
        enriched.transactions["target_account_id"].to_list()
    )
    rules_fired: dict[str, Any] = {}
    if result.hits.height:
        by_rule = result.hits.group_by("reason_code").agg(pl.col("subject_account_id").unique()).sort("reason_code")
        for code, subjects in by_rule.iter_rows():
            subject_set = set(subjects)
            rules_fired[code] = {
                "hits": int((result.hits["reason_code"] == code).sum()),
                "laundering_accounts": len(subject_set & positives),
                "other_accounts": len(subject_set - positives),
            }
    decisions = {
        name: int((result.decisions["decision"] == value).sum())
        for name, value in (("CLEAR", 1), ("REVIEW", 2), ("BLOCK", 3))
    }
    figures: dict[str, Any] = {
        "archive": archive.name,
        "rule_set_version": result.rule_set_version,
        "engine_version": ENGINE_VERSION,
        "accounts": accounts,
        "transactions": archive.transactions.height,
        "laundering_accounts": len(positives),
        "laundering_accounts_with_transfers": len(positives & active),
        "amount_scale": enriched.scale,
        "account_level": {
            "flagged_accounts": len(flagged),
            "true_positives": tp,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "recall_of_active_laundering_accounts": _ratio(tp, len(positives & active)),
        },
        "alerts": result.alerts.height,
        "alerts_per_1000_accounts": round(1000 * result.alerts.height / accounts, 2) if accounts else 0.0,
        "flagged_accounts_per_1000_accounts": round(1000 * len(flagged) / accounts, 2) if accounts else 0.0,
        "recall_per_pattern": per_pattern,
        "rules_fired": rules_fired,
        "decisions": decisions,
        "round_trip_search_truncated": result.round_trip_truncated,
        "seconds": {
            "load": round(loaded - started, 3),
            "enrich": round(enriched_at - loaded, 3),
            "screen": round(screened - enriched_at, 3),
            "total": round(screened - started, 3),
        },
        "notes": (
            "Labels are read only to score. Enrichment (countries, channels, hours, segments) is seeded and "
            "label-blind, so time and place rules only add noise on AMLSim data."
        ),
    }
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(figures, indent=2) + "\n")
    return figures
