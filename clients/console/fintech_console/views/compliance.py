"""View models of the compliance officer's pages: a batch's review table, one contract's findings
with the cited clause highlighted in its text, a regulation's obligations timeline, and a version
comparison side by side.

Inputs are the SDK's ``fintech.compliance.v1`` messages; outputs are frozen dataclasses whose
highlighted texts are :class:`~fintech_console.views.formatting.Segment` lists (rendered with
autoescaping). Nothing here decides: findings, severities and changes are the service's.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from fintech.common.v1 import common_pb2
from fintech.compliance.v1 import compliance_service_pb2 as cpb

from fintech_console.views.formatting import (
    Mark,
    Segment,
    Span,
    date_text,
    enum_label,
    enum_slug,
    segment_text,
    timestamp_text,
)

SEVERITY_ORDER = (
    common_pb2.SEVERITY_CRITICAL,
    common_pb2.SEVERITY_HIGH,
    common_pb2.SEVERITY_MEDIUM,
    common_pb2.SEVERITY_LOW,
)


def severity_label(severity: int) -> str:
    """``"High"``; ``"None"`` when no finding set one."""
    if severity == common_pb2.SEVERITY_UNSPECIFIED:
        return "None"
    return enum_label(common_pb2.Severity.Name(severity), "SEVERITY_")


def severity_slug(severity: int) -> str:
    """``"high"`` (a CSS class); ``"none"`` when unspecified."""
    if severity == common_pb2.SEVERITY_UNSPECIFIED:
        return "none"
    return enum_slug(common_pb2.Severity.Name(severity), "SEVERITY_")


def finding_type_label(finding_type: int) -> str:
    """``"Missing clause"`` for ``FINDING_TYPE_MISSING_CLAUSE``."""
    return enum_label(cpb.FindingType.Name(finding_type), "FINDING_TYPE_")


def review_href(review_id: str) -> str:
    """The URL of one contract review's page."""
    return f"/compliance/reviews/{quote(review_id, safe='')}"


