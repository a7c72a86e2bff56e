"""Explanations of a decision: the deterministic template, the facts, and the checker.

Owns three pure functions:

* :func:`explanation_facts` - the computed facts an explanation may use (also
  the payload the LLM path gives the model);
* :func:`template_explanation` - the deterministic explanation, used when no
  LLM explanation passes;
* :func:`check_explanation` - the grounding check for any explanation, LLM or
  template. It returns the unsupported spans: a number that matches no
  computed fact (at the precision stated; percentages against ratios x 100;
  signs are ignored so "a shortfall of EUR 120.00" may state ``-120.00``), a
  risk factor the engine did not give as a reason or rule (or a prohibited
  attribute such as sex or nationality, never a reason), an unknown reason
  code, a recommendation or risk level other than the engine's (with simple
  negation handling: "not approved" is consistent with DECLINE), contact details
  or links; and the whole text when it states no recommendation or names none of
  the engine's reasons (junk that says nothing checkable must not pass). An empty
  list means the explanation passes.

The checker is deliberately strict: a false alarm costs a template
explanation, a miss costs a misleading statement to a customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from inference.grounding import find_contact_details
from server.risk.domain import LoanAssessment, Recommendation, RiskLevel, UnsupportedSpan

_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])(?:\s?%)?")
_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|can't|won't|isn't|wasn't|neither|nor)\b(?:\W+\w+){0,2}\W*$", re.I)

# Risk factors an explanation may name only when the engine gave them (reason codes or rule ids).
_CONCEPTS: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...] = tuple(
    (name, re.compile(pattern, re.I), frozenset(allowed))
    for name, pattern, allowed in (
        ("checking account", r"\b(?:checking|current) accounts?\b|\boverdra(?:wn|ft)\b", {"CHECKING_ACCOUNT"}),
        ("loan term", r"\bloan term\b|\bterm of the loan\b|\brepayment period\b|\bduration\b", {"LOAN_TERM"}),
        (
            "loan amount",
            r"\bloan amount\b|\bamount (?:of the loan|borrowed|requested)\b|\bsize of the loan\b",
            {"LOAN_AMOUNT"},
        ),
        ("age", r"\bage\b|\byoung(?:er)?\b|\bold(?:er)?\b|\byears old\b", {"APPLICANT_AGE", "AGE_BELOW_LEGAL_MINIMUM"}),
        ("employment", r"\b(?:un)?employ\w*|\bjob\b|\btenure\b|\bretire\w*", {"EMPLOYMENT_TENURE"}),
        (
            "housing",
            r"\bhousing\b|\brent(?:s|ing|er|ed)?\b|\bhome ?owner\w*|\bmortgage\w*|\bliving with family\b",
            {"HOUSING"},
        ),
        (
            "existing credits",
            r"\bexisting credits?\b|\bcredits at this bank\b|\bnumber of (?:credits|loans)\b",
            {"EXISTING_CREDITS"},
        ),
        ("instalment burden", r"\binstal?ment burden\b|\bof disposable income\b", {"INSTALMENT_BURDEN"}),
        ("loan purpose", r"\bpurpose\b", {"LOAN_PURPOSE"}),
        ("savings", r"\bsavings\b", {"SAVINGS"}),
        ("credit history", r"\bthin (?:credit )?file\b|\bcredit history\b|\bbureau history\b", {"THIN_FILE"}),
        ("bureau score", r"\b(?:credit|bureau) score\b", {"BUREAU_SCORE_LOW"}),
        ("delinquencies", r"\bdelinquen\w*|\barrears\b|\b(?:missed|late) payments?\b", {"BUREAU_DELINQUENCIES"}),
        ("cut-off", r"\bcut-?offs?\b", {"SCORE_NEAR_CUTOFF"}),
        ("utilisation", r"\butili[sz]ation\b", set()),
    )
)
_PROHIBITED = re.compile(
    r"\b(?:sex|gender|male|female|wom[ae]n|marital|married|divorced|widowed|spouse|foreign(?:er|ers)?|nationality|"
    r"national origin|citizenship|immigra\w*|race|racial|ethnic\w*|religio\w*)\b",
    re.I,
)
_RECOMMENDATION_WORDS: tuple[tuple[Recommendation, re.Pattern[str]], ...] = (
    (Recommendation.APPROVE, re.compile(r"\bapprov(?:e|ed|al|ing|es)\b", re.I)),
    (
        Recommendation.DECLINE,
        re.compile(r"\b(?:declin(?:e|ed|es|ing)|reject(?:ed|ion|s)?|refus(?:e|ed|al)|den(?:y|ied|ial))\b", re.I),
    ),
    (Recommendation.REFER, re.compile(r"\b(?:refer(?:s|red|ral)?|manual review)\b", re.I)),
)
# How an explanation may name each reason or rule (the concepts above, and the affordability rules'
# subjects): an explanation must name at least one of the engine's, or it explains nothing.
_MENTIONS: dict[str, re.Pattern[str]] = {
    **{code: pattern for _name, pattern, allowed in _CONCEPTS for code in allowed},
    "DTI_ABOVE_CAP": re.compile(r"\bdebt[- ]to[- ]income\b|\bDTI\b", re.I),
    "LOAN_TO_INCOME_HIGH": re.compile(r"\bloan[- ]to[- ]income\b|\bLTI\b", re.I),
    "RESIDUAL_INCOME_BELOW_MINIMUM": re.compile(r"\b(?:residual|disposable) income\b|\bincome left\b", re.I),
    "NO_INCOME": re.compile(r"\bincome\b", re.I),
}
_RISK_WORDS = re.compile(r"\b(low|medium|moderate|high)[- ]risk\b", re.I)
_RISK_BY_WORD = {"low": RiskLevel.LOW, "medium": RiskLevel.MEDIUM, "moderate": RiskLevel.MEDIUM, "high": RiskLevel.HIGH}


@dataclass(frozen=True)
class ExplanationFacts:
    """What an explanation may state.

    Attributes:
        recommendation: The engine's recommendation.
        risk_level: The engine's risk level.
        allowed_codes: Reason codes and rule ids the engine gave.
        numbers: Numbers stated in or computed for the facts (absolute values).
        ratios: Ratios that may also be stated as percentages (absolute values).
    """

    recommendation: Recommendation
    risk_level: RiskLevel
    allowed_codes: frozenset[str]
    numbers: frozenset[Decimal]
    ratios: frozenset[Decimal]


def explanation_facts(assessment: LoanAssessment) -> ExplanationFacts:
    """The facts of an assessment that an explanation may use."""
    repayment = assessment.repayment
    texts: list[str] = [
        str(repayment.monthly_instalment.amount),
        str(repayment.disposable_income.amount),
        str(repayment.living_cost_allowance.amount),
        str(repayment.total_repayable.amount),
        str(assessment.score),
    ]
    for reason in assessment.key_risk_points:
        texts += [reason.value, reason.description, f"{reason.points_lost}", str(reason.rank)]
    for hit in assessment.rule_hits:
        texts += [hit.value, hit.description]
    for item in assessment.points:
        texts += [f"{item.points}", f"{item.max_points}"]
    numbers = {abs(_parse(match.group(0))[0]) for text in texts for match in _NUMBER.finditer(text)}
    ratios = {
        abs(Decimal(str(value)))
        for value in (
            repayment.debt_to_income_before,
            repayment.debt_to_income_after,
            repayment.loan_to_income,
            assessment.probability_of_default,
            assessment.confidence,
        )
        if value is not None
    }
    return ExplanationFacts(
        recommendation=assessment.recommendation,
        risk_level=assessment.risk_level,
        allowed_codes=frozenset(
            [r.code for r in assessment.key_risk_points] + [h.rule_id for h in assessment.rule_hits]
        ),
        numbers=frozenset(numbers | ratios),
        ratios=frozenset(ratios),
    )


def facts_payload(assessment: LoanAssessment) -> dict[str, Any]:
    """The computed facts as plain JSON data: what the LLM is given to explain (and nothing else)."""
    repayment = assessment.repayment

    def ratio(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    currency = repayment.monthly_instalment.currency
    return {
        "recommendation": assessment.recommendation.value,
        "risk_level": assessment.risk_level.value,
        "probability_of_default_percent": f"{assessment.probability_of_default * 100:.1f}",
        "score": assessment.score,
        "currency": currency,
        "monthly_instalment": str(repayment.monthly_instalment.amount),
        "debt_to_income_before": ratio(repayment.debt_to_income_before),
        "debt_to_income_after": ratio(repayment.debt_to_income_after),
        "loan_to_income": ratio(repayment.loan_to_income),
        "living_cost_allowance": str(repayment.living_cost_allowance.amount),
        "disposable_income": str(repayment.disposable_income.amount),
        "total_repayable": str(repayment.total_repayable.amount),
        "key_risk_points": [
            {"rank": r.rank, "code": r.code, "description": r.description, "value": r.value}
            for r in assessment.key_risk_points
        ],
        "policy_rules": [
            {"rule_id": h.rule_id, "outcome": h.outcome.value, "description": h.description, "value": h.value}
            for h in assessment.rule_hits
        ],
    }


def template_explanation(assessment: LoanAssessment) -> str:
    """The deterministic explanation of an assessment (passes :func:`check_explanation`)."""
    repayment = assessment.repayment
    currency = repayment.monthly_instalment.currency

    def money(amount: Decimal) -> str:
        return f"{currency} {amount:,}"

    def ratio(value: Decimal | None) -> str:
        return "undefined (no income)" if value is None else str(value)

    outcome = {
        Recommendation.APPROVE: "The application meets the policy and the score supports approval.",
        Recommendation.REFER: "The application goes to a loan officer for manual review.",
        Recommendation.DECLINE: "The application is declined.",
    }[assessment.recommendation]
    parts = [
        f"Recommendation: {assessment.recommendation.value}. {outcome}",
        f"{assessment.risk_level.value.capitalize()} risk: estimated probability of default "
        f"{assessment.probability_of_default * 100:.1f} % (score {assessment.score}).",
        f"Monthly instalment {money(repayment.monthly_instalment.amount)}, total repayable "
        f"{money(repayment.total_repayable.amount)}; debt-to-income {ratio(repayment.debt_to_income_before)} before "
        f"and {ratio(repayment.debt_to_income_after)} after the loan; loan-to-income "
        f"{ratio(repayment.loan_to_income)}; income left after debts, the instalment and living costs of "
        f"{money(repayment.living_cost_allowance.amount)}: {money(repayment.disposable_income.amount)}.",
    ]
    if assessment.rule_hits:
        rules = "; ".join(f"{hit.description} ({hit.value})" for hit in assessment.rule_hits)
        parts.append(f"Policy rules: {rules}.")
    if assessment.key_risk_points:
        reasons = "; ".join(f"{r.rank}. {r.description} ({r.value})" for r in assessment.key_risk_points)
        parts.append(f"Key risk points: {reasons}.")
    return " ".join(parts)


def check_explanation(text: str, facts: ExplanationFacts) -> list[UnsupportedSpan]:
    """The spans of ``text`` that the facts do not support (empty: the explanation passes).

    Args:
        text: The explanation.
        facts: From :func:`explanation_facts`.

    Returns:
        Unsupported spans, by position.
    """
    spans: list[UnsupportedSpan] = []

    def flag(match: re.Match[str], reason: str) -> None:
        spans.append(UnsupportedSpan(match.start(), match.end(), match.group(0), reason))

    for match in _NUMBER.finditer(text):
        value, places, percent = _parse(match.group(0))
        if not _number_supported(abs(value), places, percent, facts):
            flag(match, "number not in the computed facts")
    for match in _CODE.finditer(text):
        if match.group(0) not in facts.allowed_codes:
            flag(match, "reason code not given by the engine")
    for name, pattern, allowed in _CONCEPTS:
        if allowed & facts.allowed_codes:
            continue
        for match in pattern.finditer(text):
            flag(match, f"names a reason the engine did not give ({name})")
    for match in _PROHIBITED.finditer(text):
        flag(match, "names a prohibited attribute; it is never a reason")
    for recommendation, pattern in _RECOMMENDATION_WORDS:
        for match in pattern.finditer(text):
            negated = _NEGATION.search(text[max(0, match.start() - 40) : match.start()]) is not None
            consistent = (recommendation is facts.recommendation) != negated
            if not consistent:
                flag(match, f"contradicts the recommendation {facts.recommendation.value}")
    for match in _RISK_WORDS.finditer(text):
        if _RISK_BY_WORD[match.group(1).lower()] is not facts.risk_level:
            flag(match, f"contradicts the risk level {facts.risk_level.value}")
    spans += [UnsupportedSpan(c.start, c.end, c.text, c.reason) for c in find_contact_details(text)]
    # What an explanation must contain: text that passes only because it says nothing checkable (a model's
    # junk, an e-mail address) is not an explanation.
    if not any(pattern.search(text) for _recommendation, pattern in _RECOMMENDATION_WORDS):
        missing = f"does not state the recommendation {facts.recommendation.value}"
        spans.append(UnsupportedSpan(0, len(text), text, missing))
    if facts.allowed_codes and not any(
        code in text or (code in _MENTIONS and _MENTIONS[code].search(text)) for code in facts.allowed_codes
    ):
        spans.append(UnsupportedSpan(0, len(text), text, "names none of the engine's reasons"))
    spans.sort(key=lambda span: (span.start, span.end))
    return spans


def _parse(token: str) -> tuple[Decimal, int, bool]:
    """A number token -> (value, decimal places, is a percentage)."""
    percent = token.endswith("%")
    digits = token.rstrip("%").strip().replace(",", "")
    try:
        value = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the regex only yields numbers
        return Decimal(0), 0, percent
    places = len(digits.split(".")[1]) if "." in digits else 0
    return value, places, percent


def _number_supported(value: Decimal, places: int, percent: bool, facts: ExplanationFacts) -> bool:
    quantum = Decimal(1).scaleb(-places)

    def matches(candidate: Decimal) -> bool:
        return any(candidate.quantize(quantum, rounding=mode) == value for mode in (ROUND_HALF_UP, ROUND_HALF_EVEN))

    if percent:
        if any(matches(r * 100) for r in facts.ratios):
            return True
    return any(matches(n) for n in facts.numbers)
