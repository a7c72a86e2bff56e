"""Retrieval latency: hybrid (dense + BM25, RRF) against dense-only, at 1, 8 and 32 concurrent callers.

The corpus is the knowledge base's chunks plus synthetic chunks made by recombining sentences of
different articles, up to at least 10,000 chunks (see :func:`synthetic_corpus` for their vectors).
The index is built by a child process (and kept in var/bench/retrieval/ for reruns, keyed by the
corpus hash); this process opens the built collection and measures, as a serving process would.
Each measured call is the full ``index.search`` path: the query is embedded (no query cache) and
searched. Queries are real customer questions (BANKING77 rows held out from intent training), each
used once per run. Hybrid is the service's configuration (``retrieval.index.DEFAULT_RANKER``); the
baseline is dense-only in the same run. At 1 caller the run also splits the time: the query embedding
alone, each Milvus call alone (vectors computed beforehand), and a search whose query vector is cached.
The 1-minute load average is recorded before every level (the machine is shared). Writes
bench/results/retrieval.json.

Run: ``python bench/retrieval.py`` (``make bench``). Goal: hybrid p99 < 30 ms at 1 caller.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from retrieval.chunking import Chunk, chunk_article  # noqa: E402
from retrieval.documents import default_kb_dir, load_articles  # noqa: E402
from retrieval.embedding import CachedEmbedder, EmbeddingCache, MiniLmEmbedder, shared_embedder  # noqa: E402
from retrieval.index import DEFAULT_DENSE_WEIGHT, DEFAULT_RANKER, HybridRanker, SearchMode  # noqa: E402
from retrieval.milvus import MilvusKnowledgeIndex, filter_expression  # noqa: E402

TARGET_CHUNKS = 10_000
CONCURRENCY = (1, 8, 32)
QUERIES_PER_LEVEL = 320
BENCH_DIR = REPO_ROOT / "var" / "bench" / "retrieval"
CACHE = REPO_ROOT / "var" / "cache" / "embeddings.sqlite"
RESULTS = REPO_ROOT / "bench" / "results" / "retrieval.json"
GOAL_P99_MS = 30.0


def synthetic_corpus(target: int = TARGET_CHUNKS, seed: int = 77) -> tuple[list[Chunk], list[tuple[int, int, float]]]:
    """The real chunks plus synthetic ones, ``target`` in all.

    A synthetic chunk joins sentences of two real chunks (a host and a donor). Its dense vector is a
    mixture of theirs (see :func:`vectors_for`), because embedding 10,000 texts on the shared 2-core
    machine takes the better part of an hour; search latency does not depend on the vectors' values,
    and the bench does not measure retrieval quality. Its BM25 vector is Milvus' own, from its real text.

    Returns:
        The chunks, and for each synthetic one (host index, donor index, host weight).
    """
    articles = load_articles(default_kb_dir())
    real = [chunk for article in articles for chunk in chunk_article(article)]
    split = [[p.strip() for p in re.split(r"(?<=[.!?])\s+|\n", c.content) if len(p.strip()) > 25] for c in real]
    usable = [i for i, parts in enumerate(split) if parts]
    rng = random.Random(seed)
    chunks = list(real)
    mixes: list[tuple[int, int, float]] = []
    while len(chunks) < target:
        host, donor = rng.choice(usable), rng.choice(usable)
        taken = rng.sample(split[host], k=min(len(split[host]), rng.randint(1, 3)))
        taken += rng.sample(split[donor], k=min(len(split[donor]), rng.randint(1, 2)))
        content = " ".join(taken)
        number = len(chunks)
        source = real[host]
        chunks.append(
            Chunk(
                chunk_id=hashlib.sha256(f"synthetic-{number}-{content}".encode()).hexdigest()[:32],
                document_id=f"synthetic-{number // 4:05d}",
                title=source.title,
                heading=f"{source.heading or 'Note'} ({number % 4 + 1})",
                content=content,
                position=number % 4,
                intents=source.intents,
                locale=source.locale,
            )
        )
        mixes.append((host, donor, rng.uniform(0.5, 0.8)))
    return chunks, mixes


def vectors_for(chunks: list[Chunk], mixes: list[tuple[int, int, float]], seed: int = 77) -> npt.NDArray[np.float32]:
    """Real embeddings for the real chunks; for synthetic ones, a noisy unit-length mix of host and donor."""
    real_count = len(chunks) - len(mixes)
    embedder = CachedEmbedder(shared_embedder(), EmbeddingCache(CACHE))
    real = embedder.embed([chunk.indexed_text for chunk in chunks[:real_count]])
    rng = np.random.default_rng(seed)
    hosts = np.array([m[0] for m in mixes])
    donors = np.array([m[1] for m in mixes])
    weights = np.array([m[2] for m in mixes], dtype=np.float32)[:, None]
    mixed = weights * real[hosts] + (1 - weights) * real[donors]
    mixed += rng.normal(0.0, 0.03, size=mixed.shape).astype(np.float32)
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    return np.concatenate([real, mixed.astype(np.float32)])


def corpus_key(chunks: list[Chunk]) -> str:
    """Hash of the corpus, naming the built index so a changed corpus is rebuilt."""
    digest = hashlib.sha256()
    # Bump when what is stored changes for the same chunks (v2: BM25 text normalised by retrieval.text).
    digest.update(b"index-format-2")
    for chunk in chunks:
        digest.update(chunk.chunk_id.encode())
    return digest.hexdigest()[:16]


async def build(uri: str, chunks: list[Chunk], mixes: list[tuple[int, int, float]]) -> None:
    """Inserts ``chunks`` with their vectors, then flushes."""
    vectors = vectors_for(chunks, mixes)
    index = await MilvusKnowledgeIndex.open(uri, embedder=shared_embedder())
    try:
        for start in range(0, len(chunks), 1000):
            await index.insert_chunks(chunks[start : start + 1000], vectors[start : start + 1000].tolist())
            print(f"built {min(start + 1000, len(chunks))}/{len(chunks)}", flush=True)
        await index.flush()
    finally:
        await index.close()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


async def measure(index: MilvusKnowledgeIndex, mode: SearchMode, queries: list[str], callers: int) -> dict[str, Any]:
    """Runs ``queries`` spread over ``callers`` concurrent tasks; returns latency figures in ms."""
    latencies: list[float] = []
    share = [queries[i::callers] for i in range(callers)]

    async def caller(mine: list[str]) -> None:
        for query in mine:
            started = time.perf_counter()
            await index.search(query, limit=5, mode=mode)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(caller(mine) for mine in share))
    wall = time.perf_counter() - started
    return {
        "callers": callers,
        "queries": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "throughput_qps": round(len(latencies) / wall, 1),
    }


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "p99": round(percentile(values, 0.99), 2)}


def _timed(fn: Any, items: list[Any]) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


async def breakdown(
    index: MilvusKnowledgeIndex, embedder: MiniLmEmbedder, queries: list[str], cached_index: MilvusKnowledgeIndex
) -> dict[str, Any]:
    """Where one caller's time goes: embedding, each Milvus call alone, and a search with a cached vector."""
    embed_one = _timed(lambda q: embedder.embed([q]), queries)  # the serving path (retrieval.query_encoder)
    chosen = embedder.query_encoder
    embedder.query_encoder = "torch"  # the torch forward pass, the single-query path before ONNX Runtime
    try:
        embed_torch = _timed(lambda q: embedder.embed([q]), queries)
    finally:
        embedder.query_encoder = chosen
    model = embedder._load()  # the library's own encode, for comparison with the direct forward pass
    encode = _timed(
        lambda q: model.encode([q], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False),
        queries,
    )
    # What serving did before: queries went through the on-disk cache (a SQLite lookup, then a write and
    # commit per new question). Now they skip it (retrieval.embedding.query_vectors_for).
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        disk = CachedEmbedder(embedder, EmbeddingCache(Path(tmp) / "vectors.sqlite"))
        through_disk = _timed(lambda q: disk.embed([q + " "]), queries)  # a new text each: a miss, as in serving
    vectors = {q: embedder.embed([q])[0].tolist() for q in queries}
    expression = filter_expression(None)
    milvus_dense = _timed(lambda q: index._dense(vectors[q], 5, expression), queries)
    milvus_hybrid = _timed(lambda q: index._hybrid(q, vectors[q], 5, expression), queries)
    milvus_sparse = _timed(lambda q: index._sparse(q, 5, expression), queries)
    for query in queries:  # fills the query-vector cache
        await cached_index.search(query, limit=5, mode=SearchMode.HYBRID)
    cached_hybrid = []
    for query in queries:
        started = time.perf_counter()
        await cached_index.search(query, limit=5, mode=SearchMode.HYBRID)
        cached_hybrid.append((time.perf_counter() - started) * 1000)
    return {
        "queries": len(queries),
        "query_encoder": chosen,
        "query_embedding_direct_ms": _summary(embed_one),
        "query_embedding_torch_forward_ms": _summary(embed_torch),
        "query_embedding_sentence_transformers_encode_ms": _summary(encode),
        "query_embedding_through_on_disk_cache_ms": _summary(through_disk),
        "milvus_dense_only_ms": _summary(milvus_dense),
        "milvus_bm25_only_ms": _summary(milvus_sparse),
        "milvus_hybrid_only_ms": _summary(milvus_hybrid),
        "hybrid_search_with_cached_query_vector_ms": _summary(cached_hybrid),
    }


