"""Benchmark of the compliance engines (deterministic path); writes bench/results/compliance.json.

Measured in one run, each against a baseline from the same run:

- Contract review throughput (parse + all playbook checks) over the sample
  contracts, in one process and in a pool of 2 processes ("2 cores"); the
  baseline is a literal-keyword reviewer (lower-cased substring search of the
  same lexicon phrases, no lemmas, no sentence scopes): the ratio is what the
  richer matching costs.
- Regulation analysis time per 10,000 words (parse, obligations, timeline,
  impact, risk points, map-reduce plan) on 10,000- and 100,000-word documents;
  the baseline is parsing alone.
- Stream part: ``ReviewContracts`` over a real mTLS stream to a server in a second
  process (storage and audit included) against the engine alone, same run
  (``--stream-only`` runs just that). The development LLM on 10,000 words is not
  measured here.

Run: ``python bench/compliance.py [--seconds 5]`` from the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "clients" / "python")]

from server.compliance.analysis import analyze_regulation  # noqa: E402
from server.compliance.corpus.synthetic import synthetic_regulation  # noqa: E402
from server.compliance.domain import DocumentFormat  # noqa: E402
from server.compliance.engine import ComplianceEngine  # noqa: E402
from server.compliance.parsing import parse_document  # noqa: E402
from server.compliance.planning import iter_map_chunks, plan_reduce  # noqa: E402
from server.compliance.playbooks import PlaybookRegistry  # noqa: E402
from server.compliance.settings import ComplianceSettings  # noqa: E402

CONTRACTS = REPO / "server" / "compliance" / "corpus" / "contracts"
FORMATS = {
    ".txt": DocumentFormat.PLAIN_TEXT,
    ".md": DocumentFormat.MARKDOWN,
    ".pdf": DocumentFormat.PDF,
    ".docx": DocumentFormat.DOCX,
}
_ENGINE: ComplianceEngine | None = None


def _contracts(text_only: bool) -> list[tuple[str, bytes, DocumentFormat]]:
    return [
        (p.name, p.read_bytes(), FORMATS[p.suffix])
        for p in sorted(CONTRACTS.iterdir())
        if not text_only or p.suffix in (".txt", ".md")
    ]


def _engine() -> ComplianceEngine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = ComplianceEngine.from_settings(ComplianceSettings())
    return _ENGINE


def _review_batch(batch: list[tuple[str, bytes, DocumentFormat]]) -> int:
    engine = _engine()
    for name, content, fmt in batch:
        engine.review_contract(name, content, fmt)
    return len(batch)


def _keyword_baseline(batch: list[tuple[str, bytes, DocumentFormat]], phrases: list[str]) -> int:
    for _name, content, fmt in batch:
        text = parse_document(content, fmt).text.lower()
        sum(1 for phrase in phrases if phrase in text)
    return len(batch)


def _rate(work: Callable[[], int], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        done += work()
    return done / (time.perf_counter() - started)


def _cpu_rate(work: Callable[[], int], seconds: float) -> float:
    """Items per CPU-second of this process: independent of other load on a shared machine."""
    done, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        done += work()
    return done / max(time.process_time() - cpu, 1e-9)


def bench_contracts(seconds: float, workers: int) -> dict[str, Any]:
    text_batch = _contracts(text_only=True)
    all_batch = _contracts(text_only=False)
    lexicon = PlaybookRegistry.load().lexicon
    phrases = [" ".join(p.lemmas) for c in lexicon.concepts.values() for p in c.phrases]
    _review_batch(text_batch)  # warm caches (lemmas, regexes)
    single_text = _rate(lambda: _review_batch(text_batch), seconds)
    per_cpu_second = _cpu_rate(lambda: _review_batch(text_batch), seconds)
    single_all = _rate(lambda: _review_batch(all_batch), seconds)
    baseline = _rate(lambda: _keyword_baseline(text_batch, phrases), seconds)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_review_batch, [text_batch] * workers))  # start and warm the workers
        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            done += sum(pool.map(_review_batch, [text_batch] * (workers * 2)))
        pooled = done / (time.perf_counter() - started)
    words = sum(len(parse_document(c, f).text.split()) for _, c, f in text_batch) / len(text_batch)
    return {
        "contracts": len(text_batch),
        "mean_words_per_contract": round(words),
        "engine_contracts_per_s_1_process_text_md": round(single_text, 1),
        "engine_contracts_per_cpu_second": round(per_cpu_second, 1),
        "engine_contracts_per_s_2_cores_projected_from_cpu_time": round(2 * per_cpu_second, 1),
        "engine_contracts_per_s_1_process_all_formats": round(single_all, 1),
        f"engine_contracts_per_s_{workers}_processes_text_md": round(pooled, 1),
        "baseline_literal_keywords_contracts_per_s": round(baseline, 1),
        "ratio_engine_to_literal_baseline": round(single_text / baseline, 3),
        "goal_contracts_per_s_on_2_cores": 100,
        "goal_met_wall_clock": pooled >= 100,
        "goal_met_cpu_time": 2 * per_cpu_second >= 100,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def bench_regulations(repeats: int) -> dict[str, Any]:
    settings = ComplianceSettings()
    taxonomy = _engine().taxonomy
    results: dict[str, Any] = {}
    for words in (10_000, 100_000):
        content = synthetic_regulation(words)
        parse_times, full_times = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            document = parse_document(content, DocumentFormat.PLAIN_TEXT)
            parsed = time.perf_counter()
            analyze_regulation("bench", document, taxonomy)
            chunks = [c.chunk_id for c in iter_map_chunks(document, settings.summary_token_budget)]
            plan_reduce(chunks, settings.summary_fan_in)
            done = time.perf_counter()
            parse_times.append(parsed - started)
            full_times.append(done - started)
        per_10k = min(full_times) / (document.word_count / 10_000)
        results[f"{words}_words"] = {
            "word_count": document.word_count,
            "analysis_seconds": round(min(full_times), 3),
            "seconds_per_10k_words": round(per_10k, 3),
            "baseline_parse_only_seconds": round(min(parse_times), 3),
            "ratio_analysis_to_parse": round(min(full_times) / min(parse_times), 2),
            "map_chunks": len(chunks),
        }
    return results


def _serve_for_bench(folder: Path, processes: int) -> None:
    """Run a ComplianceService on a loopback port with real mTLS and storage until stdin closes.

    The benchmark's client runs in the parent process, so server and client do not share an interpreter.
    """
    import asyncio

    from server.compliance.service import build
    from server.runtime.app import start_server
    from server.runtime.config import load_settings
    from server.runtime.pki import init_dev_pki
    from server.runtime.wiring import build_context, prepare_state

    pki = init_dev_pki(folder / "certs")
    settings = load_settings(
        None,
        data_dir=folder / "data",
        server={"port": 0, "metrics_port": 0, "services": ["operations"]},
        tls={"ca_file": pki.ca, "cert_file": pki.server.cert, "key_file": pki.server.key, "crl_file": pki.crl},
        compliance={"review_processes": processes},
    )

    async def serve() -> None:
        await prepare_state(settings)
        ctx = await build_context(settings)
        running = await start_server(ctx, extra_bindings=[await build(ctx)])
        (folder / "port").write_text(str(running.port))
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await running.stop(grace=1)

    asyncio.run(serve())


def bench_stream(seconds: float = 4.0, items: int = 600, processes: int = 0) -> dict[str, Any]:
    """Contracts/s of ``ReviewContracts`` over a real mTLS stream (server in a second process, storage and an
    audit record per review included) next to the engine alone on the same contracts in this run.

    The LLM figure (analysis of 10,000 words with the development model) needs the GPU machine or the
    development LLM and is not measured here.
    """
    import asyncio
    import subprocess
    import tempfile
    import uuid

    import grpc
    from fintech.compliance.v1 import compliance_service_pb2 as pb
    from fintech.compliance.v1 import compliance_service_pb2_grpc as pb_grpc

    text_batch = _contracts(text_only=True)
    _review_batch(text_batch)
    engine_rate = _rate(lambda: _review_batch(text_batch), seconds)
    pb_formats = {
        DocumentFormat.PLAIN_TEXT: pb.DOCUMENT_FORMAT_PLAIN_TEXT,
        DocumentFormat.MARKDOWN: pb.DOCUMENT_FORMAT_MARKDOWN,
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'clients' / 'python'}"}
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(folder), "--review-processes", str(processes)],
            stdin=subprocess.PIPE,
            env=env,
        )
        try:
            deadline = time.monotonic() + 120
            while not (folder / "port").exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the benchmark server did not start")
                time.sleep(0.1)
            port = int((folder / "port").read_text())
            certs = folder / "certs"
            credentials = grpc.ssl_channel_credentials(
                (certs / "ca.pem").read_bytes(),
                (certs / "clients" / "compliance-officer-key.pem").read_bytes(),
                (certs / "clients" / "compliance-officer.pem").read_bytes(),
            )

            def requests(count: int) -> list[pb.ReviewContractsRequest]:
                return [
                    pb.ReviewContractsRequest(
                        item_id=f"i{n}",
                        contract=pb.ReviewContractRequest(
                            request_id=str(uuid.uuid4()),
                            contract_id=f"bench-{uuid.uuid4().hex[:16]}",
                            document=pb.DocumentContent(filename=name, format=pb_formats[fmt], content=content),
                        ),
                    )
                    for n in range(count)
                    for name, content, fmt in [text_batch[n % len(text_batch)]]
                ]

            async def stream(batch: list[pb.ReviewContractsRequest]) -> tuple[float, int, int]:
                async with grpc.aio.secure_channel(
                    f"localhost:{port}", credentials, options=[("grpc.max_send_message_length", 64 << 20)]
                ) as channel:
                    stub = pb_grpc.ComplianceServiceStub(channel)
                    started = time.perf_counter()
                    ok = failed = 0
                    async for response in stub.ReviewContracts(iter(batch)):
                        ok += response.WhichOneof("result") == "review"
                        failed += response.WhichOneof("result") == "error"
                    return time.perf_counter() - started, ok, failed

            asyncio.run(stream(requests(len(text_batch))))  # warm up: connections, caches, keys
            elapsed, ok, failed = asyncio.run(stream(requests(items)))
        finally:
            if server.stdin is not None:
                server.stdin.close()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    stream_rate = ok / elapsed
    return {
        "measured": True,
        "items": items,
        "reviewed": ok,
        "failed": failed,
        "server_review_processes": processes,
        "stream_contracts_per_s": round(stream_rate, 1),
        "engine_contracts_per_s_same_run": round(engine_rate, 1),
        "ratio_stream_to_engine": round(stream_rate / engine_rate, 3),
        "includes": "mTLS, protobuf, stored review with sealed text, one audit record per review (group commit)",
        "goal_contracts_per_s_on_2_cores": 100,
        "goal_met": stream_rate >= 100,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "llm_10k_words": "not measured here (needs the development LLM)",
    }


def main() -> None:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="measuring time per throughput figure")
    parser.add_argument("--workers", type=int, default=2, help="processes for the pooled figure")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each regulation analysis")
    parser.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--review-processes", type=int, default=0, help="server review processes (0: threads)")
    parser.add_argument("--stream-only", action="store_true", help="only the ReviewContracts stream figure")
    args = parser.parse_args()
    if args.serve is not None:
        _serve_for_bench(args.serve, args.review_processes)
        return
    if args.stream_only:
        print(json.dumps(bench_stream(args.seconds, processes=args.review_processes), indent=1))
        return
    report = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "contract_review": bench_contracts(args.seconds, args.workers),
        "regulation_analysis": bench_regulations(args.repeats),
        "stream": {
            "server_threads": bench_stream(args.seconds, processes=0),
            "server_2_review_processes": bench_stream(args.seconds, processes=2),
        },
    }
    out = REPO / "bench" / "results" / "compliance.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    review = report["contract_review"]
    print(
        f"contract review: {review['engine_contracts_per_s_1_process_text_md']}/s (1 process), "
        f"{review[f'engine_contracts_per_s_{args.workers}_processes_text_md']}/s ({args.workers} processes), "
        f"{review['engine_contracts_per_cpu_second']}/CPU-s, "
        f"literal baseline {review['baseline_literal_keywords_contracts_per_s']}/s, "
        f"ratio {review['ratio_engine_to_literal_baseline']}"
    )
    for size, figures in report["regulation_analysis"].items():
        print(
            f"regulation {size}: {figures['seconds_per_10k_words']} s per 10k words "
            f"(x{figures['ratio_analysis_to_parse']} of parsing alone)"
        )
    for mode, figures in report["stream"].items():
        print(
            f"ReviewContracts stream ({mode}): {figures['stream_contracts_per_s']}/s vs engine "
            f"{figures['engine_contracts_per_s_same_run']}/s in this run (ratio {figures['ratio_stream_to_engine']})"
        )
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
