"""Heading-aware chunking: sections, overlap, and content-hash ids stable across runs."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

import pytest

from retrieval.chunking import ChunkingPolicy, chunk_article
from retrieval.documents import Article, default_kb_dir, load_articles


def _article(body: str, **changes: object) -> Article:
    base = Article(
        id="doc-1",
        title="Card delivery",
        intents=("card_arrival",),
        locale="en-GB",
        updated=date(2026, 10, 1),
        body=body,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


BODY = """# Card delivery

Cards are printed the same day.

## Delivery times
Standard post takes 3 to 5 working days.

## Tracking
### Express
Express cards have a courier number.
"""


def test_one_chunk_per_section_with_heading_path() -> None:
    chunks = chunk_article(_article(BODY))
    assert [c.heading for c in chunks] == ["", "Delivery times", "Tracking > Express"]
    assert chunks[1].content == "Standard post takes 3 to 5 working days."
    assert chunks[1].indexed_text.startswith("Card delivery > Delivery times\n")
    assert [c.position for c in chunks] == [0, 1, 2]


def test_ids_are_stable_and_only_edited_sections_change() -> None:
    first = chunk_article(_article(BODY))
    again = chunk_article(_article(BODY))
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    edited = chunk_article(_article(BODY.replace("3 to 5", "2 to 4")))
    changed = {c.chunk_id for c in edited} ^ {c.chunk_id for c in first}
    assert len(changed) == 2  # the old and the new version of the one edited section
    assert first[0].chunk_id == edited[0].chunk_id


def test_metadata_changes_change_ids() -> None:
    first = chunk_article(_article(BODY))
    relabelled = chunk_article(_article(BODY, intents=("card_arrival", "card_delivery_estimate")))
    assert not {c.chunk_id for c in first} & {c.chunk_id for c in relabelled}


def test_long_sections_split_with_overlap() -> None:
    sentences = [f"Sentence number {i} explains one more rule about fees and limits." for i in range(40)]
    body = "## Rules\n" + " ".join(sentences)
    policy = ChunkingPolicy(max_chars=400, overlap_chars=120)
    chunks = chunk_article(_article(body), policy)
    assert len(chunks) > 3
    assert all(len(c.content) <= 400 for c in chunks)
    for previous, current in itertools.pairwise(chunks):
        # The first sentence of each window repeats the end of the previous one.
        assert current.content.splitlines()[0] in previous.content
    joined = "\n".join(c.content for c in chunks)
    assert all(s in joined for s in sentences)


def test_body_with_only_headings_still_yields_a_chunk() -> None:
    chunks = chunk_article(_article("# Card delivery\n## Soon"))
    assert len(chunks) == 1


@pytest.mark.parametrize(("max_chars", "overlap"), [(50, 0), (400, 300), (400, -1)])
def test_bad_policies_are_rejected(max_chars: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        ChunkingPolicy(max_chars=max_chars, overlap_chars=overlap)


def test_knowledge_base_chunks_are_unique_and_bounded() -> None:
    chunks = [c for a in load_articles(default_kb_dir()) for c in chunk_article(a)]
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert max(len(c.content) for c in chunks) <= ChunkingPolicy().max_chars
