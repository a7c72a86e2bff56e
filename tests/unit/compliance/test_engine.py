"""The engine facade the servicer calls: limits, field names in errors, playbooks, summary plan."""

from __future__ import annotations

import pytest

from server.compliance.domain import ContractType, DocumentFormat
from server.compliance.engine import ComplianceEngine
from server.compliance.settings import ComplianceSettings
from server.runtime.errors import InvalidArgument

from .conftest import CORPUS


@pytest.fixture(scope="module")
def engine() -> ComplianceEngine:
    # Lexical only: semantic matching is tested with the shared model in test_semantic.py.
    return ComplianceEngine.from_settings(
        ComplianceSettings(max_document_words=1000, summary_token_budget=300, semantic_matching=False)
    )


def test_limits_and_field_names(engine: ComplianceEngine) -> None:
    long_text = ("The lender shall act. " * 300).encode()
    with pytest.raises(InvalidArgument) as too_long:
        engine.analyze_regulation("r", long_text, DocumentFormat.PLAIN_TEXT)
    assert too_long.value.reason == "DOCUMENT_TOO_LARGE" and too_long.value.violations[0].field == "document.content"
    good = (CORPUS / "regulations" / "complaints_handling.txt").read_bytes()
    with pytest.raises(InvalidArgument) as broken:
        engine.compare_regulation_versions(good, DocumentFormat.PLAIN_TEXT, b"%PDF-junk", DocumentFormat.PDF)
    assert broken.value.violations[0].field == "new_version.content"


def test_analysis_review_playbooks_and_plan(engine: ComplianceEngine) -> None:
    content = (CORPUS / "regulations" / "complaints_handling.txt").read_bytes()
    analysis = engine.analyze_regulation("complaints", content, DocumentFormat.PLAIN_TEXT)
    chunks, steps = engine.summary_plan(analysis)
    chunk_list = list(chunks)
    assert len(chunk_list) > 1 and all(c.token_estimate <= 300 for c in chunk_list)
    assert {i for s in steps if s.level == 1 for i in s.inputs} == {c.chunk_id for c in chunk_list}
    assert len([s for s in steps if s.level == max(x.level for x in steps)]) == 1
    review = engine.review_contract("c", (CORPUS / "contracts" / "01_loan.md").read_bytes(), DocumentFormat.MARKDOWN)
    assert review.contract_type is ContractType.LOAN and review.playbook_id == "consumer_loan"
    assert [p.playbook_id for p in engine.list_playbooks()] == sorted(p.playbook_id for p in engine.list_playbooks())


def test_a_micro_batch_reports_bad_items_in_place_and_reviews_the_rest(engine: ComplianceEngine) -> None:
    good = (CORPUS / "contracts" / "01_loan.md").read_bytes()
    outcomes = engine.review_contracts(
        [
            ("a", good, DocumentFormat.MARKDOWN, ContractType.LOAN, ""),
            ("b", b"not a docx", DocumentFormat.DOCX, ContractType.LOAN, ""),
            ("c", good, DocumentFormat.MARKDOWN, ContractType.LOAN, "no-such-playbook"),
            ("d", good, DocumentFormat.MARKDOWN, None, ""),
        ]
    )
    assert [type(o).__name__ for o in outcomes] == [
        "ContractReviewResult",
        "InvalidArgument",
        "InvalidArgument",
        "ContractReviewResult",
    ]
    first, _, third, fourth = outcomes
    assert isinstance(third, InvalidArgument) and third.violations[0].field == "playbook_id"
    assert not isinstance(first, InvalidArgument) and not isinstance(fourth, InvalidArgument)
    assert first.contract_id == "a" and fourth.contract_type is ContractType.LOAN
    assert first.findings == engine.review_contract("a", good, DocumentFormat.MARKDOWN, ContractType.LOAN).findings
