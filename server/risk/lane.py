"""The engine's columnar lane: protobuf items in, finished ``LoanAssessment`` wire bytes out.

Owns :class:`DecisionLane`, the fast path of a micro-batch message (``items``). It takes the same
decisions as :meth:`RiskEngine.assess` with the same arithmetic (the same ``Decimal`` context and
rounding, the same feature mapping, the scorecard's vectorised scoring, the same rule order and texts),
but reads the request's fields once, builds no domain objects and writes the result's protobuf
encoding directly from cached fragments: the per-object work of the domain path (mapping, frozen
dataclasses, ``assessment_to_proto``) costs several times the decision itself.

It is a second rendering of the engine's rules, so it is held to the engine: a test
(``tests/unit/risk/test_lane.py``) compares its output with ``assessment_to_proto(engine.assess(...))``
on many varied applications and on each rule's boundaries, and the benchmark refuses to report a speed
when they differ. An item the lane does not take (anything the engine would refuse: a currency the
policy does not configure, a negative amount, savings in another currency) is left to the domain path,
which produces the error, so errors have one source.
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
from fintech.common.v1 import common_pb2
from fintech.risk.v1 import risk_service_pb2 as pb

from server.risk import domain
from server.risk.engine import ENGINE_NAME, ENGINE_VERSION, MAX_REASONS, RiskEngine
from server.risk.features import (
    _CONTEXT as _FEATURE_CONTEXT,
)
from server.risk.features import (
    CHECKING_FROM_REQUEST,
    HOUSING_FROM_REQUEST,
    PURPOSE_FROM_REQUEST,
    employment_band,
    instalment_burden_band,
    savings_band,
)
from server.risk.policy import CurrencyPolicy
from server.risk.repayment import _CONTEXT as _REPAYMENT_CONTEXT
from server.risk.repayment import RATIO_QUANTUM, annuity_factor, money_quantum
from server.risk.validation import ApplicationFields, read_application

_E = TypeVar("_E", bound=enum.Enum)
_NANOS = Decimal(1_000_000_000)
_NANO_QUANTUM = Decimal("0.000000001")
_TWELVE = Decimal(12)
_HUNDRED = Decimal(100)
_LIMIT = Decimal(10**15)
_DOUBLE = struct.Struct("<d").pack


def _varint(value: int) -> bytes:
    """Protobuf base-128 varint; negative numbers as 64-bit two's complement (int32 and int64 alike)."""
    if 0 <= value < _SMALL:
        return _VARINTS[value]
    return _large_varint(value)


