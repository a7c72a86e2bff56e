"""Everything is wired here, once, at start-up.

Creates the shared resources of a process (database, audit trail, keyring,
inference pool, knowledge index) from the settings and registers their
clean-up. A resource that is not configured is absent from the context and
the services that need it say so when called, loudly, never with a stand-in.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from server.runtime.clock import Clock, SystemClock
from server.runtime.config import Settings
from server.runtime.context import AppContext


async def build_context(settings: Settings, *, clock: Clock | None = None) -> AppContext:
    """The AppContext of a server process."""
    ctx = AppContext(settings=settings, clock=clock or SystemClock())
    # One Prometheus registry per server: the RPC metrics, the inference pool's and every domain's
    # collectors register here, and the metrics endpoint serves exactly this registry.
    ctx.resources["metrics_registry"] = CollectorRegistry()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await _state(ctx)
    await _inference(ctx)
    if "customer" in settings.server.services:
        await _knowledge(ctx)
    return ctx


def embedder_for(settings: Settings) -> Any:
    """The sentence embedder with its on-disk cache (fixed corpora are embedded once)."""
    from retrieval.embedding import CachedEmbedder, EmbeddingCache, shared_embedder

    cache = settings.retrieval.embedding_cache or settings.data_dir / "cache" / "embeddings.sqlite"
    onnx_dir = settings.data_dir / "cache" / "onnx"
    model = shared_embedder(query_encoder=settings.retrieval.query_encoder, onnx_dir=onnx_dir)
    return CachedEmbedder(model, EmbeddingCache(cache))


async def open_knowledge_index(settings: Settings) -> Any:
    """The knowledge index named by the settings (milvus-lite under data_dir, or a Milvus server)."""
    from retrieval.milvus import MilvusKnowledgeIndex

    token = settings.retrieval.token_file.read_text().strip() if settings.retrieval.token_file else ""
    return await MilvusKnowledgeIndex.open(
        settings.retrieval.resolved_uri(settings.data_dir),
        embedder=embedder_for(settings),
        collection=settings.retrieval.collection,
        token=token,
        rrf_k=settings.retrieval.rrf_k,
        ranker=settings.retrieval.hybrid_ranker,
        dense_weight=settings.retrieval.dense_weight,
        query_cache_size=settings.retrieval.query_cache_size,
        milvus_workers=settings.retrieval.milvus_workers,
        timeout_seconds=settings.retrieval.connect_timeout_seconds,
    )


async def _knowledge(ctx: AppContext) -> None:
    """The knowledge index CustomerService retrieves from; built beforehand (`fintech kb load`), served here."""
    index = await open_knowledge_index(ctx.settings)
    ctx.resources["knowledge_index"] = index
    ctx.closers.append(index.close)


async def prepare_state(settings: Settings) -> None:
    """Development and test set-up: create missing key files, then migrate the schema (under its lock).

    Production creates keys out of band (Secrets) and migrates with the chart's pre-upgrade Job.
    """
    from server.crypto.cli import ensure_keys
    from server.storage.database import create_database
    from server.storage.migrations import upgrade
    from server.storage.resources import section
    from server.storage.settings import DatabaseSettings

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ensure_keys(settings)
    database = create_database(section(settings, "database", DatabaseSettings), settings.data_dir)
    try:
        await upgrade(database)
    finally:
        await database.close()


async def _state(ctx: AppContext) -> None:
    """Database, keyring, audit trail, idempotency, page tokens; refuses a schema that does not match."""
    from inference.budget import SqlTokenBudgetStore
    from server.storage.resources import open_state

    state = await open_state(ctx.settings, clock=ctx.clock)
    ctx.resources.update(state.resources())
    state.start_checkpointing()
    ctx.closers.append(state.close)
    ctx.resources["token_budgets"] = SqlTokenBudgetStore(state.database.engine)
    from server.operations.figures import daily_figures

    ctx.resources["daily_figures"] = daily_figures(state.database)


async def _inference(ctx: AppContext) -> None:
    """The LLM inference pool, when model groups are configured."""
    if not ctx.settings.inference.groups:
        return
    from inference.pool import InferencePool

    budget_store = ctx.resources.get("token_budgets")
    pool = InferencePool(
        ctx.settings.inference,
        clock=ctx.clock,
        budget_store=budget_store,
        registry=ctx.resources.get("metrics_registry"),
    )
    await pool.start()
    ctx.resources["inference"] = pool
    ctx.closers.append(pool.close)
