"""``fintech kb``: load the shipped knowledge base, and rebuild the index from the stored articles.

The stored articles (the platform database) are the source of truth; the Milvus index can always be
rebuilt from them (``reindex``), so a database restore followed by a reindex gives the same answers.
milvus-lite allows one process per data directory: run these while the CustomerService process using the
same directory is stopped (``make run`` loads before it starts the services); a Milvus server has no such limit.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(no_args_is_help=True, help="The knowledge base: load the shipped articles, rebuild the index.")
console = Console(stderr=True)
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", envvar="FINTECH_CONFIG", help="TOML config file")]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


async def load_knowledge_base(config: Path | None, kb_dir: Path | None, *, show: bool = True) -> tuple[int, int]:
    """Store every shipped article in the catalog, then bring the index in line with the catalog.

    Returns:
        (articles stored or unchanged, index documents removed).
    """
    from retrieval.documents import default_kb_dir, load_articles
    from server.customer.answering.sql_store import SqlArticleCatalog
    from server.runtime.config import load_settings
    from server.runtime.wiring import open_knowledge_index
    from server.storage.resources import open_state

    settings = load_settings(config)
    articles = load_articles(kb_dir or settings.retrieval.kb_dir or default_kb_dir())
    state = await open_state(settings, checkpoints=False)
    try:
        catalog = SqlArticleCatalog(state.database)
        for article in articles:
            await catalog.put(article)
        index = await open_knowledge_index(settings)
        try:
            return await _reindex(catalog, index, show=show)
        finally:
            await index.close()
    finally:
        await state.close()


async def _reindex(catalog, index, *, show: bool) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from server.customer.answering.operations import KnowledgeAdmin

    admin = KnowledgeAdmin(catalog, index, tokens=None)  # type: ignore[arg-type]  # no pagination here
    with _progress() as progress:
        task = progress.add_task("indexing articles", total=None, visible=show)

        def advance(done: int, document_id: str) -> None:
            progress.update(task, completed=done, description=f"indexing {document_id[:40]}")

        stored, removed = await admin.reindex(progress=advance)
        await index.flush()
    return stored, removed


@app.command("load")
def load_command(
    config: ConfigOption = None,
    kb_dir: Annotated[Path | None, typer.Option("--dir", help="Folder of Markdown articles.")] = None,
) -> None:
    """Store the shipped articles (unchanged ones change nothing) and index them."""
    stored, removed = asyncio.run(load_knowledge_base(config, kb_dir))
    console.print(f"{stored} articles stored and indexed; {removed} stale index documents removed")


@app.command("reindex")
def reindex_command(config: ConfigOption = None) -> None:
    """Rebuild the index from the stored articles (after a restore, or a new embedding model)."""
    from server.customer.answering.sql_store import SqlArticleCatalog
    from server.runtime.config import load_settings
    from server.runtime.wiring import open_knowledge_index
    from server.storage.resources import open_state

    async def run() -> tuple[int, int]:
        settings = load_settings(config)
        state = await open_state(settings, checkpoints=False)
        try:
            index = await open_knowledge_index(settings)
            try:
                return await _reindex(SqlArticleCatalog(state.database), index, show=True)
            finally:
                await index.close()
        finally:
            await state.close()

    stored, removed = asyncio.run(run())
    console.print(f"index rebuilt from {stored} stored articles; {removed} documents removed")
