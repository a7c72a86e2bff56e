"""Fixtures of the AML unit tests: the shipped rule set, the development archive, frame builders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from server.aml.amlsim import AmlsimArchive, load_archive
from server.aml.enrichment import EnrichedArchive, enrich
from server.aml.rules import RuleSet, load_rule_set
from server.aml.screening import TRANSACTION_SCHEMA

REPO_ROOT = Path(__file__).resolve().parents[3]
DEV_ARCHIVE = REPO_ROOT.parent / "shared" / "data" / "amlsim" / "20K_fanin200.tgz"
T0 = int(datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()) * 1_000_000
HOUR = 3_600 * 1_000_000
DAY = 24 * HOUR


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rule_set()


@pytest.fixture(scope="session")
def dev_archive() -> AmlsimArchive:
    return load_archive(DEV_ARCHIVE)


@pytest.fixture(scope="session")
def dev_enriched(dev_archive: AmlsimArchive) -> EnrichedArchive:
    return enrich(dev_archive)


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A screening frame from partial rows (defaults: USD, online, US to US)."""
    full = []
    for i, row in enumerate(rows):
        full.append(
            {
                "transaction_id": row.get("transaction_id", f"t{i}"),
                "source_account_id": row["src"],
                "target_account_id": row["dst"],
                "amount_minor": row["amount"],
                "currency": row.get("currency", "USD"),
                "execute_time_us": row["time"],
                "channel": row.get("channel", 2),
                "origin_country": row.get("origin", "US"),
                "counterparty_country": row.get("cp_country", "US"),
            }
        )
    return pl.DataFrame(full, schema=TRANSACTION_SCHEMA)


def history(
    account: str,
    counterparties: list[str],
    *,
    start: int,
    amount: int,
    every: int = DAY,
    prefix: str = "h",
    hour_offset: int = 0,
) -> list[dict[str, Any]]:
    """Ordinary past outgoing transfers of ``account``: one a day, same amount band."""
    return [
        {
            "transaction_id": f"{prefix}{i}",
            "src": account,
            "dst": cp,
            "amount": amount + 1_000 * (i % 7),
            "time": start + i * every + hour_offset,
        }
        for i, cp in enumerate(counterparties)
    ]
