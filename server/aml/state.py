"""Incremental per-account screening state: what the stream carries from one micro-batch to the next.

The state holds every aggregate the rules compare against: per account and direction
(outgoing / incoming) the prior transfer count and quantised log-amount sum (all legs, and
"regular" legs only), the first time seen, hour-of-day and channel histograms of outgoing
transfers, the (account, country) pairs already seen, the peer aggregates per currency and
segment (as of the start of the current day), and the *tail*: the legs (one per side of a
transfer) younger than the longest rule window, sorted by (account, direction, arrival) so a
micro-batch is merged into it rather than sorted with it. All aggregates are integers,
so screening a set of transfers in one batch or in any split into micro-batches gives
bit-identical decisions.

The state serialises to one self-describing blob (:meth:`ScreeningState.to_bytes`; NumPy
``.npz`` with a JSON header, no pickle) that the service keeps in shared storage, so replicas
and restarts see one history.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

STATE_FORMAT = 4
N_HOURS = 24
N_CHANNELS = 8

# Leg columns kept in the tail (name -> dtype), sorted by (account * 2 + direction, sequence).
TAIL_COLUMNS: dict[str, type[np.generic]] = {
    "acct": np.int64,
    "cp": np.int64,
    "dir": np.int64,
    "amount": np.int64,
    "t": np.int64,
    "seq": np.int64,
    "small": np.bool_,
    "band": np.bool_,
    "newcp": np.bool_,
    "cur": np.int64,
}

# Per-account arrays: name -> (dtype, columns per account); "dir" arrays have two slots (out, in).
ACCOUNT_ARRAYS: dict[str, tuple[type[np.generic], int]] = {
    "segment": (np.int64, 1),
    "first_t": (np.int64, 1),
    "dir_count": (np.int64, 2),
    "dir_qlog": (np.int64, 2),
    "reg_count": (np.int64, 2),
    "reg_qlog": (np.int64, 2),
    "hour_hist": (np.int64, N_HOURS),
    "channel_hist": (np.int64, N_CHANNELS),
}


@dataclass
class ScreeningState:
    """Everything the engine remembers between micro-batches (persistable).

    Attributes:
        rule_set_version: The rule set the state was built under; restoring under another
            version is refused (windows and flags would not match).
        n_currencies: Rows of the peer tables.
        n_segments: Columns of the peer tables.
        account_ids: Account id per internal index.
        accounts: Per-account arrays (see ``ACCOUNT_ARRAYS``); 2-D ones have one row per account.
        seen_places: Sorted ``account << 16 | country`` pairs already seen on outgoing transfers.
        country_codes: Country code per internal index (index 0 is "" = unknown).
        peer_count: Legs per (currency, segment) on completed days.
        peer_qlog: Their quantised log-amount sum.
        peer_day_count: Legs per (currency, segment) so far on ``peer_day``.
        peer_day_qlog: Their quantised log-amount sum.
        peer_day: The current day (engine days); -1 before the first transfer.
        tail: Legs younger than the longest window, sorted by (account, direction, arrival).
        recent_ids: Transaction id of every transfer from sequence ``recent_seq0`` on (the tail's
            transfers: arrival order is time order, so they are one contiguous range).
        recent_seq0: Sequence number of ``recent_ids[0]``.
        watermark: Latest effective time (engine seconds); later transfers never go back.
        next_seq: Arrival sequence number of the next transaction.
    """

    rule_set_version: str
    n_currencies: int
    n_segments: int
    account_ids: pl.Series = field(default_factory=lambda: pl.Series("account_id", [], dtype=pl.Utf8))
    accounts: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    seen_places: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    country_codes: list[str] = field(default_factory=lambda: [""])
    peer_count: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    peer_qlog: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    peer_day_count: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    peer_day_qlog: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    peer_day: int = -1
    tail: dict[str, NDArray[Any]] = field(default_factory=dict)
    recent_ids: pl.Series = field(default_factory=lambda: pl.Series("tx_id", [], dtype=pl.Utf8))
    recent_seq0: int = 0
    watermark: int = 0
    next_seq: int = 0

    def __post_init__(self) -> None:
        shape = (self.n_currencies, self.n_segments)
        for name in ("peer_count", "peer_qlog", "peer_day_count", "peer_day_qlog"):
            if getattr(self, name).shape != shape:
                setattr(self, name, np.zeros(shape, dtype=np.int64))
        for name, (dtype, width) in ACCOUNT_ARRAYS.items():
            if name not in self.accounts:
                self.accounts[name] = np.zeros((0, width) if width > 1 else 0, dtype=dtype)
        for name, dtype in TAIL_COLUMNS.items():
            if name not in self.tail:
                self.tail[name] = np.zeros(0, dtype=dtype)

    @property
    def n_accounts(self) -> int:
        """Accounts known to the state."""
        return self.account_ids.len()

    def registry(self) -> pl.DataFrame:
        """Account id -> internal index, as a frame to join batches against."""
        return pl.DataFrame({"account_id": self.account_ids, "idx": np.arange(self.n_accounts, dtype=np.int64)})

    def grow(self, new_ids: pl.Series, segments: NDArray[np.int64]) -> None:
        """Register new accounts (ids not yet known) with their segment indices."""
        k = new_ids.len()
        if k == 0:
            return
        self.account_ids = pl.concat([self.account_ids, new_ids.cast(pl.Utf8).rename("account_id")])
        for name, (dtype, width) in ACCOUNT_ARRAYS.items():
            if name == "segment":
                extra: NDArray[Any] = segments.astype(dtype)
            elif name == "first_t":
                extra = np.full(k, -1, dtype=dtype)
            else:
                extra = np.zeros((k, width) if width > 1 else k, dtype=dtype)
            self.accounts[name] = np.concatenate([self.accounts[name], extra])

    def country_index(self, *columns: pl.Series) -> NDArray[np.int64]:
        """Internal index per country code of the concatenated ``columns``, registering unseen codes.

        Unseen codes are registered column by column, each column's sorted (deterministic); the
        lookup itself is one pass over all columns.
        """
        known = {c: i for i, c in enumerate(self.country_codes)}
        for codes in columns:
            values = codes.to_list() if codes.len() <= 4_096 else codes.unique().to_list()
            for code in sorted({c for c in values if c not in known}):
                known[code] = len(self.country_codes)
                self.country_codes.append(code)
        if len(self.country_codes) > 65_535:
            raise ValueError("more than 65,535 distinct country codes")
        if sum(c.len() for c in columns) <= 8_192:  # micro-batches: a dict beats an expression's fixed cost
            return np.fromiter((known[c] for codes in columns for c in codes.to_list()), np.int64)
        return pl.concat(list(columns)).replace_strict(known, return_dtype=pl.Int64).to_numpy()

    def snapshot(self) -> ScreeningState:
        """An independent copy (arrays copied) that later micro-batches cannot change.

        The engine updates the arrays in place (``np.add.at`` on the aggregates), so a checkpoint
        serialised while the stream goes on works on this copy; copying costs ~2 ms for a 16 MB state
        where serialising costs ~36 ms and committing the blob 100-300 ms.
        """
        return ScreeningState(
            rule_set_version=self.rule_set_version,
            n_currencies=self.n_currencies,
            n_segments=self.n_segments,
            account_ids=self.account_ids.clone(),
            accounts={name: values.copy() for name, values in self.accounts.items()},
            seen_places=self.seen_places.copy(),
            country_codes=list(self.country_codes),
            peer_count=self.peer_count.copy(),
            peer_qlog=self.peer_qlog.copy(),
            peer_day_count=self.peer_day_count.copy(),
            peer_day_qlog=self.peer_day_qlog.copy(),
            peer_day=self.peer_day,
            tail={name: column.copy() for name, column in self.tail.items()},
            recent_ids=self.recent_ids.clone(),
            recent_seq0=self.recent_seq0,
            watermark=self.watermark,
            next_seq=self.next_seq,
        )

    def to_bytes(self) -> bytes:
        """Serialise the whole state."""
        header = {
            "format": STATE_FORMAT,
            "rule_set_version": self.rule_set_version,
            "n_currencies": self.n_currencies,
            "n_segments": self.n_segments,
            "watermark": self.watermark,
            "next_seq": self.next_seq,
            "peer_day": self.peer_day,
            "recent_seq0": self.recent_seq0,
        }
        arrays: dict[str, NDArray[Any]] = {
            "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            "account_ids": np.array(self.account_ids.to_list(), dtype=np.str_),
            "country_codes": np.array(self.country_codes, dtype=np.str_),
            "seen_places": self.seen_places,
            "peer_count": self.peer_count,
            "peer_qlog": self.peer_qlog,
            "peer_day_count": self.peer_day_count,
            "peer_day_qlog": self.peer_day_qlog,
            "recent_ids": np.array(self.recent_ids.to_list(), dtype=np.str_),
        }
        for name, values in self.accounts.items():
            arrays[f"acct.{name}"] = values
        for name, column in self.tail.items():
            arrays[f"tail.{name}"] = column
        buffer = io.BytesIO()
        # Uncompressed: compressing a 20,000-account state took 0.6 s against 0.04 s, on the commit path.
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes, *, rule_set_version: str) -> ScreeningState:
        """Restore a state written by :meth:`to_bytes`.

        Raises:
            ValueError: the blob is of another format or another rule-set version.
        """
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            header = json.loads(data["header"].tobytes().decode())
            if header.get("format") != STATE_FORMAT:
                raise ValueError(f"state format {header.get('format')!r} is not {STATE_FORMAT}")
            if header["rule_set_version"] != rule_set_version:
                raise ValueError(
                    f"state was built under rule set {header['rule_set_version']!r}, not {rule_set_version!r}"
                )
            ids = [str(a) for a in data["account_ids"].tolist()]
            return cls(
                rule_set_version=header["rule_set_version"],
                n_currencies=int(header["n_currencies"]),
                n_segments=int(header["n_segments"]),
                account_ids=pl.Series("account_id", ids, dtype=pl.Utf8),
                accounts={name: data[f"acct.{name}"].astype(dtype) for name, (dtype, _) in ACCOUNT_ARRAYS.items()},
                seen_places=data["seen_places"].astype(np.int64),
                country_codes=[str(c) for c in data["country_codes"].tolist()],
                peer_count=data["peer_count"],
                peer_qlog=data["peer_qlog"],
                peer_day_count=data["peer_day_count"],
                peer_day_qlog=data["peer_day_qlog"],
                peer_day=int(header["peer_day"]),
                tail={name: data[f"tail.{name}"].astype(dtype) for name, dtype in TAIL_COLUMNS.items()},
                recent_ids=pl.Series("tx_id", [str(t) for t in data["recent_ids"].tolist()], dtype=pl.Utf8),
                recent_seq0=int(header["recent_seq0"]),
                watermark=int(header["watermark"]),
                next_seq=int(header["next_seq"]),
            )
