"""Semantic matching of required clauses: paraphrases the lexicon misses are recognised (citing the sentence
relied on), clauses that are really missing stay missing, and the configuration is validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.compliance.domain import ContractType, DocumentFormat, FindingType
from server.compliance.impact import TextEmbedder
from server.compliance.parsing import parse_document
from server.compliance.playbooks import DEFAULT_PLAYBOOK_DIR, PlaybookRegistry, load_playbook
from server.compliance.review import ContractReviewer, ReviewItem
from server.compliance.semantic import ClauseMatcher, load_semantic_config

from .test_review import COMPLETE_LOAN

LAW = "This agreement is governed by the laws of Ireland. "
# Wordings in neither the lexicon nor the example sentences.
PARAPHRASED_LAW = "Portuguese law applies to this agreement. "
PARAPHRASED_WITHDRAWAL = "During the first two weeks the Borrower may step away from the contract, no questions asked."
WITHDRAWAL = "The Borrower may withdraw from this agreement within 14 days without giving any reason."


@pytest.fixture(scope="module")
def semantic_reviewer(registry: PlaybookRegistry, minilm: TextEmbedder) -> ContractReviewer:
    assert registry.semantic is not None
    return ContractReviewer(registry, ClauseMatcher(registry.playbooks, registry.semantic, minilm))


def _review(reviewer: ContractReviewer, text: str) -> tuple[set[str], dict[str, tuple[str, str]]]:
    document = parse_document(text.encode(), DocumentFormat.MARKDOWN)
    result = reviewer.review("c1", document, contract_type=ContractType.LOAN)
    cited = {m.check_id: (m.clause_id, document.text[m.start : m.end]) for m in result.semantic_matches}
    return {f.check_id for f in result.findings}, cited


def test_paraphrased_clauses_are_recognised_and_cite_their_sentence(
    reviewer: ContractReviewer, semantic_reviewer: ContractReviewer
) -> None:
    text = COMPLETE_LOAN.replace(LAW, PARAPHRASED_LAW).replace(WITHDRAWAL, PARAPHRASED_WITHDRAWAL)
    lexical, _ = _review(reviewer, text)
    assert {"loan.governing_law", "loan.cooling_off"} <= lexical  # the premise: the lexicon misses both
    found, cited = _review(semantic_reviewer, text)
    assert "loan.governing_law" not in found and "loan.cooling_off" not in found
    assert cited["loan.governing_law"] == ("s8", PARAPHRASED_LAW.strip())
    assert cited["loan.cooling_off"] == ("s6", PARAPHRASED_WITHDRAWAL)


def test_clauses_that_are_really_missing_stay_missing(semantic_reviewer: ContractReviewer) -> None:
    text = COMPLETE_LOAN.replace(LAW, "").replace(WITHDRAWAL, "The Borrower shall keep the Lender informed.")
    found, cited = _review(semantic_reviewer, text)
    assert {"loan.governing_law", "loan.cooling_off"} <= found
    assert cited == {}


def test_a_complete_contract_needs_no_embedding(semantic_reviewer: ContractReviewer) -> None:
    assert _review(semantic_reviewer, COMPLETE_LOAN) == (set(), {})


def test_a_batch_is_embedded_together_and_decides_like_one_by_one(semantic_reviewer: ContractReviewer) -> None:
    texts = [COMPLETE_LOAN.replace(LAW, PARAPHRASED_LAW), COMPLETE_LOAN.replace(LAW, ""), COMPLETE_LOAN]
    items = [
        ReviewItem(f"c{i}", parse_document(t.encode(), DocumentFormat.MARKDOWN), ContractType.LOAN)
        for i, t in enumerate(texts)
    ]
    batch = semantic_reviewer.review_many([*items, ReviewItem("bad", items[0].document, None, "no-such-playbook")])
    single = [semantic_reviewer.review(i.contract_id, i.document, contract_type=i.contract_type) for i in items]
    assert batch[:3] == single
    assert type(batch[3]).__name__ == "InvalidArgument"
    assert [sorted(f.check_id for f in r.findings if f.finding_type is FindingType.MISSING_CLAUSE) for r in single] == [
        [],
        ["loan.governing_law"],
        [],
    ]


def test_semantic_configuration_is_validated(tmp_path: Path) -> None:
    config = load_semantic_config(DEFAULT_PLAYBOOK_DIR / "semantic.toml")
    assert 0 < config.threshold < 1 and config.background
    bad = tmp_path / "semantic.toml"
    bad.write_text('version = "1"\nthreshold = 1.5\nmargin = 0.05\nbackground = ["x"]\n')
    with pytest.raises(ValueError, match="threshold must be"):
        load_semantic_config(bad)
    bad.write_text('version = "1"\nthreshold = 0.5\nmargin = 0.05\nbackground = []\nextra = 1\n')
    with pytest.raises(ValueError, match="unknown keys"):
        load_semantic_config(bad)
    registry = PlaybookRegistry.load()
    playbook = tmp_path / "p.toml"
    playbook.write_text(
        'playbook_id = "p"\nversion = "1"\ntitle = "t"\ncontract_types = ["loan"]\n[[checks]]\nid = "a"\n'
        'kind = "prohibited"\nseverity = "high"\ndescription = "d"\nsuggested_fix = "f"\n'
        'any_of = [["governing_law"]]\nexamples = ["An example."]\n'
    )
    with pytest.raises(ValueError, match="only required checks take example sentences"):
        load_playbook(playbook, registry.lexicon)


def test_every_required_check_has_examples(registry: PlaybookRegistry) -> None:
    for playbook in registry.playbooks:
        for check in playbook.checks:
            assert (check.kind == "required") == (len(check.examples) >= 3), check.check_id
