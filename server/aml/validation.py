"""Fast validation of the AML streams' repeated ``Transaction`` messages, exact to protovalidate.

protovalidate evaluates every rule of every transfer through its CEL runtime: 26.5 ms per
1,000-transfer message, more than screening it. The stream messages carry one repeated message
type with a fixed, small set of rules (written in ``aml_service.proto`` and ``common.proto``), so
this module checks exactly those rules over whole columns (one regular-expression scan per string
column, integer comparisons per numeric column) while it extracts the columns the conversion needs.

Exactness, and what happens outside the fast path:

* A message the fast check accepts is one protovalidate accepts; the contract test
  (``tests/unit/aml/test_validation_contract.py``) proves the verdicts equal over valid samples and
  invalid samples for every rule on these messages.
* A message the fast check rejects is handed to protovalidate (``check_message``), whose violations
  (field paths, rule ids, messages) are the error: the fast path never writes an error of its own.
* The rules the fast check implements are pinned by a fingerprint of the validation options of the
  messages involved. If the ``.proto`` rules change, the fingerprint no longer matches and every
  message goes to protovalidate (and the contract test fails until this module is updated).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter, methodcaller
from typing import Any

import numpy as np
from fintech.aml.v1 import aml_service_pb2 as pb
from fintech.common.v1 import common_pb2
from numpy.typing import NDArray

from server.runtime.interceptors import check_message

_log = logging.getLogger(__name__)

# The rules as written in the .proto (aml_service.proto Transaction, common.proto Money).
_ID_RE = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}"
_COUNTRY_RE = r"(?:[A-Z]{2})?"
_CURRENCY_RE = r"[A-Z]{3}"
_NAME_MAX_CHARS = 256
_NANOS_MIN, _NANOS_MAX = -999_999_999, 999_999_999
_SEP = "\n"  # not allowed by any of the patterns: a joined column is checked by one scan
_SCALAR_MAX = 8  # up to this many transfers the numeric rules are checked without NumPy

# Each column joined with a trailing separator per value must match one of these in full.
_IDS = re.compile(f"(?:{_ID_RE}{_SEP})*")
_COUNTRIES = re.compile(f"(?:{_COUNTRY_RE}{_SEP})*")
_CURRENCIES = re.compile(f"(?:{_CURRENCY_RE}{_SEP})*")

RULES_FINGERPRINT = "dee9a995efb3671e"
"""First 16 hex digits of :func:`rules_fingerprint` for the rules implemented here."""

_DEFINED_CHANNELS = frozenset(v.number for v in pb.Channel.DESCRIPTOR.values)


def rules_fingerprint() -> str:
    """SHA-256 (16 hex digits) of the validation options of every message the fast check covers.

    Covers the field and message options of ``Transaction``, ``Money``, ``ScreenTransactionsRequest``
    and ``IngestTransactionsRequest`` (field names, numbers, types and their ``buf.validate`` rules),
    and the values of ``Channel``: any change to a rule changes it.
    """
    digest = hashlib.sha256()
    for message in (
        pb.Transaction.DESCRIPTOR,
        common_pb2.Money.DESCRIPTOR,
        pb.ScreenTransactionsRequest.DESCRIPTOR,
        pb.IngestTransactionsRequest.DESCRIPTOR,
    ):
        digest.update(message.full_name.encode())
        digest.update(message.GetOptions().SerializeToString(deterministic=True))
        for fld in message.fields:
            digest.update(f"|{fld.name}:{fld.number}:{fld.type}:{fld.is_repeated}".encode())
            digest.update(fld.GetOptions().SerializeToString(deterministic=True))
    digest.update(repr(sorted(_DEFINED_CHANNELS)).encode())
    return digest.hexdigest()[:16]


_FAST_PATH = rules_fingerprint() == RULES_FINGERPRINT
if not _FAST_PATH:  # pragma: no cover - only when the .proto rules changed without this module
    _log.warning("aml.validation: proto rules changed; every stream message is validated by protovalidate")


@dataclass(frozen=True)
class TransactionColumns:
    """The fields of a repeated ``Transaction``, one list or array per field, in message order."""

    transaction_id: list[str]
    source_account_id: list[str]
    target_account_id: list[str]
    currency: list[str]
    units: NDArray[np.int64]
    nanos: NDArray[np.int64]
    seconds: NDArray[np.int64]
    time_nanos: NDArray[np.int64]
    channel: list[int]
    origin_country: list[str]
    counterparty_country: list[str]
    counterparty_name: list[str]
    has_amount: bool
    """Every transfer has ``amount`` set."""
    has_time: bool
    """Every transfer has ``execute_time`` set."""

    def __len__(self) -> int:
        return len(self.transaction_id)

    @classmethod
    def concat(cls, parts: Sequence[TransactionColumns]) -> TransactionColumns:
        """Several messages' columns as one (in order): one frame per micro-batch, not per message."""
        if len(parts) == 1:
            return parts[0]

        def joined(name: str) -> list[Any]:
            return [value for part in parts for value in getattr(part, name)]

        def stacked(name: str) -> NDArray[np.int64]:
            return np.concatenate([getattr(part, name) for part in parts])

        return cls(
            transaction_id=joined("transaction_id"),
            source_account_id=joined("source_account_id"),
            target_account_id=joined("target_account_id"),
            currency=joined("currency"),
            units=stacked("units"),
            nanos=stacked("nanos"),
            seconds=stacked("seconds"),
            time_nanos=stacked("time_nanos"),
            channel=joined("channel"),
            origin_country=joined("origin_country"),
            counterparty_country=joined("counterparty_country"),
            counterparty_name=joined("counterparty_name"),
            has_amount=all(part.has_amount for part in parts),
            has_time=all(part.has_time for part in parts),
        )


