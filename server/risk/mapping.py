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


def money_from_proto(message: common_pb2.Money) -> domain.Money:
    """``units + nanos / 1e9`` exactly.

    Raises:
        ValueError: ``units`` and ``nanos`` have different signs.
    """
    if (message.units > 0 and message.nanos < 0) or (message.units < 0 and message.nanos > 0):
        raise ValueError("units and nanos must have the same sign")
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
    try:
        name: str = proto_enum.Name(value)  # type: ignore[attr-defined]
    except ValueError:
        violations.append(FieldViolation(field, f"unknown value {value}", "UNKNOWN_ENUM_VALUE"))
        return None
    short = name.removeprefix(prefix)
    if short == "UNSPECIFIED":
        if required:
            violations.append(FieldViolation(field, "must be specified", "REQUIRED"))
        return None
    return target[short]


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


def assessment_to_proto(assessment: domain.LoanAssessment) -> pb.LoanAssessment:
    """The engine's part of a ``LoanAssessment``; the servicer adds explanation, review, time and audit id."""
    repayment = assessment.repayment
    return pb.LoanAssessment(
        application_id=assessment.application_id,
        repayment=pb.RepaymentAbility(
            monthly_instalment=money_to_proto(repayment.monthly_instalment),
            debt_to_income_before=_ratio(repayment.debt_to_income_before),
            debt_to_income_after=_ratio(repayment.debt_to_income_after),
            disposable_income=money_to_proto(repayment.disposable_income),
            loan_to_income=_ratio(repayment.loan_to_income),
            living_cost_allowance=money_to_proto(repayment.living_cost_allowance),
            total_repayable=money_to_proto(repayment.total_repayable),
        ),
        risk_level=pb.RiskLevel.Value(f"RISK_LEVEL_{assessment.risk_level.value}"),
        recommendation=pb.Recommendation.Value(f"RECOMMENDATION_{assessment.recommendation.value}"),
        key_risk_points=[
            pb.ReasonCode(code=r.code, description=r.description, value=r.value, points_lost=r.points_lost, rank=r.rank)
            for r in assessment.key_risk_points
        ],
        probability_of_default=assessment.probability_of_default,
        score=assessment.score,
        confidence=assessment.confidence,
        rule_hits=[
            pb.PolicyRuleHit(
                rule_id=h.rule_id,
                outcome=pb.Recommendation.Value(f"RECOMMENDATION_{h.outcome.value}"),
                description=h.description,
                value=h.value,
            )
            for h in assessment.rule_hits
        ],
        points=[
            pb.ScorecardPoints(feature=p.feature, bin=p.bin, points=p.points, max_points=p.max_points)
            for p in assessment.points
        ],
        provenance=common_pb2.Provenance(
            engine=ENGINE_NAME,
            engine_version=assessment.engine_version,
            rule_set_version=assessment.rule_set_version,
            model_id=assessment.model_id,
        ),
    )


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
