"""The escalation policy: a deterministic decision from the signals of one question.

The order is fixed and configured thresholds come from :class:`server.customer.settings.CustomerSettings`:

1. the customer asks for a person → ``CUSTOMER_REQUESTED_HUMAN``;
2. dissatisfaction signals in the conversation (this message, earlier messages, NOT_HELPFUL feedback)
   reach ``dissatisfaction_threshold`` → ``REPEATED_DISSATISFACTION``;
3. a sensitive intent (configured list, at ``sensitive_min_confidence``) or sensitive wording
   (stolen, fraud, "I didn't make this payment"...) → ``SENSITIVE_INTENT``; the intent's approved answer,
   when there is one, is still shown (what to do right now) but no text is generated;
4. intent confidence below ``min_intent_confidence`` → ``LOW_INTENT_CONFIDENCE``;
5. a confident intent whose article has an unexpired approved answer → serve it (no generation);
6. best retrieval score below ``min_retrieval_score`` → ``LOW_RETRIEVAL_CONFIDENCE``;
7. otherwise generate; the engine then escalates with ``UNGROUNDED_ANSWER`` or ``LLM_UNAVAILABLE``.

Pure functions; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.customer.answering.ports import EscalationReason
from server.customer.settings import CustomerSettings

_HUMAN = re.compile(
    r"\b(?:(?:speak|talk|chat|connect me|put me through|transfer me)\s+(?:to|with)\s+"
    r"(?:a |an |the |some |your )?(?:human|person|agent|someone|somebody|anyone|representative|advisor|adviser|"
    r"member of staff|staff|manager|supervisor|operator)|"
    r"(?:real|actual|live|human) (?:person|human|agent|being)|human being|customer service (?:agent|rep\w*)|"
    r"representative|i want (?:a|an) (?:human|person|agent)|get me (?:a|an) (?:human|person|agent)|"
    r"call me(?: back)?|phone me)\b",
    re.I,
)
_DISSATISFIED = re.compile(
    r"\b(?:not helpful|unhelpful|useless|(?:does ?n[o']?t|did ?n[o']?t|not) help(?:ing|ful)?|not what i asked|"
    r"that'?s (?:wrong|not right|incorrect)|you(?:'re| are) (?:wrong|not listening|useless)|not listening|"
    r"(?:ridiculous|terrible|awful|rubbish|pointless|hopeless)|frustrat\w*|annoy\w*|angry|fed up|"
    r"waste of (?:my )?time|still (?:does ?n[o']?t|do ?n[o']?t|not|can'?t|haven'?t)|"
    r"(?:asked|told you) (?:this|that|already)|again\?)",
    re.I,
)
_SENSITIVE = re.compile(
    r"\b(?:stolen|stole|steal\w*|fraud\w*|scam\w*|hack(?:ed|er|ers)?|compromised|unauthori[sz]ed|"
    r"did ?n[o']?t (?:make|authori[sz]e|do|recogni[sz]e)|do ?n[o']?t recogni[sz]e|not recogni[sz]ed?|"
    r"someone (?:used|took|has|is using|stole)|lost (?:my )?(?:card|phone|wallet|purse)|phishing|"
    r"(?:skimm|clon)(?:ed|ing)|charged twice|double charged|dispute\w*|chargeback)\b",
    re.I,
)


def asks_for_human(text: str) -> bool:
    """Whether the customer asks for a person."""
    return bool(_HUMAN.search(text))


def expresses_dissatisfaction(text: str) -> bool:
    """Whether the message says the previous answers did not help."""
    return bool(_DISSATISFIED.search(text))


def sensitive_wording(text: str) -> bool:
    """Whether the message speaks of fraud, theft, loss or a dispute, whatever the classifier says."""
    return bool(_SENSITIVE.search(text))


@dataclass(frozen=True)
class Signals:
    """Everything the policy looks at for one question.

    Attributes:
        requested_human: The customer asked for a person.
        dissatisfaction: Signals of dissatisfaction in the conversation, this message included.
        intent: The recognised intent.
        intent_confidence: Its probability.
        sensitive_wording: The message speaks of fraud, theft, loss or a dispute.
        approved_available: The intent's article has an unexpired approved answer.
        retrieval_score: Best dense similarity of the retrieved chunks (0 when none).
    """

    requested_human: bool
    dissatisfaction: int
    intent: str
    intent_confidence: float
    sensitive_wording: bool
    approved_available: bool
    retrieval_score: float


@dataclass(frozen=True)
class Decision:
    """What to do with the question.

    Attributes:
        reason: Why it escalates; None when it does not (before generation).
        serve_approved: Show the approved answer.
        generate: Ask the LLM.
    """

    reason: EscalationReason | None
    serve_approved: bool
    generate: bool

    @property
    def escalate(self) -> bool:
        """True when the conversation goes to a person."""
        return self.reason is not None


def decide(signals: Signals, settings: CustomerSettings) -> Decision:
    """The policy (see the module docstring for the order)."""
    if signals.requested_human:
        return Decision(EscalationReason.CUSTOMER_REQUESTED_HUMAN, False, False)
    if signals.dissatisfaction >= settings.dissatisfaction_threshold:
        return Decision(EscalationReason.REPEATED_DISSATISFACTION, False, False)
    sensitive_intent = (
        signals.intent in settings.sensitive_intents and signals.intent_confidence >= settings.sensitive_min_confidence
    )
    if sensitive_intent or signals.sensitive_wording:
        # The approved wording (freeze the card, call the number) is exact and safe to show at once.
        serve = sensitive_intent and signals.approved_available
        return Decision(EscalationReason.SENSITIVE_INTENT, serve, False)
    if signals.intent_confidence < settings.min_intent_confidence:
        return Decision(EscalationReason.LOW_INTENT_CONFIDENCE, False, False)
    if signals.approved_available and signals.intent_confidence >= settings.approved_min_confidence:
        return Decision(None, True, False)
    if signals.retrieval_score < settings.min_retrieval_score:
        return Decision(EscalationReason.LOW_RETRIEVAL_CONFIDENCE, False, False)
    return Decision(None, False, True)