# ------------------------------------------------------------------------------------ batch summary
@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One contract of a batch."""

    review_id: str
    href: str
    contract_id: str
    contract_type: str
    playbook: str
    max_severity: str
    max_severity_slug: str
    finding_count: int
    counts_by_type: str
    advisory_count: int
    created: str
    failed: bool
    error: str


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """The summary table of a batch and its totals."""

    rows: tuple[ReviewRow, ...]
    reviewed: int
    failed: int
    by_severity: tuple[tuple[str, str, int], ...]
    findings: int


def review_row(review: cpb.ContractReview) -> ReviewRow:
    """The table row of one review."""
    decisive = [f for f in review.findings if not f.advisory]
    by_type: dict[str, int] = {}
    for finding in decisive:
        label = finding_type_label(finding.finding_type)
        by_type[label] = by_type.get(label, 0) + 1
    return ReviewRow(
        review_id=review.review_id,
        href=review_href(review.review_id),
        contract_id=review.contract_id,
        contract_type=enum_label(cpb.ContractType.Name(review.contract_type), "CONTRACT_TYPE_")
        if review.contract_type
        else "",
        playbook=f"{review.playbook_id} {review.playbook_version}".strip(),
        max_severity=severity_label(review.max_severity),
        max_severity_slug=severity_slug(review.max_severity),
        finding_count=len(decisive),
        counts_by_type=", ".join(f"{label} {count}" for label, count in sorted(by_type.items())),
        advisory_count=len(review.findings) - len(decisive),
        created=timestamp_text(review.create_time),
        failed=False,
        error="",
    )


def batch_summary(reviews: Iterable[cpb.ContractReview], failures: Iterable[tuple[str, str]] = ()) -> BatchSummary:
    """A batch's table: one row per review, one per failed item, totals by highest severity.

    Args:
        reviews: Reviews (from ``ReviewContracts`` responses or a ``ListContractReviews`` page).
        failures: ``(item or contract id, error message)`` of items the stream refused.
    """
    listed = list(reviews)
    rows = [review_row(r) for r in listed]
    counts: dict[int, int] = {}
    for review in listed:
        counts[review.max_severity] = counts.get(review.max_severity, 0) + 1
    failed_rows = [
        ReviewRow("", "", item, "", "", "", "failed", 0, "", 0, "", True, message) for item, message in failures
    ]
    findings = sum(row.finding_count for row in rows)
    by_severity = tuple(
        (severity_label(s), severity_slug(s), counts.get(s, 0))
        for s in (*SEVERITY_ORDER, common_pb2.SEVERITY_UNSPECIFIED)
        if counts.get(s, 0)
    )
    return BatchSummary(tuple(rows + failed_rows), len(rows), len(failed_rows), by_severity, findings)


# ---------------------------------------------------------------------------------- contract review
@dataclass(frozen=True, slots=True)
class FindingView:
    """One finding in the list beside the contract text."""

    finding_id: str
    anchor: str
    check_id: str
    finding_type: str
    severity: str
    severity_slug: str
    clause_id: str
    clause_anchor: str
    evidence: str
    suggested_fix: str
    advisory: bool
    located: bool


@dataclass(frozen=True, slots=True)
class ClauseView:
    """One clause of the contract, its text cut into segments (findings highlighted)."""

    clause_id: str
    anchor: str
    number: str
    heading: str
    depth: int
    segments: tuple[Segment, ...]
    cited: bool


@dataclass(frozen=True, slots=True)
class ContractView:
    """A contract review page: the text with highlights and the findings that cite it."""

    review_id: str
    contract_id: str
    contract_type: str
    playbook: str
    max_severity: str
    max_severity_slug: str
    created: str
    clauses: tuple[ClauseView, ...]
    findings: tuple[FindingView, ...]
    missing: tuple[FindingView, ...]
    audit_record_id: str


def anchor_of(prefix: str, value: str) -> str:
    """An HTML id from an arbitrary id: ``("clause", "s3.p2")`` -> ``"clause-s3-p2"``."""
    return prefix + "-" + re.sub(r"[^A-Za-z0-9_-]", "-", value)


def locate_in_clause(clause_text: str, finding: cpb.Finding) -> tuple[int, int] | None:
    """Where a finding's cited span lies in its clause's text, or ``None`` when it cannot be found.

    The contract gives the span as offsets into the whole document, which the review does not carry,
    only each clause's own text. The span's length is known (``end - start``), and the evidence
    usually quotes it; the first stretch of the clause of that length which occurs in the evidence
    is the span. When the evidence does not quote it (a computed inconsistency), the span is not
    guessed: the caller highlights the whole clause and says so.

    Args:
        clause_text: The cited clause's text.
        finding: The finding, with ``start``/``end`` and ``evidence``.
    """
    length = finding.end - finding.start
    if length <= 0 or length > len(clause_text):
        return None
    # Candidate starts: every position where the clause text continues into the evidence.
    evidence = finding.evidence
    for i in range(0, len(clause_text) - length + 1):
        piece = clause_text[i : i + length]
        if piece[0].isspace() or piece not in evidence:
            continue
        return (i, i + length)
    return None


def contract_view(review: cpb.ContractReview) -> ContractView:
    """The contract's text, clause by clause, with each finding's cited span highlighted.

    Args:
        review: ``GetContractReviewResponse.review``.
    """
    by_clause: dict[str, list[cpb.Finding]] = {}
    for finding in review.findings:
        if finding.clause_id:
            by_clause.setdefault(finding.clause_id, []).append(finding)
    depth: dict[str, int] = {}
    located: dict[str, bool] = {}
    clauses = []
    for clause in review.clauses:
        depth[clause.clause_id] = depth.get(clause.parent_clause_id, -1) + 1 if clause.parent_clause_id else 0
        spans = []
        for finding in by_clause.get(clause.clause_id, []):
            note = f"{finding.check_id}: {finding.evidence}"
            kind = "advisory" if finding.advisory else f"finding severity-{severity_slug(finding.severity)}"
            where = locate_in_clause(clause.text, finding)
            located[finding.finding_id] = where is not None
            start, end = where if where is not None else (0, len(clause.text))
            spans.append(Span(start, end, Mark(kind, anchor_of("finding", finding.finding_id), note)))
        clauses.append(
            ClauseView(
                clause_id=clause.clause_id,
                anchor=anchor_of("clause", clause.clause_id),
                number=clause.number,
                heading=clause.heading,
                depth=depth[clause.clause_id],
                segments=tuple(segment_text(clause.text, spans)),
                cited=bool(spans),
            )
        )
    clause_ids = {c.clause_id for c in review.clauses}
    views: list[FindingView] = []
    missing: list[FindingView] = []
    for finding in sorted(review.findings, key=lambda f: (-int(f.severity), f.advisory, f.check_id)):
        view = FindingView(
            finding_id=finding.finding_id,
            anchor=anchor_of("finding", finding.finding_id),
            check_id=finding.check_id,
            finding_type=finding_type_label(finding.finding_type),
            severity=severity_label(finding.severity),
            severity_slug=severity_slug(finding.severity),
            clause_id=finding.clause_id,
            clause_anchor=anchor_of("clause", finding.clause_id) if finding.clause_id in clause_ids else "",
            evidence=finding.evidence,
            suggested_fix=finding.suggested_fix,
            advisory=finding.advisory,
            located=located.get(finding.finding_id, False),
        )
        (views if finding.clause_id else missing).append(view)
    return ContractView(
        review_id=review.review_id,
        contract_id=review.contract_id,
        contract_type=enum_label(cpb.ContractType.Name(review.contract_type), "CONTRACT_TYPE_")
        if review.contract_type
        else "",
        playbook=f"{review.playbook_id} {review.playbook_version}".strip(),
        max_severity=severity_label(review.max_severity),
        max_severity_slug=severity_slug(review.max_severity),
        created=timestamp_text(review.create_time),
        clauses=tuple(clauses),
        findings=tuple(views),
        missing=tuple(missing),
        audit_record_id=review.provenance.audit_record_id,
    )


# --------------------------------------------------------------------------- regulation: timeline
@dataclass(frozen=True, slots=True)
class ObligationView:
    """One obligation under its clause."""

    obligation_id: str
    clause_id: str
    modality: str
    modality_slug: str
    subject: str
    action: str
    condition: str
    source_text: str


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """A dated (or undated) event of the regulation with the obligations of its clause."""

    date: str
    event_type: str
    event_slug: str
    description: str
    clause_id: str
    source_text: str
    obligations: tuple[ObligationView, ...]


@dataclass(frozen=True, slots=True)
class ObligationTimeline:
    """A regulation's obligations laid out in time."""

    analysis_id: str
    regulation_id: str
    title: str
    created: str
    word_count: int
    dated: tuple[TimelineEntry, ...]
    undated: tuple[TimelineEntry, ...]
    obligations: tuple[ObligationView, ...]
    modality_counts: tuple[tuple[str, int], ...]
    risk_points: tuple[tuple[str, str, str], ...]