def extract_columns(transactions: Sequence[pb.Transaction]) -> TransactionColumns:
    """One C-level pass per field over the repeated messages (``attrgetter`` maps, no per-row Python)."""
    txs = list(transactions)
    n = len(txs)
    amounts = list(map(_AMOUNT, txs))
    times = list(map(_TIME, txs))

    def column(getter: Any, rows: list[Any]) -> list[Any]:
        return list(map(getter, rows))

    return TransactionColumns(
        transaction_id=column(_TX_ID, txs),
        source_account_id=column(_SOURCE, txs),
        target_account_id=column(_TARGET, txs),
        currency=column(_CURRENCY, amounts),
        units=np.fromiter(map(_UNITS, amounts), np.int64, n),
        nanos=np.fromiter(map(_NANOS, amounts), np.int64, n),
        seconds=np.fromiter(map(_SECONDS, times), np.int64, n),
        time_nanos=np.fromiter(map(_NANOS, times), np.int64, n),
        channel=column(_CHANNEL, txs),
        origin_country=column(_ORIGIN, txs),
        counterparty_country=column(_COUNTERPARTY, txs),
        counterparty_name=column(_NAME, txs),
        has_amount=all(map(_HAS_AMOUNT, txs)),
        has_time=all(map(_HAS_TIME, txs)),
    )


_AMOUNT, _TIME = attrgetter("amount"), attrgetter("execute_time")
_TX_ID, _SOURCE, _TARGET = (
    attrgetter("transaction_id"),
    attrgetter("source_account_id"),
    attrgetter("target_account_id"),
)
_CURRENCY, _UNITS, _NANOS = attrgetter("currency_code"), attrgetter("units"), attrgetter("nanos")
_SECONDS, _CHANNEL = attrgetter("seconds"), attrgetter("channel")
_ORIGIN, _COUNTERPARTY = attrgetter("origin_country_code"), attrgetter("counterparty_country_code")
_NAME = attrgetter("counterparty_name")
_HAS_AMOUNT, _HAS_TIME = methodcaller("HasField", "amount"), methodcaller("HasField", "execute_time")


def _column_matches(pattern: re.Pattern[str], values: list[str]) -> bool:
    joined = _SEP.join(values) + _SEP
    # A value containing the separator would split into pieces that might each match: refuse it here
    # (protovalidate then decides; no pattern allows the separator anyway).
    return joined.count(_SEP) == len(values) and pattern.fullmatch(joined) is not None


def columns_pass(columns: TransactionColumns) -> bool:
    """Whether every transfer satisfies every rule of ``Transaction`` (and its ``Money``).

    ``True`` is exact (protovalidate accepts the same transfers: the contract test); ``False`` means
    "not proven valid here": protovalidate gives the verdict and the violations.
    """
    if not (columns.has_amount and columns.has_time):
        return False
    units, nanos = columns.units, columns.nanos
    if units.size <= _SCALAR_MAX:
        # A few transfers (latency-bound streams): plain comparisons beat NumPy's per-call overhead.
        for u, n in zip(units.tolist(), nanos.tolist(), strict=True):
            if not (
                _NANOS_MIN <= n <= _NANOS_MAX
                and (u > 0 or (u == 0 and n > 0))  # transaction.amount.positive
                and ((u >= 0 and n >= 0) or (u <= 0 and n <= 0))  # money.sign
            ):
                return False
    elif not (
        bool(((nanos >= _NANOS_MIN) & (nanos <= _NANOS_MAX)).all())
        # transaction.amount.positive
        and bool(((units > 0) | ((units == 0) & (nanos > 0))).all())
        # money.sign
        and bool((((units >= 0) & (nanos >= 0)) | ((units <= 0) & (nanos <= 0))).all())
    ):
        return False
    if not set(columns.channel) <= _DEFINED_CHANNELS:
        return False
    if columns.counterparty_name and max(map(len, columns.counterparty_name)) > _NAME_MAX_CHARS:
        return False
    return (
        _column_matches(_IDS, columns.transaction_id)
        and _column_matches(_IDS, columns.source_account_id)
        and _column_matches(_IDS, columns.target_account_id)
        and _column_matches(_CURRENCIES, columns.currency)
        and _column_matches(_COUNTRIES, columns.origin_country)
        and _column_matches(_COUNTRIES, columns.counterparty_country)
    )


def _request_passes(message: Any, columns: TransactionColumns) -> bool:
    n = len(columns)
    if isinstance(message, pb.ScreenTransactionsRequest):
        return 1 <= n <= 1_000 and columns_pass(columns)
    if isinstance(message, pb.IngestTransactionsRequest):
        return 1 <= n <= 10_000 and len(message.batch_id) <= 128 and columns_pass(columns)
    return False


def checked_columns(message: pb.ScreenTransactionsRequest | pb.IngestTransactionsRequest) -> TransactionColumns:
    """Validate a stream message and return its transfers' columns.

    The fast check decides valid messages; anything else goes to protovalidate, whose violations
    (naming each field, e.g. ``transactions[3].amount``) are raised.

    Raises:
        InvalidArgument: a rule in the ``.proto`` is broken (protovalidate's violations).
    """
    columns = extract_columns(message.transactions)
    if _FAST_PATH and _request_passes(message, columns):
        return columns
    check_message(message)
    return columns


__all__ = [
    "RULES_FINGERPRINT",
    "TransactionColumns",
    "checked_columns",
    "columns_pass",
    "extract_columns",
    "rules_fingerprint",
]
