"""Domain types of the compliance engines: frozen dataclasses, no protobuf.

Everything an engine returns is immutable so results can be shared between
the servicer, storage and audit without defensive copies.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date


class DocumentFormat(enum.Enum):
    """Input format of a document."""

    PLAIN_TEXT = "plain_text"
    MARKDOWN = "markdown"
    PDF = "pdf"
    DOCX = "docx"


class ClauseLevel(enum.Enum):
    """Structural level of a clause."""

    CHAPTER = "chapter"
    ARTICLE = "article"
    PARAGRAPH = "paragraph"
    ITEM = "item"
    SECTION = "section"


class Modality(enum.Enum):
    """Deontic modality of an obligation."""

    SHALL = "shall"
    MUST = "must"
    SHALL_NOT = "shall_not"
    MAY = "may"


class TimelineEventType(enum.Enum):
    """Kind of a dated or periodic event."""

    EFFECTIVE = "effective"
    TRANSITION_DEADLINE = "transition_deadline"
    RECURRING_DEADLINE = "recurring_deadline"
    OTHER = "other"


class Severity(enum.IntEnum):
    """Severity; ordered so ``max`` gives the highest."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


class ClauseChangeType(enum.Enum):
    """How a clause changed between two versions."""

    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"
    MOVED = "moved"


class StrictnessChange(enum.Enum):
    """Direction of an obligation change."""

    STRICTER = "stricter"
    LOOSER = "looser"
    CHANGED = "changed"


class ContractType(enum.Enum):
    """Kind of contract; picks the default playbook."""

    LOAN = "loan"
    GUARANTEE = "guarantee"
    WEALTH_MANAGEMENT = "wealth_management"
    INVESTMENT = "investment"
    OUTSOURCING = "outsourcing"


class FindingType(enum.Enum):
    """What a playbook check found."""

    MISSING_CLAUSE = "missing_clause"
    PROHIBITED_TERM = "prohibited_term"
    LIMIT_EXCEEDED = "limit_exceeded"
    INCONSISTENCY = "inconsistency"
    ADVISORY = "advisory"


