"""The risk engine: repayment ability, scorecard, policy rules and the decision.

Owns :class:`RiskEngine`, the deterministic decision-maker the servicer calls.
It works on domain types only (no protobuf, no gRPC, no storage), is pure
given its scorecard artefact and policy file, and offers two paths with
identical results: :meth:`RiskEngine.assess` for one application and
:meth:`RiskEngine.assess_batch` (NumPy-vectorised scoring) for many.

Decision order (documented in docs/risk.md):

1. Engine-level checks (currency configured and shared, no negative amounts):
   :class:`~server.runtime.errors.InvalidArgument` naming each field.
2. Hard declines: below the legal minimum age, no income, DTI after the loan
   above the cap, disposable income below the minimum. No upper age limit.
3. A score within ``near_cutoff_points`` of a cut-off: REFER.
4. The scorecard's own outcome from PD cut-offs: a DECLINE stands.
5. Refer triggers (thin file, high loan-to-income, bureau delinquencies, low
   bureau score) turn an APPROVE into a REFER.

Cut-offs and PD bands are applied on the integer score in centipoints (the
exact equivalent of the PD thresholds), so both paths decide identically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from server.risk.domain import (
    LoanApplication,
    LoanAssessment,
    Money,
    PolicyRuleHit,
    ReasonCode,
    Recommendation,
    RepaymentAbility,
    RiskLevel,
    ScorecardPoints,
)
from server.risk.features import FEATURE_BY_NAME, ApplicationFeatures, application_features, format_reason_value
from server.risk.policy import DEFAULT_POLICY_FILE, CurrencyPolicy, Policy, load_policy
from server.risk.repayment import repayment_ability
from server.risk.scorecard import DEFAULT_ARTEFACT, ScorecardModel
from server.runtime.errors import FieldViolation, InvalidArgument

ENGINE_NAME = "risk.scorecard"
ENGINE_VERSION = "1.0.0"
ERROR_DOMAIN = "risk.fintech"
MAX_REASONS = 4


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Everything computed per application before scoring."""

    application: LoanApplication
    currency: CurrencyPolicy
    repayment: RepaymentAbility
    features: ApplicationFeatures


