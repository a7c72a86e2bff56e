"""Version comparison on the two labelled regulation pairs and on small edits."""

from __future__ import annotations

from typing import Any

from server.compliance.comparison import classify_change, compare_versions
from server.compliance.domain import ClauseChangeType, DocumentFormat, Modality, Obligation, StrictnessChange
from server.compliance.parsing import parse_document, parse_lines

from .conftest import CORPUS, FORMATS


def _parse(name: str) -> Any:
    path = CORPUS / "regulations" / name
    return parse_document(path.read_bytes(), FORMATS[path.suffix])


def test_labelled_pairs_match_their_labels() -> None:
    import json

    labels = json.loads((CORPUS / "labels" / "comparisons.json").read_text())
    for name, label in labels.items():
        if name.startswith("_"):
            continue
        comparison = compare_versions(_parse(label["old"]), _parse(label["new"]))
        got = {(c.change_type.value, c.old_clause_id, c.new_clause_id) for c in comparison.clause_changes}
        assert got == {tuple(x) for x in label["clause_changes"]}, name
        timeline = {
            (c.old_event.clause_id if c.old_event else "", c.new_event.clause_id if c.new_event else "")
            for c in comparison.timeline_changes
        }
        assert timeline == {tuple(x) for x in label["timeline_changes"]}, name


def test_moved_renumbered_article_is_recognised_and_text_changes_are_shown() -> None:
    comparison = compare_versions(
        _parse("consumer_credit_disclosure_v1.md"), _parse("consumer_credit_disclosure_v2.md")
    )
    moved = [c for c in comparison.clause_changes if c.change_type is ClauseChangeType.MOVED]
    assert [(c.old_clause_id, c.new_clause_id) for c in moved] == [("ch2.art4", "ch2.art3")]
    modified = {c.old_clause_id: c for c in comparison.clause_changes if c.change_type is ClauseChangeType.MODIFIED}
    assert "7 days" in modified["ch2.art3"].old_text and "14 days" in modified["ch2.art3"].new_text
    strictness = {
        (c.old_obligation.clause_id if c.old_obligation else "", c.strictness) for c in comparison.obligation_changes
    }
    assert ("ch3.art7.p2", StrictnessChange.STRICTER) in strictness  # fee cap 1% -> 0.5%
    assert ("ch3.art8", StrictnessChange.LOOSER) in strictness  # exception added
    assert ("ch4.art10.p2", StrictnessChange.LOOSER) in strictness  # 12 -> 18 months


def _obligation(modality: Modality, text: str) -> Obligation:
    return Obligation("o", "c", modality, "Firms", text, "", text)


def test_strictness_rules() -> None:
    may, shall = (
        _obligation(Modality.MAY, "Firms may report within 10 days."),
        _obligation(Modality.SHALL, "Firms shall report within 10 days."),
    )
    assert classify_change(may, shall) == (StrictnessChange.STRICTER, "modality changed from may to shall")
    assert classify_change(shall, may)[0] is StrictnessChange.LOOSER  # type: ignore[index]
    longer = _obligation(Modality.SHALL, "Firms shall keep records for at least 10 years.")
    shorter = _obligation(Modality.SHALL, "Firms shall keep records for at least 5 years.")
    assert classify_change(shorter, longer)[0] is StrictnessChange.STRICTER  # type: ignore[index]
    assert classify_change(shall, shall) is None


def test_identical_documents_have_no_changes() -> None:
    document = parse_lines(["R", "", "Article 1 - A", "Firms shall act."])
    comparison = compare_versions(document, document)
    assert comparison.clause_changes == () and comparison.obligation_changes == () and comparison.timeline_changes == ()


def test_format_does_not_matter() -> None:
    text, pdf = _parse("outsourcing_rule.txt"), _parse("outsourcing_rule.pdf")
    changes = compare_versions(text, pdf).clause_changes
    assert all(c.change_type is not ClauseChangeType.REMOVED or c.old_clause_id == "preamble" for c in changes)
    assert all(c.change_type is not ClauseChangeType.MODIFIED for c in changes if c.old_clause_id != "preamble")
    assert DocumentFormat.PDF is FORMATS[".pdf"]
