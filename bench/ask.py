"""CustomerService end to end with the development LLM: time to first delta and total, and where it goes.

A real server (mTLS, the interceptor chain, storage and audit, milvus-lite over the shipped knowledge base,
the intent classifier) answers StreamAsk for a fixed set of written questions through the SDK, with the
development LLM (llama.cpp serving Gemma 3 270M) behind the inference pool. The time spent in retrieval
and in the LLM is measured at the seams (the knowledge index and the pool); the rest is the engine's own
work (intent, policy, grounding checks, storage, audit). Baseline in the same run: SearchKnowledge alone
(retrieval over gRPC) for the same questions, so the ratio says what answering costs on top of retrieval.

    python bench/ask.py [--questions 12]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (sets sys.path)
from _common import REPO, summary_ms, write_result


class Timed:
    """Wraps an object and adds the wall time of the named async methods (and async generators) to a bucket."""

    def __init__(self, inner: Any, bucket: dict[str, float], name: str, methods: tuple[str, ...]) -> None:
        self._inner, self._bucket, self._name, self._methods = inner, bucket, name, methods

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._inner, attr)
        if attr not in self._methods:
            return value
        bucket, name = self._bucket, self._name

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            if hasattr(result, "__aiter__"):

                async def stream() -> Any:
                    started = time.perf_counter()
                    try:
                        async for item in result:
                            yield item
                    finally:
                        bucket[name] = bucket.get(name, 0.0) + time.perf_counter() - started

                return stream()

            async def awaited() -> Any:
                started = time.perf_counter()
                try:
                    return await result
                finally:
                    bucket[name] = bucket.get(name, 0.0) + time.perf_counter() - started

            return awaited()

        return call


def questions(limit: int) -> list[str]:
    with (REPO / "eval" / "customer" / "questions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    step = max(1, len(rows) // limit)
    return [row["question"] for row in rows[::step][:limit]]


async def run(limit: int) -> dict[str, Any]:
    from fintech.client import CustomerServiceClient, secure_channel
    from fintech.customer.v1 import customer_service_pb2 as customer

    from inference.devserver import start_devserver
    from server.customer.service import build
    from server.runtime.config import load_settings
    from server.runtime.pki import init_dev_pki
    from server.runtime.wiring import build_context, prepare_state
    from tests.fixtures.envoy import free_port
    from tests.fixtures.runtime import running_server

    tmp = Path(tempfile.mkdtemp(prefix="bench-ask-"))
    pki = init_dev_pki(tmp / "certs")
    llm = start_devserver(free_port())
    try:
        config = tmp / "server.toml"
        config.write_text(
            f"""data_dir = "{tmp / "data"}"
[server]
port = 0
metrics_port = 0
services = ["customer"]
[tls]
ca_file = "{pki.ca}"
cert_file = "{pki.server.cert}"
key_file = "{pki.server.key}"
[inference]
request_timeout_seconds = 120
[[inference.groups]]
name = "dev"
model = "gemma3-270m"
endpoints = [{{url = "{llm.base_url}", max_concurrency = 2}}]
""",
            encoding="utf-8",
        )
        settings = load_settings(config)
        await prepare_state(settings)
        subprocess.run(  # noqa: ASYNC221  (set-up, before anything is measured)
            [sys.executable, "-m", "server.cli", "kb", "load", "--config", str(config)],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        ctx = await build_context(settings)
        spent: dict[str, float] = {}
        ctx.resources["knowledge_index"] = Timed(ctx.resources["knowledge_index"], spent, "retrieval", ("search",))
        ctx.resources["inference"] = Timed(ctx.resources["inference"], spent, "llm", ("stream", "chat"))
        binding = await build(ctx)
        settings = settings.model_copy(update={"server": settings.server.model_copy(update={"services": ("risk",)})})
        async with running_server(settings, ctx=ctx, extra_bindings=[binding]) as server:
            issued = pki.client("core-banking")
            async with secure_channel(
                f"localhost:{server.port}", ca_file=pki.ca, cert_file=issued.cert, key_file=issued.key
            ) as channel:
                client = CustomerServiceClient(channel)
                asked = questions(limit)
                await client.search_knowledge(request=customer.SearchKnowledgeRequest(query="warm up"), timeout=300)
                search_latency = []
                for question in asked:
                    started = time.perf_counter()
                    await client.search_knowledge(
                        request=customer.SearchKnowledgeRequest(query=question, top_k=5), timeout=60
                    )
                    search_latency.append(time.perf_counter() - started)
                spent.clear()
                first_delta, total, sources = [], [], {}
                for n, question in enumerate(asked):
                    started = time.perf_counter()
                    first = None
                    async for event in client.stream_ask(
                        request=customer.StreamAskRequest(customer_id=f"bench-{n}", question=question), timeout=300
                    ):
                        if first is None and event.WhichOneof("event") in ("delta", "final_result"):
                            first = time.perf_counter() - started
                        if event.WhichOneof("event") == "final_result":
                            source = customer.AnswerSource.Name(event.final_result.answer_source)
                            sources[source] = sources.get(source, 0) + 1
                    total.append(time.perf_counter() - started)
                    first_delta.append(first or total[-1])
    finally:
        llm.stop()
    whole = sum(total)
    shares = {k: round(v / whole, 3) for k, v in spent.items()}
    shares["engine_checks_storage_audit"] = round(1 - sum(shares.values()), 3)
    return {
        "questions": len(total),
        "answer_sources": sources,
        "first_delta": summary_ms(first_delta),
        "total": summary_ms(total),
        "search_knowledge_baseline": summary_ms(search_latency),
        "share_of_time": shares,
        "ratio_total_over_search_p50": round(summary_ms(total)["p50_ms"] / summary_ms(search_latency)["p50_ms"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=12)
    args = parser.parse_args()
    result = asyncio.run(run(args.questions))
    print(f"questions {result['questions']}, sources {result['answer_sources']}")
    print(
        f"first delta p50/p99 {result['first_delta']['p50_ms']}/{result['first_delta']['p99_ms']} ms; "
        f"total p50/p99 {result['total']['p50_ms']}/{result['total']['p99_ms']} ms"
    )
    print(
        f"SearchKnowledge alone p50 {result['search_knowledge_baseline']['p50_ms']} ms; "
        f"answering/retrieval ratio (p50) {result['ratio_total_over_search_p50']}"
    )
    print(f"share of time: {result['share_of_time']}")
    write_result("ask", {"what": "StreamAsk end to end over mTLS with the development LLM", **result})


if __name__ == "__main__":
    main()
