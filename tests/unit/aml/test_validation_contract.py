"""Contract: the fast stream validator gives protovalidate's verdicts, and protovalidate's field paths.

The fast check (``server.aml.validation``) is a shortcut for valid messages only; these tests run
both on the same messages: valid samples, one invalid sample (or several) per rule on
``Transaction``, ``Money``, ``ScreenTransactionsRequest`` and ``IngestTransactionsRequest``, and a
seeded random mix of mutations.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from fintech.aml.v1 import aml_service_pb2 as pb
from fintech.common.v1 import common_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from server.aml import validation
from server.aml.validation import checked_columns, extract_columns
from server.runtime.errors import InvalidArgument
from server.runtime.interceptors import violations_of

ID_CHARS = "abcXYZ019._:-"


def _tx(**fields: Any) -> pb.Transaction:
    values: dict[str, Any] = {
        "transaction_id": "tx-1",
        "source_account_id": "A1",
        "target_account_id": "B.2:x_y-z",
        "amount": common_pb2.Money(currency_code="USD", units=25, nanos=500_000_000),
        "execute_time": Timestamp(seconds=1_760_000_000, nanos=123_000),
        "channel": pb.CHANNEL_WIRE,
        "origin_country_code": "US",
        "counterparty_country_code": "",
        "counterparty_name": "Jane Roe",
    }
    values.update(fields)
    return pb.Transaction(**{k: v for k, v in values.items() if v is not None})


def _fast_accepts(message: Any) -> bool:
    return validation._request_passes(message, extract_columns(message.transactions))


def _verdicts_agree(message: Any) -> None:
    reference = violations_of(message)
    assert _fast_accepts(message) == (not reference), (message, [v.field for v in reference])
    if reference:
        with pytest.raises(InvalidArgument) as error:
            checked_columns(message)
        assert [(v.field, v.reason) for v in error.value.violations] == [(v.field, v.reason) for v in reference]
    else:
        assert len(checked_columns(message)) == len(message.transactions)


def test_the_fast_path_is_on_for_the_rules_it_was_written_for() -> None:
    # Fails when a rule on these messages changes: update server/aml/validation.py and this contract.
    assert validation.rules_fingerprint() == validation.RULES_FINGERPRINT
    assert validation._FAST_PATH


VALID = {
    "plain": _tx(),
    "longest id": _tx(transaction_id="a" + ID_CHARS * 9 + "abcdefghij"[: 127 - len(ID_CHARS) * 9]),
    "units zero, nanos positive": _tx(amount=common_pb2.Money(currency_code="EUR", units=0, nanos=1)),
    "largest nanos": _tx(amount=common_pb2.Money(currency_code="GBP", units=3, nanos=999_999_999)),
    "no countries": _tx(origin_country_code="", counterparty_country_code=""),
    "name of 256 characters, multi-byte": _tx(counterparty_name="é" * 256),
    "unspecified channel": _tx(channel=pb.CHANNEL_UNSPECIFIED),
    "card channel": _tx(channel=pb.CHANNEL_CARD),
    "no name": _tx(counterparty_name=""),
    "epoch time": _tx(execute_time=Timestamp()),
}

INVALID_TRANSACTIONS = {
    # string.pattern on the three ids
    "empty transaction id": _tx(transaction_id=""),
    "id starting with a dot": _tx(transaction_id=".x"),
    "id of 129 characters": _tx(transaction_id="a" * 129),
    "id with a space": _tx(source_account_id="A 1"),
    "id with a non-ASCII letter": _tx(target_account_id="Bé"),
    "id with a trailing newline": _tx(transaction_id="tx\n"),
    "id with an inner newline": _tx(source_account_id="a\nb"),
    "id with a slash": _tx(target_account_id="a/b"),
    # required
    "missing amount": _tx(amount=None),
    "missing execute time": _tx(execute_time=None),
    # transaction.amount.positive
    "zero amount": _tx(amount=common_pb2.Money(currency_code="USD")),
    "negative amount": _tx(amount=common_pb2.Money(currency_code="USD", units=-5)),
    "negative nanos only": _tx(amount=common_pb2.Money(currency_code="USD", units=0, nanos=-5)),
    # money.sign
    "units positive, nanos negative": _tx(amount=common_pb2.Money(currency_code="USD", units=1, nanos=-5)),
    "units negative, nanos positive": _tx(amount=common_pb2.Money(currency_code="USD", units=-1, nanos=5)),
    # int32.gte_lte on nanos
    "nanos of one billion": _tx(amount=common_pb2.Money(currency_code="USD", units=1, nanos=1_000_000_000)),
    "nanos below minus one billion": _tx(amount=common_pb2.Money(currency_code="USD", units=-1, nanos=-1_000_000_000)),
    # string.pattern on the currency
    "lower-case currency": _tx(amount=common_pb2.Money(currency_code="usd", units=1)),
    "two-letter currency": _tx(amount=common_pb2.Money(currency_code="US", units=1)),
    "empty currency": _tx(amount=common_pb2.Money(currency_code="", units=1)),
    "currency with a newline": _tx(amount=common_pb2.Money(currency_code="USD\n", units=1)),
    # enum.defined_only
    "undefined channel": _tx(channel=7),
    "negative channel": _tx(channel=-1),
    # string.pattern on the countries
    "three-letter origin country": _tx(origin_country_code="USA"),
    "lower-case counterparty country": _tx(counterparty_country_code="de"),
    "one-letter country": _tx(origin_country_code="U"),
    "country with a newline": _tx(counterparty_country_code="D\n"),
    # string.max_len on the name (characters, not bytes)
    "name of 257 characters": _tx(counterparty_name="x" * 257),
    "name of 257 multi-byte characters": _tx(counterparty_name="é" * 257),
    # several rules at once: the paths must be protovalidate's, in its order
    "several broken fields": _tx(transaction_id="", channel=9, amount=common_pb2.Money(currency_code="x", units=-1)),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_transactions_pass_both(name: str) -> None:
    for request in (
        pb.ScreenTransactionsRequest(transactions=[VALID[name]]),
        pb.IngestTransactionsRequest(batch_id="b1", transactions=[_tx(), VALID[name]]),
    ):
        assert not violations_of(request)
        _verdicts_agree(request)


@pytest.mark.parametrize("name", sorted(INVALID_TRANSACTIONS))
def test_each_broken_rule_gets_protovalidates_verdict_and_paths(name: str) -> None:
    bad = INVALID_TRANSACTIONS[name]
    for request in (
        pb.ScreenTransactionsRequest(transactions=[_tx(transaction_id="ok-0"), bad, _tx(transaction_id="ok-2")]),
        pb.IngestTransactionsRequest(batch_id="b1", transactions=[bad]),
    ):
        assert violations_of(request), name  # the sample does break a rule
        _verdicts_agree(request)


def test_request_level_rules() -> None:
    cases = [
        pb.ScreenTransactionsRequest(),  # repeated.min_items
        pb.ScreenTransactionsRequest(transactions=[_tx(transaction_id=f"t{i}") for i in range(1_000)]),  # at max
        pb.ScreenTransactionsRequest(transactions=[_tx(transaction_id=f"t{i}") for i in range(1_001)]),  # over
        pb.IngestTransactionsRequest(batch_id="b"),
        pb.IngestTransactionsRequest(batch_id="b" * 128, transactions=[_tx()]),  # batch_id at max
        pb.IngestTransactionsRequest(batch_id="b" * 129, transactions=[_tx()]),  # string.max_len
        pb.IngestTransactionsRequest(transactions=[_tx(transaction_id=f"t{i}") for i in range(10_001)]),
    ]
    verdicts = [not violations_of(c) for c in cases]
    assert verdicts == [False, True, False, False, True, False, False]
    for request in cases:
        _verdicts_agree(request)


MUTATIONS: list[tuple[str, Any]] = [
    ("transaction_id", ["", "a", "-a", "a-", "Z" * 128, "Z" * 129, "a b", "ü", "a\n", "x:y.z_w-1"]),
    ("source_account_id", ["", "S1", "S\t1", "S" * 128, "S" * 129, "Ω"]),
    ("target_account_id", ["", "T1", "T#1", "0", "T" * 130]),
    ("channel", [0, 1, 3, 6, 7, 100, -3]),
    ("origin_country_code", ["", "US", "us", "USA", "U", "ÜS", "U1"]),
    ("counterparty_country_code", ["", "DE", "de", "D", "DE\n"]),
    ("counterparty_name", ["", "x" * 256, "x" * 257, "ü" * 256, "ü" * 257, "line\nbreak"]),
    ("units", [0, 1, -1, 10**12, -(10**12)]),
    ("nanos", [0, 1, -1, 999_999_999, 1_000_000_000, -999_999_999, -1_000_000_000, 500]),
    ("currency_code", ["USD", "usd", "", "US", "USDX", "EUR", "ÜSD"]),
    ("amount", [True, False]),
    ("execute_time", [True, False]),
]


def _mutated(rng: random.Random) -> pb.Transaction:
    tx = _tx(transaction_id=f"r{rng.randrange(10**6)}")
    for name, choices in rng.sample(MUTATIONS, k=rng.randint(0, 3)):
        value = rng.choice(choices)
        if name in {"units", "nanos", "currency_code"}:
            setattr(tx.amount, name, value)
        elif name in {"amount", "execute_time"}:
            if not value:
                tx.ClearField(name)
        else:
            setattr(tx, name, value)
    return tx


@pytest.mark.parametrize("sizes", [(1, 4), (9, 14)], ids=["scalar path", "numpy path"])
def test_seeded_random_mutations_agree(sizes: tuple[int, int]) -> None:
    # Up to validation._SCALAR_MAX transfers the numeric rules are plain comparisons, above it NumPy.
    assert sizes[1] <= validation._SCALAR_MAX or sizes[0] > validation._SCALAR_MAX
    rng = random.Random(20261125 + sizes[0])
    accepted = rejected = 0
    for _ in range(600):
        count = rng.randint(*sizes)
        # Mostly one mutation per message, so that large messages are still valid often enough.
        transactions = [
            _mutated(rng) if rng.random() < 2 / count else _tx(transaction_id=f"v{i}") for i in range(count)
        ]
        request = pb.ScreenTransactionsRequest(transactions=transactions)
        _verdicts_agree(request)
        if violations_of(request):
            rejected += 1
        else:
            accepted += 1
    assert accepted > 50 and rejected > 50  # both verdicts were exercised
