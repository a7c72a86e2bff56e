"""Seeded synthetic laundering networks for tests and benchmarks (never used by the engine).

:func:`plant_layering_network` builds the seed's case: a layering network of 237 accounts and
1,856 transfers (by default) — origins place funds just below the reporting threshold, four layers
of mules pass them on within hours to a day and a half, keeping 95-99% per hop, and beneficiaries
collect; one beneficiary sends money back to an origin (a round trip). A few ordinary transfers
link the network to background accounts, as real networks are not isolated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

HOUR_US = 3_600 * 1_000_000


@dataclass(frozen=True)
class PlantedNetwork:
    """A planted network and its transfers.

    Attributes:
        accounts: Planted account ids, by layer: ``origins``, ``layers`` (list of lists), ``beneficiaries``.
        transactions: The network's transfers (screening schema), sorted by time.
        links: Ordinary transfers between planted and background accounts (screening schema).
    """

    origins: tuple[str, ...]
    layers: tuple[tuple[str, ...], ...]
    beneficiaries: tuple[str, ...]
    transactions: pl.DataFrame
    links: pl.DataFrame

    @property
    def account_ids(self) -> tuple[str, ...]:
        """Every planted account."""
        return self.origins + tuple(a for layer in self.layers for a in layer) + self.beneficiaries


def plant_layering_network(
    *,
    seed: int,
    start_us: int,
    background_accounts: list[str],
    prefix: str = "PL",
    n_origins: int = 12,
    layer_sizes: tuple[int, ...] = (60, 60, 55, 40),
    n_beneficiaries: int = 10,
    n_transactions: int = 1_856,
    threshold_minor: int = 1_000_000,
    currency: str = "USD",
    days: int = 30,
) -> PlantedNetwork:
    """Build a seeded layering network.

    Args:
        seed: Random seed.
        start_us: Earliest transfer time (microseconds since the epoch).
        background_accounts: Ordinary accounts to link the network to.
        prefix: Prefix of planted account ids.
        n_origins: Accounts placing the funds.
        layer_sizes: Mule accounts per layer.
        n_beneficiaries: Accounts collecting the funds.
        n_transactions: Network transfers; must be ``k * (len(layer_sizes) + 1) + r`` with ``r``
            extra round-trip transfers (beneficiary back to origin), ``0 <= r < hops``.
        threshold_minor: Reporting threshold: placements are 80-99% of it.
        currency: Currency of every transfer.
        days: Placements start within this many days.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    origins = [f"{prefix}-O{i:03d}" for i in range(n_origins)]
    layers = [[f"{prefix}-L{li}-{i:03d}" for i in range(size)] for li, size in enumerate(layer_sizes)]
    beneficiaries = [f"{prefix}-B{i:03d}" for i in range(n_beneficiaries)]
    stages = [origins, *layers, beneficiaries]
    hops = len(stages) - 1
    flows, extra = divmod(n_transactions, hops)
    # Every account takes part: a shuffled round-robin per stage.
    picks = []
    for stage in stages:
        reps = -(-flows // len(stage))
        picks.append(rng.permutation(np.tile(np.arange(len(stage)), reps))[:flows])
    start = start_us + rng.integers(0, days * 24 * HOUR_US, flows)
    amount = rng.uniform(0.80, 0.99, flows) * threshold_minor
    src_ids: list[str] = []
    dst_ids: list[str] = []
    amounts: list[np.ndarray] = []
    times: list[np.ndarray] = []
    t = start.copy()
    a = amount.copy()
    for h in range(hops):
        src_ids.extend(stages[h][i] for i in picks[h])
        dst_ids.extend(stages[h + 1][i] for i in picks[h + 1])
        amounts.append(np.rint(a).astype(np.int64))
        times.append(t.copy())
        a = a * rng.uniform(0.95, 0.99, flows)
        t = t + rng.integers(1 * HOUR_US, 36 * HOUR_US, flows)
    # Round trips: a beneficiary sends part of what it received back to the origin of that flow.
    for r in range(extra):
        src_ids.append(stages[-1][int(picks[-1][r])])
        dst_ids.append(stages[0][int(picks[0][r])])
        amounts.append(np.array([int(a[r] * 0.9)], np.int64))
        times.append(np.array([int(t[r])], np.int64))
    all_times = np.concatenate(times)
    tx = pl.DataFrame(
        {
            "transaction_id": [f"{prefix}-T{i:05d}" for i in range(len(src_ids))],
            "source_account_id": src_ids,
            "target_account_id": dst_ids,
            "amount_minor": np.concatenate(amounts),
            "currency": currency,
            "execute_time_us": all_times,
            "channel": np.full(len(src_ids), 5, np.int8),
            "origin_country": "US",
            "counterparty_country": "US",
        }
    ).sort("execute_time_us", "transaction_id")
    # Ordinary links: each origin is paid by two background accounts, each beneficiary pays two.
    link_src: list[str] = []
    link_dst: list[str] = []
    bg = np.array(background_accounts)
    for o in origins:
        link_src.extend(bg[rng.integers(0, bg.size, 2)].tolist())
        link_dst.extend([o, o])
    for b in beneficiaries:
        link_src.extend([b, b])
        link_dst.extend(bg[rng.integers(0, bg.size, 2)].tolist())
    k = len(link_src)
    links = pl.DataFrame(
        {
            "transaction_id": [f"{prefix}-X{i:05d}" for i in range(k)],
            "source_account_id": link_src,
            "target_account_id": link_dst,
            "amount_minor": rng.integers(100_000, 400_000, k),
            "currency": currency,
            "execute_time_us": start_us + rng.integers(0, (days + 10) * 24 * HOUR_US, k),
            "channel": np.full(k, 2, np.int8),
            "origin_country": "US",
            "counterparty_country": "US",
        }
    ).sort("execute_time_us", "transaction_id")
    return PlantedNetwork(
        origins=tuple(origins),
        layers=tuple(tuple(layer) for layer in layers),
        beneficiaries=tuple(beneficiaries),
        transactions=tx,
        links=links,
    )
