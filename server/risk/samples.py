"""Sample loan applications as protobuf requests: an approve, a refer and a decline with the committed
artefact and policy. Used by the walkthrough, the benchmark and the tests (one definition of each case).
"""

from __future__ import annotations

import random
import uuid

from fintech.common.v1 import common_pb2
from fintech.risk.v1 import risk_service_pb2 as pb


def eur(units: int, nanos: int = 0) -> common_pb2.Money:
    """Euros as a Money message."""
    return common_pb2.Money(currency_code="EUR", units=units, nanos=nanos)


def approve_request(
    application_id: str = "app-approve", applicant_id: str = "cust-approve"
) -> pb.AssessLoanApplicationRequest:
    """A sound application: APPROVE (healthy account, savings, owner, short used-car loan, clean bureau)."""
    return pb.AssessLoanApplicationRequest(
        request_id=str(uuid.uuid4()),
        application_id=application_id,
        applicant=pb.Applicant(
            applicant_id=applicant_id,
            age=40,
            employment_type=pb.EMPLOYMENT_TYPE_EMPLOYED,
            employment_tenure_months=60,
            monthly_income=eur(3500),
            existing_monthly_debt_payments=eur(200),
            credit_score=720,
            dependants=1,
            housing_status=pb.HOUSING_STATUS_OWNER,
            savings_balance=eur(5000),
            checking_account_status=pb.CHECKING_ACCOUNT_STATUS_HEALTHY_BALANCE,
            existing_credits_count=1,
        ),
        loan=pb.Loan(
            amount=eur(8000),
            term_months=24,
            purpose=pb.LOAN_PURPOSE_USED_CAR,
            product_code="personal-loan-std",
            annual_rate_bps=725,
        ),
        bureau=pb.BureauAttributes(open_credit_lines=4, delinquencies_24m=0, revolving_utilisation_percent=20),
    )


def refer_request(
    application_id: str = "app-refer", applicant_id: str = "cust-refer"
) -> pb.AssessLoanApplicationRequest:
    """The approve case with two delinquencies in the bureau file: REFER (BUREAU_DELINQUENCIES)."""
    request = approve_request(application_id, applicant_id)
    request.bureau.delinquencies_24m = 2
    return request


def decline_request(
    application_id: str = "app-decline", applicant_id: str = "cust-decline"
) -> pb.AssessLoanApplicationRequest:
    """An overdrawn account, no savings, renting, short tenure, a long large loan: DECLINE by the scorecard."""
    request = approve_request(application_id, applicant_id)
    request.applicant.checking_account_status = pb.CHECKING_ACCOUNT_STATUS_OVERDRAWN
    request.applicant.ClearField("savings_balance")
    request.applicant.housing_status = pb.HOUSING_STATUS_RENTING
    request.applicant.employment_tenure_months = 6
    request.loan.amount.units = 15000
    request.loan.term_months = 60
    request.loan.purpose = pb.LOAN_PURPOSE_BUSINESS
    return request


def varied_request(rng: random.Random, index: int) -> pb.AssessLoanApplicationRequest:
    """A random but valid application (for batches and the benchmark); ids derived from ``index``."""
    request = approve_request(f"app-{index}", f"cust-{index}")
    applicant, loan = request.applicant, request.loan
    applicant.age = rng.randint(18, 80)
    applicant.employment_tenure_months = rng.randint(0, 240)
    applicant.monthly_income.units = rng.randint(1500, 9000)
    applicant.existing_monthly_debt_payments.units = rng.randint(0, 900)
    applicant.dependants = rng.randint(0, 3)
    applicant.housing_status = rng.choice([1, 2, 3, 4])
    applicant.checking_account_status = rng.choice([1, 2, 3, 4])
    applicant.savings_balance.units = rng.choice([0, 300, 1500, 8000])
    loan.amount.units = rng.randint(1000, 30000)
    loan.term_months = rng.choice([12, 24, 36, 48, 60])
    loan.purpose = rng.randint(1, 11)
    request.bureau.delinquencies_24m = rng.choice([0, 0, 0, 1])
    return request