async def run(
    uri: str, chunk_count: int, queries: list[str], levels: tuple[int, ...], per_level: int
) -> dict[str, Any]:
    """Opens the built index and measures every mode at every concurrency."""
    embedder = shared_embedder()
    embedder.embed(["warm up"])
    # No query-vector cache: every measured call embeds its query.
    index = await MilvusKnowledgeIndex.open(uri, embedder=embedder, query_cache_size=0)
    cached = MilvusKnowledgeIndex(
        index._client,
        collection=index._collection,
        embedder=embedder,
        embed_executor=None,
        milvus_executor=index._milvus_executor,
        policy=index._policy,
        rrf_k=index._rrf_k,
        owns_executor=False,
        query_cache_size=1024,
    )
    try:
        # The first searches of a process pay one-off costs; they are not what a warm server sees.
        for mode in (SearchMode.HYBRID, SearchMode.DENSE):
            for query in queries[:10]:
                await index.search(query, mode=mode)
        results: dict[str, Any] = {"modes": {}, "load_average_1m_before_level": {}}
        offset = 0
        for callers in levels:
            batch = queries[offset : offset + per_level]
            offset += per_level
            results["load_average_1m_before_level"][str(callers)] = round(os.getloadavg()[0], 2)
            for mode in (SearchMode.DENSE, SearchMode.HYBRID):
                results["modes"].setdefault(mode.value, []).append(await measure(index, mode, batch, callers))
        results["load_average_1m_before_breakdown"] = round(os.getloadavg()[0], 2)
        results["one_caller_breakdown"] = await breakdown(index, embedder, queries[offset : offset + 100], cached)
        results["query_embedding_ms"] = results["one_caller_breakdown"]["query_embedding_direct_ms"]
        results["chunks"] = chunk_count
        return results
    finally:
        await index.close()


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def main() -> int:
    """Builds (in a child process) if needed, then measures and writes the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--build-only", metavar="URI", help="internal: build the corpus into URI and exit")
    parser.add_argument(
        "--torch-threads", type=int, default=None, help="torch intra-op threads (default: torch's, one per core)"
    )
    parser.add_argument(
        "--callers",
        default=",".join(map(str, CONCURRENCY)),
        help="concurrency levels, comma-separated (a quick look at a quiet moment: --callers 1 --queries 100)",
    )
    parser.add_argument("--queries", type=int, default=QUERIES_PER_LEVEL, help="queries per level and mode")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    args = parser.parse_args()
    levels = tuple(int(c) for c in args.callers.split(","))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    chunks, mixes = synthetic_corpus()
    if args.build_only:
        asyncio.run(build(args.build_only, chunks, mixes))
        return 0
    uri = str(BENCH_DIR / f"kb-{corpus_key(chunks)}.db")
    if not Path(uri).exists():
        subprocess.run([sys.executable, __file__, "--build-only", uri], check=True, cwd=REPO_ROOT)

    from server.customer.intents.data import load_banking77_split

    _, heldout = load_banking77_split()
    rng = random.Random(7)
    texts = sorted({row.text for row in heldout})
    rng.shuffle(texts)
    queries = texts[: args.queries * len(levels) + 100]
    if args.torch_threads is not None:
        import torch

        torch.set_num_threads(args.torch_threads)
    load_before = round(os.getloadavg()[0], 2)
    figures = asyncio.run(run(uri, len(chunks), queries, levels, args.queries))

    dense = {entry["callers"]: entry for entry in figures["modes"]["dense"]}
    hybrid = {entry["callers"]: entry for entry in figures["modes"]["hybrid"]}
    ratios = {
        str(c): {
            "p50": round(hybrid[c]["p50_ms"] / dense[c]["p50_ms"], 2),
            "p99": round(hybrid[c]["p99_ms"] / dense[c]["p99_ms"], 2),
        }
        for c in levels
    }
    result = {
        "benchmark": "retrieval latency, full search path (query embedding + Milvus)",
        "store": "milvus-lite (embedded), opened from a built collection",
        "baseline": "dense-only search in the same run",
        "hybrid": {
            "ranker": DEFAULT_RANKER.value,
            **({"dense_weight": DEFAULT_DENSE_WEIGHT} if DEFAULT_RANKER is HybridRanker.WEIGHTED else {}),
        },
        **figures,
        "hybrid_over_dense": ratios,
        "goal": {
            "hybrid_p99_ms_at_1_caller": GOAL_P99_MS,
            "met": hybrid[1]["p99_ms"] < GOAL_P99_MS if 1 in hybrid else None,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": _torch_threads(),
            "load_average_1m_at_start": load_before,
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for c in levels:
        print(
            f"{c:>2} callers: hybrid p50 {hybrid[c]['p50_ms']} ms p99 {hybrid[c]['p99_ms']} ms | "
            f"dense p50 {dense[c]['p50_ms']} ms p99 {dense[c]['p99_ms']} ms | ratio p99 {ratios[str(c)]['p99']}x"
        )
    parts = figures["one_caller_breakdown"]
    print(
        "1 caller, alone: embedding p50 {e} ms ({qe}; torch forward {tf}, sentence-transformers encode {st}), "
        "Milvus dense {d}, BM25 {b}, hybrid {h} ms; hybrid search with a cached query vector p50 {c} ms".format(
            e=parts["query_embedding_direct_ms"]["p50"],
            qe=parts["query_encoder"],
            tf=parts["query_embedding_torch_forward_ms"]["p50"],
            st=parts["query_embedding_sentence_transformers_encode_ms"]["p50"],
            d=parts["milvus_dense_only_ms"]["p50"],
            b=parts["milvus_bm25_only_ms"]["p50"],
            h=parts["milvus_hybrid_only_ms"]["p50"],
            c=parts["hybrid_search_with_cached_query_vector_ms"]["p50"],
        )
    )
    print(f"load average (1 min): {result['machine']}; goal met: {result['goal']['met']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
