"""The contract review engine: a parsed contract and a playbook in, deterministic findings out.

Checks are evaluated by kind from a table (required, prohibited, limit,
consistency). Concept matches come from :class:`~server.compliance.matching.DocumentIndex`,
so a check written once covers inflections, synonyms, passive voice and
wording split over several sentences or sections (scope ``clause``,
``section`` or ``document``). A prohibited term preceded by a negation ("the
Bank shall not vary the rate unilaterally") is not a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from server.compliance.consistency import RULES
from server.compliance.domain import (
    ContractReviewResult,
    ContractType,
    Finding,
    FindingType,
    ParsedDocument,
    Playbook,
    PlaybookCheck,
    SemanticMatch,
)
from server.compliance.matching import DocumentIndex, Lexicon, Match
from server.compliance.playbooks import PlaybookRegistry
from server.compliance.semantic import ClauseMatcher
from server.compliance.text import find_percents
from server.runtime.errors import FieldViolation, InvalidArgument

ENGINE = "compliance.contract_review"
ENGINE_VERSION = "1.1.0"
DOMAIN = "compliance.fintech"
_EVIDENCE_CHARS = 400
_NEGATION_WINDOW = 8  # tokens before the first concept word in which a negation cancels a prohibited term

_TYPE_CUES: dict[ContractType, tuple[str, ...]] = {
    ContractType.LOAN: ("loan agreement", "credit agreement", "consumer credit", "borrower", "loan"),
    ContractType.GUARANTEE: ("guarantee", "guarantor", "surety", "suretyship"),
    ContractType.WEALTH_MANAGEMENT: (
        "wealth management",
        "portfolio management",
        "discretionary mandate",
        "management mandate",
        "asset management",
        "investment management",
        "portfolio",
    ),
    ContractType.INVESTMENT: (
        "investment agreement",
        "investment services",
        "investment advisory",
        "brokerage",
        "execution-only",
    ),
    ContractType.OUTSOURCING: ("outsourcing", "service provider", "master services agreement", "sub-outsourcing"),
}


def _invalid(field_name: str, description: str, reason: str) -> InvalidArgument:
    return InvalidArgument(
        message=description, reason=reason, domain=DOMAIN, violations=(FieldViolation(field_name, description, reason),)
    )


def classify_contract_type(document: ParsedDocument) -> ContractType:
    """Guess the contract type from the title (weighted) and the opening text.

    Raises:
        InvalidArgument: no cue found (field ``contract_type``).
    """
    title = document.title.lower()
    opening = document.text[:3000].lower()
    scores: dict[ContractType, int] = {}
    for contract_type, cues in _TYPE_CUES.items():
        scores[contract_type] = sum(5 * title.count(cue) + min(opening.count(cue), 5) for cue in cues)
    best = max(scores, key=lambda t: scores[t])
    if scores[best] == 0:
        raise _invalid(
            "contract_type",
            "contract type could not be determined from the text; set contract_type",
            "CONTRACT_TYPE_UNKNOWN",
        )
    return best


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One contract of a batch review."""

    contract_id: str
    document: ParsedDocument
    contract_type: ContractType | None = None
    playbook_id: str = ""


@dataclass
class _Lexical:
    """A contract after the lexical checks, before the semantic look at missing clauses."""

    contract_id: str
    contract_type: ContractType
    playbook: Playbook
    index: DocumentIndex
    findings: list[Finding]
    matches: list[SemanticMatch] = field(default_factory=list)


