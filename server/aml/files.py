"""Transaction files for ingestion: an AMLSim archive (loaded and enriched) or a CSV.

CSV columns (header required): ``transaction_id``, ``source_account_id``, ``target_account_id``,
``amount`` (decimal text, e.g. ``1250.00``), ``currency`` (ISO 4217), ``execute_time`` (ISO 8601 with
a zone), and optionally ``channel`` (``fintech.aml.v1.Channel`` number), ``origin_country``,
``counterparty_country``, ``counterparty_name``. Rows are sent in file order (arrival order).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from server.aml.amlsim import load_archive
from server.aml.enrichment import EnrichmentConfig, enrich
from server.aml.rules import RuleSet
from server.aml.screening import TRANSACTION_SCHEMA

REQUIRED_CSV = ("transaction_id", "source_account_id", "target_account_id", "amount", "currency", "execute_time")


def load_transactions(path: Path, rules: RuleSet, *, enrichment_seed: int = 20_261_125) -> pl.DataFrame:
    """The file as a screening frame plus ``counterparty_name``, in arrival order.

    Raises:
        ValueError: an unreadable file, a missing column (named) or an unknown currency.
    """
    name = path.name.lower()
    if name.endswith((".tgz", ".tar.gz", ".zip")):
        enriched = enrich(load_archive(path), EnrichmentConfig(seed=enrichment_seed))
        return enriched.transactions.select(list(TRANSACTION_SCHEMA)).with_columns(
            pl.lit("").alias("counterparty_name")
        )
    if not name.endswith(".csv"):
        raise ValueError(f"{path.name}: expected an AMLSim archive (.tgz) or a .csv file")
    raw = pl.read_csv(path, infer_schema=False)
    missing = [c for c in REQUIRED_CSV if c not in raw.columns]
    if missing:
        raise ValueError(f"{path.name}: missing columns {missing}")
    unknown = sorted(set(raw["currency"].unique().to_list()) - set(rules.currencies))
    if unknown:
        raise ValueError(f"{path.name}: column currency has unsupported values {unknown}")
    digits = {c: spec.minor_digits for c, spec in rules.currencies.items()}

    def col(name: str, default: str = "") -> pl.Expr:
        value = pl.col(name).fill_null(default) if name in raw.columns else pl.lit(default)
        return value.alias(name)

    amount = pl.col("amount").str.strip_chars().cast(pl.Decimal(38, 6))
    scale = pl.col("currency").replace_strict({c: 10**d for c, d in digits.items()}, return_dtype=pl.Int64)
    return raw.select(
        pl.col("transaction_id"),
        pl.col("source_account_id"),
        pl.col("target_account_id"),
        (amount * scale).cast(pl.Int64).alias("amount_minor"),
        pl.col("currency"),
        pl.col("execute_time").str.to_datetime(time_zone="UTC").dt.epoch("us").alias("execute_time_us"),
        col("channel", "0").cast(pl.Int8).alias("channel"),
        col("origin_country"),
        col("counterparty_country"),
        col("counterparty_name"),
    )