@dataclass(frozen=True, slots=True)
class Clause:
    """One structural unit of a document.

    Attributes:
        clause_id: Stable id derived from the structure (``"ch2.art5.p1"``).
        level: Structural level.
        number: Number as written (``"5"``, ``"II"``, ``"a"``); empty when unnumbered.
        heading: Heading text, if any.
        text: The clause's own text (children excluded).
        parent_clause_id: Id of the enclosing clause; empty at top level.
        start: Offset of the clause's first character in the document text.
        end: Offset one past its last character (children included).
    """

    clause_id: str
    level: ClauseLevel
    number: str
    heading: str
    text: str
    parent_clause_id: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A document parsed into clauses.

    Attributes:
        title: The first heading or line.
        text: The normalised full text that clause offsets refer to.
        clauses: Clauses in document order.
        word_count: Words in ``text``.
    """

    title: str
    text: str
    clauses: tuple[Clause, ...]
    word_count: int

    def clause(self, clause_id: str) -> Clause:
        """The clause with ``clause_id``.

        Raises:
            KeyError: no such clause.
        """
        for candidate in self.clauses:
            if candidate.clause_id == clause_id:
                return candidate
        raise KeyError(clause_id)


@dataclass(frozen=True, slots=True)
class Obligation:
    """A deontic statement extracted from one clause."""

    obligation_id: str
    clause_id: str
    modality: Modality
    subject: str
    action: str
    condition: str
    source_text: str


@dataclass(frozen=True, slots=True)
class Period:
    """A relative period such as "within 30 days"."""

    amount: int
    unit: str  # "hour", "day", "business_day", "week", "month", "year"


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """A date or deadline found in a clause.

    Attributes:
        date: Absolute date; ``None`` for a period anchored to an event other
            than the effective date (for example "within 15 days of a complaint").
        period: The relative period it came from, if any.
    """

    clause_id: str
    event_type: TimelineEventType
    date: date | None
    description: str
    source_text: str
    period: Period | None = None


@dataclass(frozen=True, slots=True)
class ProcessImpact:
    """How strongly the regulation touches one process of a business line."""

    business_line: str
    process: str
    score: float
    clause_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RiskPoint:
    """A compliance risk with a severity, citing its clause."""

    clause_id: str
    severity: Severity
    description: str


@dataclass(frozen=True, slots=True)
class SummaryChunk:
    """One map step of the LLM summary: a group of whole clauses under a token budget."""

    chunk_id: str
    clause_ids: tuple[str, ...]
    text: str
    token_estimate: int


@dataclass(frozen=True, slots=True)
class ReduceStep:
    """One reduce step: combine the outputs of ``inputs`` (chunk or step ids)."""

    step_id: str
    inputs: tuple[str, ...]
    level: int


@dataclass(frozen=True, slots=True)
class RegulationAnalysis:
    """The deterministic analysis of one regulation."""

    regulation_id: str
    title: str
    document: ParsedDocument
    obligations: tuple[Obligation, ...]
    timeline: tuple[TimelineEvent, ...]
    impacts: tuple[ProcessImpact, ...]
    risk_points: tuple[RiskPoint, ...]
    effective_date: date | None
    engine_version: str
    rule_set_version: str

    @property
    def word_count(self) -> int:
        """Words in the document."""
        return self.document.word_count


@dataclass(frozen=True, slots=True)
class ClauseChange:
    """A change of one clause between two versions."""

    change_type: ClauseChangeType
    old_clause_id: str
    new_clause_id: str
    old_text: str
    new_text: str
    similarity: float


@dataclass(frozen=True, slots=True)
class ObligationChange:
    """An obligation that became stricter, looser or otherwise changed."""

    strictness: StrictnessChange
    old_obligation: Obligation | None
    new_obligation: Obligation | None
    explanation: str


@dataclass(frozen=True, slots=True)
class TimelineChange:
    """A timeline event that moved, appeared or disappeared."""

    old_event: TimelineEvent | None
    new_event: TimelineEvent | None
    explanation: str


@dataclass(frozen=True, slots=True)
class VersionComparison:
    """Everything that changed between two versions of a regulation."""

    clause_changes: tuple[ClauseChange, ...]
    obligation_changes: tuple[ObligationChange, ...]
    timeline_changes: tuple[TimelineChange, ...]
    engine_version: str


@dataclass(frozen=True, slots=True)
class PlaybookCheck:
    """One configured check of a playbook (see ``server/compliance/playbooks/*.toml``)."""

    check_id: str
    kind: str  # "required", "prohibited", "limit", "consistency"
    finding_type: FindingType
    severity: Severity
    description: str
    suggested_fix: str
    any_of: tuple[tuple[str, ...], ...] = ()
    scope: str = "sentence"
    unless_any: tuple[tuple[str, ...], ...] = ()
    unless_scope: str = "sentence"
    max_value: float | None = None
    max_margin: float | None = None
    rule: str = ""
    examples: tuple[str, ...] = ()  # required checks: sentences that meet the check, for semantic matching


@dataclass(frozen=True, slots=True)
class Playbook:
    """A versioned set of checks for some contract types."""

    playbook_id: str
    version: str
    title: str
    contract_types: tuple[ContractType, ...]
    checks: tuple[PlaybookCheck, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    """One deterministic (or advisory) finding of a contract review.

    Attributes:
        clause_id: The clause cited; empty for a missing clause.
        start: Offset of the evidence in the document text (-1 when missing).
        end: Offset one past the evidence (-1 when missing).
    """

    finding_id: str
    check_id: str
    finding_type: FindingType
    severity: Severity
    clause_id: str
    evidence: str
    suggested_fix: str
    start: int
    end: int
    advisory: bool = False


@dataclass(frozen=True, slots=True)
class SemanticMatch:
    """Evidence that a required check is met by a sentence the lexicon did not recognise.

    Attributes:
        check_id: The required check.
        clause_id: The clause of the sentence relied on.
        start: Offset of the sentence in the document text.
        end: Offset one past the sentence.
        score: Cosine similarity to the closest example of the check.
        margin: ``score`` minus the similarity to the closest example of anything else.
    """

    check_id: str
    clause_id: str
    start: int
    end: int
    score: float
    margin: float


@dataclass(frozen=True, slots=True)
class ContractReviewResult:
    """What the review engine decided for one contract (storage adds ids and times)."""

    contract_id: str
    contract_type: ContractType
    playbook_id: str
    playbook_version: str
    findings: tuple[Finding, ...]
    document: ParsedDocument
    engine_version: str
    # Required checks the lexicon missed and the example sentences matched (server/compliance/semantic.py).
    semantic_matches: tuple[SemanticMatch, ...] = ()
    # The semantic matcher in force (encoder, content hash of its weights, semantic.toml version); "" without.
    semantic_provenance: str = ""

    @property
    def max_severity(self) -> Severity | None:
        """The highest severity found, ``None`` without findings."""
        return max((f.severity for f in self.findings), default=None)


@dataclass(frozen=True, slots=True)
class TaxonomyProcess:
    """One process of the configured taxonomy."""

    business_line: str
    process: str
    keywords: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class ProcessTaxonomy:
    """Business lines and processes that impact is mapped to."""

    version: str
    processes: tuple[TaxonomyProcess, ...] = field(default_factory=tuple)
