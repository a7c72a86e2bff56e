"""The compliance officer's view models, on the compliance engine's real output mapped by the
service's own mapping: every cited span highlighted in its clause, the batch table, the obligations
timeline and the side-by-side comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
from fintech.common.v1 import common_pb2
from fintech.compliance.v1 import compliance_service_pb2 as cpb
from fintech_console.views.compliance import (
    anchor_of,
    batch_summary,
    comparison_view,
    contract_view,
    locate_in_clause,
    obligation_timeline,
    word_diff,
)

from server.compliance.domain import DocumentFormat
from server.compliance.engine import ComplianceEngine
from server.compliance.mapping import analysis_to_pb, clause_to_pb, comparison_to_pb, review_to_pb
from server.compliance.settings import ComplianceSettings

CORPUS = Path(__file__).resolve().parents[3] / "server" / "compliance" / "corpus"
FORMATS = {".txt": DocumentFormat.PLAIN_TEXT, ".md": DocumentFormat.MARKDOWN}


@pytest.fixture(scope="module")
def engine() -> ComplianceEngine:
    # Lexical matching only: the semantic matcher loads MiniLM (tens of seconds on a busy machine) and
    # changes which findings exist, not how a view shows them.
    return ComplianceEngine.from_settings(ComplianceSettings(semantic_matching=False))


def reviewed(engine: ComplianceEngine, path: Path) -> tuple[cpb.ContractReview, str]:
    content = path.read_bytes()
    fmt = FORMATS[path.suffix]
    result = engine.review_contract(path.stem, content, fmt)
    return review_to_pb(result, review_id=f"R-{path.stem}"), engine.parse(content, fmt).text


def test_every_quoted_finding_is_highlighted_exactly_where_the_service_put_it(engine: ComplianceEngine) -> None:
    located = unlocated = 0
    for path in sorted((CORPUS / "contracts").iterdir()):
        if path.suffix not in FORMATS:
            continue
        review, text = reviewed(engine, path)
        view = contract_view(review)
        clause_views = {c.clause_id: c for c in view.clauses}
        for finding in review.findings:
            if not finding.clause_id:
                assert any(m.finding_id == finding.finding_id for m in view.missing)
                continue
            expected = text[finding.start : finding.end]
            highlighted = "".join(
                s.text
                for s in clause_views[finding.clause_id].segments
                if any(m.ref == anchor_of("finding", finding.finding_id) for m in s.marks)
            )
            shown = next(f for f in view.findings if f.finding_id == finding.finding_id)
            if shown.located:
                located += 1
                assert highlighted == expected, (path.name, finding.check_id)
            else:
                # Not quoted in the evidence: the whole clause is highlighted, and the page says so.
                unlocated += 1
                clause = next(c for c in review.clauses if c.clause_id == finding.clause_id)
                assert highlighted == clause.text and expected in clause.text
            assert (
                shown.clause_anchor
                == anchor_of("clause", finding.clause_id)
                == "clause-" + finding.clause_id.replace(".", "-")
            )
    assert located >= 20 and unlocated <= located // 4


def test_locate_refuses_to_guess() -> None:
    finding = cpb.Finding(start=100, end=105, evidence="nothing quoted")
    assert locate_in_clause("The loan runs for 24 months.", finding) is None
    assert locate_in_clause("abc", cpb.Finding(start=0, end=10, evidence="abc")) is None


def test_contract_view_orders_findings_by_severity_and_nests_clauses(engine: ComplianceEngine) -> None:
    review, _ = reviewed(engine, CORPUS / "contracts" / "02_loan.txt")
    view = contract_view(review)
    severities = [int(common_pb2.Severity.Value("SEVERITY_" + f.severity.upper())) for f in view.findings]
    assert severities == sorted(severities, reverse=True)
    assert view.clauses[0].clause_id == "preamble" and view.clauses[0].depth == 0
    assert any(c.cited for c in view.clauses)
    assert view.max_severity in {"Low", "Medium", "High", "Critical"}


def test_batch_summary_counts_by_highest_severity_and_lists_failures(engine: ComplianceEngine) -> None:
    reviews = [reviewed(engine, p)[0] for p in sorted((CORPUS / "contracts").glob("0[1-4]_*"))]
    summary = batch_summary(reviews, failures=[("item-9", "contract.document.content: empty")])
    assert summary.reviewed == 4 and summary.failed == 1 and len(summary.rows) == 5
    assert sum(count for _, _, count in summary.by_severity) == 4
    assert summary.rows[-1].failed and summary.rows[-1].error.startswith("contract.document")
    assert summary.rows[0].href == "/compliance/reviews/R-01_loan"
    assert summary.findings == sum(len([f for f in r.findings if not f.advisory]) for r in reviews)


def test_obligations_timeline_is_dated_in_order_with_the_clauses_obligations(engine: ComplianceEngine) -> None:
    path = CORPUS / "regulations" / "consumer_credit_disclosure_v2.md"
    analysis = analysis_to_pb(
        engine.analyze_regulation("ccd", path.read_bytes(), DocumentFormat.MARKDOWN), analysis_id="AN-1"
    )
    timeline = obligation_timeline(analysis)
    assert timeline.dated and [e.date for e in timeline.dated] == sorted(e.date for e in timeline.dated)
    assert len(timeline.dated) + len(timeline.undated) == len(analysis.timeline)
    assert len(timeline.obligations) == len(analysis.obligations)
    for entry in timeline.dated:
        assert all(
            o.clause_id == entry.clause_id or o.clause_id.startswith(entry.clause_id + ".") for o in entry.obligations
        )
    assert sum(n for _, n in timeline.modality_counts) == len(analysis.obligations)


def test_version_comparison_side_by_side(engine: ComplianceEngine) -> None:
    old = (CORPUS / "regulations" / "consumer_credit_disclosure_v1.md").read_bytes()
    new = (CORPUS / "regulations" / "consumer_credit_disclosure_v2.md").read_bytes()
    old_doc, new_doc, comparison = engine.compare_documents(old, DocumentFormat.MARKDOWN, new, DocumentFormat.MARKDOWN)
    response = comparison_to_pb(comparison)
    view = comparison_view(response, old_name="v1", new_name="v2")
    assert len(view.rows) == len(response.clause_changes) and view.old_name == "v1"
    modified = [r for r in view.rows if r.change_slug == "modified"]
    assert modified and all(
        any(s.has("delete") for s in r.old_segments) or any(s.has("insert") for s in r.new_segments) for r in modified
    )
    assert len(view.obligation_changes) == len(response.obligation_changes)
    # A stored comparison in the FULL view also shows unchanged clauses, in the new version's order.
    stored = cpb.VersionComparison(
        comparison_id="VC-1",
        old_filename="v1.md",
        new_filename="v2.md",
        clause_changes=response.clause_changes,
        old_clauses=[clause_to_pb(c) for c in old_doc.clauses],
        new_clauses=[clause_to_pb(c) for c in new_doc.clauses],
    )
    full = comparison_view(stored)
    assert full.old_name == "v1.md" and len(full.rows) > len(view.rows)
    assert sum(r.change_slug != "unchanged" for r in full.rows) == len(response.clause_changes)
    for row in full.rows:
        if row.change_slug == "unchanged":
            # Never a different text on each side under "unchanged".
            assert not row.old_segments or [s.text for s in row.old_segments] == [s.text for s in row.new_segments]
    shown_new = [r.new_clause_id for r in full.rows if r.new_clause_id]
    order = [c.clause_id for c in new_doc.clauses]
    assert shown_new == [c for c in order if c in set(shown_new)]


def test_word_diff_marks_only_changed_words() -> None:
    old, new = word_diff(
        "The lender shall inform the borrower within 30 days.", "The lender must inform the borrower within 14 days."
    )
    assert [s.text for s in old if s.has("delete")] == ["shall", "30"]
    assert [s.text for s in new if s.has("insert")] == ["must", "14"]
    assert "".join(s.text for s in new) == "The lender must inform the borrower within 14 days."
    added_old, added_new = word_diff("", "New clause.")
    assert added_old == [] and [s.text for s in added_new if s.has("insert")] == ["New clause."]
