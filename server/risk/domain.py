"""Domain types of the risk engine: the loan application, the assessment, the model card.

Frozen dataclasses and :class:`~decimal.Decimal` money; nothing here knows protobuf
(``server.risk.mapping`` converts). Enum values mirror the contract's enums by name
so the mapping is a name lookup, not a table that can drift.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class EmploymentType(enum.Enum):
    """How the applicant earns an income."""

    EMPLOYED = "EMPLOYED"
    SELF_EMPLOYED = "SELF_EMPLOYED"
    CONTRACTOR = "CONTRACTOR"
    UNEMPLOYED = "UNEMPLOYED"
    RETIRED = "RETIRED"
    STUDENT = "STUDENT"


class HousingStatus(enum.Enum):
    """Where the applicant lives."""

    OWNER = "OWNER"
    MORTGAGED = "MORTGAGED"
    RENTING = "RENTING"
    LIVING_WITH_FAMILY = "LIVING_WITH_FAMILY"
    OTHER = "OTHER"


class LoanPurpose(enum.Enum):
    """What the loan is for."""

    NEW_CAR = "NEW_CAR"
    USED_CAR = "USED_CAR"
    FURNITURE = "FURNITURE"
    ELECTRONICS = "ELECTRONICS"
    HOME_APPLIANCES = "HOME_APPLIANCES"
    HOME_IMPROVEMENT = "HOME_IMPROVEMENT"
    EDUCATION = "EDUCATION"
    RETRAINING = "RETRAINING"
    BUSINESS = "BUSINESS"
    DEBT_CONSOLIDATION = "DEBT_CONSOLIDATION"
    OTHER = "OTHER"


class CheckingAccountStatus(enum.Enum):
    """Status of the applicant's current account with the bank."""

    NONE = "NONE"
    OVERDRAWN = "OVERDRAWN"
    LOW_BALANCE = "LOW_BALANCE"
    HEALTHY_BALANCE = "HEALTHY_BALANCE"


class RiskLevel(enum.Enum):
    """Risk level from probability-of-default bands."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class Recommendation(enum.Enum):
    """The engine's recommendation."""

    APPROVE = "APPROVE"
    REFER = "REFER"
    DECLINE = "DECLINE"


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency.

    Attributes:
        amount: The amount; never a float.
        currency: ISO 4217 code, for example ``"EUR"``.
    """

    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Applicant:
    """The person applying (no sex, marital status or national origin: they are never inputs).

    Attributes:
        applicant_id: The bank's id for the applicant.
        age: Age in years.
        employment_type: How the applicant earns an income.
        employment_tenure_months: Months in the current employment (0 when not employed).
        monthly_income: Net monthly income.
        existing_monthly_debt_payments: Existing monthly debt payments.
        credit_score: Bureau score on the 300-850 scale.
        dependants: Number of financial dependants.
        housing_status: Where the applicant lives.
        savings_balance: Savings held, or None when not stated.
        checking_account_status: Current-account status, or None when unknown.
        existing_credits_count: Existing credits at this bank (0 when none).
    """

    applicant_id: str
    age: int
    employment_type: EmploymentType
    employment_tenure_months: int
    monthly_income: Money
    existing_monthly_debt_payments: Money
    credit_score: int
    dependants: int
    housing_status: HousingStatus
    savings_balance: Money | None = None
    checking_account_status: CheckingAccountStatus | None = None
    existing_credits_count: int = 0


@dataclass(frozen=True, slots=True)
class Loan:
    """The loan asked for.

    Attributes:
        amount: Principal.
        term_months: Term in months.
        purpose: What it is for.
        product_code: The product, for example ``"personal-loan-std"``.
        annual_rate_bps: Nominal annual rate in basis points (725 = 7.25 %).
    """

    amount: Money
    term_months: int
    purpose: LoanPurpose
    product_code: str
    annual_rate_bps: int


@dataclass(frozen=True, slots=True)
class BureauAttributes:
    """Optional bureau-style attributes; each is None when not supplied."""

    open_credit_lines: int | None = None
    delinquencies_24m: int | None = None
    revolving_utilisation_percent: int | None = None


@dataclass(frozen=True, slots=True)
class LoanApplication:
    """One application as the engine sees it."""

    application_id: str
    applicant: Applicant
    loan: Loan
    bureau: BureauAttributes | None = None


@dataclass(frozen=True, slots=True)
class RepaymentAbility:
    """Repayment figures, exact decimals (rounding rules in :mod:`server.risk.repayment`).

    Ratios are None when monthly income is zero (undefined); the policy then declines.
    """

    monthly_instalment: Money
    debt_to_income_before: Decimal | None
    debt_to_income_after: Decimal | None
    disposable_income: Money
    loan_to_income: Decimal | None
    living_cost_allowance: Money
    total_repayable: Money


@dataclass(frozen=True, slots=True)
class ReasonCode:
    """A key risk point, adverse-action style: ranked by scorecard points lost."""

    code: str
    description: str
    value: str
    points_lost: float
    rank: int


@dataclass(frozen=True, slots=True)
class PolicyRuleHit:
    """A policy rule that fired and the outcome it forces (REFER or DECLINE)."""

    rule_id: str
    outcome: Recommendation
    description: str
    value: str


@dataclass(frozen=True, slots=True)
class ScorecardPoints:
    """Points the scorecard gave one attribute."""

    feature: str
    bin: str
    points: float
    max_points: float


@dataclass(frozen=True, slots=True)
class LoanAssessment:
    """The engine's decision on one application, with everything needed to audit it.

    Attributes:
        application_id: The application's id.
        repayment: Repayment ability figures.
        risk_level: From PD bands.
        recommendation: APPROVE, REFER or DECLINE.
        key_risk_points: Top reasons ranked by points lost (at most four).
        probability_of_default: The scorecard's PD.
        score: Scorecard score (rounded to an integer).
        confidence: Confidence of the recommendation, 0 to 1 (definition in docs/risk.md).
        rule_hits: Policy rules that fired.
        points: Points per scorecard attribute.
        model_id: Content hash of the scorecard artefact.
        model_version: The scorecard's version.
        rule_set_version: The policy file's version.
        engine_version: This engine's version.
    """

    application_id: str
    repayment: RepaymentAbility
    risk_level: RiskLevel
    recommendation: Recommendation
    key_risk_points: tuple[ReasonCode, ...]
    probability_of_default: float
    score: int
    confidence: float
    rule_hits: tuple[PolicyRuleHit, ...]
    points: tuple[ScorecardPoints, ...]
    model_id: str
    model_version: str
    rule_set_version: str
    engine_version: str


@dataclass(frozen=True, slots=True)
class ModelMetric:
    """A figure with its spread; ``protocol`` says where it was measured."""

    name: str
    mean: float
    std: float
    protocol: str


@dataclass(frozen=True, slots=True)
class ModelCard:
    """SR 11-7 style documentation of the scorecard.

    ``population_stability_index`` is None until enough recent scores were seen.
    """

    model_id: str
    version: str
    training_data: str
    metrics: tuple[ModelMetric, ...]
    features: tuple[str, ...]
    excluded_attributes: tuple[str, ...]
    intended_use: str
    limitations: tuple[str, ...]
    training_time: datetime
    population_stability_index: float | None
    rule_set_version: str


@dataclass(frozen=True, slots=True)
class UnsupportedSpan:
    """A span of an explanation that the computed facts do not support."""

    start: int
    end: int
    text: str
    reason: str
