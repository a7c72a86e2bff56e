"""Map-reduce planning, and the deterministic path on a 100,000-word document in bounded memory."""

from __future__ import annotations

import tracemalloc

from server.compliance.analysis import analyze_regulation
from server.compliance.corpus.synthetic import synthetic_regulation
from server.compliance.domain import DocumentFormat, ProcessTaxonomy
from server.compliance.parsing import parse_document
from server.compliance.planning import estimate_tokens, iter_map_chunks, plan_reduce

from .conftest import CORPUS


def test_chunks_keep_whole_clauses_under_budget() -> None:
    document = parse_document(
        (CORPUS / "regulations" / "consumer_credit_disclosure_v1.md").read_bytes(), DocumentFormat.MARKDOWN
    )
    chunks = list(iter_map_chunks(document, token_budget=200))
    assert len(chunks) > 3 and all(c.token_estimate <= 200 for c in chunks)
    covered = [cid for c in chunks for cid in c.clause_ids]
    assert covered == [c.clause_id for c in document.clauses if c.text or c.heading]
    for chunk in chunks:  # every clause cited appears with its id in the chunk text
        assert all(f"[{cid}]" in chunk.text for cid in chunk.clause_ids)


def test_oversized_clause_is_split_on_sentences() -> None:
    document = parse_document(
        ("# R\n\n### Article 1\n\n" + "The lender shall act. " * 400).encode(), DocumentFormat.MARKDOWN
    )
    chunks = list(iter_map_chunks(document, token_budget=100))
    assert len(chunks) > 10 and all(c.clause_ids == ("art1",) for c in chunks)
    assert all(estimate_tokens(c.text) <= 100 for c in chunks)


def test_reduce_plan_ends_in_one_step() -> None:
    steps = plan_reduce([f"m{i}" for i in range(1, 21)], fan_in=4)
    assert [s.step_id for s in steps if s.level == 1] == ["r1.1", "r1.2", "r1.3", "r1.4", "r1.5"]
    assert steps[-1].inputs == ("r2.1", "r2.2") and steps[-1].level == 3
    assert plan_reduce(["m1"]) == plan_reduce(["m1"], fan_in=2) and len(plan_reduce(["m1"])) == 1


def test_100k_words_deterministic_path_is_bounded(taxonomy: ProcessTaxonomy) -> None:
    """Parse, analyse and plan 100,000 words; peak memory grows with the text, not faster (speed: bench)."""
    peaks = []
    for words in (10_000, 100_000):
        content = synthetic_regulation(words)
        tracemalloc.start()
        document = parse_document(content, DocumentFormat.PLAIN_TEXT)
        analysis = analyze_regulation("long", document, taxonomy)
        biggest = max(c.token_estimate for c in iter_map_chunks(document, 1500))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert biggest <= 1500 and document.word_count >= words
    assert len(analysis.obligations) > 3000 and analysis.effective_date is not None
    assert analysis.timeline[-1].clause_id == document.clauses[-1].clause_id or analysis.timeline
    # The result holds every clause, so memory is linear in the text: 10x the words, at most ~14x the peak,
    # and well under 100 MB for 100,000 words (about 0.7 MB of text).
    assert peaks[1] < 14 * peaks[0] and peaks[1] < 100 * 1024 * 1024
