"""Conversion between the risk contract's protobuf messages and the engine's domain types.

Owns the only place where ``fintech.risk.v1`` messages meet :mod:`server.risk.domain`:
money (``units`` + ``nanos`` <-> exact :class:`~decimal.Decimal`), enums (by
value name, prefix stripped), optional fields (presence, not zero values) and
the assessment and model card going back out. Shape checks belong to the
validation interceptor; what is caught here (an UNSPECIFIED required enum, a
money value with mixed signs) is raised as
:class:`~server.runtime.errors.InvalidArgument` naming the field, so the engine
can also be driven without the interceptor (batch files, tests).
"""

from __future__ import annotations

import enum
import functools
import math
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeVar

from fintech.common.v1 import common_pb2
from fintech.risk.v1 import risk_service_pb2 as pb
from google.protobuf import timestamp_pb2

from server.risk import domain
from server.risk.engine import ENGINE_NAME, ERROR_DOMAIN
from server.runtime.errors import FieldViolation, InvalidArgument

_NANOS = Decimal(1_000_000_000)
_NANO_QUANTUM = Decimal("0.000000001")
_E = TypeVar("_E", bound=enum.Enum)
_ENUM_TABLES: dict[str, dict[int, enum.Enum | None]] = {}


def money_from_proto(message: common_pb2.Money) -> domain.Money:
    """``units + nanos / 1e9`` exactly.

    Raises:
        ValueError: ``units`` and ``nanos`` have different signs.
    """
    if (message.units > 0 and message.nanos < 0) or (message.units < 0 and message.nanos > 0):
        raise ValueError("units and nanos must have the same sign")
    if not message.nanos:  # whole units, the common case: no division
        return domain.Money(Decimal(message.units), message.currency_code)
    return domain.Money(Decimal(message.units) + Decimal(message.nanos) / _NANOS, message.currency_code)


def money_to_proto(money: domain.Money) -> common_pb2.Money:
    """An exact amount as ``units`` + ``nanos`` (rounded half-even to nanos if finer)."""
    amount = money.amount.quantize(_NANO_QUANTUM, rounding=ROUND_HALF_EVEN)
    units = int(amount)  # truncates toward zero, so nanos share the sign of units
    nanos = int((amount - units) * _NANOS)
    return common_pb2.Money(currency_code=money.currency, units=units, nanos=nanos)


def _enum(
    field: str,
    value: int,
    proto_enum: object,
    prefix: str,
    target: type[_E],
    violations: list[FieldViolation],
    *,
    required: bool,
) -> _E | None:
    """The domain enum of a proto enum value; None for UNSPECIFIED; a violation when unknown or required."""
    table = _ENUM_TABLES.get(prefix)
    if table is None:  # built once per enum: name lookups and string work on every item cost more
        names: dict[int, str] = {v: str(n) for n, v in proto_enum.items()}  # type: ignore[attr-defined]
        table = {
            v: (None if n.removeprefix(prefix) == "UNSPECIFIED" else target[n.removeprefix(prefix)])
            for v, n in names.items()
        }
        _ENUM_TABLES[prefix] = table
    if value not in table:
        violations.append(FieldViolation(field, f"unknown value {value}", "UNKNOWN_ENUM_VALUE"))
        return None
    member = table[value]
    if member is None:
        if required:
            violations.append(FieldViolation(field, "must be specified", "REQUIRED"))
        return None
    return member  # type: ignore[return-value]


def application_from_proto(request: pb.AssessLoanApplicationRequest) -> domain.LoanApplication:
    """The domain application of a request.

    Raises:
        InvalidArgument: Required enums left UNSPECIFIED, or money with mixed signs (each field named).
    """
    violations: list[FieldViolation] = []
    applicant = request.applicant
    loan = request.loan

    def money(field: str, message: common_pb2.Money) -> domain.Money:
        try:
            return money_from_proto(message)
        except ValueError as exc:
            violations.append(FieldViolation(field, str(exc), "MONEY_SIGN"))
            return domain.Money(Decimal(0), message.currency_code)

    employment = _enum(
        "applicant.employment_type",
        applicant.employment_type,
        pb.EmploymentType,
        "EMPLOYMENT_TYPE_",
        domain.EmploymentType,
        violations,
        required=True,
    )
    housing = _enum(
        "applicant.housing_status",
        applicant.housing_status,
        pb.HousingStatus,
        "HOUSING_STATUS_",
        domain.HousingStatus,
        violations,
        required=True,
    )
    purpose = _enum(
        "loan.purpose", loan.purpose, pb.LoanPurpose, "LOAN_PURPOSE_", domain.LoanPurpose, violations, required=True
    )
    checking = _enum(
        "applicant.checking_account_status",
        applicant.checking_account_status,
        pb.CheckingAccountStatus,
        "CHECKING_ACCOUNT_STATUS_",
        domain.CheckingAccountStatus,
        violations,
        required=False,
    )
    income = money("applicant.monthly_income", applicant.monthly_income)
    debts = money("applicant.existing_monthly_debt_payments", applicant.existing_monthly_debt_payments)
    savings = (
        money("applicant.savings_balance", applicant.savings_balance) if applicant.HasField("savings_balance") else None
    )
    amount = money("loan.amount", loan.amount)
    bureau = None
    if request.HasField("bureau"):
        b = request.bureau
        bureau = domain.BureauAttributes(
            open_credit_lines=b.open_credit_lines if b.HasField("open_credit_lines") else None,
            delinquencies_24m=b.delinquencies_24m if b.HasField("delinquencies_24m") else None,
            revolving_utilisation_percent=(
                b.revolving_utilisation_percent if b.HasField("revolving_utilisation_percent") else None
            ),
        )
    if violations or employment is None or housing is None or purpose is None:
        raise InvalidArgument(
            message="the application is incomplete",
            reason="INVALID_APPLICATION",
            domain=ERROR_DOMAIN,
            metadata={"application_id": request.application_id},
            violations=tuple(violations),
        )
    return domain.LoanApplication(
        application_id=request.application_id,
        applicant=domain.Applicant(
            applicant_id=applicant.applicant_id,
            age=applicant.age,
            employment_type=employment,
            employment_tenure_months=applicant.employment_tenure_months,
            monthly_income=income,
            existing_monthly_debt_payments=debts,
            credit_score=applicant.credit_score,
            dependants=applicant.dependants,
            housing_status=housing,
            savings_balance=savings,
            checking_account_status=checking,
            existing_credits_count=applicant.existing_credits_count,
        ),
        loan=domain.Loan(
            amount=amount,
            term_months=loan.term_months,
            purpose=purpose,
            product_code=loan.product_code,
            annual_rate_bps=loan.annual_rate_bps,
        ),
        bureau=bureau,
    )


