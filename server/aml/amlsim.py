"""Loader for IBM AMLSim archives (``.tgz`` with ``nodes.csv`` and ``transactions.csv``).

What it does, and why:

* **Transaction ids** are ``{archive}:{row}`` (the 0-based data row of ``transactions.csv``), never a
  content hash: the archives carry no ids and exact duplicate rows are real, separate transfers.
* **Account ids** are ``{prefix}{nodeid}`` (``A123``).
* **Steps to time**: AMLSim advances in steps of one day. Step ``s`` is the day starting
  ``origin + s days`` (``origin`` = 2025-01-01T00:00:00Z by default); the time of day is not in the
  data and comes from the enrichment (:mod:`server.aml.enrichment`).
* **Amount scaling**: AMLSim amounts are unit-less (about 2.5 to 600 in the development file). To
  compare them with per-currency reporting thresholds they are multiplied by one scale per archive,
  ``scale = 1-2-5 rounding of (reference_median / median amount)`` with ``reference_median`` =
  2,500 currency units (a typical retail/SME transfer). The median is label-free and robust, so an
  archive with another amount range lands in the same realistic range; the development file gets
  a scale of 10. Nothing is fitted to labels; no cut-off is derived from the file.
* **Labels** (``isFraud``/``is_sar``, and the pattern where the archive names it) are returned
  separately and are read only to score; the engine never sees them.
* Archives differ: other account counts, amount ranges, patterns, a missing ``fraudStep`` column,
  and the newer AMLSim column names (``orig_acct``/``bene_acct``/``base_amt``/``tran_timestamp``,
  ``acct_id``/``is_sar``) are accepted.
"""

from __future__ import annotations

import io
import math
import re
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

DEFAULT_ORIGIN = datetime(2025, 1, 1, tzinfo=UTC)
STEP_SECONDS = 86_400
REFERENCE_MEDIAN_UNITS = 2_500.0
PATTERN_NAMES = {
    "fan-in": "fan_in",
    "fanin": "fan_in",
    "fan-out": "fan_out",
    "fanout": "fan_out",
    "cycle": "cycle",
    "bipartite": "bipartite",
    "stack": "stack",
    "scatter-gather": "scatter_gather",
    "gather-scatter": "gather_scatter",
    "random": "random",
}

_SOURCE = ("sourceNodeId", "orig_acct", "src", "source")
_TARGET = ("targetNodeId", "bene_acct", "dst", "target")
_AMOUNT = ("value", "base_amt", "amount")
_TIME = ("time", "step", "tran_timestamp")
_NODE = ("nodeid", "acct_id", "account_id", "id")
_FRAUD = ("isFraud", "is_sar", "IS_SAR", "is_fraud")
_PATTERN = ("alert_type", "pattern", "typology")


class ArchiveError(ValueError):
    """The archive is missing a file or a column; the message names it."""


@dataclass(frozen=True)
class AmlsimArchive:
    """One AMLSim simulation, loaded.

    Attributes:
        name: Archive name without extension (``20K_fanin200``); prefix of transaction ids.
        transactions: ``row``, ``transaction_id``, ``source_node``, ``target_node``, ``value`` (raw
            float), ``step`` (int), in file order.
        accounts: ``node_id``, ``account_id``, ``init_balance`` (null when absent).
        labels: ``node_id``, ``account_id``, ``is_laundering`` (bool), ``pattern`` (str or null).
        metadata: ``metadata.txt`` lines (empty when absent).
    """

    name: str
    transactions: pl.DataFrame
    accounts: pl.DataFrame
    labels: pl.DataFrame
    metadata: tuple[str, ...]


def _pick(columns: list[str], options: tuple[str, ...], what: str, file: str) -> str:
    for option in options:
        if option in columns:
            return option
    raise ArchiveError(f"{file}: no {what} column (expected one of {list(options)}, found {columns})")


