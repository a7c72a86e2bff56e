"""The loan policy: versioned rules loaded from TOML (``server/risk/policy.toml``).

Owns the rule parameters (legal minimum age, DTI cap, residual income, refer
triggers, PD cut-offs and bands, per-currency amounts) and their validation.
Unknown keys are an error, amounts and ratios are exact decimals, and a policy
whose cut-offs are out of order is refused at load time rather than producing
odd decisions later.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_POLICY_FILE = Path(__file__).resolve().parent / "policy.toml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class AgePolicy(_Frozen):
    legal_minimum: int = Field(ge=14, le=25)
    """Below this age the application is declined. There is no upper limit."""


class AffordabilityPolicy(_Frozen):
    dti_after_cap: Decimal = Field(gt=0, le=2)
    """Hard decline when debt-to-income after the new instalment exceeds this."""


class ReferPolicy(_Frozen):
    loan_to_income_max: Decimal = Field(gt=0)
    """Refer when the loan exceeds this multiple of annual net income."""
    thin_file_min_open_credit_lines: int = Field(ge=0)
    """Refer when bureau data is missing or shows fewer open credit lines than this."""
    delinquencies_24m_max: int = Field(ge=0)
    """Refer when the bureau reports at least this many delinquencies in 24 months."""
    bureau_score_min: int = Field(ge=300, le=850)
    """Refer when the bureau score is below this."""
    near_cutoff_points: int = Field(ge=0, le=100)
    """Refer when the score is within this many points of a decision cut-off."""


class CutoffPolicy(_Frozen):
    approve_below: Decimal = Field(gt=0, lt=1)
    """PD below this: the scorecard recommends APPROVE."""
    decline_from: Decimal = Field(gt=0, lt=1)
    """PD at or above this: the scorecard recommends DECLINE."""

    @model_validator(mode="after")
    def _ordered(self) -> CutoffPolicy:
        if not self.approve_below < self.decline_from:
            raise ValueError("cutoffs: approve_below must be below decline_from")
        return self


class RiskBandPolicy(_Frozen):
    low_below: Decimal = Field(gt=0, lt=1)
    """PD below this is LOW risk."""
    medium_below: Decimal = Field(gt=0, lt=1)
    """PD below this (and not LOW) is MEDIUM risk; the rest is HIGH."""

    @model_validator(mode="after")
    def _ordered(self) -> RiskBandPolicy:
        if not self.low_below < self.medium_below:
            raise ValueError("risk_bands: low_below must be below medium_below")
        return self


class ConfidencePolicy(_Frozen):
    full_margin_points: int = Field(gt=0)
    """Score distance to the nearest cut-off at which confidence reaches 1.0."""


class CurrencyPolicy(_Frozen):
    minor_units: int = Field(ge=0, le=4)
    """Decimal places of the currency; money results are rounded to them."""
    living_cost_applicant: Decimal = Field(ge=0)
    """Monthly living-cost allowance for the applicant."""
    living_cost_per_dependant: Decimal = Field(ge=0)
    """Monthly living-cost allowance per dependant."""
    minimum_residual_income: Decimal
    """Hard decline when disposable income after everything is below this."""
    training_dm_per_unit: Decimal = Field(gt=0)
    """Deutsche Mark of the training data per unit of this currency (scales amounts for the scorecard)."""


class Policy(_Frozen):
    """The whole rule set."""

    version: str = Field(min_length=1, max_length=64)
    """Rule-set version, returned with every decision."""
    age: AgePolicy
    affordability: AffordabilityPolicy
    refer: ReferPolicy
    cutoffs: CutoffPolicy
    risk_bands: RiskBandPolicy
    confidence: ConfidencePolicy
    currencies: dict[str, CurrencyPolicy]
    """Parameters per ISO 4217 code; other currencies are rejected."""

    @model_validator(mode="after")
    def _currency_codes(self) -> Policy:
        for code in self.currencies:
            if len(code) != 3 or not code.isupper() or not code.isalpha():
                raise ValueError(f"currencies: {code!r} is not an ISO 4217 code")
        if not self.currencies:
            raise ValueError("currencies: at least one currency must be configured")
        return self


def load_policy(path: Path = DEFAULT_POLICY_FILE) -> Policy:
    """Load and validate a policy file.

    Args:
        path: The TOML file.

    Returns:
        The validated policy.

    Raises:
        ValueError: The file is unreadable, has unknown keys or inconsistent values.
    """
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read risk policy {path}: {exc}") from exc
    return Policy.model_validate(raw)
