"""Protobuf <-> domain mapping for AML: the servicer's only translation layer.

The engines work on columnar frames (:data:`server.aml.screening.TRANSACTION_SCHEMA`) and plain
dataclasses; this module turns ``fintech.aml.v1`` messages into those and back. Money is never a
float: ``units`` + ``nanos`` become integer minor units with the currency's digits from the rule
set; an amount finer than the currency's minor unit is rejected, naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from fintech.aml.v1 import aml_service_pb2 as pb
from fintech.common.v1 import common_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from server.aml.network import InvestigationRequest, NetworkInvestigation
from server.aml.rules import RuleSet
from server.aml.screening import TRANSACTION_SCHEMA, ScreeningResult
from server.aml.validation import TransactionColumns
from server.runtime.errors import FieldViolation, InvalidArgument

DOMAIN = "aml.fintech"


def _unsupported_currency(field: str, rules: RuleSet) -> InvalidArgument:
    """UNSUPPORTED_CURRENCY naming ``field`` (a currency the rule set has no thresholds for)."""
    return InvalidArgument(
        message="no thresholds for this currency",
        reason="UNSUPPORTED_CURRENCY",
        domain=DOMAIN,
        violations=[FieldViolation(field, f"one of {sorted(rules.currencies)}")],
    )


def _amount_precision(field: str, step: int, currency: str) -> InvalidArgument:
    """AMOUNT_PRECISION naming ``field`` (nanos not a multiple of the currency's minor unit ``step``)."""
    return InvalidArgument(
        message="amount finer than the currency's minor unit",
        reason="AMOUNT_PRECISION",
        domain=DOMAIN,
        violations=[FieldViolation(field, f"must be a multiple of {step} for {currency}")],
    )


def money_to_minor(money: common_pb2.Money, digits: int, field: str) -> int:
    """``Money`` to integer minor units.

    Raises:
        InvalidArgument: nanos finer than the currency's minor unit (naming ``field``).
    """
    step = 10 ** (9 - digits)
    if money.nanos % step:
        raise _amount_precision(f"{field}.nanos", step, money.currency_code)
    scale: int = 10**digits
    minor: int = int(money.units) * scale + int(money.nanos) // step
    return minor


def minor_to_money(minor: int, currency: str, digits: int) -> common_pb2.Money:
    """Integer minor units to ``Money`` (same sign for units and nanos)."""
    sign = -1 if minor < 0 else 1
    units, rest = divmod(abs(int(minor)), 10**digits)
    return common_pb2.Money(currency_code=currency, units=sign * units, nanos=sign * rest * 10 ** (9 - digits))


def _timestamp_us(ts: Timestamp) -> int:
    return int(ts.seconds) * 1_000_000 + int(ts.nanos) // 1_000


def us_to_timestamp(micros: int) -> Timestamp:
    """Microseconds since the epoch to a ``Timestamp``."""
    seconds, rest = divmod(int(micros), 1_000_000)
    return Timestamp(seconds=seconds, nanos=rest * 1_000)


def transactions_to_frame(
    transactions: Sequence[pb.Transaction], rules: RuleSet, field: str = "transactions"
) -> pl.DataFrame:
    """A micro-batch of ``Transaction`` messages as a screening frame, in order.

    Converted column by column (one pass per field over the repeated messages, then whole-column
    arithmetic), not message by message: this sits on the stream's hot path.

    Raises:
        InvalidArgument: an unknown currency or an over-precise amount (naming ``field[i]``).
    """
    amounts = [tx.amount for tx in transactions]
    times = [tx.execute_time for tx in transactions]
    currencies = [m.currency_code for m in amounts]
    digits_of = {code: spec.minor_digits for code, spec in rules.currencies.items()}
    unknown = next((i for i, c in enumerate(currencies) if c not in digits_of), None)
    if unknown is not None:
        raise _unsupported_currency(f"{field}[{unknown}].amount.currency_code", rules)
    if len(amounts) < _COLUMNWISE_MIN:
        # A few transfers (one per message on a latency-bound stream): plain Python beats the fixed
        # cost of the expressions below.
        minor: Any = [
            money_to_minor(m, digits_of[c], f"{field}[{i}].amount")
            for i, (m, c) in enumerate(zip(amounts, currencies, strict=True))
        ]
        time_us: Any = [_timestamp_us(t) for t in times]
        return _frame(transactions, minor, currencies, time_us)
    columns = pl.DataFrame(
        {
            "currency": currencies,
            "units": [m.units for m in amounts],
            "nanos": [m.nanos for m in amounts],
            "seconds": [t.seconds for t in times],
            "time_nanos": [t.nanos for t in times],
        },
        schema={"currency": pl.Utf8, "units": pl.Int64, "nanos": pl.Int64, "seconds": pl.Int64, "time_nanos": pl.Int64},
    ).with_columns(
        pl.col("currency").replace_strict(digits_of, return_dtype=pl.Int64).alias("digits"),
    )
    step = pl.lit(10, pl.Int64).pow(9 - pl.col("digits"))
    checked = columns.select(
        (pl.col("nanos") % step != 0).alias("too_fine"),
        (pl.col("units") * pl.lit(10, pl.Int64).pow(pl.col("digits")) + pl.col("nanos") // step).alias("minor"),
        (pl.col("seconds") * 1_000_000 + pl.col("time_nanos") // 1_000).alias("time_us"),
    )
    too_fine = checked["too_fine"].arg_true()
    if too_fine.len():
        i = int(too_fine[0])
        raise _amount_precision(f"{field}[{i}].amount.nanos", 10 ** (9 - digits_of[currencies[i]]), currencies[i])
    return _frame(transactions, checked["minor"], currencies, checked["time_us"])


def check_amounts(columns: TransactionColumns, rules: RuleSet, field: str = "transactions") -> None:
    """The conversion's own checks: a currency with thresholds, an amount no finer than its minor unit.

    Raises:
        InvalidArgument: an unknown currency or an over-precise amount (naming ``field[i]``).
    """
    currencies = columns.currency
    digits_of = {code: spec.minor_digits for code, spec in rules.currencies.items()}
    if not set(currencies) <= digits_of.keys():
        unknown = next(i for i, c in enumerate(currencies) if c not in digits_of)
        raise _unsupported_currency(f"{field}[{unknown}].amount.currency_code", rules)
    too_fine = np.flatnonzero(columns.nanos % _step(columns, digits_of))
    if too_fine.size:
        i = int(too_fine[0])
        raise _amount_precision(f"{field}[{i}].amount.nanos", 10 ** (9 - digits_of[currencies[i]]), currencies[i])


def _digits(columns: TransactionColumns, digits_of: Mapping[str, int]) -> Any:
    currencies = columns.currency
    if currencies and all(c == currencies[0] for c in currencies):
        return np.int64(digits_of[currencies[0]])
    return np.fromiter((digits_of[c] for c in currencies), np.int64, len(currencies))


def _step(columns: TransactionColumns, digits_of: Mapping[str, int]) -> Any:
    return np.power(np.int64(10), 9 - _digits(columns, digits_of))


def checked_columns_to_frame(columns: TransactionColumns, rules: RuleSet) -> pl.DataFrame:
    """Columns that passed :func:`check_amounts` as a screening frame (whole-column integer arithmetic)."""
    digits_of = {code: spec.minor_digits for code, spec in rules.currencies.items()}
    digits = _digits(columns, digits_of)
    minor = columns.units * np.power(np.int64(10), digits) + columns.nanos // np.power(np.int64(10), 9 - digits)
    time_us = columns.seconds * 1_000_000 + columns.time_nanos // 1_000
    return pl.DataFrame(
        {
            "transaction_id": columns.transaction_id,
            "source_account_id": columns.source_account_id,
            "target_account_id": columns.target_account_id,
            "amount_minor": minor,
            "currency": columns.currency,
            "execute_time_us": time_us,
            "channel": np.asarray(columns.channel, np.int8),
            "origin_country": columns.origin_country,
            "counterparty_country": columns.counterparty_country,
        },
        schema=TRANSACTION_SCHEMA,
    )


def columns_to_frame(columns: TransactionColumns, rules: RuleSet, field: str = "transactions") -> pl.DataFrame:
    """Validated transfer columns (:func:`server.aml.validation.checked_columns`) as a screening frame.

    Raises:
        InvalidArgument: an unknown currency or an over-precise amount (naming ``field[i]``).
    """
    check_amounts(columns, rules, field)
    return checked_columns_to_frame(columns, rules)


_COLUMNWISE_MIN = 64
"""From this many transfers a message is converted with whole-column expressions."""


def _frame(transactions: Sequence[pb.Transaction], minor: Any, currencies: list[str], time_us: Any) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "transaction_id": [tx.transaction_id for tx in transactions],
            "source_account_id": [tx.source_account_id for tx in transactions],
            "target_account_id": [tx.target_account_id for tx in transactions],
            "amount_minor": minor,
            "currency": currencies,
            "execute_time_us": time_us,
            "channel": [tx.channel for tx in transactions],
            "origin_country": [tx.origin_country_code for tx in transactions],
            "counterparty_country": [tx.counterparty_country_code for tx in transactions],
        },
        schema=TRANSACTION_SCHEMA,
    )


def frame_to_transactions(frame: pl.DataFrame, rules: RuleSet) -> list[pb.Transaction]:
    """Screening-frame rows back to ``Transaction`` messages (for ``ListAccountTransactions``)."""
    out = []
    for row in frame.select(list(TRANSACTION_SCHEMA)).iter_rows(named=True):
        digits = rules.currencies[row["currency"]].minor_digits
        out.append(
            pb.Transaction(
                transaction_id=row["transaction_id"],
                source_account_id=row["source_account_id"],
                target_account_id=row["target_account_id"],
                amount=minor_to_money(row["amount_minor"], row["currency"], digits),
                execute_time=us_to_timestamp(row["execute_time_us"]),
                channel=int(row["channel"]),
                origin_country_code=row["origin_country"],
                counterparty_country_code=row["counterparty_country"],
            )
        )
    return out


def hit_rows_to_proto(hits: pl.DataFrame, rules: RuleSet) -> list[pb.RuleHit]:
    """Rows of :attr:`ScreeningResult.hits` (or stored alert hits) as ``RuleHit`` messages."""
    out = []
    for row in hits.iter_rows(named=True):
        digits = rules.currencies[row["currency"]].minor_digits
        out.append(
            pb.RuleHit(
                rule_id=row["rule_id"],
                reason_code=row["reason_code"],
                score_contribution=row["score_contribution"],
                evidence=pb.Evidence(
                    transaction_ids=row["evidence_transaction_ids"],
                    total_amount=minor_to_money(row["evidence_total_minor"], row["currency"], digits),
                    window=common_pb2.TimeRange(
                        start_time=us_to_timestamp(row["window_start_us"]),
                        end_time=us_to_timestamp(row["window_end_us"]),
                    ),
                    summary=row["summary"],
                ),
            )
        )
    return out


@dataclass(frozen=True)
class ScreeningAnswers:
    """A micro-batch's answers by transaction id, ready to be written into responses.

    Attributes:
        decided: ``transaction_id`` -> (decision number, score, alert id).
        hits: ``transaction_id`` -> its rule hits (only transactions with hits).
    """

    decided: dict[str, tuple[int, float, str]]
    hits: dict[str, list[pb.RuleHit]]

    def fill(
        self, response: pb.ScreenTransactionsResponse, transaction_ids: Sequence[str], known: Mapping[str, Any]
    ) -> None:
        """Append one ``ScreeningResult`` per id, in order, built in place (``known``: resent ids' stored
        ``(decision, score)``)."""
        results = response.results
        decided = self.decided
        hits = self.hits
        for tx_id in transaction_ids:
            answer = decided.get(tx_id)
            if answer is None:
                decision, score = known[tx_id]
                results.add(transaction_id=tx_id, decision=decision, score=score)
                continue
            result = results.add(transaction_id=tx_id, decision=answer[0], score=answer[1], alert_id=answer[2])
            if tx_id in hits:
                result.rule_hits.extend(hits[tx_id])


def screening_answers(
    result: ScreeningResult, rules: RuleSet, alert_ids: Mapping[str, str] | None = None
) -> ScreeningAnswers:
    """Index one micro-batch's decisions, hits and alert ids by transaction id.

    Args:
        result: The engine's result for the micro-batch.
        rules: The rule set (currency digits).
        alert_ids: Stored alert id per ``alert_key``; a transaction gets the id of the first
            alert it raised or extended.
    """
    alert_of_tx: dict[str, str] = {}
    if alert_ids and result.alerts.height:
        for key, txs in result.alerts.select("alert_key", "transaction_ids").iter_rows():
            for tx in txs:
                alert_of_tx.setdefault(tx, alert_ids.get(key, ""))
    hits: dict[str, list[pb.RuleHit]] = {}
    if result.hits.height:
        for tx_id, hit in zip(
            result.hits["transaction_id"].to_list(), hit_rows_to_proto(result.hits, rules), strict=True
        ):
            hits.setdefault(tx_id, []).append(hit)
    decisions = result.decisions
    ids = decisions["transaction_id"].to_list()
    decided = dict(
        zip(
            ids,
            zip(
                decisions["decision"].to_list(),
                decisions["score"].to_list(),
                [alert_of_tx.get(t, "") for t in ids] if alert_of_tx else [""] * len(ids),
                strict=True,
            ),
            strict=True,
        )
    )
    return ScreeningAnswers(decided=decided, hits=hits)


def screening_to_proto(
    result: ScreeningResult, rules: RuleSet, alert_ids: Mapping[str, str] | None = None
) -> pb.ScreenTransactionsResponse:
    """Decisions of one micro-batch as the stream's response, in request order.

    Args:
        result: The engine's result for the micro-batch.
        rules: The rule set (currency digits).
        alert_ids: Stored alert id per ``alert_key``; a transaction gets the id of the first
            alert it raised or extended.
    """
    response = pb.ScreenTransactionsResponse(rule_set_version=result.rule_set_version)
    screening_answers(result, rules, alert_ids).fill(response, result.decisions["transaction_id"].to_list(), {})
    return response


def investigation_request_from_proto(
    request: pb.InvestigateNetworkRequest, rules: RuleSet, seed_account_ids: Sequence[str] | None = None
) -> InvestigationRequest:
    """``InvestigateNetworkRequest`` as domain bounds.

    Args:
        request: The request.
        rules: The rule set (currency digits of ``min_amount``).
        seed_account_ids: Seeds resolved by the servicer (from ``alert_id``); the request's own
            ``seed_account_ids`` otherwise.
    """
    min_minor = 0
    if request.HasField("min_amount") and (request.min_amount.units or request.min_amount.nanos):
        spec = rules.currencies.get(request.min_amount.currency_code)
        if spec is None:
            raise _unsupported_currency("min_amount.currency_code", rules)
        min_minor = money_to_minor(request.min_amount, spec.minor_digits, "min_amount")
    window = request.window if request.HasField("window") else None
    return InvestigationRequest(
        seed_account_ids=tuple(seed_account_ids if seed_account_ids is not None else request.seed_account_ids),
        max_hops=request.max_hops,
        window_start_us=_timestamp_us(window.start_time) if window and window.HasField("start_time") else None,
        window_end_us=_timestamp_us(window.end_time) if window and window.HasField("end_time") else None,
        min_amount_minor=min_minor,
        max_accounts=request.max_accounts,
    )


def investigation_to_proto(
    result: NetworkInvestigation, rules: RuleSet, *, case_id: str = "", provenance: common_pb2.Provenance | None = None
) -> pb.InvestigateNetworkResponse:
    """A :class:`NetworkInvestigation` as the RPC response."""
    digits = rules.currencies[result.currency].minor_digits if result.currency in rules.currencies else 2

    def money(minor: int) -> common_pb2.Money:
        return minor_to_money(minor, result.currency, digits)

    return pb.InvestigateNetworkResponse(
        accounts=[
            pb.NetworkAccount(
                account_id=a.account_id,
                role=int(a.role),
                involvement_score=a.involvement_score,
                total_in=money(a.total_in_minor),
                total_out=money(a.total_out_minor),
                community=a.community,
                distance=a.distance,
            )
            for a in result.accounts
        ],
        edges=[
            pb.NetworkEdge(
                source_account_id=e.source_account_id,
                target_account_id=e.target_account_id,
                total_amount=money(e.total_minor),
                transaction_count=e.transaction_count,
                transaction_ids=list(e.transaction_ids),
                first_time=us_to_timestamp(e.first_time_us),
                last_time=us_to_timestamp(e.last_time_us),
            )
            for e in result.edges
        ],
        money_paths=[
            pb.MoneyPath(
                account_ids=list(p.account_ids), amount=money(p.amount_minor), transaction_ids=list(p.transaction_ids)
            )
            for p in result.money_paths
        ],
        patterns=[
            pb.NetworkPattern(
                pattern_type=int(p.pattern),
                account_ids=list(p.account_ids),
                description=p.description,
            )
            for p in result.patterns
        ],
        case_id=case_id,
        truncated=result.truncated,
        provenance=provenance
        or common_pb2.Provenance(
            engine=result.engine,
            engine_version=result.engine_version,
            rule_set_version=rules.version,
            validation_outcome=common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE,
        ),
    )
