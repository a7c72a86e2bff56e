"""Building the knowledge index from articles: the "build" half of build-then-serve.

This module owns bulk ingestion with progress reporting (used by start-up, ``fintech kb reindex`` and
the benchmark): every article is upserted (unchanged ones cost one query and no embedding), articles
no longer present are deleted when asked, and the collection is flushed so a serving process that
opens it afterwards sees everything. ``python -m retrieval.build --uri var/milvus/kb.db`` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval.documents import Article, default_kb_dir, load_articles
from retrieval.embedding import CachedEmbedder, Embedder, EmbeddingCache, shared_embedder
from retrieval.milvus import MilvusKnowledgeIndex

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BuildReport:
    """What a build changed."""

    documents: int
    unchanged: int
    chunks_inserted: int
    chunks_deleted: int
    documents_removed: int
    seconds: float


async def sync_articles(
    index: MilvusKnowledgeIndex,
    articles: Sequence[Article],
    *,
    remove_missing: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Makes the index hold exactly ``articles`` (and, with ``remove_missing``, nothing else).

    Args:
        index: An open index.
        articles: The articles to index.
        remove_missing: Delete indexed documents that are not in ``articles``.
        progress: Called with (done, total, document id) after each article.
    """
    started = time.monotonic()
    inserted = deleted = unchanged = removed = 0
    for done, article in enumerate(articles, start=1):
        result = await index.upsert_document(article)
        inserted += result.inserted
        deleted += result.deleted
        unchanged += int(result.unchanged)
        if progress is not None:
            progress(done, len(articles), article.id)
    if remove_missing:
        wanted = {article.id for article in articles}
        for document_id in sorted(await index.document_ids() - wanted):
            deleted += await index.delete_document(document_id)
            removed += 1
    await index.flush()
    return BuildReport(len(articles), unchanged, inserted, deleted, removed, round(time.monotonic() - started, 2))


async def build_index(
    uri: str, articles: Sequence[Article], embedder: Embedder, *, remove_missing: bool = True
) -> BuildReport:
    """Opens ``uri``, syncs ``articles`` into it, flushes and closes (releasing milvus-lite's lock)."""
    index = await MilvusKnowledgeIndex.open(uri, embedder=embedder)
    try:
        return await sync_articles(index, articles, remove_missing=remove_missing)
    finally:
        await index.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Build the knowledge index from Markdown articles.")
    parser.add_argument("--uri", default="var/milvus/kb.db", help="milvus-lite file (*.db) or server URI")
    parser.add_argument("--kb", type=Path, default=default_kb_dir(), help="folder of *.md articles")
    parser.add_argument("--cache", type=Path, default=Path("var/cache/embeddings.sqlite"), help="embedding cache")
    args = parser.parse_args(argv)
    embedder = CachedEmbedder(shared_embedder(), EmbeddingCache(args.cache))
    report = asyncio.run(build_index(args.uri, load_articles(args.kb), embedder))
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
