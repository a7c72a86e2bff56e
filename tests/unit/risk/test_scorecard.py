"""The committed scorecard artefact and the equivalence of the single and vectorised paths."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from server.risk.data import load_credit_data
from server.risk.domain import (
    BureauAttributes,
    CheckingAccountStatus,
    EmploymentType,
    HousingStatus,
    LoanApplication,
    LoanPurpose,
    Money,
)
from server.risk.engine import RiskEngine
from server.risk.features import PROHIBITED_ATTRIBUTES
from server.risk.scorecard import DEFAULT_ARTEFACT, ScorecardModel, model_id_of
from server.risk.train import check_age_points, feature_rows
from server.runtime.errors import InvalidArgument

from .conftest import ApplicationFactory


def test_the_artefact_id_is_its_content_hash() -> None:
    document = json.loads(DEFAULT_ARTEFACT.read_text())
    assert document["model_id"] == model_id_of(document["model"])
    assert ScorecardModel(document).model_id == document["model_id"]


def test_a_tampered_artefact_is_refused(tmp_path: Path) -> None:
    document = json.loads(DEFAULT_ARTEFACT.read_text())
    document["model"]["features"][0]["bins"][0]["points_cp"] += 1
    path = tmp_path / "scorecard.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="does not match its content"):
        ScorecardModel.from_file(path)


def test_prohibited_attributes_are_never_features() -> None:
    model = ScorecardModel.from_file()
    text = DEFAULT_ARTEFACT.read_text()
    for name in PROHIBITED_ATTRIBUTES:
        assert name not in model.feature_names
        assert name not in json.dumps(model.document["model"])
    assert "personal_status_and_sex" in text  # documented as excluded, in the training section


def test_age_is_not_a_feature_and_the_training_guard_protects_older_applicants() -> None:
    model = ScorecardModel.from_file()
    assert "age_years" not in model.feature_names
    assert "age_years" in model.training["excluded_attributes"]
    check_age_points([{"name": "age_years", "bins": [{"points_cp": 100}, {"points_cp": 100}, {"points_cp": 250}]}])
    with pytest.raises(RuntimeError, match="must not decrease with age"):
        check_age_points([{"name": "age_years", "bins": [{"points_cp": 100}, {"points_cp": 300}, {"points_cp": 250}]}])


def test_pd_falls_as_the_score_rises() -> None:
    model = ScorecardModel.from_file()
    pd = model.probability_of_default(np.arange(40_000, 70_000, 100, dtype=np.int64))
    assert np.all(np.diff(pd) < 0)
    # At the base score the odds are 50:1 by construction.
    assert model.probability_of_default(np.asarray([60_000]))[0] == pytest.approx(1 / 51)


def test_batch_scoring_equals_single_scoring_on_the_training_rows() -> None:
    model = ScorecardModel.from_file()
    rows = feature_rows(load_credit_data())
    batch = model.score_batch(rows)
    for i, row in enumerate(rows):
        single = model.score_one(row)
        assert single.bins == tuple(batch.bins[i].tolist())
        assert single.total_cp == int(batch.total_cp[i])


def _random_application(rng: random.Random, base: LoanApplication) -> LoanApplication:
    def eur(low: int, high: int) -> Money:
        return Money(Decimal(rng.randint(low * 100, high * 100)) / 100, "EUR")

    applicant = replace(
        base.applicant,
        age=rng.randint(14, 120),
        employment_type=rng.choice(list(EmploymentType)),
        employment_tenure_months=rng.randint(0, 720),
        monthly_income=rng.choice([eur(0, 1_000), eur(1_000, 12_000), eur(2_500, 12_000)]),
        existing_monthly_debt_payments=rng.choice([eur(0, 3_000), eur(0, 300)]),
        credit_score=rng.choice([rng.randint(300, 850), rng.randint(600, 850)]),
        dependants=rng.randint(0, 8),
        housing_status=rng.choice(list(HousingStatus)),
        savings_balance=rng.choice([None, eur(0, 50_000)]),
        checking_account_status=rng.choice([None, *CheckingAccountStatus]),
        existing_credits_count=rng.randint(0, 6),
    )
    loan = replace(
        base.loan,
        amount=rng.choice([eur(100, 80_000), eur(500, 15_000)]),
        term_months=rng.choice([rng.randint(1, 480), rng.randint(6, 60)]),
        purpose=rng.choice(list(LoanPurpose)),
        annual_rate_bps=rng.choice([0, 199, 725, 1299, 2500]),
    )
    bureau = rng.choice(
        [
            None,
            BureauAttributes(),
            BureauAttributes(rng.randint(0, 9), rng.randint(0, 3), rng.randint(0, 120)),
            BureauAttributes(rng.randint(1, 9), 0, rng.randint(0, 120)),
            BureauAttributes(rng.randint(1, 9), 0),
        ]
    )
    if rng.random() < 0.02:  # a bad item: the batch must carry on
        loan = replace(loan, amount=Money(Decimal(-5), "EUR"))
    return replace(base, application_id=f"app-{rng.randint(0, 10**9)}", applicant=applicant, loan=loan, bureau=bureau)


def test_batch_assessment_equals_single_assessment(engine: RiskEngine, make_application: ApplicationFactory) -> None:
    rng = random.Random(20261125)
    base = make_application()
    applications = [_random_application(rng, base) for _ in range(1500)]
    batch = engine.assess_batch(applications)
    errors = 0
    for application, from_batch in zip(applications, batch, strict=True):
        try:
            single = engine.assess(application)
        except InvalidArgument as error:
            errors += 1
            assert from_batch == error
            continue
        assert from_batch == single  # every field, PD included, bit for bit
    assert 0 < errors < 100
    outcomes = {a.recommendation for a in batch if not isinstance(a, InvalidArgument)}
    assert len(outcomes) == 3