def _ratio(value: Decimal | None) -> str:
    # An undefined ratio (zero income) is the empty string: the contract's strings have no null.
    return "" if value is None else str(value)


def _timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


_RISK_LEVEL_VALUES = {level: pb.RiskLevel.Value(f"RISK_LEVEL_{level.value}") for level in domain.RiskLevel}
_RECOMMENDATION_VALUES = {r: pb.Recommendation.Value(f"RECOMMENDATION_{r.value}") for r in domain.Recommendation}


@functools.lru_cache(maxsize=16_384)
def _points_wire(points: domain.ScorecardPoints) -> bytes:
    """One ``points`` entry as encoded inside a ``LoanAssessment`` (field tag included).

    Points repeat (a handful of bins per feature), so their encoding is cached and appended with one
    ``MergeFromString``; building a message per entry and copying it in cost more than the rest of the
    conversion together.
    """
    entry = pb.ScorecardPoints(
        feature=points.feature, bin=points.bin, points=points.points, max_points=points.max_points
    )
    wire: bytes = pb.LoanAssessment(points=[entry]).SerializeToString()
    return wire


@functools.lru_cache(maxsize=64)
def _provenance_wire(engine_version: str, rule_set_version: str, model_id: str) -> bytes:
    provenance = common_pb2.Provenance(
        engine=ENGINE_NAME, engine_version=engine_version, rule_set_version=rule_set_version, model_id=model_id
    )
    wire: bytes = pb.LoanAssessment(provenance=provenance).SerializeToString()
    return wire


def assessment_to_proto(assessment: domain.LoanAssessment) -> pb.LoanAssessment:
    """The engine's part of a ``LoanAssessment``; the servicer adds explanation, review, time and audit id."""
    repayment = assessment.repayment
    message = pb.LoanAssessment(
        application_id=assessment.application_id,
        risk_level=_RISK_LEVEL_VALUES[assessment.risk_level],
        recommendation=_RECOMMENDATION_VALUES[assessment.recommendation],
        probability_of_default=assessment.probability_of_default,
        score=assessment.score,
        confidence=assessment.confidence,
    )
    figures = message.repayment
    figures.monthly_instalment.CopyFrom(money_to_proto(repayment.monthly_instalment))
    figures.debt_to_income_before = _ratio(repayment.debt_to_income_before)
    figures.debt_to_income_after = _ratio(repayment.debt_to_income_after)
    figures.disposable_income.CopyFrom(money_to_proto(repayment.disposable_income))
    figures.loan_to_income = _ratio(repayment.loan_to_income)
    figures.living_cost_allowance.CopyFrom(money_to_proto(repayment.living_cost_allowance))
    figures.total_repayable.CopyFrom(money_to_proto(repayment.total_repayable))
    for r in assessment.key_risk_points:
        message.key_risk_points.add(
            code=r.code, description=r.description, value=r.value, points_lost=r.points_lost, rank=r.rank
        )
    for h in assessment.rule_hits:
        message.rule_hits.add(
            rule_id=h.rule_id, outcome=_RECOMMENDATION_VALUES[h.outcome], description=h.description, value=h.value
        )
    message.MergeFromString(
        b"".join(map(_points_wire, assessment.points))
        + _provenance_wire(assessment.engine_version, assessment.rule_set_version, assessment.model_id)
    )
    return message


def unsupported_span_to_proto(span: domain.UnsupportedSpan) -> common_pb2.UnsupportedSpan:
    """One unsupported span of an explanation."""
    return common_pb2.UnsupportedSpan(start=span.start, end=span.end, text=span.text, reason=span.reason)


def model_card_to_proto(card: domain.ModelCard) -> pb.ModelCard:
    """The model card; a PSI that is not available yet is NaN (the contract has no null double)."""
    return pb.ModelCard(
        model_id=card.model_id,
        version=card.version,
        training_data=card.training_data,
        metrics=[pb.ModelMetric(name=m.name, mean=m.mean, std=m.std, protocol=m.protocol) for m in card.metrics],
        features=list(card.features),
        excluded_attributes=list(card.excluded_attributes),
        intended_use=card.intended_use,
        limitations=list(card.limitations),
        training_time=_timestamp(card.training_time),
        population_stability_index=math.nan
        if card.population_stability_index is None
        else card.population_stability_index,
        rule_set_version=card.rule_set_version,
    )
