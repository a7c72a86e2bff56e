"""Semantic matching of required clauses: paraphrases the lexicon misses are recognised (citing the sentence
relied on), clauses that are really missing stay missing, with either encoder (the static token-embedding
mean, the default, and the MiniLM transformer); the encoder is deterministic and recorded with its weights'
hash; on the labelled corpus the default never hides a labelled finding; the configuration is validated."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from server.compliance.domain import ContractType, DocumentFormat, FindingType
from server.compliance.embedding import StaticTokenEmbedder
from server.compliance.engine import ComplianceEngine
from server.compliance.parsing import parse_document
from server.compliance.playbooks import DEFAULT_PLAYBOOK_DIR, PlaybookRegistry, load_playbook
from server.compliance.review import ContractReviewer, ReviewItem
from server.compliance.semantic import ClauseMatcher, SentenceEncoder, load_semantic_config
from server.compliance.settings import ComplianceSettings

from .test_review import COMPLETE_LOAN

LAW = "This agreement is governed by the laws of Ireland. "
# Wordings in neither the lexicon nor the example sentences.
PARAPHRASED_LAW = "Portuguese law applies to this agreement. "
PARAPHRASED_WITHDRAWAL = "During the first two weeks the Borrower may step away from the contract, no questions asked."
WITHDRAWAL = "The Borrower may withdraw from this agreement within 14 days without giving any reason."


CORPUS = Path(__file__).resolve().parents[3] / "server" / "compliance" / "corpus"
_FORMATS = {".txt": DocumentFormat.PLAIN_TEXT, ".md": DocumentFormat.MARKDOWN, ".pdf": DocumentFormat.PDF}
_FORMATS[".docx"] = DocumentFormat.DOCX
STATIC_ID = re.compile(r"static-token-mean/all-MiniLM-L6-v2@sha256:[0-9a-f]{64}")


@pytest.fixture(scope="module", params=["static_encoder", "minilm"])
def semantic_reviewer(registry: PlaybookRegistry, request: pytest.FixtureRequest) -> ContractReviewer:
    assert registry.semantic is not None
    encoder: SentenceEncoder = request.getfixturevalue(request.param)
    return ContractReviewer(registry, ClauseMatcher(registry.playbooks, registry.semantic, encoder))


@pytest.fixture(scope="module")
def static_matcher(registry: PlaybookRegistry, static_encoder: StaticTokenEmbedder) -> ClauseMatcher:
    assert registry.semantic is not None
    return ClauseMatcher(registry.playbooks, registry.semantic, static_encoder)


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
    assert "loan.governing_law" not in found
    assert cited["loan.governing_law"] == ("s8", PARAPHRASED_LAW.strip())
    assert semantic_reviewer.matcher is not None
    if semantic_reviewer.matcher.provenance.startswith("minilm/"):
        assert "loan.cooling_off" not in found
        assert cited["loan.cooling_off"] == ("s6", PARAPHRASED_WITHDRAWAL)
    else:
        # The static encoder's known limit (docs/compliance.md): a paraphrase sharing no content word with
        # the examples ("step away ... no questions asked" for a withdrawal right) scores a margin of 0.005,
        # under 0.02, so the finding stays: the safe direction (a false alarm, never a hidden clause).
        assert "loan.cooling_off" in found and "loan.cooling_off" not in cited


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
    assert config.background and {"static", "minilm"} <= set(config.encoders)
    assert config.parameters("static").center and not config.parameters("minilm").center
    with pytest.raises(ValueError, match=r"no \[encoders.onnx\] table"):
        config.parameters("onnx")
    bad = tmp_path / "semantic.toml"
    table = "[encoders.static]\nthreshold = {t}\nmargin = 0.05\ncenter = true\n"
    bad.write_text('version = "1"\nbackground = ["x"]\n' + table.format(t=1.5))
    with pytest.raises(ValueError, match=r"\[encoders.static\]: threshold must be"):
        load_semantic_config(bad)
    bad.write_text('version = "1"\nbackground = []\nextra = 1\n' + table.format(t=0.5))
    with pytest.raises(ValueError, match="unknown keys"):
        load_semantic_config(bad)
    bad.write_text('version = "1"\nbackground = ["x"]\n' + table.format(t=0.5).replace("center = true", "center = 1"))
    with pytest.raises(ValueError, match="center must be true or false"):
        load_semantic_config(bad)
    bad.write_text('version = "1"\nbackground = ["x"]\nthreshold = 0.5\n')
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


def test_the_static_encoder_is_deterministic_and_names_its_weights(static_encoder: StaticTokenEmbedder) -> None:
    texts = ["Portuguese law applies to this agreement.", "", "The Borrower may withdraw within 14 days."]
    first = static_encoder.embed(texts)
    again = StaticTokenEmbedder().embed(texts)
    assert first.dtype == np.float32 and first.shape == (3, static_encoder.dimension) == (3, 384)
    assert first.tobytes() == again.tobytes()  # bit for bit, across instances
    assert not first[1].any()  # no tokens: a zero vector, which the matcher never accepts
    assert STATIC_ID.fullmatch(static_encoder.encoder_id)
    assert StaticTokenEmbedder().encoder_id == static_encoder.encoder_id
    # One word repeated is that word's own vector: the mean of the token-embedding rows, nothing else.
    law, law_law = static_encoder.embed(["law", "law law law"])
    assert np.allclose(law, law_law, atol=1e-7) and np.linalg.norm(law) > 0


def test_a_review_records_the_encoder_and_the_semantic_configuration(
    registry: PlaybookRegistry, reviewer: ContractReviewer, static_matcher: ClauseMatcher
) -> None:
    semantic = ContractReviewer(registry, static_matcher)
    document = parse_document(COMPLETE_LOAN.replace(LAW, PARAPHRASED_LAW).encode(), DocumentFormat.MARKDOWN)
    result = semantic.review("c1", document, contract_type=ContractType.LOAN)
    assert [m.check_id for m in result.semantic_matches] == ["loan.governing_law"]
    encoder_id, config = result.semantic_provenance.split(" ")
    assert STATIC_ID.fullmatch(encoder_id)
    assert registry.semantic is not None and config == f"semantic.toml@{registry.semantic.version}"
    assert reviewer.review("c1", document, contract_type=ContractType.LOAN).semantic_provenance == ""


def test_the_cache_only_saves_work(registry: PlaybookRegistry, static_encoder: StaticTokenEmbedder) -> None:
    assert registry.semantic is not None
    cached = ClauseMatcher(registry.playbooks, registry.semantic, static_encoder, cache_size=100)
    uncached = ClauseMatcher(registry.playbooks, registry.semantic, static_encoder, cache_size=0)
    texts = [PARAPHRASED_LAW.strip(), "The fees are invoiced monthly.", WITHDRAWAL]
    first = cached.embed(texts)
    assert (cached.sentences_embedded, cached.cache_hits) == (3, 0)
    assert cached.embed(texts[:2]).tobytes() == first[:2].tobytes()
    assert (cached.sentences_embedded, cached.cache_hits) == (3, 2)
    assert uncached.embed(texts).tobytes() == uncached.embed(texts).tobytes() == first.tobytes()
    assert (uncached.sentences_embedded, uncached.cache_hits) == (6, 0)


def test_the_settings_select_the_encoder() -> None:
    engine = ComplianceEngine.from_settings(ComplianceSettings())
    assert engine.reviewer.matcher is not None and STATIC_ID.match(engine.reviewer.matcher.provenance)
    assert ComplianceEngine.from_settings(ComplianceSettings(semantic_matching=False)).reviewer.matcher is None
    with pytest.raises(ValidationError, match="semantic_encoder"):
        ComplianceSettings(semantic_encoder="word2vec")  # type: ignore[arg-type]


def test_on_the_labelled_contracts_the_default_encoder_hides_no_finding(
    registry: PlaybookRegistry, reviewer: ContractReviewer, static_matcher: ClauseMatcher
) -> None:
    """The eval's figure as a guard: every labelled finding still reported (recall 1.0 in every subset), and
    on the held-out rewording B most of the lexicon's false "missing clause" alarms gone (1 of 37 left when
    this was written; the MiniLM transformer left 12)."""
    semantic = ContractReviewer(registry, static_matcher)
    labels = json.loads((CORPUS / "labels" / "contracts.json").read_text())
    missed: list[tuple[str, str]] = []
    false_alarms = {"lexical": 0, "semantic": 0}
    for name, label in sorted(labels.items()):
        path = CORPUS / "contracts" / name
        document = parse_document(path.read_bytes(), _FORMATS[path.suffix])
        expected = set(label["expected"])
        for key, engine in (("lexical", reviewer), ("semantic", semantic)):
            found = {
                f.check_id
                for f in engine.review(name, document, contract_type=ContractType(label["contract_type"])).findings
            }
            missed.extend((name, check) for check in expected - found)
            if label["held_out"]:
                false_alarms[key] += len(found - expected)
    assert missed == []
    assert false_alarms["lexical"] >= 30 and false_alarms["semantic"] <= 2