def _members(path: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(path, "r:*") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            base = member.name.rsplit("/", 1)[-1]
            if base.endswith((".csv", ".txt")):
                extracted = archive.extractfile(member)
                if extracted is not None:
                    files[base] = extracted.read()
    return files


def patterns_from_metadata(lines: tuple[str, ...]) -> list[str]:
    """Pattern names listed by ``metadata.txt`` (``patterns: 200 fan-in, 200 cycle``)."""
    for line in lines:
        if line.lower().startswith("patterns"):
            found = []
            for name in re.findall(r"[a-zA-Z][a-zA-Z-]+", line.split(":", 1)[-1]):
                key = name.lower()
                if key in PATTERN_NAMES:
                    found.append(PATTERN_NAMES[key])
            return found
    return []


def load_archive(path: Path, *, account_prefix: str = "A") -> AmlsimArchive:
    """Read an AMLSim ``.tgz`` archive.

    Args:
        path: The archive.
        account_prefix: Prefix of generated account ids.

    Raises:
        ArchiveError: a missing file or column (named), or an empty transactions file.
        FileNotFoundError: the archive does not exist.
    """
    if not path.exists():
        raise FileNotFoundError(f"AMLSim archive not found: {path}")
    name = path.name
    for suffix in (".tar.gz", ".tgz", ".tar"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    files = _members(path)
    tx_file = next((f for f in ("transactions.csv", "tx.csv") if f in files), None)
    node_file = next((f for f in ("nodes.csv", "accounts.csv") if f in files), None)
    if tx_file is None:
        raise ArchiveError(f"{path.name}: no transactions.csv")
    if node_file is None:
        raise ArchiveError(f"{path.name}: no nodes.csv or accounts.csv")

    raw_tx = pl.read_csv(io.BytesIO(files[tx_file]), infer_schema_length=10_000)
    if raw_tx.height == 0:
        raise ArchiveError(f"{tx_file}: no transactions")
    cols = raw_tx.columns
    src_c = _pick(cols, _SOURCE, "source account", tx_file)
    dst_c = _pick(cols, _TARGET, "target account", tx_file)
    amt_c = _pick(cols, _AMOUNT, "amount", tx_file)
    time_c = _pick(cols, _TIME, "time step", tx_file)
    step = raw_tx[time_c]
    if step.dtype == pl.Utf8:
        # Newer AMLSim writes timestamps; turn them into day steps from the first one.
        parsed = step.str.to_datetime(strict=False)
        if parsed.null_count():
            raise ArchiveError(f"{tx_file}: column {time_c} has unparseable times")
        days = (parsed - parsed.min()).dt.total_days()
        step = days.cast(pl.Int64)
    transactions = pl.DataFrame(
        {
            "row": pl.int_range(0, raw_tx.height, eager=True).cast(pl.Int64),
            "source_node": raw_tx[src_c].cast(pl.Int64),
            "target_node": raw_tx[dst_c].cast(pl.Int64),
            "value": raw_tx[amt_c].cast(pl.Float64),
            "step": step.cast(pl.Int64),
        }
    ).with_columns(
        pl.concat_str(pl.lit(f"{name}:"), pl.col("row").cast(pl.Utf8)).alias("transaction_id"),
    )
    if transactions["value"].null_count() or int((transactions["value"] <= 0).sum()):
        raise ArchiveError(f"{tx_file}: column {amt_c} has missing or non-positive amounts")

    raw_nodes = pl.read_csv(io.BytesIO(files[node_file]), infer_schema_length=10_000)
    ncols = raw_nodes.columns
    node_c = _pick(ncols, _NODE, "account id", node_file)
    fraud_c = _pick(ncols, _FRAUD, "laundering label", node_file)
    nodes = raw_nodes.select(
        pl.col(node_c).cast(pl.Int64).alias("node_id"),
        (pl.col(fraud_c).cast(pl.Utf8).str.to_lowercase().is_in(["1", "true", "t", "yes"])).alias("is_laundering"),
        (pl.col("init_balance").cast(pl.Float64) if "init_balance" in ncols else pl.lit(None, pl.Float64)).alias(
            "init_balance"
        ),
        (
            pl.col(next(c for c in _PATTERN if c in ncols)).cast(pl.Utf8)
            if any(c in ncols for c in _PATTERN)
            else pl.lit(None, pl.Utf8)
        ).alias("pattern"),
    )
    # Accounts seen only in transactions still exist (another archive may omit them from nodes).
    seen = pl.concat([transactions["source_node"], transactions["target_node"]]).unique().to_frame("node_id")
    accounts = (
        nodes.select("node_id", "init_balance")
        .join(seen, on="node_id", how="full", coalesce=True)
        .sort("node_id")
        .with_columns(pl.concat_str(pl.lit(account_prefix), pl.col("node_id").cast(pl.Utf8)).alias("account_id"))
        .select("node_id", "account_id", "init_balance")
    )
    metadata = tuple(files.get("metadata.txt", b"").decode("utf-8", "replace").splitlines())
    named = patterns_from_metadata(metadata)
    labels = (
        accounts.select("node_id", "account_id")
        .join(nodes.select("node_id", "is_laundering", "pattern"), on="node_id", how="left")
        .with_columns(pl.col("is_laundering").fill_null(False))
    )
    if labels["pattern"].null_count() == labels.height and len(named) == 1:
        # A single-typology archive names its pattern in metadata.txt: every laundering account has it.
        labels = labels.with_columns(
            pl.when(pl.col("is_laundering")).then(pl.lit(named[0])).otherwise(None).alias("pattern")
        )
    return AmlsimArchive(name=name, transactions=transactions, accounts=accounts, labels=labels, metadata=metadata)


def amount_scale(values: pl.Series, reference_median: float = REFERENCE_MEDIAN_UNITS) -> float:
    """The archive's amount scale: ``reference_median / median`` rounded to the 1-2-5 series.

    Args:
        values: Raw amounts of the archive.
        reference_median: The currency amount the median transfer should become.
    """
    median = float(values.median())  # type: ignore[arg-type]
    if not math.isfinite(median) or median <= 0:
        raise ArchiveError("amounts: median is not positive")
    raw = reference_median / median
    exponent = math.floor(math.log10(raw))
    mantissa = raw / 10**exponent
    nice = min((1.0, 2.0, 5.0, 10.0), key=lambda c: abs(math.log(mantissa / c)))
    return float(nice * 10**exponent)


def step_to_epoch_us(step: pl.Expr, origin: datetime = DEFAULT_ORIGIN) -> pl.Expr:
    """Start of step ``s`` (``origin + s days``) in microseconds since the Unix epoch."""
    origin_us = int(origin.timestamp()) * 1_000_000
    return pl.lit(origin_us, pl.Int64) + step.cast(pl.Int64) * (STEP_SECONDS * 1_000_000)