def obligation_view(obligation: cpb.Obligation) -> ObligationView:
    """An obligation for display."""
    return ObligationView(
        obligation_id=obligation.obligation_id,
        clause_id=obligation.clause_id,
        modality=enum_label(cpb.Modality.Name(obligation.modality), "MODALITY_"),
        modality_slug=enum_slug(cpb.Modality.Name(obligation.modality), "MODALITY_"),
        subject=obligation.subject,
        action=obligation.action,
        condition=obligation.condition,
        source_text=obligation.source_text,
    )


def _under(clause_id: str, event_clause: str) -> bool:
    """Whether ``clause_id`` is ``event_clause`` or nested in it (ids are dotted paths)."""
    return clause_id == event_clause or clause_id.startswith(event_clause + ".")


def obligation_timeline(analysis: cpb.RegulationAnalysis) -> ObligationTimeline:
    """The timeline page of an analysis: events by date, each with the obligations of its clause.

    Args:
        analysis: ``AnalyzeRegulationResponse.analysis`` or ``GetRegulationAnalysisResponse.analysis``.
    """
    obligations = [obligation_view(o) for o in analysis.obligations]

    def entry(event: cpb.TimelineEvent) -> TimelineEntry:
        name = cpb.TimelineEventType.Name(event.event_type)
        return TimelineEntry(
            date=date_text(event.date) if event.HasField("date") else "",
            event_type=enum_label(name, "TIMELINE_EVENT_TYPE_"),
            event_slug=enum_slug(name, "TIMELINE_EVENT_TYPE_"),
            description=event.description,
            clause_id=event.clause_id,
            source_text=event.source_text,
            obligations=tuple(o for o in obligations if event.clause_id and _under(o.clause_id, event.clause_id)),
        )

    entries = [entry(e) for e in analysis.timeline]
    dated = sorted((e for e in entries if e.date), key=lambda e: (e.date, e.clause_id))
    undated = [e for e in entries if not e.date]
    counts: dict[str, int] = {}
    for o in obligations:
        counts[o.modality] = counts.get(o.modality, 0) + 1
    risks = tuple(
        (severity_label(r.severity), r.clause_id, r.description)
        for r in sorted(analysis.risk_points, key=lambda r: -int(r.severity))
    )
    return ObligationTimeline(
        analysis_id=analysis.analysis_id,
        regulation_id=analysis.regulation_id,
        title=analysis.title,
        created=timestamp_text(analysis.create_time),
        word_count=analysis.word_count,
        dated=tuple(dated),
        undated=tuple(undated),
        obligations=tuple(obligations),
        modality_counts=tuple(sorted(counts.items())),
        risk_points=risks,
    )


