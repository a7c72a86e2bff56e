"""Seeded, reproducible enrichment of AMLSim archives: countries, channels, hours, segments, currency.

AMLSim has day steps and no places, so the time and place rules would have nothing to work on.
This module adds them *outside* the engine, from a seeded generator, never from the labels:

* per account (drawn in ``node_id`` order): a home country (89% ``US``; 10% spread over
  low-risk partner countries; 1% over five high-risk jurisdictions), a customer segment
  (85% RETAIL, 12% SME, 3% CORPORATE), a primary channel (ONLINE 40%, MOBILE 35%, BRANCH 10%,
  WIRE 10%, CARD 5%) and an active-hours centre (uniform 08:00-20:00);
* per transfer (drawn in file-row order): the hour of day (normal around the payer's centre,
  sd 2.5 h; 3% uniform over the day), minute and second; the channel (the payer's primary 85% of
  the time, else uniform); the origin country (the payer's home, 1% a random partner country:
  travel); the counterparty country (the payee's home); the currency (one per archive, USD).

Amounts are scaled by :func:`server.aml.amlsim.amount_scale` and stored in minor units. The
result is sorted by time (then file row): that is the arrival order screening uses. Because the
draws ignore the labels, the time and place rules can only add noise on AMLSim data; they are
there for real data, and the evaluation shows what they cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl

from server.aml.amlsim import DEFAULT_ORIGIN, AmlsimArchive, amount_scale, step_to_epoch_us

PARTNER_COUNTRIES = ("CA", "GB", "DE", "FR", "MX", "NL", "ES", "CH", "JP", "SG")
CHANNELS = (2, 3, 1, 5, 6)  # ONLINE, MOBILE, BRANCH, WIRE, CARD (fintech.aml.v1.Channel numbers)
CHANNEL_WEIGHTS = (0.40, 0.35, 0.10, 0.10, 0.05)
SEGMENTS = ("RETAIL", "SME", "CORPORATE")
SEGMENT_WEIGHTS = (0.85, 0.12, 0.03)


@dataclass(frozen=True)
class EnrichmentConfig:
    """Parameters of the enrichment (defaults are the documented ones)."""

    seed: int = 20_261_125
    currency: str = "USD"
    home_country: str = "US"
    home_share: float = 0.89
    partner_share: float = 0.10
    high_risk_countries: tuple[str, ...] = ("IR", "MM", "NG", "VN", "LB")
    travel_share: float = 0.01
    primary_channel_share: float = 0.85
    hour_sd: float = 2.5
    random_hour_share: float = 0.03
    origin: datetime = DEFAULT_ORIGIN
    scale: float | None = None
    partner_countries: tuple[str, ...] = field(default=PARTNER_COUNTRIES)


@dataclass(frozen=True)
class EnrichedArchive:
    """An archive ready for screening.

    Attributes:
        transactions: The screening schema (:data:`server.aml.screening.TRANSACTION_SCHEMA`) plus
            ``row`` and ``step``, sorted by time then row (arrival order).
        segments: ``account_id``, ``segment``.
        profiles: Per account: ``account_id``, ``home_country``, ``segment``, ``primary_channel``,
            ``hour_centre``.
        scale: The amount scale applied.
    """

    transactions: pl.DataFrame
    segments: pl.DataFrame
    profiles: pl.DataFrame
    scale: float


def enrich(archive: AmlsimArchive, config: EnrichmentConfig | None = None) -> EnrichedArchive:
    """Add countries, channels, hours, segments and currency to an archive, reproducibly.

    Args:
        archive: A loaded archive (labels are not read).
        config: Enrichment parameters; the documented defaults when omitted.
    """
    cfg = config or EnrichmentConfig()
    rng = np.random.Generator(np.random.PCG64(cfg.seed))
    accounts = archive.accounts.sort("node_id")
    k = accounts.height
    # Accounts: home country, segment, channel, hour centre.
    kind = rng.random(k)
    partner = np.array(cfg.partner_countries)[rng.integers(0, len(cfg.partner_countries), k)]
    risky = np.array(cfg.high_risk_countries)[rng.integers(0, len(cfg.high_risk_countries), k)]
    home = np.where(
        kind < cfg.home_share, cfg.home_country, np.where(kind < cfg.home_share + cfg.partner_share, partner, risky)
    )
    segment = np.array(SEGMENTS)[rng.choice(len(SEGMENTS), size=k, p=SEGMENT_WEIGHTS)]
    primary = np.array(CHANNELS)[rng.choice(len(CHANNELS), size=k, p=CHANNEL_WEIGHTS)]
    centre = rng.uniform(8.0, 20.0, k)
    profiles = pl.DataFrame(
        {
            "node_id": accounts["node_id"],
            "account_id": accounts["account_id"],
            "home_country": home,
            "segment": segment,
            "primary_channel": primary.astype(np.int8),
            "hour_centre": centre,
        }
    )

    tx = archive.transactions.sort("row")
    n = tx.height
    lookup = accounts.select("node_id").with_row_index("pos").with_columns(pl.col("pos").cast(pl.Int64))
    src_pos = (
        tx.select("source_node")
        .join(lookup, left_on="source_node", right_on="node_id", how="left", maintain_order="left")["pos"]
        .to_numpy()
    )
    dst_pos = (
        tx.select("target_node")
        .join(lookup, left_on="target_node", right_on="node_id", how="left", maintain_order="left")["pos"]
        .to_numpy()
    )
    # Transfers: hour, minute, second, channel, travel.
    hour_f = rng.normal(centre[src_pos], cfg.hour_sd)
    random_hour = rng.random(n) < cfg.random_hour_share
    hour_f = np.where(random_hour, rng.uniform(0, 24, n), hour_f)
    hour = np.mod(np.floor(hour_f), 24).astype(np.int64)
    minute = rng.integers(0, 60, n)
    second = rng.integers(0, 60, n)
    other_channel = np.array(CHANNELS)[rng.integers(0, len(CHANNELS), n)]
    channel = np.where(rng.random(n) < cfg.primary_channel_share, primary[src_pos], other_channel)
    travel = rng.random(n) < cfg.travel_share
    travel_country = np.array(cfg.partner_countries)[rng.integers(0, len(cfg.partner_countries), n)]
    origin_country = np.where(travel, travel_country, home[src_pos])
    cp_country = home[dst_pos]

    scale = cfg.scale if cfg.scale is not None else amount_scale(tx["value"])
    minor = np.rint(tx["value"].to_numpy() * scale * 100).astype(np.int64)
    seconds_in_day = hour * 3600 + minute * 60 + second
    transactions = (
        tx.select("row", "transaction_id", "step")
        .with_columns(
            pl.Series("source_account_id", accounts["account_id"].gather(src_pos)),
            pl.Series("target_account_id", accounts["account_id"].gather(dst_pos)),
            pl.Series("amount_minor", np.maximum(minor, 1)),
            pl.lit(cfg.currency).alias("currency"),
            (step_to_epoch_us(pl.col("step"), cfg.origin) + pl.Series(seconds_in_day * 1_000_000)).alias(
                "execute_time_us"
            ),
            pl.Series("channel", channel.astype(np.int8)),
            pl.Series("origin_country", origin_country),
            pl.Series("counterparty_country", cp_country),
        )
        .sort("execute_time_us", "row")
        .select(
            "transaction_id",
            "source_account_id",
            "target_account_id",
            "amount_minor",
            "currency",
            "execute_time_us",
            "channel",
            "origin_country",
            "counterparty_country",
            "row",
            "step",
        )
    )
    return EnrichedArchive(
        transactions=transactions,
        segments=profiles.select("account_id", "segment"),
        profiles=profiles.drop("node_id"),
        scale=scale,
    )
