"""Protobuf <-> domain mapping and the versioned rule set."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from fintech.aml.v1 import aml_service_pb2 as pb
from fintech.common.v1 import common_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import ValidationError

from server.aml.mapping import (
    frame_to_transactions,
    investigation_request_from_proto,
    minor_to_money,
    money_to_minor,
    screening_to_proto,
    transactions_to_frame,
)
from server.aml.rules import DEFAULT_RULES_FILE, load_rule_set
from server.aml.screening import screen_all
from server.aml.settings import AmlSettings
from server.runtime.errors import InvalidArgument

from .conftest import HOUR, T0


def _tx(i: int, src: str, dst: str, units: int, nanos: int = 0, currency: str = "USD") -> pb.Transaction:
    return pb.Transaction(
        transaction_id=f"p{i}",
        source_account_id=src,
        target_account_id=dst,
        amount=common_pb2.Money(currency_code=currency, units=units, nanos=nanos),
        execute_time=Timestamp(seconds=T0 // 1_000_000 + i * 3_600),
        channel=pb.CHANNEL_WIRE,
        origin_country_code="US",
        counterparty_country_code="DE",
    )


def test_money_is_never_a_float() -> None:
    money = common_pb2.Money(currency_code="USD", units=9_500, nanos=250_000_000)
    assert money_to_minor(money, 2, "amount") == 950_025
    assert minor_to_money(950_025, "USD", 2) == money
    assert minor_to_money(-5, "USD", 2) == common_pb2.Money(currency_code="USD", units=0, nanos=-50_000_000)
    with pytest.raises(InvalidArgument) as error:
        money_to_minor(common_pb2.Money(currency_code="USD", units=1, nanos=1), 2, "transactions[0].amount")
    assert error.value.violations[0].field == "transactions[0].amount.nanos"


def test_transactions_round_trip_and_screening_response_in_order(rules) -> None:
    messages = [_tx(i, "S", f"R{i}", 9_500) for i in range(3)]
    batch = transactions_to_frame(messages, rules)
    assert batch["amount_minor"].to_list() == [950_000] * 3
    assert frame_to_transactions(batch, rules) == messages
    result = screen_all(rules, batch)
    response = screening_to_proto(result, rules, {result.alerts["alert_key"][0]: "alert-1"})
    assert [r.transaction_id for r in response.results] == ["p0", "p1", "p2"]
    assert response.rule_set_version == rules.version
    last = response.results[2]
    assert last.decision == pb.SCREENING_DECISION_REVIEW and last.alert_id == "alert-1"
    hit = next(h for h in last.rule_hits if h.reason_code == "STRUCTURING_BELOW_THRESHOLD")
    assert list(hit.evidence.transaction_ids) == ["p0", "p1", "p2"]
    assert hit.evidence.total_amount == common_pb2.Money(currency_code="USD", units=28_500)
    assert hit.evidence.window.end_time.seconds > hit.evidence.window.start_time.seconds


def test_over_precise_amount_names_the_transaction_and_field(rules) -> None:
    messages = [_tx(0, "A", "B", 1), _tx(1, "A", "B", 1, nanos=250_000_000), _tx(2, "A", "B", 1, nanos=1)]
    with pytest.raises(InvalidArgument) as error:
        transactions_to_frame(messages, rules, field="requests[3].transactions")
    assert error.value.violations[0].field == "requests[3].transactions[2].amount.nanos"
    assert transactions_to_frame(messages[:2], rules)["amount_minor"].to_list() == [100, 125]
    # Large messages take the column-wise path: same checks, same field names.
    many = [_tx(i, "A", "B", 1, nanos=10_000_000) for i in range(100)]
    assert transactions_to_frame(many, rules)["amount_minor"].to_list() == [101] * 100
    many[70] = _tx(70, "A", "B", 1, nanos=5)
    with pytest.raises(InvalidArgument) as error:
        transactions_to_frame(many, rules)
    assert error.value.violations[0].field == "transactions[70].amount.nanos"
    assert transactions_to_frame([], rules).height == 0


def test_unknown_currency_names_the_field(rules) -> None:
    with pytest.raises(InvalidArgument) as error:
        transactions_to_frame([_tx(0, "A", "B", 1), _tx(1, "A", "B", 1, currency="XAU")], rules)
    assert error.value.violations[0].field == "transactions[1].amount.currency_code"


def test_investigation_request_mapping(rules) -> None:
    request = pb.InvestigateNetworkRequest(
        seed_account_ids=["A"],
        max_hops=2,
        min_amount=common_pb2.Money(currency_code="USD", units=5_000),
        window=common_pb2.TimeRange(start_time=Timestamp(seconds=10), end_time=Timestamp(seconds=20)),
    )
    bounds = investigation_request_from_proto(request, rules)
    assert bounds.min_amount_minor == 500_000
    assert (bounds.window_start_us, bounds.window_end_us) == (10_000_000, 20_000_000)
    assert bounds.seed_account_ids == ("A",)


def test_rule_set_is_versioned_and_strict(tmp_path: Path) -> None:
    rules = load_rule_set()
    assert rules.version.startswith("aml-rules-")
    assert rules.windows.lookback_seconds == rules.windows.round_trip_seconds
    raw = tomllib.loads(DEFAULT_RULES_FILE.read_text())
    bad = DEFAULT_RULES_FILE.read_text().replace("[windows]", "[windows]\ntypo_seconds = 1")
    path = tmp_path / "rules.toml"
    path.write_text(bad)
    with pytest.raises(ValidationError, match="typo_seconds"):
        load_rule_set(path)
    path.write_text(DEFAULT_RULES_FILE.read_text().replace("ROUND_TRIP = 60.0\n", ""))
    with pytest.raises(ValidationError, match="ROUND_TRIP"):
        load_rule_set(path)
    assert set(raw["segments"]) == set(raw["segments_config"])


def test_settings_section() -> None:
    settings = AmlSettings()
    assert settings.rules_file == DEFAULT_RULES_FILE and settings.max_stream_batch == 20_000
    with pytest.raises(ValidationError):
        AmlSettings(unknown=1)  # type: ignore[call-arg]
    assert HOUR > 0