# ------------------------------------------------------------------------ version comparison
@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One aligned pair of clauses: old on the left, new on the right, words changed marked."""

    change: str
    change_slug: str
    old_clause_id: str
    new_clause_id: str
    old_segments: tuple[Segment, ...]
    new_segments: tuple[Segment, ...]
    similarity: str


@dataclass(frozen=True, slots=True)
class ObligationChangeRow:
    """A change of an obligation's strictness."""

    strictness: str
    strictness_slug: str
    old_text: str
    new_text: str
    clause: str
    explanation: str


@dataclass(frozen=True, slots=True)
class TimelineChangeRow:
    """A moved, added or removed date."""

    old: str
    new: str
    explanation: str


@dataclass(frozen=True, slots=True)
class ComparisonView:
    """A version comparison side by side."""

    comparison_id: str
    regulation_id: str
    old_name: str
    new_name: str
    rows: tuple[ComparisonRow, ...]
    obligation_changes: tuple[ObligationChangeRow, ...]
    timeline_changes: tuple[TimelineChangeRow, ...]
    counts: tuple[tuple[str, int], ...]


_WORD = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    """Mark the words removed from ``old`` (``delete``) and added in ``new`` (``insert``).

    Args:
        old: The old clause text ("" for an added clause).
        new: The new clause text ("" for a removed clause).

    Returns:
        The old text's segments and the new text's segments.
    """
    old_tokens = _WORD.findall(old)
    new_tokens = _WORD.findall(new)
    old_spans: list[Span] = []
    new_spans: list[Span] = []
    old_offsets = _offsets(old_tokens)
    new_offsets = _offsets(new_tokens)
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete") and i2 > i1:
            old_spans.append(Span(old_offsets[i1], old_offsets[i2], Mark("delete", "", "removed")))
        if tag in ("replace", "insert") and j2 > j1:
            new_spans.append(Span(new_offsets[j1], new_offsets[j2], Mark("insert", "", "added")))
    return segment_text(old, old_spans), segment_text(new, new_spans)


def _offsets(tokens: Sequence[str]) -> list[int]:
    offsets = [0]
    for token in tokens:
        offsets.append(offsets[-1] + len(token))
    return offsets


def comparison_view(
    changes: cpb.CompareRegulationVersionsResponse | cpb.VersionComparison,
    *,
    old_name: str = "",
    new_name: str = "",
) -> ComparisonView:
    """The side-by-side view of a comparison.

    With a stored ``VersionComparison`` in the FULL view, unchanged clauses are shown too (from
    ``old_clauses``/``new_clauses``), in the new version's order, so the reader sees each change in
    its place; otherwise only the changed clauses are listed.

    Args:
        changes: ``CompareRegulationVersionsResponse`` or ``GetVersionComparisonResponse.comparison``.
        old_name: Label of the old version (defaults to the stored file name).
        new_name: Label of the new version.
    """
    rows: list[ComparisonRow] = []
    counts: dict[str, int] = {}
    changed_new: set[str] = set()
    changed_old: set[str] = set()
    for change in changes.clause_changes:
        name = cpb.ClauseChangeType.Name(change.change_type)
        label = enum_label(name, "CLAUSE_CHANGE_TYPE_")
        counts[label] = counts.get(label, 0) + 1
        old_segments, new_segments = word_diff(change.old_text, change.new_text)
        changed_new.add(change.new_clause_id)
        changed_old.add(change.old_clause_id)
        rows.append(
            ComparisonRow(
                change=label,
                change_slug=enum_slug(name, "CLAUSE_CHANGE_TYPE_"),
                old_clause_id=change.old_clause_id,
                new_clause_id=change.new_clause_id,
                old_segments=tuple(old_segments),
                new_segments=tuple(new_segments),
                similarity=f"{change.similarity:.2f}" if change.similarity else "",
            )
        )
    if isinstance(changes, cpb.VersionComparison) and (changes.old_clauses or changes.new_clauses):
        rows = _in_document_order(changes, rows, changed_old, changed_new)
    obligation_rows = []
    for oc in changes.obligation_changes:
        name = cpb.StrictnessChange.Name(oc.strictness)
        old_o, new_o = oc.old_obligation, oc.new_obligation
        obligation_rows.append(
            ObligationChangeRow(
                strictness=enum_label(name, "STRICTNESS_CHANGE_"),
                strictness_slug=enum_slug(name, "STRICTNESS_CHANGE_"),
                old_text=old_o.source_text,
                new_text=new_o.source_text,
                clause=new_o.clause_id or old_o.clause_id,
                explanation=oc.explanation,
            )
        )
    timeline_rows = [
        TimelineChangeRow(
            old=_event_text(tc.old_event) if tc.HasField("old_event") else "",
            new=_event_text(tc.new_event) if tc.HasField("new_event") else "",
            explanation=tc.explanation,
        )
        for tc in changes.timeline_changes
    ]
    stored_old = changes.old_filename if isinstance(changes, cpb.VersionComparison) else ""
    stored_new = changes.new_filename if isinstance(changes, cpb.VersionComparison) else ""
    return ComparisonView(
        comparison_id=changes.comparison_id,
        regulation_id=changes.regulation_id if isinstance(changes, cpb.VersionComparison) else "",
        old_name=old_name or stored_old or "Old version",
        new_name=new_name or stored_new or "New version",
        rows=tuple(rows),
        obligation_changes=tuple(obligation_rows),
        timeline_changes=tuple(timeline_rows),
        counts=tuple(sorted(counts.items())),
    )