class RiskEngine:
    """Decides on loan applications; deterministic for a given artefact and policy."""

    def __init__(self, scorecard: ScorecardModel, policy: Policy) -> None:
        """Bind a scorecard and a policy.

        Args:
            scorecard: The loaded artefact.
            policy: The loaded rule set.
        """
        self.scorecard = scorecard
        self.policy = policy
        self._approve_cp = scorecard.threshold_cp(float(policy.cutoffs.approve_below))
        self._decline_cp = scorecard.threshold_cp(float(policy.cutoffs.decline_from))
        self._low_cp = scorecard.threshold_cp(float(policy.risk_bands.low_below))
        self._medium_cp = scorecard.threshold_cp(float(policy.risk_bands.medium_below))
        self._near_cp = policy.refer.near_cutoff_points * 100
        self._full_margin_cp = policy.confidence.full_margin_points * 100
        self._specs = tuple(FEATURE_BY_NAME[name] for name in scorecard.feature_names)
        self._max_points = tuple(int(v) for v in scorecard.max_points_cp)
        # ScorecardPoints depend only on (feature, bin): built once, shared by every assessment.
        self._points_objects = tuple(
            tuple(
                ScorecardPoints(feature=f.name, bin=label, points=p / 100, max_points=f.max_points_cp / 100)
                for label, p in zip(f.labels, f.points_cp, strict=True)
            )
            for f in scorecard.bins
        )

    @classmethod
    def from_files(cls, artefact: Path = DEFAULT_ARTEFACT, policy: Path = DEFAULT_POLICY_FILE) -> RiskEngine:
        """Load the artefact and the policy file.

        Raises:
            ValueError: Either file is missing or invalid.
        """
        return cls(ScorecardModel.from_file(artefact), load_policy(policy))

    @property
    def approve_cutoff_score(self) -> float:
        """Score above which the scorecard recommends APPROVE."""
        return self._approve_cp / 100

    @property
    def decline_cutoff_score(self) -> float:
        """Score at or below which the scorecard recommends DECLINE."""
        return self._decline_cp / 100

    def scorecard_outcome(self, total_cp: int, *, near_cutoff_refers: bool = True) -> Recommendation:
        """The scorecard's own recommendation for a score in centipoints (no affordability or bureau rules).

        Args:
            total_cp: Score in hundredths of a point.
            near_cutoff_refers: Apply the near-cut-off REFER rule (the engine does; evaluation reports both).

        Returns:
            APPROVE above the approve cut-off, DECLINE at or below the decline cut-off, REFER between
            (and within ``near_cutoff_points`` of either cut-off when ``near_cutoff_refers``).
        """
        if (
            near_cutoff_refers
            and min(abs(total_cp - self._approve_cp), abs(total_cp - self._decline_cp)) <= self._near_cp
        ):
            return Recommendation.REFER
        if total_cp > self._approve_cp:
            return Recommendation.APPROVE
        if total_cp <= self._decline_cp:
            return Recommendation.DECLINE
        return Recommendation.REFER

    # -- the two paths -------------------------------------------------------------------------

    def assess(self, application: LoanApplication) -> LoanAssessment:
        """Assess one application.

        Args:
            application: The application.

        Returns:
            The assessment.

        Raises:
            InvalidArgument: A field the engine cannot use, named in ``violations``.
        """
        prepared = self._prepare(application)
        row = self.scorecard.score_one(prepared.features.values)
        pd_value = float(self.scorecard.probability_of_default(np.asarray([row.total_cp], dtype=np.int64))[0])
        lost = [m - p for m, p in zip(self._max_points, row.points_cp, strict=True)]
        order = sorted(range(len(lost)), key=lambda i: -lost[i])
        return self._decide(prepared, list(row.bins), list(row.points_cp), row.total_cp, pd_value, order)

    def assess_batch(self, applications: Sequence[LoanApplication]) -> list[LoanAssessment | InvalidArgument]:
        """Assess many applications; scoring is vectorised with NumPy.

        Results are identical to :meth:`assess` item by item. A bad item yields
        its :class:`InvalidArgument` in its place and the batch goes on.

        Args:
            applications: The applications.

        Returns:
            One assessment or error per application, in order.
        """
        results: list[LoanAssessment | InvalidArgument] = []
        prepared: list[_Prepared] = []
        slots: list[int] = []
        for application in applications:
            try:
                prepared.append(self._prepare(application))
                slots.append(len(results))
                results.append(_PENDING)
            except InvalidArgument as error:
                results.append(error)
        if not prepared:
            return results
        batch = self.scorecard.score_batch([p.features.values for p in prepared])
        pds = self.scorecard.probability_of_default(batch.total_cp).tolist()
        lost = self.scorecard.max_points_cp[None, :] - batch.points_cp
        # A stable sort on -lost keeps feature order on ties, exactly like sorted() in assess().
        orders = np.argsort(-lost, axis=1, kind="stable").tolist()
        bins = batch.bins.tolist()
        points = batch.points_cp.tolist()
        totals = batch.total_cp.tolist()
        for k, slot in enumerate(slots):
            results[slot] = self._decide(prepared[k], bins[k], points[k], totals[k], pds[k], orders[k])
        return results

    # -- shared steps --------------------------------------------------------------------------

    def _prepare(self, application: LoanApplication) -> _Prepared:
        currency = self._check(application)
        applicant = application.applicant
        repayment = repayment_ability(
            principal=application.loan.amount,
            annual_rate_bps=application.loan.annual_rate_bps,
            term_months=application.loan.term_months,
            monthly_income=applicant.monthly_income.amount,
            existing_monthly_debt=applicant.existing_monthly_debt_payments.amount,
            dependants=applicant.dependants,
            applicant_allowance=currency.living_cost_applicant,
            per_dependant_allowance=currency.living_cost_per_dependant,
            minor_units=currency.minor_units,
        )
        features = application_features(
            application,
            dm_per_unit=currency.training_dm_per_unit,
            instalment=repayment.monthly_instalment.amount,
            living_cost_allowance=repayment.living_cost_allowance.amount,
        )
        return _Prepared(application, currency, repayment, features)

    def _check(self, application: LoanApplication) -> CurrencyPolicy:
        """Engine-level validation; the contract's own rules are checked before the engine."""
        violations: list[FieldViolation] = []
        loan = application.loan
        applicant = application.applicant
        code = loan.amount.currency
        currency = self.policy.currencies.get(code)
        if currency is None:
            violations.append(
                FieldViolation(
                    "loan.amount.currency_code",
                    f"currency {code!r} is not configured for risk assessment "
                    f"(configured: {', '.join(sorted(self.policy.currencies))})",
                    "CURRENCY_NOT_SUPPORTED",
                )
            )
        if loan.amount.amount <= 0:
            violations.append(FieldViolation("loan.amount", "must be positive", "OUT_OF_RANGE"))
        if loan.term_months < 1:
            violations.append(FieldViolation("loan.term_months", "must be at least 1", "OUT_OF_RANGE"))
        if loan.annual_rate_bps < 0:
            violations.append(FieldViolation("loan.annual_rate_bps", "must not be negative", "OUT_OF_RANGE"))
        if applicant.dependants < 0:
            violations.append(FieldViolation("applicant.dependants", "must not be negative", "OUT_OF_RANGE"))
        if applicant.employment_tenure_months < 0:
            violations.append(
                FieldViolation("applicant.employment_tenure_months", "must not be negative", "OUT_OF_RANGE")
            )
        money_fields: list[tuple[str, Money | None]] = [
            ("applicant.monthly_income", applicant.monthly_income),
            ("applicant.existing_monthly_debt_payments", applicant.existing_monthly_debt_payments),
            ("applicant.savings_balance", applicant.savings_balance),
        ]
        for name, money in money_fields:
            if money is None:
                continue
            if money.currency != code:
                violations.append(
                    FieldViolation(f"{name}.currency_code", "must be the loan amount's currency", "CURRENCY_MISMATCH")
                )
            if money.amount < 0:
                violations.append(FieldViolation(name, "must not be negative", "OUT_OF_RANGE"))
        if violations or currency is None:
            raise InvalidArgument(
                message="the application has fields the risk engine cannot use",
                reason="INVALID_APPLICATION",
                domain=ERROR_DOMAIN,
                metadata={"application_id": application.application_id},
                violations=tuple(violations),
            )
        return currency

    def _decide(
        self,
        prepared: _Prepared,
        bins: list[int],
        points: list[int],
        total_cp: int,
        pd_value: float,
        order: list[int],
    ) -> LoanAssessment:
        application = prepared.application
        repayment = prepared.repayment
        declines = self._hard_declines(prepared)
        refers = self._refer_triggers(application, repayment)
        model_outcome = self.scorecard_outcome(total_cp, near_cutoff_refers=False)
        margin_cp = min(abs(total_cp - self._approve_cp), abs(total_cp - self._decline_cp))
        score = (total_cp + 50) // 100
        # Every rule that fired is listed, including refer triggers a decline overrides (the audit sees all).
        hits: list[PolicyRuleHit] = list(declines)
        if declines:
            recommendation = Recommendation.DECLINE
            confidence = 1.0
            hits.extend(refers)
        else:
            confidence = round(min(1.0, margin_cp / self._full_margin_cp), 4)
            if margin_cp <= self._near_cp:
                nearest = self._approve_cp if abs(total_cp - self._approve_cp) <= margin_cp else self._decline_cp
                hits.append(
                    PolicyRuleHit(
                        "SCORE_NEAR_CUTOFF",
                        Recommendation.REFER,
                        f"Score within {self.policy.refer.near_cutoff_points} points of a decision cut-off",
                        f"score {score}, cut-off {nearest / 100:.2f}",
                    )
                )
            hits.extend(refers)
            if margin_cp <= self._near_cp:
                recommendation = Recommendation.REFER
            elif model_outcome is Recommendation.DECLINE:
                recommendation = Recommendation.DECLINE
            elif refers:
                recommendation = Recommendation.REFER
                # A trigger, not the score, decided: the rule is certain.
                confidence = 1.0
            else:
                recommendation = model_outcome
        risk_level = (
            RiskLevel.LOW
            if total_cp > self._low_cp
            else RiskLevel.MEDIUM
            if total_cp > self._medium_cp
            else RiskLevel.HIGH
        )
        reasons: list[ReasonCode] = []
        for index in order[:MAX_REASONS]:
            lost_cp = self._max_points[index] - points[index]
            if lost_cp <= 0:
                break
            spec = self._specs[index]
            reasons.append(
                ReasonCode(
                    code=spec.reason_code,
                    description=spec.description,
                    value=format_reason_value(spec.name, application, prepared.features.instalment_burden),
                    points_lost=lost_cp / 100,
                    rank=len(reasons) + 1,
                )
            )
        table = self._points_objects
        card_points = tuple(table[f][b] for f, b in enumerate(bins))
        return LoanAssessment(
            application_id=application.application_id,
            repayment=repayment,
            risk_level=risk_level,
            recommendation=recommendation,
            key_risk_points=tuple(reasons),
            probability_of_default=pd_value,
            score=score,
            confidence=confidence,
            rule_hits=tuple(hits),
            points=card_points,
            model_id=self.scorecard.model_id,
            model_version=self.scorecard.version,
            rule_set_version=self.policy.version,
            engine_version=ENGINE_VERSION,
        )

    def _hard_declines(self, prepared: _Prepared) -> list[PolicyRuleHit]:
        policy = self.policy
        applicant = prepared.application.applicant
        repayment = prepared.repayment
        currency_code = repayment.monthly_instalment.currency
        minor = prepared.currency.minor_units
        hits: list[PolicyRuleHit] = []
        if applicant.age < policy.age.legal_minimum:
            hits.append(
                PolicyRuleHit(
                    "AGE_BELOW_LEGAL_MINIMUM",
                    Recommendation.DECLINE,
                    f"Applicant is below the legal minimum age of {policy.age.legal_minimum}",
                    f"{applicant.age} years",
                )
            )
        if applicant.monthly_income.amount == 0:
            hits.append(
                PolicyRuleHit(
                    "NO_INCOME",
                    Recommendation.DECLINE,
                    "No monthly income to repay from",
                    _money(Decimal(0), currency_code, minor),
                )
            )
        dti = repayment.debt_to_income_after
        if dti is not None and dti > policy.affordability.dti_after_cap:
            hits.append(
                PolicyRuleHit(
                    "DTI_ABOVE_CAP",
                    Recommendation.DECLINE,
                    f"Debt-to-income after the loan is above the cap of {policy.affordability.dti_after_cap}",
                    str(dti),
                )
            )
        minimum = prepared.currency.minimum_residual_income
        if repayment.disposable_income.amount < minimum:
            hits.append(
                PolicyRuleHit(
                    "RESIDUAL_INCOME_BELOW_MINIMUM",
                    Recommendation.DECLINE,
                    "Income after debts, the instalment and living costs is below the minimum of "
                    + _money(minimum, currency_code, minor),
                    _money(repayment.disposable_income.amount, currency_code, minor),
                )
            )
        return hits

    def _refer_triggers(self, application: LoanApplication, repayment: RepaymentAbility) -> list[PolicyRuleHit]:
        refer = self.policy.refer
        bureau = application.bureau
        hits: list[PolicyRuleHit] = []
        open_lines = None if bureau is None else bureau.open_credit_lines
        if open_lines is None or open_lines < refer.thin_file_min_open_credit_lines:
            hits.append(
                PolicyRuleHit(
                    "THIN_FILE",
                    Recommendation.REFER,
                    "Thin credit file: too little bureau history to rely on the score alone",
                    "no bureau data" if open_lines is None else f"{open_lines} open credit lines",
                )
            )
        lti = repayment.loan_to_income
        if lti is not None and lti > refer.loan_to_income_max:
            hits.append(
                PolicyRuleHit(
                    "LOAN_TO_INCOME_HIGH",
                    Recommendation.REFER,
                    f"Loan exceeds {refer.loan_to_income_max} times annual net income",
                    str(lti),
                )
            )
        delinquencies = None if bureau is None else bureau.delinquencies_24m
        if delinquencies is not None and delinquencies >= refer.delinquencies_24m_max:
            hits.append(
                PolicyRuleHit(
                    "BUREAU_DELINQUENCIES",
                    Recommendation.REFER,
                    "Delinquencies reported by the bureau in the last 24 months",
                    f"{delinquencies} delinquencies",
                )
            )
        if application.applicant.credit_score < refer.bureau_score_min:
            hits.append(
                PolicyRuleHit(
                    "BUREAU_SCORE_LOW",
                    Recommendation.REFER,
                    f"Bureau credit score below {refer.bureau_score_min}",
                    str(application.applicant.credit_score),
                )
            )
        return hits


def _money(amount: Decimal, currency: str, minor_units: int = 2) -> str:
    return f"{currency} {amount:,.{minor_units}f}"


# Placeholder slot while a batch is being scored; every one is replaced before returning.
_PENDING: LoanAssessment | InvalidArgument = InvalidArgument(message="pending")
