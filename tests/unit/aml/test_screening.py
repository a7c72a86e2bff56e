"""The screening engine: each rule on hand-made histories, decisions, validation, and batch = stream."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from server.aml.rules import ReasonCode
from server.aml.screening import Decision, ScreeningEngine, screen_all
from server.aml.state import ScreeningState
from server.runtime.errors import InvalidArgument

from .conftest import DAY, HOUR, T0, frame, history


def _hits(result, code: ReasonCode) -> pl.DataFrame:
    return result.hits.filter(pl.col("reason_code") == code.name)


def test_structuring_just_below_the_threshold_within_72h(rules) -> None:
    rows = [
        {"transaction_id": f"s{i}", "src": "S", "dst": f"R{i}", "amount": 950_000, "time": T0 + i * 20 * HOUR}
        for i in range(3)
    ]
    result = screen_all(rules, frame(rows))
    hits = _hits(result, ReasonCode.STRUCTURING_BELOW_THRESHOLD)
    assert hits["transaction_id"].to_list() == ["s2"]
    assert hits["subject_account_id"].to_list() == ["S"]
    assert hits["evidence_transaction_ids"].to_list() == [["s0", "s1", "s2"]]
    assert hits["evidence_total_minor"].to_list() == [2_850_000]
    assert result.decisions["decision"].to_list() == [1, 1, int(Decision.REVIEW)]
    assert result.alerts["account_id"].to_list() == ["S"]
    assert result.rule_set_version == rules.version


def test_structuring_needs_the_window(rules) -> None:
    rows = [
        {"transaction_id": f"s{i}", "src": "S", "dst": f"R{i}", "amount": 950_000, "time": T0 + i * 40 * HOUR}
        for i in range(3)
    ]
    assert _hits(screen_all(rules, frame(rows)), ReasonCode.STRUCTURING_BELOW_THRESHOLD).height == 0


def test_frequent_small_transfers_against_own_history_not_same_timestamp(rules) -> None:
    past = history("A", [f"C{i}" for i in range(6)], start=T0, amount=250_000)
    # Spread over two and a half days: the rule is about a window, not one simulator step.
    small = [
        {
            "transaction_id": f"m{i}",
            "src": "A",
            "dst": "H",
            "amount": 3_000 + 100 * i,
            "time": T0 + 10 * DAY + i * 30 * HOUR,
        }
        for i in range(3)
    ]
    result = screen_all(rules, frame(past + small))
    hits = _hits(result, ReasonCode.FREQUENT_SMALL_TRANSFERS)
    assert "m2" in hits["transaction_id"].to_list()
    row = hits.filter((pl.col("transaction_id") == "m2") & (pl.col("subject_account_id") == "A"))
    assert row["evidence_transaction_ids"].to_list() == [["m0", "m1", "m2"]]
    assert row["score_contribution"].to_list() == [rules.scores["FREQUENT_SMALL_TRANSFERS"]]


def test_same_timestamp_bursts_of_ordinary_amounts_are_not_a_signal(rules) -> None:
    rows = [{"transaction_id": f"b{i}", "src": "P", "dst": f"Q{i}", "amount": 250_000, "time": T0} for i in range(5)]
    result = screen_all(rules, frame(rows))
    assert result.hits.height == 0
    assert set(result.decisions["decision"].to_list()) == {int(Decision.CLEAR)}


def test_fan_in_and_fan_out(rules) -> None:
    fan_in = [
        {"transaction_id": f"i{i}", "src": f"S{i}", "dst": "HUB", "amount": 200_000, "time": T0 + i * HOUR}
        for i in range(9)
    ]
    fan_out = [
        {"transaction_id": f"o{i}", "src": "OUT", "dst": f"D{i}", "amount": 200_000, "time": T0 + i * HOUR}
        for i in range(9)
    ]
    result = screen_all(rules, frame(fan_in + fan_out))
    fin = _hits(result, ReasonCode.FAN_IN)
    fout = _hits(result, ReasonCode.FAN_OUT)
    assert fin["transaction_id"].to_list() == ["i7", "i8"] and set(fin["subject_account_id"]) == {"HUB"}
    assert fout["transaction_id"].to_list() == ["o7", "o8"] and set(fout["subject_account_id"]) == {"OUT"}
    assert len(fin["evidence_transaction_ids"][0]) == 8


def test_large_inflow_passed_on_quickly(rules) -> None:
    rows = [
        {"transaction_id": "in", "src": "X", "dst": "M", "amount": 1_200_000, "time": T0},
        {"transaction_id": "out1", "src": "M", "dst": "Y", "amount": 500_000, "time": T0 + 5 * HOUR},
        {"transaction_id": "out2", "src": "M", "dst": "Z", "amount": 600_000, "time": T0 + 20 * HOUR},
    ]
    result = screen_all(rules, frame(rows))
    hits = _hits(result, ReasonCode.LARGE_RAPID_MOVEMENT)
    assert hits["transaction_id"].to_list() == ["out2"]
    assert set(hits["evidence_transaction_ids"][0]) == {"in", "out1", "out2"}
    assert result.decisions.filter(pl.col("transaction_id") == "out2")["decision"][0] == int(Decision.REVIEW)
    # Kept, not passed on: no hit.
    kept = screen_all(rules, frame(rows[:2]))
    assert _hits(kept, ReasonCode.LARGE_RAPID_MOVEMENT).height == 0


def test_round_trip_is_time_respecting_and_amount_conserving(rules) -> None:
    cycle = [
        {"transaction_id": "ab", "src": "A", "dst": "B", "amount": 500_000, "time": T0},
        {"transaction_id": "bc", "src": "B", "dst": "C", "amount": 490_000, "time": T0 + HOUR},
        {"transaction_id": "ca", "src": "C", "dst": "A", "amount": 480_000, "time": T0 + 2 * HOUR},
    ]
    result = screen_all(rules, frame(cycle))
    hits = _hits(result, ReasonCode.ROUND_TRIP)
    assert hits["transaction_id"].to_list() == ["ca"]
    assert hits["subject_account_id"].to_list() == ["A"]
    assert hits["evidence_transaction_ids"].to_list() == [["ab", "bc", "ca"]]
    assert result.decisions["decision"][2] == int(Decision.REVIEW)
    # The money comes back before it went round: not a cycle.
    early = [cycle[0], cycle[2] | {"time": T0 + HOUR}, cycle[1] | {"time": T0 + 2 * HOUR}]
    assert _hits(screen_all(rules, frame(early)), ReasonCode.ROUND_TRIP).height == 0
    # Almost nothing comes back: not amount-conserving.
    leak = [cycle[0], cycle[1], cycle[2] | {"amount": 10_000}]
    assert _hits(screen_all(rules, frame(leak)), ReasonCode.ROUND_TRIP).height == 0


def test_time_and_place_against_own_baseline(rules) -> None:
    past = history("T", [f"C{i % 4}" for i in range(25)], start=T0, amount=300_000)  # 09:00 every day
    odd = [
        {"transaction_id": "night", "src": "T", "dst": "C1", "amount": 300_000, "time": T0 + 30 * DAY - 6 * HOUR},
        {
            "transaction_id": "abroad",
            "src": "T",
            "dst": "F1",
            "amount": 300_000,
            "time": T0 + 31 * DAY,
            "cp_country": "DE",
        },
        {
            "transaction_id": "risky",
            "src": "T",
            "dst": "F2",
            "amount": 300_000,
            "time": T0 + 32 * DAY,
            "cp_country": "IR",
        },
        {"transaction_id": "branch", "src": "T", "dst": "C2", "amount": 300_000, "time": T0 + 33 * DAY, "channel": 1},
    ]
    result = screen_all(rules, frame(past + odd))
    codes = {tx: set(g["reason_code"]) for (tx,), g in result.hits.group_by("transaction_id")}
    assert codes["night"] == {"UNUSUAL_HOUR"}
    assert codes["abroad"] == {"FIRST_SEEN_COUNTRY"}
    assert codes["risky"] == {"FIRST_SEEN_COUNTRY", "HIGH_RISK_JURISDICTION"}
    assert codes["branch"] == {"NEW_CHANNEL"}
    assert not any(tx.startswith("h") for tx in codes)


def test_velocity_spike_against_own_rate(rules) -> None:
    past = history("V", [f"C{i}" for i in range(20)], start=T0, amount=300_000)
    burst = [
        {
            "transaction_id": f"v{i}",
            "src": "V",
            "dst": f"N{i % 3}",
            "amount": 300_000,
            "time": T0 + 25 * DAY + i * 10 * 60 * 1_000_000,
        }
        for i in range(7)
    ]
    hits = _hits(screen_all(rules, frame(past + burst)), ReasonCode.VELOCITY_SPIKE)
    assert hits["transaction_id"].to_list() == ["v5", "v6"]


def test_segment_thresholds_apply(rules) -> None:
    rows = [
        {"transaction_id": f"s{i}", "src": "CORP", "dst": f"R{i}", "amount": 950_000, "time": T0 + i * HOUR}
        for i in range(3)
    ]
    engine = ScreeningEngine(rules)
    engine.set_segments(pl.DataFrame({"account_id": ["CORP"], "segment": ["CORPORATE"]}))
    result = engine.screen(frame(rows))
    assert _hits(result, ReasonCode.STRUCTURING_BELOW_THRESHOLD).height == 0  # corporates need 4
    with pytest.raises(InvalidArgument) as error:
        engine.set_segments(pl.DataFrame({"account_id": ["X"], "segment": ["VIP"]}))
    assert error.value.violations[0].field == "segment"


def test_bad_batches_name_the_field(rules) -> None:
    engine = ScreeningEngine(rules)
    good = frame([{"src": "A", "dst": "B", "amount": 100, "time": T0}])
    with pytest.raises(InvalidArgument) as error:
        engine.screen(good.drop("currency"))
    assert error.value.violations[0].field == "currency"
    with pytest.raises(InvalidArgument) as error:
        engine.screen(good.with_columns(pl.lit("XYZ").alias("currency")))
    assert error.value.violations[0].field == "amount.currency_code"
    with pytest.raises(InvalidArgument) as error:
        engine.screen(good.with_columns(pl.lit(0, pl.Int64).alias("amount_minor")))
    assert error.value.violations[0].field == "amount"
    assert engine.state.n_accounts == 0  # nothing was folded into the state


def _merged_alerts(results) -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for result in results:
        for key, txs in result.alerts.select("alert_key", "transaction_ids").iter_rows():
            merged.setdefault(key, set()).update(txs)
    return merged


def test_batch_and_incremental_stream_decide_identically(rules, dev_enriched) -> None:
    data = dev_enriched.transactions.drop("row", "step").head(30_000)
    whole = ScreeningEngine(rules)
    whole.set_segments(dev_enriched.segments)
    batch = whole.screen(data)

    stream = ScreeningEngine(rules)
    stream.set_segments(dev_enriched.segments)
    rng = np.random.default_rng(3)
    results = []
    offset = 0
    while offset < data.height:
        size = int(rng.integers(1, 3_000))
        results.append(stream.screen(data.slice(offset, size)))
        offset += size
        if len(results) == 5:
            # Persist and restore the state mid-stream, as the service does through shared storage.
            blob = stream.state.to_bytes()
            stream = ScreeningEngine(rules, ScreeningState.from_bytes(blob, rule_set_version=rules.version))
            stream.set_segments(dev_enriched.segments)
    assert pl.concat([r.decisions for r in results]).equals(batch.decisions)
    stream_hits = pl.concat([r.hits for r in results]).drop("tx_pos")
    assert stream_hits.equals(batch.hits.drop("tx_pos"))
    assert _merged_alerts(results) == _merged_alerts([batch])
    assert batch.hits.height > 0 and batch.alerts.height > 0


def test_tiny_micro_batches_decide_like_one_batch(rules, dev_enriched) -> None:
    # Batches of up to SMALL_TAIL_BATCH transfers update the tail in place and prune it lazily (the
    # one-transfer-per-message stream); they must still decide exactly like one call, across restores.
    data = dev_enriched.transactions.drop("row", "step").head(16_000)
    whole = ScreeningEngine(rules)
    whole.set_segments(dev_enriched.segments)
    batch = whole.screen(data)

    stream = ScreeningEngine(rules)
    stream.set_segments(dev_enriched.segments)
    results = [stream.screen(data.head(10_000))]
    rng = np.random.default_rng(11)
    offset = 10_000
    while offset < data.height:
        size = int(rng.choice([1, 1, 2, 3, 7, 17, 250, 1_024, 1_025]))
        results.append(stream.screen(data.slice(offset, size)))
        offset += size
        if len(results) % 150 == 0:
            blob = stream.state.to_bytes()
            stream = ScreeningEngine(rules, ScreeningState.from_bytes(blob, rule_set_version=rules.version))
            stream.set_segments(dev_enriched.segments)
    assert pl.concat([r.decisions for r in results]).equals(batch.decisions)
    assert pl.concat([r.hits for r in results]).drop("tx_pos").equals(batch.hits.drop("tx_pos"))
    assert _merged_alerts(results) == _merged_alerts([batch])
    tail_hits = pl.concat([r.hits for r in results[1:]])
    assert tail_hits.height > 0  # the tiny batches did fire rules


def test_state_of_another_rule_set_version_is_refused(rules) -> None:
    engine = ScreeningEngine(rules)
    engine.screen(frame([{"src": "A", "dst": "B", "amount": 100, "time": T0}]))
    blob = engine.state.to_bytes()
    with pytest.raises(ValueError, match="rule set"):
        ScreeningState.from_bytes(blob, rule_set_version="other")


def test_late_transfers_are_evaluated_at_the_watermark(rules) -> None:
    rows = [
        {"transaction_id": "a", "src": "L", "dst": "R0", "amount": 950_000, "time": T0 + 10 * DAY},
        {"transaction_id": "b", "src": "L", "dst": "R1", "amount": 950_000, "time": T0},  # late
        {"transaction_id": "c", "src": "L", "dst": "R2", "amount": 950_000, "time": T0 + 10 * DAY + HOUR},
    ]
    result = screen_all(rules, frame(rows))
    assert result.decisions["transaction_id"].to_list() == ["a", "b", "c"]
    assert _hits(result, ReasonCode.STRUCTURING_BELOW_THRESHOLD)["transaction_id"].to_list() == ["c"]


def test_large_batches_are_chunked_without_changing_anything(rules, dev_enriched, monkeypatch) -> None:
    import server.aml.screening as screening

    data = dev_enriched.transactions.drop("row", "step").head(12_000)
    whole = screen_all(rules, data, dev_enriched.segments)
    monkeypatch.setattr(screening, "MAX_CHUNK", 2_500)
    chunked = screen_all(rules, data, dev_enriched.segments)
    assert chunked.decisions.equals(whole.decisions)
    assert chunked.hits.equals(whole.hits)
    assert _merged_alerts([chunked]) == _merged_alerts([whole])


def test_helper_thread_and_inline_paths_decide_identically(rules, dev_enriched, monkeypatch) -> None:
    import server.aml.screening as screening

    data = dev_enriched.transactions.drop("row", "step").head(12_000)
    monkeypatch.setattr(screening, "OVERLAP_MIN_TRANSFERS", 1)  # cycle search and place rules on the helper
    overlapped = screen_all(rules, data, dev_enriched.segments)
    monkeypatch.setattr(screening, "OVERLAP_MIN_TRANSFERS", 10**9)  # everything inline
    inline = screen_all(rules, data, dev_enriched.segments)
    assert overlapped.decisions.equals(inline.decisions)
    assert overlapped.hits.equals(inline.hits)
    assert overlapped.alerts.equals(inline.alerts)
    assert overlapped.hits.height > 0


def test_small_and_large_key_paths_agree() -> None:
    from server.aml.round_trip import _receiver_order
    from server.aml.screening import _first_distinct, _is_duplicated

    rng = np.random.default_rng(7)
    for size in (0, 1, 5, 40_000):  # below and above the hash-pass threshold
        keys = rng.integers(0, max(size // 3, 1), size).astype(np.int64)
        assert np.array_equal(_is_duplicated(keys), pl.Series(keys).is_duplicated().to_numpy())
        assert np.array_equal(_first_distinct(keys), np.flatnonzero(pl.Series(keys).is_first_distinct().to_numpy()))
    # A sorted prefix merged with a sorted rest is the full argsort (keys unique, as (receiver, arrival) are).
    keys = rng.permutation(1_000_000)[:5_000].astype(np.int64)
    for prefix in (0, 1, 2_500, 5_000):
        head = np.sort(keys[:prefix])
        joined = np.concatenate([head, keys[prefix:]])
        assert np.array_equal(_receiver_order(joined, prefix), np.argsort(joined))
