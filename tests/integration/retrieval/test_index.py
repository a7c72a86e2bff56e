"""The Milvus knowledge index on real milvus-lite with the real embedding model."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from retrieval.chunking import chunk_article
from retrieval.documents import Article
from retrieval.index import UNAVAILABLE_REASON, SearchFilter, SearchMode
from retrieval.milvus import MilvusKnowledgeIndex, probe_knowledge_base
from server.runtime.errors import InvalidArgument, Unavailable
from tests.integration.retrieval.conftest import CountingEmbedder

REPO_ROOT = Path(__file__).resolve().parents[3]


async def test_reingesting_an_unchanged_article_does_nothing(
    index_uri: str, corpus: list[Article], counting_embedder: CountingEmbedder
) -> None:
    article = corpus[0]
    index = await MilvusKnowledgeIndex.open(index_uri, embedder=counting_embedder)
    try:
        first = await index.upsert_document(article)
        assert first.inserted == len(chunk_article(article)) and first.deleted == 0
        embedded = counting_embedder.texts
        again = await index.upsert_document(article)
        assert again.unchanged
        assert counting_embedder.texts == embedded  # nothing re-embedded
        assert await index.chunk_count() == first.inserted
    finally:
        await index.close()


async def test_an_edit_replaces_only_the_changed_chunk(
    index_uri: str, corpus: list[Article], counting_embedder: CountingEmbedder
) -> None:
    article = next(a for a in corpus if a.id == "pin-blocked")
    index = await MilvusKnowledgeIndex.open(index_uri, embedder=counting_embedder)
    try:
        await index.upsert_document(article)
        before = await index.chunk_count()
        edited = replace(article, body=article.body.replace("3 wrong PIN entries", "4 wrong PIN entries"))
        texts_before = counting_embedder.texts
        result = await index.upsert_document(edited)
        assert (result.inserted, result.deleted) == (1, 1)
        assert counting_embedder.texts == texts_before + 1
        assert await index.chunk_count() == before
        hits = await index.search("how many wrong PIN tries", limit=3, mode=SearchMode.SPARSE)
        assert any("4 wrong PIN entries" in hit.content for hit in hits)
        assert not any("3 wrong PIN entries" in hit.content for hit in hits)
    finally:
        await index.close()


async def test_deleting_removes_every_chunk(
    index_uri: str, corpus: list[Article], counting_embedder: CountingEmbedder
) -> None:
    index = await MilvusKnowledgeIndex.open(index_uri, embedder=counting_embedder)
    try:
        for article in corpus[:2]:
            await index.upsert_document(article)
        removed = await index.delete_document(corpus[0].id)
        assert removed == len(chunk_article(corpus[0]))
        assert await index.document_ids() == {corpus[1].id}
        hits = await index.search("card delivery", limit=10, search_filter=SearchFilter(document_ids=(corpus[0].id,)))
        assert hits == []
        assert await index.delete_document(corpus[0].id) == 0
    finally:
        await index.close()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("my wallet was stolen with my card in it", "lost-stolen-card"),
        ("my card still hasn't come in the post", "card-not-arrived"),
        ("is it free to load money with a credit card", "top-up-card-fees"),
        ("how do I shut my account down", "close-account"),
        ("typed the wrong code three times and it's locked", "pin-blocked"),
    ],
)
@pytest.mark.parametrize("mode", [SearchMode.HYBRID, SearchMode.DENSE])
async def test_paraphrased_questions_find_their_article(
    built_index: MilvusKnowledgeIndex, question: str, expected: str, mode: SearchMode
) -> None:
    hits = await built_index.search(question, limit=3, mode=mode)
    assert expected in [hit.document_id for hit in hits]
    assert [hit.rank for hit in hits] == [1, 2, 3]
    assert hits[0].score >= hits[-1].score


async def test_bm25_finds_exact_terms_and_scores_positive(built_index: MilvusKnowledgeIndex) -> None:
    hits = await built_index.search("SWIFT intermediary banks", limit=3, mode=SearchMode.SPARSE)
    assert "transfer-fees" in {hit.document_id for hit in hits}
    assert all(hit.score > 0 for hit in hits)


async def test_hits_carry_chunk_text_title_and_metadata(built_index: MilvusKnowledgeIndex) -> None:
    hit = (await built_index.hybrid("Apple Pay on my watch", limit=1))[0]
    assert hit.document_id == "apple-google-pay"
    assert hit.title == "Apple Pay and Google Pay"
    assert hit.content and len(hit.chunk_id) == 32
    assert hit.intents == ("apple_pay_or_google_pay",) and hit.locale == "en-GB"


async def test_locale_filter(built_index: MilvusKnowledgeIndex) -> None:
    irish = await built_index.hybrid("how long does card delivery take", search_filter=SearchFilter(locale="en-IE"))
    assert irish and {hit.document_id for hit in irish} == {"card-delivery-times-ie"}
    british = await built_index.hybrid("how long does card delivery take", search_filter=SearchFilter(locale="en-GB"))
    assert "card-delivery-times-ie" not in {hit.document_id for hit in british}


async def test_intent_filter(built_index: MilvusKnowledgeIndex) -> None:
    for mode in SearchMode:
        hits = await built_index.search(
            "fees", limit=10, mode=mode, search_filter=SearchFilter(intents=("cash_withdrawal_charge",))
        )
        assert hits, mode
        assert all("cash_withdrawal_charge" in hit.intents for hit in hits), mode


@pytest.mark.parametrize(
    ("query", "limit", "field"), [("  ", 5, "query"), ("fees", 0, "limit"), ("x" * 4001, 5, "query")]
)
async def test_bad_searches_name_the_field(
    built_index: MilvusKnowledgeIndex, query: str, limit: int, field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await built_index.search(query, limit=limit)
    assert [v.field for v in caught.value.violations] == [field]


async def test_readiness(
    built_index: MilvusKnowledgeIndex, index_uri: str, counting_embedder: CountingEmbedder
) -> None:
    ready = await probe_knowledge_base(built_index)
    assert ready.ready and ready.chunk_count > 10
    assert not (await probe_knowledge_base(None)).ready
    empty = await MilvusKnowledgeIndex.open(index_uri, embedder=counting_embedder)
    assert (await empty.readiness()).detail == "knowledge base is empty"
    await empty.close()
    closed = await empty.readiness()
    assert not closed.ready
    with pytest.raises(Unavailable) as caught:
        await empty.search("fees")
    assert caught.value.reason == UNAVAILABLE_REASON


async def test_unreachable_server_is_unavailable(counting_embedder: CountingEmbedder) -> None:
    with pytest.raises(Unavailable) as caught:
        await MilvusKnowledgeIndex.open("http://127.0.0.1:9", embedder=counting_embedder, timeout_seconds=2)
    assert caught.value.reason == UNAVAILABLE_REASON
    assert caught.value.domain == "customer.fintech"


async def test_a_locked_data_directory_is_unavailable_in_another_process(
    index_uri: str, counting_embedder: CountingEmbedder
) -> None:
    index = await MilvusKnowledgeIndex.open(index_uri, embedder=counting_embedder)
    try:
        script = textwrap.dedent(
            f"""
            import asyncio
            from retrieval.embedding import MiniLmEmbedder
            from retrieval.milvus import MilvusKnowledgeIndex
            from server.runtime.errors import Unavailable
            async def main():
                try:
                    await MilvusKnowledgeIndex.open({index_uri!r}, embedder=MiniLmEmbedder())
                except Unavailable as exc:
                    print(exc.reason)
            asyncio.run(main())
            """
        )
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            script,
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(child.communicate(), timeout=120)
        assert stdout.decode().strip().endswith(UNAVAILABLE_REASON), stderr.decode()[-2000:]
    finally:
        await index.close()


async def test_a_repeated_query_is_embedded_once(
    index_uri: str, corpus: list[Article], counting_embedder: CountingEmbedder
) -> None:
    index = await MilvusKnowledgeIndex.open(index_uri, embedder=counting_embedder)
    try:
        await index.upsert_document(corpus[0])
        before = counting_embedder.texts
        await index.search("card delivery times", mode=SearchMode.HYBRID)
        await index.search("card delivery times", mode=SearchMode.DENSE)
        assert counting_embedder.texts == before + 1
    finally:
        await index.close()
