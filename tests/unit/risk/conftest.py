"""Fixtures of the risk engine's unit tests: one engine per session and an application builder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from server.risk.domain import (
    Applicant,
    BureauAttributes,
    CheckingAccountStatus,
    EmploymentType,
    HousingStatus,
    Loan,
    LoanApplication,
    LoanPurpose,
    Money,
)
from server.risk.engine import RiskEngine

ApplicationFactory = Callable[..., LoanApplication]


def eur(amount: str) -> Money:
    """Euros, exactly."""
    return Money(Decimal(amount), "EUR")


@pytest.fixture(scope="session")
def engine() -> RiskEngine:
    """The engine with the committed artefact and policy."""
    return RiskEngine.from_files()


def _application(
    applicant: dict[str, Any] | None = None, loan: dict[str, Any] | None = None, **top: Any
) -> LoanApplication:
    """A sound application (an APPROVE with the committed artefact); override any field."""
    base_applicant = Applicant(
        applicant_id="cust-1",
        age=40,
        employment_type=EmploymentType.EMPLOYED,
        employment_tenure_months=60,
        monthly_income=eur("3500.00"),
        existing_monthly_debt_payments=eur("200.00"),
        credit_score=720,
        dependants=1,
        housing_status=HousingStatus.OWNER,
        savings_balance=eur("5000.00"),
        checking_account_status=CheckingAccountStatus.HEALTHY_BALANCE,
        existing_credits_count=1,
    )
    base_loan = Loan(
        amount=eur("8000.00"),
        term_months=24,
        purpose=LoanPurpose.USED_CAR,
        product_code="personal-loan-std",
        annual_rate_bps=725,
    )
    application = LoanApplication(
        application_id="app-1",
        applicant=replace(base_applicant, **(applicant or {})),
        loan=replace(base_loan, **(loan or {})),
        bureau=BureauAttributes(open_credit_lines=4, delinquencies_24m=0, revolving_utilisation_percent=20),
    )
    return replace(application, **top)


@pytest.fixture
def make_application() -> ApplicationFactory:
    """Builder of applications: ``make_application(applicant={...}, loan={...}, bureau=...)``."""
    return _application