class ContractReviewer:
    """Reviews parsed contracts against the playbooks of a registry."""

    def __init__(self, registry: PlaybookRegistry, matcher: ClauseMatcher | None = None) -> None:
        """Set up a reviewer.

        Args:
            registry: Playbooks and lexicon.
            matcher: Semantic evidence for required clauses the lexicon misses; None for lexical matching only.
        """
        self.registry = registry
        self.matcher = matcher
        self._kinds: dict[str, Callable[[PlaybookCheck, DocumentIndex], list[Finding]]] = {
            "required": self._required,
            "prohibited": self._prohibited,
            "limit": self._limit,
            "consistency": self._consistency,
        }

    @property
    def lexicon(self) -> Lexicon:
        """The concepts the checks refer to."""
        return self.registry.lexicon

    def select_playbook(self, contract_type: ContractType, playbook_id: str = "") -> Playbook:
        """The playbook to apply.

        Raises:
            InvalidArgument: unknown playbook (field ``playbook_id``), or none covers the type.
        """
        if playbook_id:
            playbook = self.registry.get(playbook_id)
            if playbook is None:
                raise _invalid("playbook_id", f"unknown playbook {playbook_id!r}", "UNKNOWN_PLAYBOOK")
            if contract_type not in playbook.contract_types:
                raise _invalid(
                    "playbook_id",
                    f"playbook {playbook_id!r} does not cover {contract_type.value}",
                    "PLAYBOOK_TYPE_MISMATCH",
                )
            return playbook
        playbook = self.registry.for_type(contract_type)
        if playbook is None:
            raise _invalid("contract_type", f"no playbook covers {contract_type.value}", "NO_PLAYBOOK")
        return playbook

    def review(
        self,
        contract_id: str,
        document: ParsedDocument,
        *,
        contract_type: ContractType | None = None,
        playbook_id: str = "",
    ) -> ContractReviewResult:
        """Review one contract.

        Args:
            contract_id: The caller's id for the contract.
            document: The parsed contract.
            contract_type: Its type; guessed from the text when ``None``.
            playbook_id: A playbook to force; empty picks the one for the type.

        Returns:
            The findings, in check order.

        Raises:
            InvalidArgument: unknown playbook, or the type cannot be determined.
        """
        outcome = self.review_many([ReviewItem(contract_id, document, contract_type, playbook_id)])[0]
        if isinstance(outcome, InvalidArgument):
            raise outcome
        return outcome

    def review_many(self, items: Sequence[ReviewItem]) -> list[ContractReviewResult | InvalidArgument]:
        """Review a batch: lexical checks per contract, then one embedding call for the whole batch.

        Only contracts with a required check the lexicon found no evidence for are embedded, and only once
        per distinct sentence (the matcher caches by text).

        Returns:
            One result per item, in order; an item that cannot be reviewed (unknown playbook, undeterminable
            type) gets its ``InvalidArgument`` instead, and the others go on.
        """
        staged: list[_Lexical | InvalidArgument] = []
        for item in items:
            try:
                staged.append(self._lexical(item))
            except InvalidArgument as error:
                staged.append(error)
        if self.matcher is not None:
            self._semantic([s for s in staged if isinstance(s, _Lexical)], self.matcher)
        return [
            s
            if isinstance(s, InvalidArgument)
            else ContractReviewResult(
                s.contract_id,
                s.contract_type,
                s.playbook.playbook_id,
                s.playbook.version,
                tuple(s.findings),
                s.index.document,
                ENGINE_VERSION,
                tuple(s.matches),
                self.matcher.provenance if self.matcher is not None else "",
            )
            for s in staged
        ]

    def _lexical(self, item: ReviewItem) -> _Lexical:
        resolved = item.contract_type or classify_contract_type(item.document)
        playbook = self.select_playbook(resolved, item.playbook_id)
        index = DocumentIndex(item.document)
        findings: list[Finding] = []
        for check in playbook.checks:
            findings.extend(self._kinds[check.kind](check, index))
        return _Lexical(item.contract_id, resolved, playbook, index, findings)

    def _semantic(self, staged: Sequence[_Lexical], matcher: ClauseMatcher) -> None:
        """Drop "missing clause" findings that a sentence meets semantically, recording the sentence relied on."""
        pending = [
            s
            for s in staged
            if any(
                f.finding_type is FindingType.MISSING_CLAUSE and matcher.covers(s.playbook.playbook_id, f.check_id)
                for f in s.findings
            )
        ]
        if not pending:
            return
        texts = [[" ".join(s.index.document.text[r.start : r.end].split()) for r in s.index.sentences] for s in pending]
        vectors = matcher.embed([t for group in texts for t in group])
        offset = 0
        for stage, group in zip(pending, texts, strict=True):
            own = vectors[offset : offset + len(group)]
            offset += len(group)
            kept: list[Finding] = []
            for finding in stage.findings:
                playbook_id = stage.playbook.playbook_id
                if finding.finding_type is not FindingType.MISSING_CLAUSE or not matcher.covers(
                    playbook_id, finding.check_id
                ):
                    kept.append(finding)
                    continue
                best = matcher.best(playbook_id, finding.check_id, own)
                if best is None:
                    kept.append(finding)
                    continue
                row, score, margin = best
                sentence = stage.index.sentences[row]
                stage.matches.append(
                    SemanticMatch(
                        finding.check_id,
                        sentence.clause_id,
                        sentence.start,
                        sentence.end,
                        round(score, 4),
                        round(margin, 4),
                    )
                )
            stage.findings = kept

    # -- helpers -----------------------------------------------------------------------------------------------

    def _unit(self, index: DocumentIndex, sentence: int, scope: str) -> str:
        if scope == "document":
            return "doc"
        record = index.sentences[sentence]
        if scope == "clause":
            return record.clause_id
        if scope == "section":
            return record.section_id
        return str(sentence)

    def _units_with(self, index: DocumentIndex, group: tuple[str, ...], scope: str) -> dict[str, list[Match]]:
        """Units (of ``scope``) in which every concept of ``group`` matches, with the matches."""
        common: dict[str, list[Match]] | None = None
        for name in group:
            per_unit: dict[str, list[Match]] = {}
            for match in index.matches(self.lexicon.get(name)):
                per_unit.setdefault(self._unit(index, match.sentence, scope), []).append(match)
            if common is None:
                common = per_unit
            else:
                common = {u: common[u] + per_unit[u] for u in common.keys() & per_unit.keys()}
            if not common:
                return {}
        return common or {}

    def _finding(
        self,
        check: PlaybookCheck,
        index: DocumentIndex,
        clause_id: str,
        evidence: str,
        start: int,
        end: int,
        number: int,
    ) -> Finding:
        return Finding(
            finding_id=f"{check.check_id}#{number}",
            check_id=check.check_id,
            finding_type=check.finding_type,
            severity=check.severity,
            clause_id=clause_id,
            evidence=" ".join(evidence.split())[:_EVIDENCE_CHARS],
            suggested_fix=check.suggested_fix,
            start=start,
            end=end,
        )

    def _sentence_finding(
        self, check: PlaybookCheck, index: DocumentIndex, sentence: int, number: int, evidence: str = ""
    ) -> Finding:
        record = index.sentences[sentence]
        text = index.document.text[record.start : record.end]
        return self._finding(check, index, record.clause_id, f"{evidence}{text}", record.start, record.end, number)

    # -- check kinds -------------------------------------------------------------------------------------------

    def _required(self, check: PlaybookCheck, index: DocumentIndex) -> list[Finding]:
        for group in check.any_of:
            if self._units_with(index, group, check.scope):
                return []
        return [self._finding(check, index, "", f"missing: {check.description}", -1, -1, 1)]

    def _negated(self, index: DocumentIndex, sentence: int, matches: list[Match]) -> bool:
        if "negation" not in self.lexicon:
            return False
        first = min(m.first_token for m in matches)
        last = max(m.last_token for m in matches)
        spans = [(m.start, m.end) for m in matches]
        for negation in index.matches(self.lexicon.get("negation")):
            if negation.sentence != sentence:
                continue
            overlaps = any(negation.start < e and s < negation.end for s, e in spans)
            if not overlaps and first - _NEGATION_WINDOW <= negation.first_token < last:
                return True
        return False

    def _excepted(self, check: PlaybookCheck, index: DocumentIndex, sentence: int) -> bool:
        """Whether an exception group (all concepts in one sentence) occurs within ``unless_scope`` of it."""
        if not check.unless_any:
            return False
        unit = self._unit(index, sentence, check.unless_scope)
        for group in check.unless_any:
            for other in self._units_with(index, group, "sentence"):
                if self._unit(index, int(other), check.unless_scope) == unit:
                    return True
        return False

    def _prohibited(self, check: PlaybookCheck, index: DocumentIndex) -> list[Finding]:
        findings: list[Finding] = []
        cited: set[str] = set()
        for group in check.any_of:
            for unit, matches in sorted(self._units_with(index, group, "sentence").items(), key=lambda u: int(u[0])):
                sentence = int(unit)
                clause_id = index.sentences[sentence].clause_id
                if clause_id in cited or self._negated(index, sentence, matches):
                    continue
                if self._excepted(check, index, sentence):
                    continue
                cited.add(clause_id)
                findings.append(self._sentence_finding(check, index, sentence, len(findings) + 1))
        return findings

    def _limit(self, check: PlaybookCheck, index: DocumentIndex) -> list[Finding]:
        findings: list[Finding] = []
        cited: set[str] = set()
        text = index.document.text
        for group in check.any_of:
            for unit, matches in sorted(self._units_with(index, group, "sentence").items(), key=lambda u: int(u[0])):
                sentence = int(unit)
                record = index.sentences[sentence]
                if record.clause_id in cited:
                    continue
                anchor = min(m.start for m in matches)
                percent = None
                # The figure may sit in the same sentence or, split off, in the next sentence of the clause.
                for candidate in (sentence, sentence + 1):
                    if candidate >= len(index.sentences) or index.sentences[candidate].clause_id != record.clause_id:
                        break
                    span = index.sentences[candidate]
                    found = find_percents(text[span.start : span.end])
                    after = [p for p in found if span.start + p.start >= anchor]
                    if after or found:
                        percent = after[0] if after else found[-1]
                        break
                if percent is None:
                    continue
                limit = check.max_margin if percent.is_margin else check.max_value
                if limit is None or percent.value <= limit:
                    continue
                cited.add(record.clause_id)
                kind = "margin" if percent.is_margin else "rate"
                findings.append(
                    self._sentence_finding(
                        check,
                        index,
                        sentence,
                        len(findings) + 1,
                        evidence=f"{kind} {percent.value:g}% exceeds the cap of {limit:g}%: ",
                    )
                )
        return findings

    def _consistency(self, check: PlaybookCheck, index: DocumentIndex) -> list[Finding]:
        issues = RULES[check.rule](index.document)
        return [
            self._finding(check, index, clause_id, evidence, start, end, n + 1)
            for n, (clause_id, evidence, start, end) in enumerate(issues)
        ]