def _event_text(event: cpb.TimelineEvent) -> str:
    when = date_text(event.date) if event.HasField("date") else "undated"
    return f"{when}: {event.description}".strip()


def _in_document_order(
    comparison: cpb.VersionComparison, rows: list[ComparisonRow], changed_old: set[str], changed_new: set[str]
) -> list[ComparisonRow]:
    """Interleave unchanged clauses (shown plain) with the changes, following the new version's order;
    removed clauses follow the clause that preceded them in the old version.

    A clause inside a changed one (a paragraph of a modified article) is already shown by its
    parent's row and is left out. An unchanged clause is paired with the old clause of identical
    text (by its id first, then any other: a renumbered paragraph keeps its text, not its id); when
    none has identical text, the old side stays empty rather than showing a different text as
    "unchanged".
    """
    by_new = {r.new_clause_id: r for r in rows if r.new_clause_id}
    removed = [r for r in rows if not r.new_clause_id]
    parent = {c.clause_id: c.parent_clause_id for c in comparison.new_clauses}
    old_text = {c.clause_id: c.text for c in comparison.old_clauses}
    old_by_text: dict[str, list[str]] = {}
    for clause in comparison.old_clauses:
        if clause.clause_id not in changed_old:
            old_by_text.setdefault(clause.text, []).append(clause.clause_id)
    used: set[str] = set()

    def covered(clause_id: str) -> bool:
        seen: set[str] = set()
        current = parent.get(clause_id, "")
        while current and current not in seen:
            if current in changed_new:
                return True
            seen.add(current)
            current = parent.get(current, "")
        return False

    ordered: list[ComparisonRow] = []
    for clause in comparison.new_clauses:
        if clause.clause_id in by_new:
            ordered.append(by_new.pop(clause.clause_id))
            continue
        if clause.clause_id in changed_new or covered(clause.clause_id):
            continue
        same = ""
        if old_text.get(clause.clause_id) == clause.text and clause.clause_id not in changed_old | used:
            same = clause.clause_id
        else:
            same = next((c for c in old_by_text.get(clause.text, []) if c not in used), "")
        if same:
            used.add(same)
        ordered.append(
            ComparisonRow(
                change="Unchanged",
                change_slug="unchanged",
                old_clause_id=same,
                new_clause_id=clause.clause_id,
                old_segments=(Segment(old_text[same]),) if same and old_text[same] else (),
                new_segments=(Segment(clause.text),) if clause.text else (),
                similarity="",
            )
        )
    old_order = [c.clause_id for c in comparison.old_clauses]
    for row in removed:
        # Place a removed clause after the row showing its old predecessor.
        position = len(ordered)
        if row.old_clause_id in old_order:
            before = old_order[: old_order.index(row.old_clause_id)]
            for k in range(len(ordered) - 1, -1, -1):
                if ordered[k].old_clause_id in before:
                    position = k + 1
                    break
            else:
                position = 0
        ordered.insert(position, row)
    ordered.extend(by_new.values())
    return ordered
