"""Batch files for ``fintech risk assess``: CSV or JSON Lines rows -> stream items, results -> JSON Lines.

A row is flat (the CSV header or the keys of a JSON object): ``item_id``, ``request_id`` (optional: derived
from the file name and the item id, so rerunning a file is idempotent), ``application_id``,
``applicant_id``, ``age``, ``employment_type``, ``employment_tenure_months``, ``monthly_income``,
``existing_monthly_debt_payments``, ``currency``, ``credit_score``, ``dependants``, ``housing_status``,
``savings_balance``, ``checking_account_status``, ``existing_credits_count``, ``loan_amount``,
``term_months``, ``purpose``, ``product_code``, ``annual_rate_bps``, ``open_credit_lines``,
``delinquencies_24m``, ``revolving_utilisation_percent``, ``include_explanation``. Enums are given by
their short name (``EMPLOYED``, ``OWNER``, ``USED_CAR``, ``HEALTHY_BALANCE``); money as decimal text
(``3500.00``). A JSON Lines row may instead hold ``item_id`` and ``application``: the request in
protobuf JSON. A row that cannot be read becomes an error result naming the column; the rest go on.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fintech.common.v1 import common_pb2
from fintech.risk.v1 import risk_service_pb2 as pb
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2

_NAMESPACE = uuid.UUID("5b0c1f0e-6a52-4c1e-9d55-7c1f2a0e4b11")
_ENUMS = {
    "employment_type": (pb.EmploymentType, "EMPLOYMENT_TYPE_"),
    "housing_status": (pb.HousingStatus, "HOUSING_STATUS_"),
    "checking_account_status": (pb.CheckingAccountStatus, "CHECKING_ACCOUNT_STATUS_"),
    "purpose": (pb.LoanPurpose, "LOAN_PURPOSE_"),
}
_APPLICANT_INTS = ("age", "employment_tenure_months", "credit_score", "dependants", "existing_credits_count")
_BUREAU = ("open_credit_lines", "delinquencies_24m", "revolving_utilisation_percent")


class RowError(ValueError):
    """A row that cannot be turned into a request; ``field`` names the column."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(f"{field}: {description}")
        self.field = field
        self.description = description


@dataclass(frozen=True)
class Row:
    """One row read: the stream item, or why it could not be read."""

    item_id: str
    item: pb.AssessLoanApplicationsRequest | None
    error: RowError | None = None


def results_path(source: Path) -> Path:
    """Where the results of ``source`` go: beside it, ``<name>.results.jsonl``."""
    return source.with_name(f"{source.stem}.results.jsonl")


def count_rows(source: Path) -> int:
    """Number of data rows (for the progress bar)."""
    with source.open(encoding="utf-8") as handle:
        lines = sum(1 for line in handle if line.strip())
    return max(0, lines - 1) if source.suffix.lower() == ".csv" else lines


def _money(value: str, currency: str, field: str) -> common_pb2.Money:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RowError(field, "not a decimal amount") from None
    if not amount.is_finite():
        raise RowError(field, "not a decimal amount")
    units = int(amount)
    nanos = int((amount - units) * 1_000_000_000)
    return common_pb2.Money(currency_code=currency, units=units, nanos=nanos)


def _int(row: Mapping[str, Any], field: str) -> int:
    try:
        return int(str(row[field]).strip())
    except (KeyError, ValueError):
        raise RowError(field, "missing or not a whole number") from None


def _enum(row: Mapping[str, Any], field: str, required: bool = True) -> int:
    enum, prefix = _ENUMS[field]
    text = str(row.get(field, "") or "").strip().upper()
    if not text:
        if required:
            raise RowError(field, "missing")
        return 0
    try:
        return int(enum.Value(prefix + text.removeprefix(prefix)))
    except ValueError:
        known = [name.removeprefix(prefix) for name in enum.keys() if not name.endswith("UNSPECIFIED")]
        raise RowError(field, f"unknown value; one of {', '.join(known)}") from None


