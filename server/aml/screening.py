"""The vectorised screening engine: per-transaction decisions, rule hits with evidence, account alerts.

Input is a columnar batch (:data:`TRANSACTION_SCHEMA`, a Polars frame), decided in arrival order.
Every transfer is split into two *legs* (the payer's outgoing leg and the payee's incoming one);
rolling windows are per (account, direction) and computed with ``searchsorted`` over legs sorted by
(account, direction, arrival), so a batch of a million transfers is a handful of NumPy passes.

Causality and the stream: a decision uses only the transfer itself and transfers that arrived
before it. Times are made monotone in arrival order (a late transfer is evaluated at the
watermark, see ``effective time`` in docs/aml.md). The engine keeps a :class:`ScreeningState`
between calls; screening a set of transfers in one call or in any split into micro-batches
gives identical decisions (integer aggregates, same arithmetic), which a test checks.

The engine never imports ``grpc`` and knows nothing about storage; the service persists the
state blob and the alerts.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray

from server.aml.round_trip import Cycles, Edges, find_round_trips
from server.aml.rules import ReasonCode, RuleSet
from server.aml.state import N_CHANNELS, N_HOURS, TAIL_COLUMNS, ScreeningState
from server.runtime.errors import FieldViolation, InvalidArgument

ENGINE_NAME = "aml.screening"
ENGINE_VERSION = "1.0.0"
DOMAIN = "aml.fintech"

# Engine time: seconds since 2000-01-01T00:00:00Z, so keys fit 36 bits until year 4177.
EPOCH_OFFSET_S = 946_684_800
TIME_BITS = 36
SEQ_BITS = 36
QLOG_SCALE = 10_000  # log amounts quantised to 1e-4 so that aggregates are exact integers
MAX_EVIDENCE = 50  # transaction ids kept per rule hit (the most recent)
SMALL_BATCH = 4_096  # up to this many transfers, accounts are looked up in a dict, not joined
MAX_CHUNK = 131_072  # transfers screened per internal step (keeps the working set in cache)
SMALL_TICKET_HISTORY = 4  # x min_transactions legs, all small, make small amounts an account's own normal

SMALL_TAIL_BATCH = 1_024  # up to this many transfers, the tail is searched and updated by insertion, not rebuilt
PRUNE_EVERY_SECONDS = 86_400  # small batches prune the tail once the horizon has moved this much (engine time)
OVERLAP_MIN_TRANSFERS = 8_192  # from this batch size the cycle search and place rules run on a helper thread
_T = TypeVar("_T")

TRANSACTION_SCHEMA: dict[str, pl.DataType] = {
    "transaction_id": pl.Utf8(),
    "source_account_id": pl.Utf8(),
    "target_account_id": pl.Utf8(),
    "amount_minor": pl.Int64(),
    "currency": pl.Utf8(),
    "execute_time_us": pl.Int64(),
    "channel": pl.Int8(),
    "origin_country": pl.Utf8(),
    "counterparty_country": pl.Utf8(),
}
"""Columns of a screening batch: amounts in minor units, times in microseconds since the Unix epoch,
``channel`` the ``fintech.aml.v1.Channel`` number, countries ISO 3166-1 alpha-2 or ``""``."""


class Decision(enum.IntEnum):
    """Decision per transaction (numbers match ``fintech.aml.v1.ScreeningDecision``)."""

    CLEAR = 1
    REVIEW = 2
    BLOCK = 3


@dataclass(frozen=True)
class ScreeningResult:
    """What one call to :meth:`ScreeningEngine.screen` decided.

    Attributes:
        decisions: One row per input transaction, in input order: ``transaction_id``,
            ``decision`` (:class:`Decision` number), ``score``, ``reason_mask`` (bit per
            :class:`ReasonCode`).
        hits: One row per rule hit: ``transaction_id``, ``rule_id``, ``reason_code``,
            ``subject_account_id``, ``score_contribution``, ``window_start_us``, ``window_end_us``,
            ``evidence_transaction_ids`` (list), ``evidence_total_minor``, ``currency``, ``summary``.
        alerts: One row per account alert touched by this batch: ``alert_key`` (stable: account and
            cooldown bucket), ``account_id``, ``score``, ``reason_codes`` (list), ``transaction_ids``
            (list), ``first_time_us``, ``last_time_us``. The store merges rows with the same key.
        rule_set_version: The rule set applied.
        round_trip_truncated: The cycle search hit its frontier bound in this batch.
    """

    decisions: pl.DataFrame
    hits: pl.DataFrame
    alerts: pl.DataFrame
    rule_set_version: str
    round_trip_truncated: bool


_SCHEMA = pl.Schema(TRANSACTION_SCHEMA)


def empty_batch() -> pl.DataFrame:
    """An empty frame with the screening schema."""
    return pl.DataFrame(schema=TRANSACTION_SCHEMA)


def _cs(values: NDArray[np.generic]) -> NDArray[np.int64]:
    """Inclusive prefix sums with a leading zero: sum over [lo, hi) is ``cs[hi] - cs[lo]``."""
    out = np.zeros(values.size + 1, dtype=np.int64)
    np.cumsum(values, dtype=np.int64, out=out[1:])
    return out


class ScreeningEngine:
    """Screens transaction batches against a :class:`RuleSet`, keeping incremental state.

    Args:
        rules: The versioned rule set.
        state: A restored state; a fresh one when omitted.
    """

    def __init__(self, rules: RuleSet, state: ScreeningState | None = None) -> None:
        self.rules = rules
        self._cur_index = rules.currency_index()
        self._seg_index = rules.segment_index()
        self._default_seg = self._seg_index[rules.default_segment]
        if state is None:
            state = ScreeningState(
                rule_set_version=rules.version, n_currencies=len(self._cur_index), n_segments=len(self._seg_index)
            )
        elif state.rule_set_version != rules.version:
            raise ValueError(f"state was built under {state.rule_set_version!r}, not {rules.version!r}")
        self.state = state
        self._index: dict[str, int] = {}
        self._index_size = -1
        self._index_owner: ScreeningState | None = None
        self._next_prune = -(1 << 62)  # horizon from which the next small batch prunes the tail (not persisted)
        self._segment_directory = pl.DataFrame(schema={"account_id": pl.Utf8, "seg": pl.Int8})
        self._scores = rules.score_vector()
        self._thresholds = rules.reporting_thresholds()
        self._high_risk = set(rules.high_risk.countries)
        self._reason_codes = np.array([r.name for r in ReasonCode], dtype=object)
        self._rule_ids = np.array([r.name.lower() for r in ReasonCode], dtype=object)
        self._currency_codes = np.array(sorted(self._cur_index, key=lambda c: self._cur_index[c]), dtype=object)
        self._segment_of: dict[str, int] = {}
        self._tables = {
            name: rules.table(name) for name in type(rules.segments_config[rules.default_segment]).model_fields
        }

    # ------------------------------------------------------------------ reference data
    def set_segments(self, segments: pl.DataFrame) -> None:
        """Assign customer segments (``account_id``, ``segment``) to known and future accounts.

        Raises:
            InvalidArgument: a segment the rule set does not define.
        """
        unknown = sorted(set(segments["segment"].unique().to_list()) - set(self._seg_index))
        if unknown:
            raise InvalidArgument(
                message=f"unknown customer segments {unknown}",
                reason="UNKNOWN_SEGMENT",
                domain=DOMAIN,
                violations=[FieldViolation("segment", f"must be one of {list(self._seg_index)}")],
            )
        frame = segments.select(
            pl.col("account_id").cast(pl.Utf8),
            pl.col("segment").replace_strict(self._seg_index, return_dtype=pl.Int8).alias("seg"),
        )
        self._segment_of.update(zip(frame["account_id"].to_list(), frame["seg"].to_list(), strict=True))
        self._segment_directory = pl.concat([self._segment_directory, frame]).unique(
            "account_id", keep="last", maintain_order=True
        )
        if self.state.n_accounts:
            joined = self.state.registry().join(frame, on="account_id", how="inner")
            self.state.accounts["segment"][joined["idx"].to_numpy()] = joined["seg"].to_numpy()

    # ------------------------------------------------------------------ encoding
    def _encode_accounts(self, ids: pl.Series) -> NDArray[np.int64]:
        st = self.state
        if self._index_owner is not st or self._index_size != st.n_accounts:
            # The state was replaced or grown elsewhere: rebuild the lookup (once).
            self._index = dict(zip(st.account_ids.to_list(), range(st.n_accounts), strict=True))
            self._index_size = st.n_accounts
            self._index_owner = st
        if ids.len() <= SMALL_BATCH:
            # Micro-batches of the stream: a dict lookup beats a join's fixed cost.
            values = ids.to_list()
            new = list(dict.fromkeys(v for v in values if v not in self._index))
            if new:
                self._register(pl.Series("account_id", new, dtype=pl.Utf8))
            index = self._index
            return np.fromiter((index[v] for v in values), np.int64, len(values))
        frame = pl.DataFrame({"account_id": ids})
        joined = frame.join(st.registry(), on="account_id", how="left", maintain_order="left")
        missing = joined.filter(pl.col("idx").is_null())["account_id"].unique(maintain_order=True)
        if missing.len():
            self._register(missing)
            joined = frame.join(st.registry(), on="account_id", how="left", maintain_order="left")
        return joined["idx"].to_numpy().astype(np.int64)

    def _register(self, missing: pl.Series) -> None:
        """Add new accounts to the state with their segments (default segment when unknown)."""
        if missing.len() <= SMALL_BATCH:
            seg = np.fromiter(
                (self._segment_of.get(a, self._default_seg) for a in missing.to_list()), np.int64, missing.len()
            )
        else:
            seg = (
                pl.DataFrame({"account_id": missing})
                .join(self._segment_directory, on="account_id", how="left", maintain_order="left")["seg"]
                .fill_null(self._default_seg)
                .to_numpy()
                .astype(np.int64)
            )
        start = self.state.n_accounts
        self.state.grow(missing, seg)
        self._index.update(zip(missing.to_list(), range(start, start + missing.len()), strict=True))
        self._index_size = self.state.n_accounts

    def _validate(self, batch: pl.DataFrame) -> pl.DataFrame:
        missing = [c for c in TRANSACTION_SCHEMA if c not in batch.columns]
        if missing:
            raise InvalidArgument(
                message=f"batch lacks columns {missing}",
                reason="MISSING_COLUMNS",
                domain=DOMAIN,
                violations=[FieldViolation(c, "required") for c in missing],
            )
        if batch.schema != _SCHEMA or batch.width != len(_SCHEMA):  # the stream's frames already match
            batch = batch.select([pl.col(c).cast(t) for c, t in TRANSACTION_SCHEMA.items()])
        violations: list[FieldViolation] = []
        for column in ("transaction_id", "source_account_id", "target_account_id", "amount_minor", "execute_time_us"):
            nulls = batch[column].null_count()
            if nulls:
                violations.append(FieldViolation(column, f"{nulls} missing values"))
        bad_amount = int((batch["amount_minor"] <= 0).sum())
        if bad_amount:
            violations.append(FieldViolation("amount", f"{bad_amount} non-positive amounts"))
        currencies = batch["currency"]
        present = set(currencies.to_list() if batch.height <= SMALL_BATCH else currencies.unique().to_list())
        unknown_cur = sorted(present - set(self._cur_index), key=str)
        if unknown_cur:
            violations.append(FieldViolation("amount.currency_code", f"no thresholds for currencies {unknown_cur}"))
        if batch.height:
            lo = int(batch["execute_time_us"].min())  # type: ignore[arg-type]
            hi = int(batch["execute_time_us"].max())  # type: ignore[arg-type]
            if lo < EPOCH_OFFSET_S * 1_000_000 or (hi // 1_000_000 - EPOCH_OFFSET_S) >= (1 << TIME_BITS):
                violations.append(FieldViolation("execute_time", "must be between 2000-01-01 and 4000-01-01"))
        if violations:
            raise InvalidArgument(
                message="invalid screening batch", reason="INVALID_TRANSACTIONS", domain=DOMAIN, violations=violations
            )
        if not any(batch[c].null_count() for c in ("origin_country", "counterparty_country", "channel")):
            return batch
        return batch.with_columns(
            pl.col("origin_country").fill_null(""),
            pl.col("counterparty_country").fill_null(""),
            pl.col("channel").fill_null(0),
        )

    # ------------------------------------------------------------------ screening
    def screen(self, batch: pl.DataFrame) -> ScreeningResult:
        """Decide every transaction of ``batch`` in order and advance the state.

        Args:
            batch: Transactions with the columns of :data:`TRANSACTION_SCHEMA`, in arrival order.

        Returns:
            Decisions in input order, rule hits with evidence and the account alerts touched.

        Raises:
            InvalidArgument: a missing column, a non-positive amount, an unknown currency or a time
                out of range (each named as a field).
        """
        batch = self._validate(batch)
        if batch.height == 0:
            return self._empty_result()
        if batch.height <= MAX_CHUNK:
            return self._screen_chunk(batch)
        # Large batches go through the incremental path in chunks: the decisions are the same
        # (that is the engine's contract, and a test checks it) and the working set stays in cache.
        parts = [self._screen_chunk(batch.slice(offset, MAX_CHUNK)) for offset in range(0, batch.height, MAX_CHUNK)]
        offsets = np.cumsum([0] + [p.decisions.height for p in parts[:-1]])
        hits = pl.concat(
            [p.hits.with_columns(pl.col("tx_pos") + int(off)) for p, off in zip(parts, offsets, strict=True)]
        )
        alerts = (
            pl.concat([p.alerts for p in parts])
            .group_by("alert_key", maintain_order=True)
            .agg(
                pl.first("account_id"),
                pl.col("score").sum().round(6),
                pl.col("reason_codes").explode().unique().sort(),
                pl.col("transaction_ids").explode().unique(maintain_order=True),
                pl.col("first_time_us").min(),
                pl.col("last_time_us").max(),
            )
            .select(ALERT_COLUMNS)
        )
        return ScreeningResult(
            decisions=pl.concat([p.decisions for p in parts]),
            hits=hits,
            alerts=alerts,
            rule_set_version=self.rules.version,
            round_trip_truncated=any(p.round_trip_truncated for p in parts),
        )

    def _screen_chunk(self, batch: pl.DataFrame) -> ScreeningResult:
        """Screen one validated, non-empty chunk."""
        n = batch.height
        st = self.state
        rules = self.rules
        hist = rules.history
        windows = rules.windows
        if st.next_seq + n >= (1 << SEQ_BITS):
            raise ValueError("arrival sequence exhausted")

        # ---------------------------------------------------------------- per transaction
        # Payers and payees in one lookup (one join's fixed cost, not two).
        both = self._encode_accounts(pl.concat([batch["source_account_id"], batch["target_account_id"]]))
        src, dst = both[:n], both[n:]
        if st.n_accounts >= (1 << 26):
            raise ValueError("more than 2**26 accounts in one screening state")
        acc = st.accounts
        if n <= SMALL_BATCH:  # a dict beats an expression's fixed cost on a micro-batch
            cur_index = self._cur_index
            cur = np.fromiter((cur_index[c] for c in batch["currency"].to_list()), np.int64, n)
        else:
            cur = batch["currency"].replace_strict(self._cur_index, return_dtype=pl.Int64).to_numpy()
        amount = batch["amount_minor"].to_numpy().astype(np.int64)
        ts_s = np.floor_divide(batch["execute_time_us"].to_numpy(), 1_000_000) - EPOCH_OFFSET_S
        hour = (ts_s % 86_400) // 3_600
        # Effective time: monotone in arrival order (a late transfer is evaluated at the watermark).
        t = np.maximum.accumulate(np.maximum(ts_s, st.watermark))
        seq = st.next_seq + np.arange(n, dtype=np.int64)
        channel = batch["channel"].to_numpy().astype(np.int64).clip(0, N_CHANNELS - 1)
        countries = st.country_index(batch["origin_country"], batch["counterparty_country"])
        origin_c, cp_c = countries[:n], countries[n:]
        qlog = np.rint(np.log(amount.astype(np.float64)) * QLOG_SCALE).astype(np.int64)

        # ---------------------------------------------------------------- legs (2 per transfer, interleaved)
        two = 2 * n
        l_acct = np.empty(two, np.int64)
        l_acct[0::2], l_acct[1::2] = src, dst
        l_cp = np.empty(two, np.int64)
        l_cp[0::2], l_cp[1::2] = dst, src
        l_dir = np.tile(np.array([0, 1], np.int64), n)
        l_amt = np.repeat(amount, 2)
        l_q = np.repeat(qlog, 2)
        l_t = np.repeat(t, 2)
        l_seq = np.repeat(seq, 2)
        l_cur = np.repeat(cur, 2)
        l_seg = acc["segment"][l_acct]

        peer_ref, peer_update = self._peer_reference(l_cur, l_seg, l_t, l_q)
        log_ratio = QLOG_SCALE * np.log(self._tables["small_ratio"][l_seg])
        peer_small = l_q < peer_ref + log_ratio  # NaN (no peers yet) compares False
        regular = (~peer_small).astype(np.int64)
        thr = self._thresholds[l_cur]
        l_band = (l_amt < thr) & (l_amt >= np.ceil(thr * (1.0 - self._tables["structuring_band"][l_seg])))

        # ---------------------------------------------------------------- combined legs: tail, then batch
        # Only the tail legs of the (account, direction) groups this batch touches, and their
        # opposite direction, take part in the windows: a micro-batch costs what it touches.
        tail = st.tail
        big_m = tail["acct"].size
        if n <= SMALL_TAIL_BATCH:
            # A few transfers: the tail is sorted by account, so each touched account's legs (both
            # directions) are one run found by two binary searches, not a pass over the whole tail.
            accounts = np.unique(l_acct)
            sub = _ranges(
                np.searchsorted(tail["acct"], accounts, side="left"),
                np.searchsorted(tail["acct"], accounts, side="right"),
            )
        else:
            tail_g = tail["acct"] * 2 + tail["dir"]
            batch_g = l_acct * 2 + l_dir
            # A mark per group (not np.unique: a hash pass over the legs cost 10% of a call); the tail is
            # sorted by group, so the marked legs come out in tail order.
            touched = np.zeros(2 * st.n_accounts, np.bool_)
            touched[batch_g] = True
            touched[batch_g ^ 1] = True
            sub = np.flatnonzero(touched[tail_g])
        m = sub.size
        total = m + two
        if big_m + two >= (1 << 31):
            raise ValueError("too many legs in one screening call")
        c_acct = np.concatenate([tail["acct"][sub], l_acct])
        c_cp = np.concatenate([tail["cp"][sub], l_cp])
        c_dir = np.concatenate([tail["dir"][sub], l_dir])
        c_amt = np.concatenate([tail["amount"][sub], l_amt])
        c_t = np.concatenate([tail["t"][sub], l_t])
        c_seq = np.concatenate([tail["seq"][sub], l_seq])
        c_cur = np.concatenate([tail["cur"][sub], l_cur])
        c_g = c_acct * 2 + c_dir

        # New counterparty: no earlier leg of the same (account, direction, counterparty) within the fan window.
        # Most pairs occur once: a hash pass finds the repeated ones, and only those are sorted.
        pair_key = (c_g << 27) | c_cp
        repeated = np.flatnonzero(_is_duplicated(pair_key))
        c_newcp = np.ones(total, np.bool_)
        if repeated.size:
            pair_order = repeated[np.argsort(pair_key[repeated], kind="stable")]
            pk = pair_key[pair_order]
            pt = c_t[pair_order]
            recent_same = np.r_[False, (pk[1:] == pk[:-1]) & ((pt[1:] - pt[:-1]) < windows.fan_seconds)]
            c_newcp[pair_order] = ~recent_same
        c_newcp[:m] = tail["newcp"][sub]

        # Sorted domain: legs by (account, direction, arrival). Unique keys, so any sort is stable.
        # The tail is kept sorted by (group, arrival): merge the batch's legs into it instead of
        # sorting everything again (a micro-batch then costs a pass over the tail, not a sort).
        l_g = c_g[m:]
        b_key = (l_g << SEQ_BITS) | l_seq
        b_order = np.argsort(b_key)
        tail_key = (c_g[:m] << SEQ_BITS) | c_seq[:m]
        inserted = np.searchsorted(tail_key, b_key[b_order]) + np.arange(two)
        corder = np.empty(total, np.int64)
        from_tail = np.ones(total, np.bool_)
        from_tail[inserted] = False
        corder[inserted] = m + b_order
        corder[from_tail] = np.arange(m)
        g_s = c_g[corder]
        t_s = c_t[corder]
        key_t = (g_s << TIME_BITS) | t_s
        key_s = (g_s << SEQ_BITS) | c_seq[corder]
        bsel = np.flatnonzero(corder >= m)  # sorted positions of the batch legs, increasing
        bleg = corder[bsel] - m  # their leg index
        jpos = np.empty(two, np.int64)
        jpos[bleg] = np.arange(two)  # leg index -> j (position among batch legs in sorted order)
        gb = g_s[bsel]
        tb = t_s[bsel]
        qb = l_q[bleg]
        segb = l_seg[bleg]
        acctb = gb >> 1
        dirb = gb & 1

        def search_cycles() -> tuple[Cycles, NDArray[np.int64], int]:
            """The round-trip search: it only reads this call's arrays, so it runs beside the window rules."""
            seq_b = c_seq[corder][bsel]
            # Round trips closing with a transfer of this batch (the last n outgoing legs, in order).
            # Cycles run through any account, so the search sees the whole tail's transfers.
            # Candidates only: a transfer u -> s can close a cycle only if u received and s sent money
            # earlier in the window (for a leg, the opposite direction of the same account: group ^ 1).
            g_other = gb ^ 1
            lo_other = np.searchsorted(
                key_t, (g_other << TIME_BITS) | np.maximum(tb - windows.round_trip_seconds + 1, 0), side="left"
            )
            hi_other = np.searchsorted(key_s, (g_other << SEQ_BITS) | seq_b, side="left")
            has_other = hi_other > lo_other
            candidate = has_other[jpos[0::2]] & has_other[jpos[1::2]] & (src != dst)
            if not candidate.any():  # most micro-batches: no transfer can close a cycle
                return _NO_CYCLES, np.zeros(0, np.int64), 0
            # The tail's incoming legs are one edge per transfer, already sorted by (payee, arrival): the
            # search then sorts only this batch's edges and merges them (not the whole tail every call).
            full_out = np.flatnonzero(tail["dir"] == 1)
            edges = Edges(
                src=np.concatenate([tail["cp"][full_out], src]),
                dst=np.concatenate([tail["acct"][full_out], dst]),
                amount=np.concatenate([tail["amount"][full_out], amount]),
                t=np.concatenate([tail["t"][full_out], t]),
                seq=np.concatenate([tail["seq"][full_out], seq]),
            )
            closing_base = full_out.size
            found = find_round_trips(
                edges,
                closing_base + np.flatnonzero(candidate),
                windows.round_trip_seconds,
                rules.round_trip,
                sorted_prefix=closing_base,
            )
            return found, full_out, closing_base

        # NumPy releases the GIL in sorts and searches: on two cores the cycle search overlaps the rest
        # (small micro-batches run it inline: a thread hand-off costs more than it saves there).
        cycle_search = _submit(search_cycles, n)

        # Own baseline per (account, direction) before each leg: state plus earlier legs of this batch.
        run_start = np.r_[True, gb[1:] != gb[:-1]]
        ones = np.ones(two, np.int64)
        regb = regular[bleg]
        prior_dir = acc["dir_count"].reshape(-1)[gb] + _excl_runs(run_start, ones)

        def time_and_place() -> tuple[
            NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.int64]
        ]:
            """Hour, channel and country rules: they read only this call's arrays and the state."""
            # Time and place: the payer's outgoing behaviour against its own baseline (transaction domain).
            out_prior = prior_dir[jpos[0::2]]
            hour_prior = _prior_in_batch(src * N_HOURS + hour) + acc["hour_hist"][src, hour]
            unusual_hour = (out_prior >= hist.rare_hour_min_history) & (
                hour_prior < hist.rare_hour_share * np.maximum(out_prior, 1)
            )
            chan_prior = _prior_in_batch(src * N_CHANNELS + channel) + acc["channel_hist"][src, channel]
            new_channel = (out_prior >= hist.min_transactions) & (chan_prior == 0) & (channel > 0)
            # (account, country) pairs in arrival order; new = first in this batch and not in the state.
            place_keys = np.empty(2 * n, np.int64)
            place_keys[0::2] = (src << 16) | origin_c
            place_keys[1::2] = (src << 16) | cp_c
            first_here = _first_distinct(place_keys)
            candidates = place_keys[first_here]
            seen = st.seen_places
            if seen.size:
                at = np.minimum(np.searchsorted(seen, candidates), seen.size - 1)
                fresh = seen[at] != candidates
            else:
                fresh = np.ones(candidates.size, np.bool_)
            place_new = np.zeros(2 * n, np.bool_)
            place_new[first_here[fresh]] = True
            place_new &= (place_keys & 0xFFFF) > 0
            first_country = (out_prior >= hist.min_transactions) & (place_new[0::2] | place_new[1::2])
            risky = np.array([c in self._high_risk for c in st.country_codes], dtype=np.bool_)
            high_risk = risky[origin_c] | risky[cp_c]
            return unusual_hour, new_channel, first_country, high_risk, np.unique(place_keys[place_new])

        place_rules = _submit(time_and_place, n)
        prior_q = acc["dir_qlog"].reshape(-1)[gb] + _excl_runs(run_start, qb)
        reg_cnt = acc["reg_count"].reshape(-1)[gb] + _excl_runs(run_start, regb)
        reg_q = acc["reg_qlog"].reshape(-1)[gb] + _excl_runs(run_start, qb * regb)
        # What is typical comes from "regular" legs (not small against peers) once there are enough of
        # them, so a burst of small transfers cannot redefine it. An account with a long history of
        # only small amounts is judged against all its legs (its own small-ticket normal); one
        # without enough history of either kind, against its peers.
        own_regular = reg_cnt >= hist.min_transactions
        small_ticket = ~own_regular & (prior_dir >= SMALL_TICKET_HISTORY * hist.min_transactions)
        own = own_regular | small_ticket
        with np.errstate(divide="ignore", invalid="ignore"):
            ref_q = np.where(
                own_regular,
                reg_q / np.maximum(reg_cnt, 1),
                np.where(small_ticket, prior_q / np.maximum(prior_dir, 1), peer_ref[bleg]),
            )
        small_b = qb < ref_q + log_ratio[bleg]

        # First time the account was seen: state, else its first leg in this batch.
        first_t = acc["first_t"][acctb]
        starts = np.flatnonzero(run_start)
        first_batch = np.full(st.n_accounts, np.iinfo(np.int64).max)
        np.minimum.at(first_batch, acctb[starts], tb[starts])
        first_t = np.where(first_t >= 0, first_t, first_batch[acctb])
        span = tb - first_t

        # Window sums over the sorted domain.
        small_s = np.concatenate([tail["small"][sub], np.zeros(two, np.bool_)])[corder]
        small_s[bsel] = small_b
        band_s = np.concatenate([tail["band"][sub], l_band])[corder]
        newcp_s = c_newcp[corder]
        cs_small = _cs(small_s)
        cs_band = _cs(band_s)
        cs_newcp = _cs(newcp_s)
        cs_amt = _cs(c_amt[corder])
        hi = bsel + 1

        seq_b = c_seq[corder][bsel]

        def lower(rows: NDArray[np.int64], group: NDArray[np.int64], seconds: int) -> NDArray[np.int64]:
            """Sorted position of the first leg of ``group`` inside the window, for the batch legs ``rows``.

            Evaluated only where a rule can fire, and in sorted order (group, then time), which
            keeps ``searchsorted`` cache-friendly.
            """
            bound = np.zeros(two, np.int64)
            bound[rows] = np.searchsorted(
                key_t, (group[rows] << TIME_BITS) | np.maximum(tb[rows] - seconds + 1, 0), side="left"
            )
            return bound

        is_out = dirb == 0
        out_rows = np.flatnonzero(is_out)
        flagged_rows = np.flatnonzero(small_b | band_s[bsel])
        newcp_rows = np.flatnonzero(newcp_s[bsel])
        lo_struct = lower(flagged_rows, gb, windows.structuring_seconds)
        lo_fan = lower(newcp_rows, gb, windows.fan_seconds)
        lo_vel = lower(out_rows, gb, windows.velocity_seconds)
        lo_pass = lower(out_rows, gb, windows.pass_through_seconds)
        small_cnt = np.where(small_b, cs_small[hi] - cs_small[lo_struct], 0)
        band_cnt = np.where(band_s[bsel], cs_band[hi] - cs_band[lo_struct], 0)
        newcp_cnt = np.where(newcp_s[bsel], cs_newcp[hi] - cs_newcp[lo_fan], 0)
        vel_cnt = np.where(is_out, hi - lo_vel, 0)
        out_sum = np.where(is_out, cs_amt[hi] - cs_amt[lo_pass], 0)
        g_in = gb | 1  # the incoming group of the same account
        lo_in = lower(out_rows, g_in, windows.pass_through_seconds)
        hi_in = np.zeros(two, np.int64)
        hi_in[out_rows] = np.searchsorted(key_s, (g_in[out_rows] << SEQ_BITS) | seq_b[out_rows], side="right")
        lo_in = np.minimum(lo_in, hi_in)
        in_sum = cs_amt[hi_in] - cs_amt[lo_in]

        # ---------------------------------------------------------------- rules (j domain)
        def seg_param(name: str) -> NDArray[np.float64]:
            return self._tables[name][segb]

        amt_b = l_amt[bleg]
        thr_b = thr[bleg].astype(np.float64)
        own_typical = np.exp(np.where(own, ref_q, np.nan) / QLOG_SCALE)
        abs_large = thr_b * seg_param("large_threshold_factor")
        large_thr = np.where(own, np.fmin(abs_large, seg_param("large_own_multiple") * own_typical), abs_large)
        ratio = seg_param("pass_through_ratio")
        # Fires on the outgoing transfer that takes the window's outflow past the ratio of its inflow.
        large_rapid = (
            is_out
            & (in_sum > 0)
            & (in_sum >= large_thr)
            & (out_sum >= ratio * in_sum)
            & ((out_sum - amt_b) < ratio * in_sum)
        )
        baseline = (prior_dir >= hist.min_transactions) & (span >= hist.min_baseline_days * 86_400)
        rate_span = np.maximum(span, hist.min_baseline_days * 86_400).astype(np.float64)
        vel_expected = prior_dir * windows.velocity_seconds / rate_span
        vel_thr = np.where(
            baseline,
            np.maximum(seg_param("velocity_min_count"), seg_param("velocity_multiple") * vel_expected),
            2 * seg_param("velocity_min_count"),
        )
        velocity = is_out & (vel_cnt >= vel_thr)
        fan_expected = prior_dir * windows.fan_seconds / rate_span
        fan_thr = np.where(
            baseline,
            np.maximum(seg_param("fan_min_counterparties"), seg_param("fan_rate_multiple") * fan_expected),
            seg_param("fan_min_counterparties"),
        )
        fan = newcp_s[bsel] & (newcp_cnt >= fan_thr)
        structuring = band_s[bsel] & (band_cnt >= seg_param("structuring_min_count"))
        small = small_b & (small_cnt >= seg_param("small_min_count"))

        unusual_hour, new_channel, first_country, high_risk, new_places = place_rules.result()
        cycles, full_out, closing_base = cycle_search.result()

        # ---------------------------------------------------------------- hits
        parts: list[_HitPart] = []
        f64 = np.float64

        def add(
            mask: NDArray[np.bool_],
            reason: ReasonCode,
            strength: NDArray[np.float64],
            kind: int,
            lo: NDArray[np.int64] | None,
            observed: NDArray[np.float64],
            threshold: NDArray[np.float64],
        ) -> None:
            j = np.flatnonzero(mask)
            if j.size:
                parts.append(
                    _HitPart(
                        j=j,
                        reason=np.full(j.size, int(reason), np.int64),
                        strength=np.clip(strength[j], 1.0, 2.0),
                        kind=np.full(j.size, kind, np.int64),
                        lo=lo[j] if lo is not None else bsel[j],
                        observed=observed[j].astype(f64),
                        threshold=threshold[j].astype(f64),
                    )
                )

        def from_tx(values: NDArray[Any], leg: int) -> NDArray[Any]:
            out = np.zeros(two, dtype=values.dtype)
            out[jpos[leg::2]] = values
            return out

        add(
            large_rapid,
            ReasonCode.LARGE_RAPID_MOVEMENT,
            in_sum / np.maximum(large_thr, 1),
            KIND_PASS,
            lo_pass,
            in_sum.astype(f64),
            large_thr,
        )
        add(
            velocity,
            ReasonCode.VELOCITY_SPIKE,
            vel_cnt / np.maximum(vel_thr, 1),
            KIND_ALL,
            lo_vel,
            vel_cnt.astype(f64),
            vel_thr,
        )
        add(
            structuring,
            ReasonCode.STRUCTURING_BELOW_THRESHOLD,
            band_cnt / seg_param("structuring_min_count"),
            KIND_BAND,
            lo_struct,
            band_cnt.astype(f64),
            seg_param("structuring_min_count"),
        )
        add(
            small,
            ReasonCode.FREQUENT_SMALL_TRANSFERS,
            small_cnt / seg_param("small_min_count"),
            KIND_SMALL,
            lo_struct,
            small_cnt.astype(f64),
            seg_param("small_min_count"),
        )
        fan_strength = newcp_cnt / np.maximum(fan_thr, 1)
        add(fan & is_out, ReasonCode.FAN_OUT, fan_strength, KIND_NEWCP, lo_fan, newcp_cnt.astype(f64), fan_thr)
        add(fan & ~is_out, ReasonCode.FAN_IN, fan_strength, KIND_NEWCP, lo_fan, newcp_cnt.astype(f64), fan_thr)
        unit = np.ones(two)
        zero = np.zeros(two)
        add(
            from_tx(unusual_hour, 0),
            ReasonCode.UNUSUAL_HOUR,
            unit,
            KIND_POINT,
            None,
            from_tx(hour.astype(f64), 0),
            np.full(two, hist.rare_hour_share),
        )
        add(
            from_tx(new_channel, 0),
            ReasonCode.NEW_CHANNEL,
            unit,
            KIND_POINT,
            None,
            from_tx(channel.astype(f64), 0),
            zero,
        )
        add(from_tx(first_country, 0), ReasonCode.FIRST_SEEN_COUNTRY, unit, KIND_POINT, None, zero, zero)
        add(from_tx(high_risk, 0), ReasonCode.HIGH_RISK_JURISDICTION, unit, KIND_POINT, None, zero, zero)
        cycle_of_tx = np.full(n, -1, np.int64)
        if cycles.closing.size:
            # The subject is the origin: the payee of the closing transfer (its incoming leg).
            cycle_tx = cycles.closing - closing_base
            cycle_of_tx[cycle_tx] = np.arange(cycle_tx.size)
            closes = np.zeros(n, np.bool_)
            closes[cycle_tx] = True
            hops = np.zeros(n)
            hops[cycle_tx] = cycles.hops
            add(from_tx(closes, 1), ReasonCode.ROUND_TRIP, unit, KIND_CYCLE, None, from_tx(hops, 1), zero)

        return self._assemble(
            batch=batch,
            n=n,
            m=m,
            parts=parts,
            cycles=cycles,
            cycle_of_tx=cycle_of_tx,
            sub=sub,
            full_out=full_out,
            corder=corder,
            bsel=bsel,
            bleg=bleg,
            gb=gb,
            small_s=small_s,
            band_s=band_s,
            newcp_s=newcp_s,
            c_amt=c_amt,
            c_cur=c_cur,
            c_t=c_t,
            lo_in=lo_in,
            hi_in=hi_in,
            src=src,
            t=t,
            ts_s=ts_s,
            b_key=b_key,
            b_order=b_order,
            advance=_Advance(
                src=src,
                dst=dst,
                t=t,
                seq=seq,
                hour=hour,
                channel=channel,
                origin_c=origin_c,
                cp_c=cp_c,
                l_g=l_acct * 2 + l_dir,
                l_q=l_q,
                regular=regular,
                peer_update=peer_update,
                new_places=new_places,
                legs={
                    "acct": l_acct,
                    "cp": l_cp,
                    "dir": l_dir,
                    "amount": l_amt,
                    "t": l_t,
                    "seq": l_seq,
                    "small": small_b[jpos],
                    "band": l_band,
                    "newcp": c_newcp[m:],
                    "cur": l_cur,
                },
                tx_ids=pl.Series("tx_id", [], dtype=pl.Utf8),
                tail_index=np.zeros(0, np.int64),
            ),
        )

    def _peer_reference(
        self, l_cur: NDArray[np.int64], l_seg: NDArray[np.int64], l_t: NDArray[np.int64], l_q: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], tuple[NDArray[np.int64], ...]]:
        """Peer mean log amount per leg, over all legs of earlier days (same currency and segment).

        Peers move once a day, not per transfer, so the reference does not depend on how the
        stream is cut into micro-batches.
        """
        st = self.state
        n_seg = st.n_segments
        groups = st.n_currencies * n_seg
        pg = l_cur * n_seg + l_seg
        day = l_t // 86_400
        done_cnt = st.peer_count.reshape(-1).copy()
        done_q = st.peer_qlog.reshape(-1).copy()
        part_cnt = st.peer_day_count.reshape(-1).copy()
        part_q = st.peer_day_qlog.reshape(-1).copy()
        if st.peer_day >= 0 and day[0] > st.peer_day:
            done_cnt += part_cnt
            done_q += part_q
            part_cnt[:] = 0
            part_q[:] = 0
        rank = np.cumsum(np.r_[0, np.diff(day) > 0])
        days = int(rank[-1]) + 1
        cell = pg * days + rank
        cnt = np.bincount(cell, minlength=groups * days).reshape(groups, days)
        qs = _int_bincount(cell, l_q, groups * days).reshape(groups, days)
        cnt[:, 0] += part_cnt
        qs[:, 0] += part_q
        before_cnt = done_cnt[:, None] + np.cumsum(cnt, axis=1) - cnt
        before_q = done_q[:, None] + np.cumsum(qs, axis=1) - qs
        b_cnt = before_cnt[pg, rank]
        b_q = before_q[pg, rank]
        with np.errstate(divide="ignore", invalid="ignore"):
            ref = np.where(b_cnt > 0, b_q / np.maximum(b_cnt, 1), np.nan)
        last = days - 1
        update = (
            before_cnt[:, last].reshape(st.peer_count.shape),
            before_q[:, last].reshape(st.peer_qlog.shape),
            cnt[:, last].reshape(st.peer_count.shape),
            qs[:, last].reshape(st.peer_qlog.shape),
            np.array([int(day[-1])]),
        )
        return ref, update

    # ------------------------------------------------------------------ assembling results
    def _assemble(
        self,
        *,
        batch: pl.DataFrame,
        n: int,
        m: int,
        parts: list[_HitPart],
        cycles: Cycles,
        cycle_of_tx: NDArray[np.int64],
        sub: NDArray[np.int64],
        full_out: NDArray[np.int64],
        corder: NDArray[np.int64],
        bsel: NDArray[np.int64],
        bleg: NDArray[np.int64],
        gb: NDArray[np.int64],
        small_s: NDArray[np.bool_],
        band_s: NDArray[np.bool_],
        newcp_s: NDArray[np.bool_],
        c_amt: NDArray[np.int64],
        c_cur: NDArray[np.int64],
        c_t: NDArray[np.int64],
        lo_in: NDArray[np.int64],
        hi_in: NDArray[np.int64],
        src: NDArray[np.int64],
        t: NDArray[np.int64],
        ts_s: NDArray[np.int64],
        b_key: NDArray[np.int64],
        b_order: NDArray[np.int64],
        advance: _Advance,
    ) -> ScreeningResult:
        st = self.state
        rules = self.rules
        total = corder.size
        tx_ids = batch["transaction_id"]

        big_m = st.tail["acct"].size
        # Universe of legs: the whole tail [0, big_m), then two per batch transfer.
        c_to_u = np.concatenate([sub, big_m + np.arange(2 * n, dtype=np.int64)])

        batch_seq0 = int(advance.seq[0])

        def ids_of(u: NDArray[np.int64]) -> pl.Series:
            # By sequence number: this batch's ids, else the state's recent ids.
            seqs = u_get("seq", np.repeat(advance.seq, 2), u)
            in_batch = seqs >= batch_seq0
            out = tx_ids.gather(np.maximum(seqs - batch_seq0, 0))
            if (~in_batch).any():
                old = st.recent_ids.gather(seqs[~in_batch] - st.recent_seq0)
                out = out.scatter(np.flatnonzero(~in_batch), old)
            return out.rename("tx_id")

        def u_get(name: str, batch_values: NDArray[Any], u: NDArray[np.int64]) -> NDArray[Any]:
            tail_values = st.tail[name]
            out = batch_values[np.clip(u - big_m, 0, max(batch_values.size - 1, 0))]
            in_tail = u < big_m
            if in_tail.any():
                out = out.copy()
                out[in_tail] = tail_values[u[in_tail]]
            return out

        if parts:
            h_j = np.concatenate([p.j for p in parts])
            h_reason = np.concatenate([p.reason for p in parts])
            h_strength = np.concatenate([p.strength for p in parts])
            h_kind = np.concatenate([p.kind for p in parts])
            h_lo = np.concatenate([p.lo for p in parts])
            h_obs = np.concatenate([p.observed for p in parts])
            h_thr = np.concatenate([p.threshold for p in parts])
        else:
            h_j = h_reason = h_kind = h_lo = np.zeros(0, np.int64)
            h_strength = h_obs = h_thr = np.zeros(0, np.float64)
        hit_count = h_j.size
        # Final row order of the hits: transaction, reason, payer side first (independent of how
        # accounts were numbered, so batch and stream agree).
        h_leg0 = bleg[h_j]
        perm = np.lexsort((h_leg0 % 2, h_reason, h_leg0 // 2))
        h_j, h_reason, h_strength, h_kind = h_j[perm], h_reason[perm], h_strength[perm], h_kind[perm]
        h_lo, h_obs, h_thr = h_lo[perm], h_obs[perm], h_thr[perm]
        h_leg = bleg[h_j]
        h_tx = h_leg // 2
        h_subject = gb[h_j] >> 1
        contribution = np.round(self._scores[h_reason] * h_strength, 6)
        score = np.round(np.bincount(h_tx, weights=contribution, minlength=n).astype(np.float64), 6)
        mask = np.zeros(n, np.int64)
        np.bitwise_or.at(mask, h_tx, np.left_shift(1, h_reason))
        seg_payer = st.accounts["segment"][src]
        review = self._tables["review_score"][seg_payer]
        block = self._tables["block_score"][seg_payer]
        decision = np.where(
            score >= block, int(Decision.BLOCK), np.where(score >= review, int(Decision.REVIEW), int(Decision.CLEAR))
        )
        decisions = pl.DataFrame(
            {
                "transaction_id": tx_ids,
                "decision": decision.astype(np.int8),
                "score": score,
                "reason_mask": mask.astype(np.int32),
            }
        )

        def hit_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
            """The hits with their evidence, and the account alerts (only called when there are hits)."""
            # Evidence, as sorted positions: the window's legs carrying the rule's flag (newest MAX_EVIDENCE).
            ev_hit: list[NDArray[np.int64]] = []
            ev_pos: list[NDArray[np.int64]] = []
            flag_by_kind = np.stack([np.ones(total, np.bool_), small_s, band_s, newcp_s, np.ones(total, np.bool_)])
            h_hi = bsel[h_j] + 1
            windowed = np.flatnonzero(h_kind <= KIND_PASS)
            if windowed.size:
                lo = np.maximum(h_lo[windowed], h_hi[windowed] - 4 * MAX_EVIDENCE)
                rows, spos = _expand(windowed, lo, h_hi[windowed])
                keep = flag_by_kind[h_kind[rows], spos]
                ev_hit.append(rows[keep])
                ev_pos.append(spos[keep])
            passing = np.flatnonzero(h_kind == KIND_PASS)
            if passing.size:
                j = h_j[passing]
                rows, spos = _expand(passing, np.maximum(lo_in[j], hi_in[j] - 2 * MAX_EVIDENCE), hi_in[j])
                ev_hit.append(rows)
                ev_pos.append(spos)
            point = np.flatnonzero(h_kind == KIND_POINT)
            if point.size:
                ev_hit.append(point)
                ev_pos.append(bsel[h_j[point]])
            cyc = np.flatnonzero(h_kind == KIND_CYCLE)
            if cyc.size:
                paths = cycles.path[cycle_of_tx[h_tx[cyc]]]
                valid = paths >= 0
                edge = paths[valid]
                cycle_hits = np.repeat(cyc, valid.sum(axis=1))
                cycle_u = np.where(
                    edge < full_out.size,
                    full_out[np.minimum(edge, max(full_out.size - 1, 0))] if full_out.size else 0,
                    big_m + 2 * (edge - full_out.size),
                )
            else:
                cycle_hits = cycle_u = np.zeros(0, np.int64)
            e_hit = np.concatenate([*ev_hit, cycle_hits])
            e_pos = np.concatenate(ev_pos) if ev_pos else np.zeros(0, np.int64)
            e_c = np.concatenate([c_to_u[corder[e_pos]], cycle_u]).astype(np.int64)  # universe index
            # One entry per transfer (both legs of a self-transfer may appear), newest MAX_EVIDENCE, arrival order.
            e_seq = u_get("seq", np.repeat(advance.seq, 2), e_c)
            order = np.lexsort((e_seq, e_hit))
            e_hit, e_c, e_seq = e_hit[order], e_c[order], e_seq[order]
            if e_hit.size:
                dup = np.r_[False, (e_hit[1:] == e_hit[:-1]) & (e_seq[1:] == e_seq[:-1])]
                e_hit, e_c = e_hit[~dup], e_c[~dup]
                boundary = np.r_[e_hit[1:] != e_hit[:-1], True]
                ends = np.flatnonzero(boundary)
                run = np.cumsum(np.r_[True, e_hit[1:] != e_hit[:-1]]) - 1
                keep = (ends[run] - np.arange(e_hit.size)) < MAX_EVIDENCE
                e_hit, e_c = e_hit[keep], e_c[keep]
            h_cur = c_cur[m + h_leg]
            same_cur = u_get("cur", c_cur[m:], e_c) == h_cur[e_hit]
            e_amount = np.where(same_cur, u_get("amount", c_amt[m:], e_c), 0)
            evidence = (
                pl.DataFrame({"hit": e_hit, "tx_id": ids_of(e_c), "amount": e_amount})
                .group_by("hit", maintain_order=True)
                .agg(
                    pl.col("tx_id").alias("evidence_transaction_ids"),
                    pl.col("amount").sum().alias("evidence_total_minor"),
                )
            )
            window_by_reason = np.zeros(len(ReasonCode), np.int64)
            w = rules.windows
            for code, seconds in (
                (ReasonCode.LARGE_RAPID_MOVEMENT, w.pass_through_seconds),
                (ReasonCode.VELOCITY_SPIKE, w.velocity_seconds),
                (ReasonCode.STRUCTURING_BELOW_THRESHOLD, w.structuring_seconds),
                (ReasonCode.FREQUENT_SMALL_TRANSFERS, w.structuring_seconds),
                (ReasonCode.FAN_IN, w.fan_seconds),
                (ReasonCode.FAN_OUT, w.fan_seconds),
                (ReasonCode.ROUND_TRIP, w.round_trip_seconds),
            ):
                window_by_reason[int(code)] = seconds
            h_t = t[h_tx]
            codes = {int(r): r.name for r in ReasonCode}
            if evidence.height == hit_count and evidence["hit"].to_numpy().tolist() == list(range(hit_count)):
                evidence_cols = evidence.drop("hit")
            else:  # a hit without evidence rows (should not happen): align by joining
                evidence_cols = (
                    pl.DataFrame({"hit": np.arange(hit_count, dtype=np.int64)})
                    .join(evidence, on="hit", how="left", maintain_order="left")
                    .drop("hit")
                    .with_columns(
                        pl.col("evidence_transaction_ids").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
                        pl.col("evidence_total_minor").fill_null(0),
                    )
                )
            hits = (
                pl.DataFrame(
                    {
                        "transaction_id": tx_ids.gather(h_tx),
                        "tx_pos": h_tx,
                        "rule_id": pl.Series(self._rule_ids[h_reason], dtype=pl.Utf8),
                        "reason_code": pl.Series(self._reason_codes[h_reason], dtype=pl.Utf8),
                        "subject_account_id": st.account_ids.gather(h_subject),
                        "score_contribution": contribution,
                        "window_start_us": (h_t - window_by_reason[h_reason] + EPOCH_OFFSET_S) * 1_000_000,
                        "window_end_us": (h_t + 1 + EPOCH_OFFSET_S) * 1_000_000,
                        "currency": pl.Series(self._currency_codes[h_cur], dtype=pl.Utf8),
                        "observed": h_obs,
                        "threshold": h_thr,
                    }
                )
                .hstack(evidence_cols)
                .with_columns(
                    pl.concat_str(
                        pl.col("reason_code"),
                        pl.lit(": observed="),
                        pl.col("observed").round(2).cast(pl.Utf8),
                        pl.lit(" threshold="),
                        pl.col("threshold").round(2).cast(pl.Utf8),
                        pl.lit(" over "),
                        pl.col("evidence_transaction_ids").list.len().cast(pl.Utf8),
                        pl.lit(" transfers"),
                    ).alias("summary"),
                )
                .select(HIT_COLUMNS)
            )

            # Account alerts: each subject of a hit on a REVIEW/BLOCK transaction, one per cooldown bucket.
            flagged = decision[h_tx] >= int(Decision.REVIEW)
            if not flagged.any():  # hits, but no REVIEW/BLOCK decision: no alert (skips a group_by)
                return hits, _EMPTY_ALERTS
            cooldown = max(w.alert_cooldown_seconds, 1)
            alerts = (
                pl.DataFrame(
                    {
                        "account_id": st.account_ids.gather(h_subject[flagged]),
                        "bucket": h_t[flagged] // cooldown,
                        "transaction_id": tx_ids.gather(h_tx[flagged]),
                        "reason": h_reason[flagged],
                        "contribution": contribution[flagged],
                        "time_us": (ts_s[h_tx[flagged]] + EPOCH_OFFSET_S) * 1_000_000,
                    }
                )
                .group_by("account_id", "bucket", maintain_order=True)
                .agg(
                    pl.col("contribution").sum().round(6).alias("score"),
                    pl.col("reason").unique().sort().replace_strict(codes, return_dtype=pl.Utf8).alias("reason_codes"),
                    pl.col("transaction_id").unique(maintain_order=True).alias("transaction_ids"),
                    pl.col("time_us").min().alias("first_time_us"),
                    pl.col("time_us").max().alias("last_time_us"),
                )
                .with_columns(
                    pl.concat_str(pl.col("account_id"), pl.lit("@"), pl.col("bucket").cast(pl.Utf8)).alias("alert_key")
                )
                .select(ALERT_COLUMNS)
            )
            return hits, alerts

        if hit_count:
            hits, alerts = hit_frames()
        else:  # most micro-batches of a stream: no frame building at all
            hits, alerts = _EMPTY_HITS, _EMPTY_ALERTS
        # The new tail: the whole old tail merged with this batch's legs in (group, arrival) order,
        # keeping legs younger than the longest window.
        tail = st.tail
        legs = advance.legs
        horizon = int(advance.t[-1]) - rules.windows.lookback_seconds
        if n <= SMALL_TAIL_BATCH and horizon < self._next_prune:
            # A few transfers: insert their legs where they belong (slice copies, no gather over the tail)
            # and leave legs older than the window for a later prune. No rule reads a leg outside its
            # window (every bound is a time bound), so stale legs change no decision; they only cost
            # memory until the horizon has moved PRUNE_EVERY_SECONDS further.
            # Every new leg is later than the whole tail: it goes after the last leg of its group.
            position = np.searchsorted(tail["acct"] * 2 + tail["dir"], b_key[b_order] >> SEQ_BITS, side="right")
            self._advance(replace(advance, tx_ids=tx_ids, tail_insert=(position, b_order)))
            return ScreeningResult(
                decisions=decisions,
                hits=hits,
                alerts=alerts,
                rule_set_version=rules.version,
                round_trip_truncated=cycles.truncated,
            )
        self._next_prune = horizon + PRUNE_EVERY_SECONDS
        # b_key / b_order: this batch's legs by (group, arrival), already sorted once by the caller.
        tail_key = ((tail["acct"] * 2 + tail["dir"]) << SEQ_BITS) | tail["seq"]
        merged = np.empty(big_m + 2 * n, np.int64)
        at = np.searchsorted(tail_key, b_key[b_order]) + np.arange(2 * n)
        old = np.ones(merged.size, np.bool_)
        old[at] = False
        merged[at] = big_m + b_order
        merged[old] = np.arange(big_m)
        kept = merged[u_get("t", legs["t"], merged) > horizon]
        self._advance(replace(advance, tx_ids=tx_ids, tail_index=kept))
        return ScreeningResult(
            decisions=decisions,
            hits=hits,
            alerts=alerts,
            rule_set_version=rules.version,
            round_trip_truncated=cycles.truncated,
        )

    def _advance(self, adv: _Advance) -> None:
        """Fold the batch into the aggregates and roll the tail forward."""
        st = self.state
        acc = st.accounts
        k = st.n_accounts
        micro = adv.src.size * 8 < k
        if micro:
            # Micro-batch: touch only the cells it changes (integer adds: exact, same sums).
            cell = (adv.l_g >> 1, adv.l_g & 1)
            np.add.at(acc["dir_count"], cell, 1)
            np.add.at(acc["dir_qlog"], cell, adv.l_q)
            np.add.at(acc["reg_count"], cell, adv.regular)
            np.add.at(acc["reg_qlog"], cell, adv.l_q * adv.regular)
            both = np.concatenate([adv.src, adv.dst])
            times = np.concatenate([adv.t, adv.t])
            unseen = acc["first_t"][both] < 0
            if unseen.any():
                first = np.full(k, np.iinfo(np.int64).max)
                np.minimum.at(first, both[unseen], times[unseen])
                cells = np.unique(both[unseen])
                acc["first_t"][cells] = first[cells]
        else:
            acc["dir_count"] += np.bincount(adv.l_g, minlength=2 * k).reshape(k, 2)
            acc["dir_qlog"] += _int_bincount(adv.l_g, adv.l_q, 2 * k).reshape(k, 2)
            acc["reg_count"] += _int_bincount(adv.l_g, adv.regular, 2 * k).reshape(k, 2)
            acc["reg_qlog"] += _int_bincount(adv.l_g, adv.l_q * adv.regular, 2 * k).reshape(k, 2)
            both = np.concatenate([adv.src, adv.dst])
            first = np.full(k, np.iinfo(np.int64).max)
            np.minimum.at(first, both, np.concatenate([adv.t, adv.t]))
            unseen_all = (acc["first_t"] < 0) & (first != np.iinfo(np.int64).max)
            acc["first_t"] = np.where(unseen_all, first, acc["first_t"])
        if micro:
            # Micro-batch: touch only the cells it changes.
            np.add.at(acc["hour_hist"], (adv.src, adv.hour), 1)
            np.add.at(acc["channel_hist"], (adv.src, adv.channel), 1)
        else:
            acc["hour_hist"] += np.bincount(adv.src * N_HOURS + adv.hour, minlength=k * N_HOURS).reshape(k, N_HOURS)
            acc["channel_hist"] += np.bincount(adv.src * N_CHANNELS + adv.channel, minlength=k * N_CHANNELS).reshape(
                k, N_CHANNELS
            )
        if adv.new_places.size:
            at = np.searchsorted(st.seen_places, adv.new_places)
            st.seen_places = np.insert(st.seen_places, at, adv.new_places)
        done_cnt, done_q, part_cnt, part_q, day = adv.peer_update
        st.peer_count, st.peer_qlog, st.peer_day_count, st.peer_day_qlog = done_cnt, done_q, part_cnt, part_q
        st.peer_day = int(day[0])
        st.watermark = int(adv.t[-1])
        st.next_seq = int(adv.seq[-1]) + 1
        if adv.tail_insert is not None:
            # A few legs inserted at sorted positions: slice copies per column.
            position, order = adv.tail_insert
            st.tail = {
                name: _insert_sorted(st.tail[name], position, adv.legs[name][order].astype(dtype, copy=False))
                for name, dtype in TAIL_COLUMNS.items()
            }
        else:
            # tail_index addresses [old tail, this batch's legs]: one gather per column.
            st.tail = {
                name: np.concatenate([st.tail[name], adv.legs[name].astype(dtype, copy=False)])[adv.tail_index]
                for name, dtype in TAIL_COLUMNS.items()
            }
        # Recent ids: from the oldest transfer still in the tail to this batch's last one.
        oldest = int(st.tail["seq"].min()) if st.tail["seq"].size else st.next_seq
        keep_from = max(oldest - st.recent_seq0, 0)
        kept_ids = st.recent_ids.slice(keep_from) if keep_from < st.recent_ids.len() else st.recent_ids.clear()
        new_seq0 = st.recent_seq0 + keep_from if keep_from < st.recent_ids.len() else int(adv.seq[0])
        ids = pl.concat([kept_ids, adv.tx_ids.rename("tx_id")])
        first_needed = min(oldest, int(adv.seq[0]))
        st.recent_ids = ids.slice(max(first_needed - new_seq0, 0))
        st.recent_seq0 = new_seq0 + max(first_needed - new_seq0, 0)

    def _empty_result(self) -> ScreeningResult:
        return ScreeningResult(
            decisions=pl.DataFrame(
                schema={"transaction_id": pl.Utf8, "decision": pl.Int8, "score": pl.Float64, "reason_mask": pl.Int32}
            ),
            hits=pl.DataFrame(schema=HIT_SCHEMA),
            alerts=pl.DataFrame(schema=ALERT_SCHEMA),
            rule_set_version=self.rules.version,
            round_trip_truncated=False,
        )


KIND_ALL, KIND_SMALL, KIND_BAND, KIND_NEWCP, KIND_PASS, KIND_POINT, KIND_CYCLE = range(7)

HIT_SCHEMA: dict[str, pl.DataType] = {
    "transaction_id": pl.Utf8(),
    "tx_pos": pl.Int64(),
    "rule_id": pl.Utf8(),
    "reason_code": pl.Utf8(),
    "subject_account_id": pl.Utf8(),
    "score_contribution": pl.Float64(),
    "window_start_us": pl.Int64(),
    "window_end_us": pl.Int64(),
    "evidence_transaction_ids": pl.List(pl.Utf8()),
    "evidence_total_minor": pl.Int64(),
    "currency": pl.Utf8(),
    "summary": pl.Utf8(),
}
HIT_COLUMNS = list(HIT_SCHEMA)
ALERT_SCHEMA: dict[str, pl.DataType] = {
    "alert_key": pl.Utf8(),
    "account_id": pl.Utf8(),
    "score": pl.Float64(),
    "reason_codes": pl.List(pl.Utf8()),
    "transaction_ids": pl.List(pl.Utf8()),
    "first_time_us": pl.Int64(),
    "last_time_us": pl.Int64(),
}
ALERT_COLUMNS = list(ALERT_SCHEMA)
_EMPTY_HITS = pl.DataFrame(schema=HIT_SCHEMA)
_NO_CYCLES = Cycles(
    closing=np.zeros(0, np.int64),
    path=np.zeros((0, 1), np.int64),
    hops=np.zeros(0, np.int64),
    start_amount=np.zeros(0, np.int64),
    start_t=np.zeros(0, np.int64),
    truncated=False,
)
_EMPTY_ALERTS = pl.DataFrame(schema=ALERT_SCHEMA)


@dataclass(frozen=True)
class _HitPart:
    j: NDArray[np.int64]
    reason: NDArray[np.int64]
    strength: NDArray[np.float64]
    kind: NDArray[np.int64]
    lo: NDArray[np.int64]
    observed: NDArray[np.float64]
    threshold: NDArray[np.float64]


@dataclass(frozen=True)
class _Advance:
    src: NDArray[np.int64]
    dst: NDArray[np.int64]
    t: NDArray[np.int64]
    seq: NDArray[np.int64]
    hour: NDArray[np.int64]
    channel: NDArray[np.int64]
    origin_c: NDArray[np.int64]
    cp_c: NDArray[np.int64]
    l_g: NDArray[np.int64]
    l_q: NDArray[np.int64]
    regular: NDArray[np.int64]
    peer_update: tuple[NDArray[np.int64], ...]
    new_places: NDArray[np.int64]
    legs: dict[str, NDArray[Any]]
    tx_ids: pl.Series
    tail_index: NDArray[np.int64]
    tail_insert: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None
    """Small batches: (sorted tail position, leg index) per leg in (group, arrival) order, instead of ``tail_index``."""


_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """One helper thread per process for work that overlaps a screening call (created on first use)."""
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aml-screening")
        return _EXECUTOR


class _Ready(Generic[_T]):
    """A finished computation with the ``result()`` of a future."""

    def __init__(self, value: _T) -> None:
        self._value = value

    def result(self) -> _T:
        return self._value


def _submit(work: Callable[[], _T], transfers: int) -> Future[_T] | _Ready[_T]:
    """Run ``work`` beside the caller for large batches, inline for small ones."""
    if transfers >= OVERLAP_MIN_TRANSFERS:
        return _executor().submit(work)
    return _Ready(work())


def _is_duplicated(keys: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Whether each key occurs more than once (a hash pass on large arrays, a sort on small ones)."""
    if keys.size > SMALL_BATCH * 8:
        out: NDArray[np.bool_] = pl.Series(keys).is_duplicated().to_numpy()
        return out
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    duplicated: NDArray[np.bool_] = counts[inverse] > 1
    return duplicated


def _first_distinct(keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """Positions of the first occurrence of each key, in increasing order."""
    if keys.size > SMALL_BATCH * 8:
        return np.flatnonzero(pl.Series(keys).is_first_distinct().to_numpy())
    _, first = np.unique(keys, return_index=True)
    return np.sort(first)


def _excl_runs(run_start: NDArray[np.bool_], values: NDArray[np.int64]) -> NDArray[np.int64]:
    """Exclusive cumulative sum of ``values`` within runs (``run_start`` marks each run's first row)."""
    csum = np.cumsum(values, dtype=np.int64) - values
    out: NDArray[np.int64] = csum - csum[np.flatnonzero(run_start)][np.cumsum(run_start) - 1]
    return out


def _prior_in_batch(keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """For each row, how many earlier rows (in order) have the same key."""
    n = keys.size
    order = np.argsort((keys << 31) | np.arange(n, dtype=np.int64)) if n else np.zeros(0, np.int64)
    ks = keys[order]
    run_start = np.r_[True, ks[1:] != ks[:-1]]
    out = np.empty(n, np.int64)
    out[order] = _excl_runs(run_start, np.ones(n, np.int64))
    return out


def _insert_sorted(values: NDArray[Any], position: NDArray[np.int64], new: NDArray[Any]) -> NDArray[Any]:
    """``np.insert(values, position, new)`` for non-decreasing positions (slice copies when there are few)."""
    if position.size > 16:
        out_many: NDArray[Any] = np.insert(values, position, new)
        return out_many
    out = np.empty(values.size + new.size, dtype=values.dtype)
    previous = 0
    for k, at in enumerate(position.tolist()):
        out[previous + k : at + k] = values[previous:at]
        out[at + k] = new[k]
        previous = at
    out[previous + new.size :] = values[previous:]
    return out


def _ranges(lo: NDArray[np.int64], hi: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenation of ``arange(lo[i], hi[i])`` for every i."""
    counts = np.maximum(hi - lo, 0)
    offset = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    out: NDArray[np.int64] = np.repeat(lo, counts) + offset
    return out


def _expand(
    rows: NDArray[np.int64], lo: NDArray[np.int64], hi: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """All positions ``lo[i] <= p < hi[i]`` as (row, position) pairs."""
    counts = np.maximum(hi - lo, 0)
    rep = np.repeat(np.arange(rows.size), counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows[rep], lo[rep] + offset


def _int_bincount(keys: NDArray[np.int64], weights: NDArray[np.int64], size: int) -> NDArray[np.int64]:
    """Exact integer bincount.

    ``np.bincount`` sums in float64, which is exact while every partial sum stays below 2**53;
    the total of absolute weights bounds them, so the fast path is taken only when that holds.
    """
    out = np.zeros(size, np.int64)
    if keys.size == 0:
        return out
    if float(np.abs(weights).sum(dtype=np.float64)) < 2.0**52:
        return np.bincount(keys, weights=weights, minlength=size).astype(np.int64)
    order = np.argsort(keys, kind="stable")
    k_sorted = keys[order]
    starts = np.flatnonzero(np.r_[True, k_sorted[1:] != k_sorted[:-1]])
    out[k_sorted[starts]] = np.add.reduceat(weights[order], starts)
    return out


def screen_all(rules: RuleSet, batch: pl.DataFrame, segments: pl.DataFrame | None = None) -> ScreeningResult:
    """Screen a whole history from scratch in one call (the batch path).

    Args:
        rules: The rule set.
        batch: All transactions, in arrival order.
        segments: Optional ``account_id``, ``segment`` reference data.
    """
    engine = ScreeningEngine(rules)
    if segments is not None:
        engine.set_segments(segments)
    return engine.screen(batch)


__all__ = [
    "ENGINE_NAME",
    "ENGINE_VERSION",
    "TRANSACTION_SCHEMA",
    "Decision",
    "ScreeningEngine",
    "ScreeningResult",
    "empty_batch",
    "screen_all",
]