@lru_cache(maxsize=65_536)
def _large_varint(value: int) -> bytes:
    # Nanos of whole cents (100 values a sign) and amounts repeat: cached rather than looped each time.
    value &= 0xFFFF_FFFF_FFFF_FFFF
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _encode_small(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_SMALL = 1 << 14
# Lengths, enum values and small integers: a table lookup instead of a loop (the lane encodes ~40 a result).
_VARINTS = tuple(_encode_small(v) for v in range(_SMALL))
# Field keys (field << 3 | wire type) of every field number the lane writes.
_LEN = tuple(_encode_small(f << 3 | 2) for f in range(32))
_VAR = tuple(_encode_small(f << 3) for f in range(32))
_I64 = tuple(_encode_small(f << 3 | 1) for f in range(32))
_BILLION = 1_000_000_000


def bytes_field(field: int, value: bytes) -> bytes:
    """A length-delimited field (bytes, string or message) with its key."""
    size = len(value)
    return _LEN[field] + (_VARINTS[size] if size < _SMALL else _varint(size)) + value


def text_field(field: int, value: str) -> bytes:
    """A string field, left out when empty (proto3 default), as protobuf writes it."""
    return bytes_field(field, value.encode()) if value else b""


def _int(field: int, value: int) -> bytes:
    if not value:
        return b""
    return _VAR[field] + (_VARINTS[value] if 0 < value < _SMALL else _varint(value))


def _double(field: int, value: float) -> bytes:
    return _I64[field] + _DOUBLE(value) if value != 0.0 else b""


def _money(field: int, amount: Decimal, currency: bytes) -> bytes:
    """A ``Money`` field exactly as ``mapping.money_to_proto`` encodes ``amount`` (``currency`` pre-encoded).

    The lane's amounts are whole minor units (at most four decimals), so the half-even quantisation to
    nanos there is exact here: units are truncated toward zero and nanos carry the same sign.
    """
    numerator, denominator = amount.as_integer_ratio()  # denominator divides 10**minor_units
    if _BILLION % denominator:  # finer than nanos (not a lane amount): round as money_to_proto does
        numerator, denominator = amount.quantize(_NANO_QUANTUM, rounding=ROUND_HALF_EVEN).as_integer_ratio()
    scaled = numerator * (_BILLION // denominator)
    if scaled >= 0:
        units, nanos = divmod(scaled, _BILLION)
    else:
        units, nanos = divmod(-scaled, _BILLION)
        units, nanos = -units, -nanos
    return bytes_field(field, currency + _int(2, units) + _int(3, nanos))


def _ratio(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _amount(units: int, nanos: int) -> Decimal:
    # mapping.money_from_proto, in the same (thread's) context.
    if not nanos:
        return Decimal(units)
    return Decimal(units) + Decimal(nanos) / _NANOS


@lru_cache(maxsize=64)
def _label(value: enum.Enum) -> str:
    return str(value.value).lower().replace("_", " ")


def _table(proto_enum: Any, prefix: str, target: type[_E]) -> dict[int, _E]:
    return {
        int(v): target[str(n).removeprefix(prefix)]
        for n, v in proto_enum.items()
        if not str(n).endswith("_UNSPECIFIED")
    }


_EMPLOYMENT = _table(pb.EmploymentType, "EMPLOYMENT_TYPE_", domain.EmploymentType)
_HOUSING = _table(pb.HousingStatus, "HOUSING_STATUS_", domain.HousingStatus)
_PURPOSE = _table(pb.LoanPurpose, "LOAN_PURPOSE_", domain.LoanPurpose)
_CHECKING = _table(pb.CheckingAccountStatus, "CHECKING_ACCOUNT_STATUS_", domain.CheckingAccountStatus)
_RECOMMENDATION = {r.value: int(pb.Recommendation.Value(f"RECOMMENDATION_{r.value}")) for r in domain.Recommendation}
_RISK_LEVEL = {r.value: int(pb.RiskLevel.Value(f"RISK_LEVEL_{r.value}")) for r in domain.RiskLevel}


class _Item:
    """One application's values as the lane needs them (read once from the request)."""

    __slots__ = (
        "age",
        "allowance",
        "amount",
        "application_id",
        "burden",
        "checking",
        "credit_score",
        "credits",
        "currency",
        "debts",
        "delinquencies",
        "disposable",
        "dti_after",
        "dti_before",
        "employment",
        "housing",
        "income",
        "instalment",
        "lti",
        "open_lines",
        "policy",
        "purpose",
        "savings",
        "tenure",
        "term",
        "total",
    )
    age: int
    allowance: Decimal
    amount: Decimal
    application_id: str
    burden: Decimal | None
    checking: domain.CheckingAccountStatus | None
    credit_score: int
    credits: int
    currency: str
    debts: Decimal
    delinquencies: int | None
    disposable: Decimal
    dti_after: Decimal | None
    dti_before: Decimal | None
    employment: domain.EmploymentType
    housing: domain.HousingStatus
    income: Decimal
    instalment: Decimal
    lti: Decimal | None
    open_lines: int | None
    policy: CurrencyPolicy
    purpose: domain.LoanPurpose
    savings: Decimal | None
    tenure: int
    term: int
    total: Decimal


class DecisionLane:
    """Decides micro-batches of requests like ``engine`` and encodes the results (see the module docstring)."""

    def __init__(self, engine: RiskEngine) -> None:
        """Precompute the engine's constants and the result's fixed fragments."""
        self.engine = engine
        self.policy = engine.policy
        scorecard = engine.scorecard
        self._specs = engine._specs
        self._max_points = engine._max_points
        self._approve_cp = engine._approve_cp
        self._decline_cp = engine._decline_cp
        self._low_cp = engine._low_cp
        self._medium_cp = engine._medium_cp
        self._near_cp = engine._near_cp
        self._full_margin_cp = engine._full_margin_cp
        self._points_wire = tuple(
            tuple(
                bytes_field(
                    10,
                    text_field(1, f.name)
                    + text_field(2, label)
                    + _double(3, p / 100)
                    + _double(4, f.max_points_cp / 100),
                )
                for label, p in zip(f.labels, f.points_cp, strict=True)
            )
            for f in scorecard.bins
        )
        number = {f.name: f.number for f in common_pb2.Provenance.DESCRIPTOR.fields}
        self._provenance = bytes_field(
            15,
            text_field(number["engine"], ENGINE_NAME)
            + text_field(number["engine_version"], ENGINE_VERSION)
            + text_field(number["rule_set_version"], self.policy.version)
            + text_field(number["model_id"], scorecard.model_id)
            + _int(number["validation_outcome"], int(common_pb2.VALIDATION_OUTCOME_NOT_APPLICABLE)),
        )
        self._source = _int(12, int(common_pb2.EXPLANATION_SOURCE_NONE))
        self._reason_head = tuple(
            text_field(1, spec.reason_code) + text_field(2, spec.description) for spec in self._specs
        )
        self._currency_wire = {code: text_field(1, code) for code in self.policy.currencies}
        self.engine_version = ENGINE_VERSION
        self.rule_set_version = self.policy.version
        self.model_id = scorecard.model_id

    # -- reading -------------------------------------------------------------------------------------

    def _read(self, fields: ApplicationFields) -> _Item | None:
        """The item's values, or None when the engine would refuse it (the domain path names why)."""
        currency = fields.currency
        policy = self.policy.currencies.get(currency)
        if policy is None:
            return None
        item = _Item()
        item.currency = currency
        item.policy = policy
        item.amount = _amount(fields.amount_units, fields.amount_nanos)
        item.income = _amount(fields.income_units, fields.income_nanos)
        item.debts = _amount(fields.debt_units, fields.debt_nanos)
        if fields.savings is not None:
            units, nanos, savings_currency = fields.savings
            if savings_currency != currency:
                return None
            item.savings = _amount(units, nanos)
            if item.savings < 0:
                return None
        else:
            item.savings = None
        if item.amount <= 0 or item.income < 0 or item.debts < 0:
            return None
        if item.amount >= _LIMIT or item.income >= _LIMIT or item.debts >= _LIMIT:
            return None  # beyond what the lane's integer encoding of money is written for: the domain path
        item.application_id = fields.application_id
        item.age = fields.age
        item.employment = _EMPLOYMENT[fields.employment_type]
        item.tenure = fields.employment_tenure_months
        item.credit_score = fields.credit_score
        item.housing = _HOUSING[fields.housing_status]
        item.checking = _CHECKING.get(fields.checking_account_status)
        item.credits = fields.existing_credits_count
        item.term = term = fields.term_months
        item.purpose = _PURPOSE[fields.purpose]
        item.open_lines = fields.open_credit_lines
        item.delinquencies = fields.delinquencies_24m
        # repayment.repayment_ability, step by step.
        quantum = money_quantum(policy.minor_units)
        factor = annuity_factor(fields.annual_rate_bps, term)
        dependants = fields.dependants
        with localcontext(_REPAYMENT_CONTEXT):
            instalment = (item.amount * factor).quantize(quantum, ROUND_HALF_UP)
            allowance = (policy.living_cost_applicant + dependants * policy.living_cost_per_dependant).quantize(
                quantum, ROUND_HALF_EVEN
            )
            debt_after = item.debts + instalment
            item.disposable = (item.income - debt_after - allowance).quantize(quantum, ROUND_HALF_EVEN)
            item.total = instalment * term
            if item.income == 0:
                item.dti_before = item.dti_after = item.lti = None
            else:
                item.dti_before = (item.debts / item.income).quantize(RATIO_QUANTUM, ROUND_HALF_EVEN)
                item.dti_after = (debt_after / item.income).quantize(RATIO_QUANTUM, ROUND_HALF_EVEN)
                item.lti = (item.amount / (item.income * _TWELVE)).quantize(RATIO_QUANTUM, ROUND_HALF_EVEN)
        item.instalment = instalment
        item.allowance = allowance
        return item

    def _features(self, item: _Item) -> tuple[float | str | None, ...]:
        """features.application_features, from the item's values."""
        dm_per_unit = item.policy.training_dm_per_unit
        with localcontext(_FEATURE_CONTEXT):
            savings = math.nan if item.savings is None else savings_band(item.savings * dm_per_unit)
            disposable = item.income - item.debts - item.allowance
            burden = None if disposable <= 0 else item.instalment / disposable
            amount_dm = float(item.amount * dm_per_unit)
        item.burden = burden
        return (
            None if item.checking is None else CHECKING_FROM_REQUEST[item.checking],
            float(item.term),
            amount_dm,
            float(item.age),
            employment_band(item.employment, item.tenure),
            HOUSING_FROM_REQUEST[item.housing],
            float(item.credits + 1),
            instalment_burden_band(burden),
            PURPOSE_FROM_REQUEST[item.purpose],
            savings,
        )

    # -- deciding ------------------------------------------------------------------------------------

    def assess(self, requests: Sequence[pb.AssessLoanApplicationRequest]) -> list[tuple[bytes, str, str, int] | None]:
        """:meth:`assess_fields` for requests (None for one that breaks the contract)."""
        return self.assess_fields([read_application(request) for request in requests])

    def assess_fields(self, requests: Sequence[ApplicationFields | None]) -> list[tuple[bytes, str, str, int] | None]:
        """Decide applications read by :func:`server.risk.validation.read_application` (None: not read).

        Returns:
            Per application: ``(LoanAssessment engine part as wire bytes, recommendation, risk level,
            score)``, or None for one the lane leaves to the domain path.
        """
        items = [None if fields is None else self._read(fields) for fields in requests]
        taken = [item for item in items if item is not None]
        out: list[tuple[bytes, str, str, int] | None] = [None] * len(items)
        if not taken:
            return out
        scorecard = self.engine.scorecard
        batch = scorecard.score_batch([self._features(item) for item in taken])
        pds = scorecard.probability_of_default(batch.total_cp).tolist()
        lost = scorecard.max_points_cp[None, :] - batch.points_cp
        orders = np.argsort(-lost, axis=1, kind="stable").tolist()
        bins = batch.bins.tolist()
        points = batch.points_cp.tolist()
        totals = batch.total_cp.tolist()
        k = 0
        for index, item in enumerate(items):
            if item is not None:
                out[index] = self._decide(item, bins[k], points[k], totals[k], pds[k], orders[k])
                k += 1
        return out

    def _decide(
        self, item: _Item, bins: list[int], points: list[int], total_cp: int, pd_value: float, order: list[int]
    ) -> tuple[bytes, str, str, int]:
        """RiskEngine._decide, writing the result's encoding."""
        policy = self.policy
        currency = item.currency
        minor = item.policy.minor_units
        score = (total_cp + 50) // 100
        # Hard declines (RiskEngine._hard_declines).
        declines: list[bytes] = []
        if item.age < policy.age.legal_minimum:
            declines.append(
                _hit(
                    "AGE_BELOW_LEGAL_MINIMUM",
                    "DECLINE",
                    f"Applicant is below the legal minimum age of {policy.age.legal_minimum}",
                    f"{item.age} years",
                )
            )
        if item.income == 0:
            declines.append(
                _hit(
                    "NO_INCOME", "DECLINE", "No monthly income to repay from", _money_text(Decimal(0), currency, minor)
                )
            )
        dti = item.dti_after
        if dti is not None and dti > policy.affordability.dti_after_cap:
            declines.append(
                _hit(
                    "DTI_ABOVE_CAP",
                    "DECLINE",
                    f"Debt-to-income after the loan is above the cap of {policy.affordability.dti_after_cap}",
                    str(dti),
                )
            )
        minimum = item.policy.minimum_residual_income
        if item.disposable < minimum:
            declines.append(
                _hit(
                    "RESIDUAL_INCOME_BELOW_MINIMUM",
                    "DECLINE",
                    "Income after debts, the instalment and living costs is below the minimum of "
                    + _money_text(minimum, currency, minor),
                    _money_text(item.disposable, currency, minor),
                )
            )
        # Refer triggers (RiskEngine._refer_triggers).
        refer = policy.refer
        refers: list[bytes] = []
        open_lines = item.open_lines
        if open_lines is None or open_lines < refer.thin_file_min_open_credit_lines:
            refers.append(
                _hit(
                    "THIN_FILE",
                    "REFER",
                    "Thin credit file: too little bureau history to rely on the score alone",
                    "no bureau data" if open_lines is None else f"{open_lines} open credit lines",
                )
            )
        lti = item.lti
        if lti is not None and lti > refer.loan_to_income_max:
            refers.append(
                _hit(
                    "LOAN_TO_INCOME_HIGH",
                    "REFER",
                    f"Loan exceeds {refer.loan_to_income_max} times annual net income",
                    str(lti),
                )
            )
        delinquencies = item.delinquencies
        if delinquencies is not None and delinquencies >= refer.delinquencies_24m_max:
            refers.append(
                _hit(
                    "BUREAU_DELINQUENCIES",
                    "REFER",
                    "Delinquencies reported by the bureau in the last 24 months",
                    f"{delinquencies} delinquencies",
                )
            )
        if item.credit_score < refer.bureau_score_min:
            refers.append(
                _hit(
                    "BUREAU_SCORE_LOW",
                    "REFER",
                    f"Bureau credit score below {refer.bureau_score_min}",
                    str(item.credit_score),
                )
            )
        # The decision (RiskEngine._decide).
        approve_cp, decline_cp = self._approve_cp, self._decline_cp
        margin_cp = min(abs(total_cp - approve_cp), abs(total_cp - decline_cp))
        hits = list(declines)
        if declines:
            recommendation = "DECLINE"
            confidence = 1.0
            hits.extend(refers)
        else:
            confidence = round(min(1.0, margin_cp / self._full_margin_cp), 4)
            near = margin_cp <= self._near_cp
            if near:
                nearest = approve_cp if abs(total_cp - approve_cp) <= margin_cp else decline_cp
                hits.append(
                    _hit(
                        "SCORE_NEAR_CUTOFF",
                        "REFER",
                        f"Score within {refer.near_cutoff_points} points of a decision cut-off",
                        f"score {score}, cut-off {nearest / 100:.2f}",
                    )
                )
            hits.extend(refers)
            if total_cp > approve_cp:
                model_outcome = "APPROVE"
            elif total_cp <= decline_cp:
                model_outcome = "DECLINE"
            else:
                model_outcome = "REFER"
            if near:
                recommendation = "REFER"
            elif model_outcome == "DECLINE":
                recommendation = "DECLINE"
            elif refers:
                recommendation = "REFER"
                confidence = 1.0
            else:
                recommendation = model_outcome
        risk_level = "LOW" if total_cp > self._low_cp else "MEDIUM" if total_cp > self._medium_cp else "HIGH"
        reasons: list[bytes] = []
        max_points = self._max_points
        for index in order[:MAX_REASONS]:
            lost_cp = max_points[index] - points[index]
            if lost_cp <= 0:
                break
            body = (
                self._reason_head[index]
                + text_field(3, self._reason_value(self._specs[index].name, item))
                + _double(4, lost_cp / 100)
                + _int(5, len(reasons) + 1)
            )
            reasons.append(bytes_field(5, body))
        code = self._currency_wire[currency]
        repayment = (
            _money(1, item.instalment, code)
            + text_field(2, _ratio(item.dti_before))
            + text_field(3, _ratio(item.dti_after))
            + _money(4, item.disposable, code)
            + text_field(5, _ratio(item.lti))
            + _money(6, item.allowance, code)
            + _money(7, item.total, code)
        )
        table = self._points_wire
        wire = b"".join(
            (
                text_field(1, item.application_id),
                bytes_field(2, repayment),
                _int(3, _RISK_LEVEL[risk_level]),
                _int(4, _RECOMMENDATION[recommendation]),
                *reasons,
                _double(6, pd_value),
                _int(7, score),
                _double(8, confidence),
                *hits,
                *(table[f][b] for f, b in enumerate(bins)),
                self._source,
                self._provenance,
            )
        )
        return wire, recommendation, risk_level, score

    def _reason_value(self, feature: str, item: _Item) -> str:
        """features.format_reason_value, from the item's values."""
        if feature == "checking_account":
            return "unknown" if item.checking is None else _label(item.checking)
        if feature == "term_months":
            return f"{item.term} months"
        if feature == "amount_dm":
            return f"{item.currency} {item.amount:,.2f}"
        if feature == "age_years":
            return f"{item.age} years"
        if feature == "employment_band":
            return f"{_label(item.employment)}, {item.tenure} months"
        if feature == "housing":
            return _label(item.housing)
        if feature == "existing_credits":
            return f"{item.credits} existing credits"
        if feature == "instalment_burden":
            if item.burden is None:
                return "no disposable income before the loan"
            return f"{(item.burden * _HUNDRED):.1f} % of disposable income"
        if feature == "purpose":
            return _label(item.purpose)
        if feature == "savings_band":
            return "not stated" if item.savings is None else f"{item.currency} {item.savings:,.2f}"
        raise KeyError(f"unknown feature {feature!r}")


def _money_text(amount: Decimal, currency: str, minor_units: int) -> str:
    return f"{currency} {amount:,.{minor_units}f}"


@lru_cache(maxsize=1024)
def _hit_head(rule_id: str, outcome: str, description: str) -> bytes:
    # A rule's id, outcome and text depend only on the policy (and currency): encoded once.
    return text_field(1, rule_id) + _int(2, _RECOMMENDATION[outcome]) + text_field(3, description)


def _hit(rule_id: str, outcome: str, description: str, value: str) -> bytes:
    return bytes_field(9, _hit_head(rule_id, outcome, description) + text_field(4, value))