def request_from_row(row: Mapping[str, Any], *, source: str) -> pb.AssessLoanApplicationsRequest:
    """A stream item from a flat row.

    Raises:
        RowError: a column is missing or unreadable (named).
    """
    item_id = str(row.get("item_id", "") or "").strip()
    if not item_id:
        raise RowError("item_id", "missing")
    currency = str(row.get("currency", "") or "EUR").strip().upper()
    request_id = str(row.get("request_id", "") or "").strip() or str(uuid.uuid5(_NAMESPACE, f"{source}\x00{item_id}"))
    applicant = pb.Applicant(
        applicant_id=str(row.get("applicant_id", "") or ""),
        employment_type=_enum(row, "employment_type"),
        housing_status=_enum(row, "housing_status"),
        checking_account_status=_enum(row, "checking_account_status", required=False),
        monthly_income=_money(str(row.get("monthly_income", "")), currency, "monthly_income"),
        existing_monthly_debt_payments=_money(
            str(row.get("existing_monthly_debt_payments", "0") or "0"), currency, "existing_monthly_debt_payments"
        ),
        **{name: _int(row, name) for name in _APPLICANT_INTS if name != "existing_credits_count"},
    )
    if str(row.get("existing_credits_count", "") or "").strip():
        applicant.existing_credits_count = _int(row, "existing_credits_count")
    if str(row.get("savings_balance", "") or "").strip():
        applicant.savings_balance.CopyFrom(_money(str(row["savings_balance"]), currency, "savings_balance"))
    loan = pb.Loan(
        amount=_money(str(row.get("loan_amount", "")), currency, "loan_amount"),
        term_months=_int(row, "term_months"),
        purpose=_enum(row, "purpose"),
        product_code=str(row.get("product_code", "") or ""),
        annual_rate_bps=_int(row, "annual_rate_bps"),
    )
    request = pb.AssessLoanApplicationRequest(
        request_id=request_id,
        application_id=str(row.get("application_id", "") or item_id),
        applicant=applicant,
        loan=loan,
        include_explanation=str(row.get("include_explanation", "")).strip().lower() in {"1", "true", "yes"},
    )
    present = {name: str(row.get(name, "") or "").strip() for name in _BUREAU}
    if any(present.values()):
        for name, text in present.items():
            if text:
                setattr(request.bureau, name, _int(row, name))
    return pb.AssessLoanApplicationsRequest(item_id=item_id, application=request)


def read_rows(source: Path) -> Iterator[Row]:
    """The rows of a CSV or JSON Lines file, lazily (memory stays flat for any size).

    Raises:
        ValueError: the file is neither ``.csv`` nor ``.jsonl``.
    """
    suffix = source.suffix.lower()
    if suffix not in {".csv", ".jsonl"}:
        raise ValueError(f"{source.name}: give a .csv or .jsonl file")
    with source.open(encoding="utf-8", newline="") as handle:
        if suffix == ".csv":
            for number, record in enumerate(csv.DictReader(handle), start=1):
                yield _row(record, source.name, number)
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                yield Row(f"line-{number}", None, RowError("(line)", "not JSON"))
                continue
            if not isinstance(record, dict):
                yield Row(f"line-{number}", None, RowError("(line)", "not a JSON object"))
                continue
            yield _row(record, source.name, number)


def _row(record: Mapping[str, Any], source: str, number: int) -> Row:
    item_id = str(record.get("item_id", "") or f"row-{number}")
    try:
        if isinstance(record.get("application"), dict):
            application = pb.AssessLoanApplicationRequest()
            try:
                json_format.ParseDict(record["application"], application)
            except json_format.ParseError as error:
                raise RowError("application", str(error)) from None
            return Row(item_id, pb.AssessLoanApplicationsRequest(item_id=item_id, application=application))
        return Row(item_id, request_from_row({**record, "item_id": item_id}, source=source))
    except RowError as error:
        return Row(item_id, None, error)


def row_error_status(error: RowError) -> status_pb2.Status:
    """A row that could not be read, as the same ``google.rpc.Status`` shape the server uses."""
    status = status_pb2.Status(code=3, message=f"row unreadable: {error}")
    status.details.add().Pack(
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=error.field, description=error.description)
            ]
        )
    )
    return status


def result_record(
    item_id: str, assessment: pb.LoanAssessment | None, error: status_pb2.Status | None
) -> dict[str, Any]:
    """One line of the results file."""
    if error is not None:
        fields = []
        for detail in error.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                fields += [{"field": v.field, "description": v.description} for v in bad.field_violations]
        return {"item_id": item_id, "error": {"code": error.code, "message": error.message, "fields": fields}}
    assert assessment is not None
    return {"item_id": item_id, "assessment": json_format.MessageToDict(assessment)}
