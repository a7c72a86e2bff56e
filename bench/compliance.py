"""Benchmark of the compliance engines (deterministic path); writes bench/results/compliance.json.

Measured in one run, each against a baseline from the same run, each figure with the 1-minute load average
(this 2-core machine is shared) and CPU-milliseconds per contract:

- **Cold, the headline**: contracts never seen before. The sample contracts are cycled and every sentence is
  made unique for the run (a bracketed letters-only code at each sentence end, :func:`_never_seen`), so no
  sentence is in any cache; the engine figure counts the sentences embedded and the cache hits (0) to prove it.
  ``ReviewContracts`` over a real mTLS stream (server in a second process, storage and an audit record per
  review included) and the engine alone on another set of never-seen contracts, same run, with the ratio;
  the same with the server's 2 review processes. Baseline: the previous encoder (the MiniLM transformer) on
  fewer never-seen contracts in the engine.
- **Warm, second**: the 36 sample contracts cycled after a first pass (every sentence cached), over the stream
  and in the engine; one by one, all formats (PDF/DOCX parsing), and the literal-keyword baseline (lower-cased
  substring search of the same lexicon phrases, no lemmas, no sentence scopes).
- The two sentence encoders' CPU cost per sentence on the same never-seen sentences.
- Regulation analysis time per 10,000 words (parse, obligations, timeline, impact, risk points, map-reduce
  plan) on 10,000- and 100,000-word documents; the baseline is parsing alone.
- Regulation analysis of a 10,000-word regulation without and with the development LLM (Gemma 3 270M served
  by llama.cpp through ``inference.devserver``, reached through the inference pool): the deterministic
  analysis is the baseline, the LLM adds the clause-by-clause map-reduce summaries with every item validated
  (``--llm`` runs only that part; ``--no-llm`` skips it and keeps the last figure).

Run: ``python bench/compliance.py [--seconds 5]`` from the repository root.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
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
from server.compliance.matching import DocumentIndex  # noqa: E402
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


_SENTENCE_END = re.compile(r"(?<=\S)([.;!?])(?=\s|$)")
_LETTERS = "bcdfghjklmnpqrstvwxz"
_SERIAL = itertools.count(1)


def _code(number: int) -> str:
    letters = ""
    while number:
        number, digit = divmod(number, len(_LETTERS))
        letters = _LETTERS[digit] + letters
    return letters


def _never_seen(batch: list[tuple[str, bytes, DocumentFormat]], count: int) -> list[tuple[str, bytes, DocumentFormat]]:
    """``count`` contracts cycled from ``batch`` (text/Markdown), each sentence made unique for this run.

    Every sentence end (and every body line without one) gets a bracketed letters-only code that no other
    sentence of the run carries ("... in writing [bdkq]."): no sentence of these contracts is in any cache,
    so every one of them is embedded, while the clauses, their numbering, amounts and dates stay as they were
    (the lexical checks do the same work). The first 8 characters of a line are left alone (numbering).
    """
    out = []
    for n in range(count):
        name, content, fmt = batch[n % len(batch)]
        lines = []
        for line in content.decode("utf-8").split("\n"):
            head, body = line[:8], line[8:]
            marked, ends = _SENTENCE_END.subn(lambda m: f" [{_code(next(_SERIAL))}]{m.group(1)}", body)
            if not ends and len(line.split()) >= 4 and not line.lstrip()[:1].isdigit() and not line.startswith("#"):
                marked += f" [{_code(next(_SERIAL))}]"
            lines.append(head + marked)
        out.append((f"{n}-{name}", "\n".join(lines).encode("utf-8"), fmt))
    return out


def _review_batch(batch: list[tuple[str, bytes, DocumentFormat]]) -> int:
    engine = _engine()
    for name, content, fmt in batch:
        engine.review_contract(name, content, fmt)
    return len(batch)


def _review_micro_batches(batch: list[tuple[str, bytes, DocumentFormat]], size: int = 16) -> int:
    engine = _engine()
    for start in range(0, len(batch), size):
        engine.review_contracts([(n, c, f, None, "") for n, c, f in batch[start : start + size]])
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


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _timed(work: Callable[[], int]) -> dict[str, Any]:
    """Run ``work`` once: contracts/s (wall), CPU-ms of this process per contract, load before and after."""
    load_before = _load()
    started, cpu = time.perf_counter(), time.process_time()
    done = work()
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    return {
        "contracts": done,
        "contracts_per_s": round(done / wall, 1),
        "cpu_ms_per_contract": round(1000 * used / done, 2),
        "contracts_per_cpu_second": round(done / max(used, 1e-9), 1),
        "load_average_1min": [load_before, _load()],
    }


def _needing_semantic_look(batch: list[tuple[str, bytes, DocumentFormat]]) -> int:
    """How many contracts of ``batch`` need the semantic look (a required check the lexicon missed)."""
    engine = _engine()
    lexical = ComplianceEngine(engine.settings, engine.registry, engine.taxonomy)
    return sum(
        1
        for name, content, fmt in batch
        if any(f.finding_type.value == "missing_clause" for f in lexical.review_contract(name, content, fmt).findings)
    )


def bench_encoders(sentences: list[str]) -> dict[str, Any]:
    """CPU cost per sentence of the two encoders of semantic matching on the same never-seen sentences."""
    from server.compliance.embedding import SentenceTransformerEmbedder, StaticTokenEmbedder

    figures: dict[str, Any] = {"sentences": len(sentences)}
    for name, encoder in (("static", StaticTokenEmbedder()), ("minilm", SentenceTransformerEmbedder())):
        encoder.embed(sentences[:8])  # warm up (thread pools, first allocation)
        started, cpu = time.perf_counter(), time.process_time()
        encoder.embed(sentences)
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        figures[name] = {
            "sentences_per_s": round(len(sentences) / wall, 1),
            "cpu_us_per_sentence": round(1e6 * used / len(sentences), 1),
        }
    figures["ratio_minilm_to_static_cpu"] = round(
        figures["minilm"]["cpu_us_per_sentence"] / figures["static"]["cpu_us_per_sentence"], 1
    )
    figures["load_average_1min"] = _load()
    return figures


def _pooled(pool: ProcessPoolExecutor, chunks: list[list[tuple[str, bytes, DocumentFormat]]]) -> int:
    return sum(pool.map(_review_micro_batches, chunks))


def bench_contracts(seconds: float, workers: int, cold_contracts: int) -> dict[str, Any]:
    text_batch = _contracts(text_only=True)
    all_batch = _contracts(text_only=False)
    engine = _engine()
    matcher = engine.reviewer.matcher
    lexicon = PlaybookRegistry.load().lexicon
    phrases = [" ".join(p.lemmas) for c in lexicon.concepts.values() for p in c.phrases]
    _review_batch(text_batch)  # warm caches (lemmas, regexes, the sentences of the sample contracts)
    # Cold, the headline: contracts never seen before, micro-batches of 16 as the stream forms them.
    cold_items = _never_seen(text_batch, cold_contracts)
    hits, embedded = (matcher.cache_hits, matcher.sentences_embedded) if matcher else (0, 0)
    cold = _timed(lambda: _review_micro_batches(cold_items))
    if matcher is not None:
        cold["sentences_embedded"] = matcher.sentences_embedded - embedded
        cold["sentence_cache_hits"] = matcher.cache_hits - hits
    cold["contracts_needing_the_semantic_look"] = _needing_semantic_look(cold_items[: len(text_batch)])
    cold["of_contracts"] = len(text_batch)
    # Baseline of the cold figure, same run: the previous design (MiniLM transformer as the encoder) on fewer
    # never-seen contracts (it runs at about a twentieth of the speed).
    minilm = ComplianceEngine.from_settings(ComplianceSettings(semantic_encoder="minilm"))
    minilm_items = _never_seen(text_batch, 2 * len(text_batch))

    def review_minilm() -> int:
        for start in range(0, len(minilm_items), 16):
            minilm.review_contracts([(n, c, f, None, "") for n, c, f in minilm_items[start : start + 16]])
        return len(minilm_items)

    cold_minilm = _timed(review_minilm)
    # Warm, second: the 36 sample contracts again and again (every sentence in the cache).
    warm_rate = _rate(lambda: _review_micro_batches(text_batch), seconds)
    warm_per_cpu = _cpu_rate(lambda: _review_micro_batches(text_batch), seconds)
    single_text = _rate(lambda: _review_batch(text_batch), seconds)
    _review_batch(all_batch)
    single_all = _rate(lambda: _review_batch(all_batch), seconds)
    baseline = _rate(lambda: _keyword_baseline(text_batch, phrases), seconds)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        _pooled(pool, [text_batch] * workers)  # start the workers (each loads the engine)
        chunks = [_never_seen(text_batch, cold_contracts // (2 * workers)) for _ in range(2 * workers)]
        load_before = _load()
        started = time.perf_counter()
        done = _pooled(pool, chunks)
        pooled_cold = done / (time.perf_counter() - started)
        pooled_load = [load_before, _load()]
    words = sum(len(parse_document(c, f).text.split()) for _, c, f in text_batch) / len(text_batch)
    return {
        "contracts": len(text_batch),
        "mean_words_per_contract": round(words),
        "semantic_matching": matcher is not None,
        "semantic_provenance": matcher.provenance if matcher else "",
        "cold_never_seen_micro_batches_of_16": cold,
        "baseline_cold_minilm_encoder": cold_minilm,
        "ratio_cold_static_to_minilm": round(cold["contracts_per_s"] / cold_minilm["contracts_per_s"], 1),
        "ratio_cold_static_to_minilm_cpu": round(cold_minilm["cpu_ms_per_contract"] / cold["cpu_ms_per_contract"], 1),
        "warm_contracts_per_s_micro_batches_of_16": round(warm_rate, 1),
        "warm_contracts_per_cpu_second": round(warm_per_cpu, 1),
        "warm_cpu_ms_per_contract": round(1000 / warm_per_cpu, 2),
        "warm_contracts_per_s_1_by_1": round(single_text, 1),
        "warm_contracts_per_s_1_by_1_all_formats": round(single_all, 1),
        f"cold_contracts_per_s_{workers}_processes": round(pooled_cold, 1),
        f"cold_{workers}_processes_load_average_1min": pooled_load,
        "baseline_literal_keywords_contracts_per_s": round(baseline, 1),
        "ratio_warm_engine_to_literal_baseline": round(single_text / baseline, 3),
        "goal_contracts_per_s_on_2_cores": 100,
        "goal_met_cold_wall_clock_1_process": cold["contracts_per_s"] >= 100,
        "goal_met_cold_cpu_time_1_core": cold["contracts_per_cpu_second"] >= 100,
        "load_average_1min": _load(),
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


def _cpu_seconds_of(pid: int) -> float:
    """User + system CPU seconds so far of process ``pid`` and its live descendants (review worker processes),
    from Linux ``/proc``."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except FileNotFoundError:  # exited between the listing and the read
            continue
    return total


def bench_stream(seconds: float = 4.0, items: int = 600, processes: int = 0, warm: bool = True) -> dict[str, Any]:
    """Contracts/s of ``ReviewContracts`` over a real mTLS stream (server in a second process, storage and an
    audit record per review included) next to the engine alone in this process, same run.

    Cold (the headline): ``items`` never-seen contracts over the stream, and another ``items`` never-seen
    contracts through the engine (so neither finds a sentence in a cache). Warm (``warm``): the 36 sample
    contracts cycled, after a first pass has put every sentence in the caches. Server CPU is read from
    ``/proc`` around the timed stream; client CPU is this process's.
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
    engine_cold = _timed(lambda: _review_micro_batches(_never_seen(text_batch, items)))
    engine_warm = _rate(lambda: _review_micro_batches(text_batch), seconds) if warm else None
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
            deadline = time.monotonic() + 300
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

            def requests(contracts: list[tuple[str, bytes, DocumentFormat]], count: int) -> list[Any]:
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
                    for name, content, fmt in [contracts[n % len(contracts)]]
                ]

            async def stream(batch: list[Any]) -> tuple[float, int, int]:
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

            def timed_stream(batch: list[Any]) -> dict[str, Any]:
                load_before = _load()
                server_cpu, client_cpu = _cpu_seconds_of(server.pid), time.process_time()
                elapsed, ok, failed = asyncio.run(stream(batch))
                server_used = _cpu_seconds_of(server.pid) - server_cpu
                client_used = time.process_time() - client_cpu
                return {
                    "items": len(batch),
                    "reviewed": ok,
                    "failed": failed,
                    "contracts_per_s": round(ok / elapsed, 1),
                    "server_cpu_ms_per_contract": round(1000 * server_used / max(ok, 1), 2),
                    "client_cpu_ms_per_contract": round(1000 * client_used / max(ok, 1), 2),
                    "load_average_1min": [load_before, _load()],
                }

            # Warm-up with never-seen contracts (connections, keys, code paths), so the cold stream stays cold.
            asyncio.run(stream(requests(_never_seen(text_batch, len(text_batch)), len(text_batch))))
            cold = timed_stream(requests(_never_seen(text_batch, items), items))
            warm_stream = None
            if warm:
                asyncio.run(stream(requests(text_batch, len(text_batch))))  # every sample sentence into the cache
                warm_stream = timed_stream(requests(text_batch, items))
        finally:
            if server.stdin is not None:
                server.stdin.close()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    result: dict[str, Any] = {
        "server_review_processes": processes,
        "cold": {
            "stream": cold,
            "engine_same_run": engine_cold,
            "ratio_stream_to_engine": round(cold["contracts_per_s"] / engine_cold["contracts_per_s"], 3),
            "goal_met": cold["contracts_per_s"] >= 100 and engine_cold["contracts_per_s"] >= 100,
        },
        "includes": "mTLS, protobuf, micro-batched review with semantic matching, stored review with sealed text, "
        "one audit record per review (group commit)",
        "engine_figure": "engine alone in this process, micro-batches of 16, semantic matching on",
        "goal_contracts_per_s_on_2_cores": 100,
    }
    if warm_stream is not None and engine_warm is not None:
        result["warm"] = {
            "stream": warm_stream,
            "engine_same_run_contracts_per_s": round(engine_warm, 1),
            "ratio_stream_to_engine": round(warm_stream["contracts_per_s"] / engine_warm, 3),
            "goal_met": warm_stream["contracts_per_s"] >= 100 and engine_warm >= 100,
        }
    return result


def bench_llm(words: int = 10_000, max_tokens: int = 96) -> dict[str, Any]:
    """Regulation analysis of ``words`` words without and with the development LLM, same run.

    The LLM path is the service's: the planner's map chunks (whole clauses under the token budget), at most
    ``summary_concurrency`` calls in flight through the inference pool, reduce steps, and every item checked
    against its cited clauses. The base Gemma 3 270M writes meaningless summaries: the figure is time, and
    the validation counts say how many items the checks refused.

    ``max_tokens`` caps each completion (the service's default is 1024): the base model fills any budget with
    grammar-constrained junk, and with Gemma's 262k-token vocabulary each constrained token costs so much on
    a shared 2-core CPU that 32 calls of 1024 tokens did not finish in 15 minutes. The cap is in the result.
    """
    import asyncio
    import tempfile

    from inference.devserver import start_devserver
    from server.compliance.llm import LlmCall, Outcome, summarise
    from server.runtime.config import load_settings
    from server.runtime.pki import init_dev_pki
    from server.runtime.wiring import build_context, prepare_state
    from tests.fixtures.envoy import free_port

    settings = ComplianceSettings()
    engine = _engine()
    text = synthetic_regulation(words)
    started = time.perf_counter()
    analysis = engine.analyze_regulation("bench", text, DocumentFormat.PLAIN_TEXT)
    deterministic = time.perf_counter() - started
    tmp = Path(tempfile.mkdtemp(prefix="bench-compliance-llm-"))
    pki = init_dev_pki(tmp / "certs")
    started = time.perf_counter()
    llm = start_devserver(free_port(), threads=2, parallel=settings.summary_concurrency)
    startup = time.perf_counter() - started
    try:
        config = tmp / "server.toml"
        config.write_text(
            f"""data_dir = "{tmp / "data"}"
[server]
port = 0
metrics_port = 0
services = ["operations"]
[tls]
ca_file = "{pki.ca}"
cert_file = "{pki.server.cert}"
key_file = "{pki.server.key}"
[inference]
request_timeout_seconds = 3000
[inference.budgets]
enabled = false
[[inference.groups]]
name = "dev"
model = "gemma3-270m"
endpoints = [{{url = "{llm.base_url}", max_concurrency = {settings.summary_concurrency}}}]
""",
            encoding="utf-8",
        )
        app_settings = load_settings(config)

        async def summarise_once() -> tuple[float, Any]:
            await prepare_state(app_settings)
            ctx = await build_context(app_settings)
            pool = ctx.resources["inference"]
            began = time.perf_counter()
            analysis_again = await asyncio.get_running_loop().run_in_executor(
                None, engine.analyze_regulation, "bench", text, DocumentFormat.PLAIN_TEXT
            )
            run = await summarise(
                analysis_again.document,
                LlmCall(pool, "bench-compliance", max_tokens=max_tokens),
                token_budget=settings.summary_token_budget,
                fan_in=settings.summary_fan_in,
                concurrency=settings.summary_concurrency,
            )
            return time.perf_counter() - began, run

        with_llm, run = asyncio.run(summarise_once())
    finally:
        llm.stop()
    scale = 10_000 / analysis.word_count
    passed = sum(1 for i in run.map_items if i.outcome is Outcome.PASSED)
    return {
        "word_count": analysis.word_count,
        "model": "gemma3-270m-q4-k-m (base model, llama.cpp via xllamacpp, CPU)",
        "devserver_start_seconds": round(startup, 1),
        "max_tokens_per_call": max_tokens,
        "deterministic_seconds": round(deterministic, 3),
        "deterministic_seconds_per_10k_words": round(deterministic * scale, 3),
        "with_llm_seconds": round(with_llm, 1),
        "with_llm_seconds_per_10k_words": round(with_llm * scale, 1),
        "ratio_with_llm_to_deterministic": round(with_llm / deterministic, 1),
        "map_calls": run.map_calls,
        "reduce_calls": run.reduce_calls,
        "max_in_flight": run.max_in_flight,
        "summary_concurrency": settings.summary_concurrency,
        "map_items_passed_validation": passed,
        "map_items_failed_validation": len(run.map_items) - passed,
        "overall_outcome": run.outcome.value,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="measuring time per warm throughput figure")
    parser.add_argument("--items", type=int, default=600, help="never-seen contracts per cold figure")
    parser.add_argument("--workers", type=int, default=2, help="processes for the pooled figure")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each regulation analysis")
    parser.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--review-processes", type=int, default=0, help="server review processes (0: threads)")
    parser.add_argument("--stream-only", action="store_true", help="only the ReviewContracts stream figures")
    parser.add_argument("--llm", action="store_true", help="only the development-LLM figure (merged into the file)")
    parser.add_argument("--no-llm", action="store_true", help="skip the development-LLM figure")
    parser.add_argument(
        "--threads-only", action="store_true", help="stream figure with server threads only (no review processes)"
    )
    args = parser.parse_args()
    if args.serve is not None:
        _serve_for_bench(args.serve, args.review_processes)
        return
    if args.stream_only:
        print(json.dumps(bench_stream(args.seconds, args.items, processes=args.review_processes), indent=1))
        return
    out = REPO / "bench" / "results" / "compliance.json"
    if args.llm:
        previous = json.loads(out.read_text()) if out.exists() else {}
        previous["regulation_analysis_llm"] = bench_llm()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(previous, indent=1) + "\n")
        print(json.dumps(previous["regulation_analysis_llm"], indent=1))
        return
    threads = bench_stream(args.seconds, args.items, processes=0)
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "headline_cold": {
            "what": "never-seen contracts (every sentence new to every cache), semantic matching on (default encoder)",
            "stream_contracts_per_s": threads["cold"]["stream"]["contracts_per_s"],
            "engine_contracts_per_s": threads["cold"]["engine_same_run"]["contracts_per_s"],
            "ratio_stream_to_engine": threads["cold"]["ratio_stream_to_engine"],
            "server_cpu_ms_per_contract": threads["cold"]["stream"]["server_cpu_ms_per_contract"],
            "engine_cpu_ms_per_contract": threads["cold"]["engine_same_run"]["cpu_ms_per_contract"],
            "load_average_1min": threads["cold"]["stream"]["load_average_1min"],
            "goal_met": threads["cold"]["goal_met"],
        },
        "warm": {
            "what": "the 36 sample contracts cycled, every sentence in the embedding cache",
            "stream_contracts_per_s": threads["warm"]["stream"]["contracts_per_s"],
            "engine_contracts_per_s": threads["warm"]["engine_same_run_contracts_per_s"],
            "ratio_stream_to_engine": threads["warm"]["ratio_stream_to_engine"],
            "server_cpu_ms_per_contract": threads["warm"]["stream"]["server_cpu_ms_per_contract"],
            "load_average_1min": threads["warm"]["stream"]["load_average_1min"],
            "goal_met": threads["warm"]["goal_met"],
        },
        "contract_review": bench_contracts(args.seconds, args.workers, args.items),
        "semantic_encoders": bench_encoders(
            [
                " ".join(document.text[s.start : s.end].split())
                for _, content, fmt in _never_seen(_contracts(text_only=True), 12)
                for document in [parse_document(content, fmt)]
                for s in DocumentIndex(document).sentences
            ]
        ),
        "regulation_analysis": bench_regulations(args.repeats),
        "stream": {"server_threads": threads},
    }
    if not args.threads_only:
        processes = bench_stream(args.seconds, args.items, processes=2, warm=False)
        report["stream"]["server_2_review_processes"] = processes
        # The chart's configuration for a 2-CPU pod (services.compliance.reviewProcesses: 2).
        report["deployed_cold"] = {
            "what": "never-seen contracts, server as the chart deploys it on 2 cores: 2 review processes",
            "stream_contracts_per_s": processes["cold"]["stream"]["contracts_per_s"],
            "engine_contracts_per_s": processes["cold"]["engine_same_run"]["contracts_per_s"],
            "ratio_stream_to_engine": processes["cold"]["ratio_stream_to_engine"],
            "server_cpu_ms_per_contract": processes["cold"]["stream"]["server_cpu_ms_per_contract"],
            "load_average_1min": processes["cold"]["stream"]["load_average_1min"],
            "goal_met": processes["cold"]["goal_met"],
        }
    if not args.no_llm:
        report["regulation_analysis_llm"] = bench_llm()
    elif out.exists():
        # Keep the last development-LLM figure (measured with --llm, which takes many minutes on CPU).
        previous = json.loads(out.read_text()).get("regulation_analysis_llm")
        if previous is not None:
            report["regulation_analysis_llm"] = previous
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    labels = [
        ("COLD (never-seen contracts), server threads", "headline_cold"),
        ("COLD, as deployed (2 review processes)", "deployed_cold"),
        ("warm (sentences cached)", "warm"),
    ]
    for label, key in labels:
        if key not in report:
            continue
        figures = report[key]
        print(
            f"{label}: stream {figures['stream_contracts_per_s']}/s, engine {figures['engine_contracts_per_s']}/s "
            f"(ratio {figures['ratio_stream_to_engine']}), server {figures['server_cpu_ms_per_contract']} CPU-ms per "
            f"contract, load {figures['load_average_1min']}, goal met: {figures['goal_met']}"
        )
    review = report["contract_review"]
    cold = review["cold_never_seen_micro_batches_of_16"]
    print(
        f"engine cold: {cold['contracts_per_s']}/s, {cold['cpu_ms_per_contract']} CPU-ms per contract "
        f"({cold['sentences_embedded']} sentences embedded, {cold['sentence_cache_hits']} cache hits); "
        f"baseline MiniLM encoder cold {review['baseline_cold_minilm_encoder']['contracts_per_s']}/s "
        f"(x{review['ratio_cold_static_to_minilm']}, CPU x{review['ratio_cold_static_to_minilm_cpu']}); "
        f"{review[f'cold_contracts_per_s_{args.workers}_processes']}/s in {args.workers} processes; warm "
        f"{review['warm_contracts_per_s_micro_batches_of_16']}/s, {review['warm_cpu_ms_per_contract']} CPU-ms; "
        f"literal baseline {review['baseline_literal_keywords_contracts_per_s']}/s "
        f"(ratio {review['ratio_warm_engine_to_literal_baseline']})"
    )
    encoders = report["semantic_encoders"]
    print(
        f"sentence encoders: static {encoders['static']['cpu_us_per_sentence']} CPU-us, MiniLM "
        f"{encoders['minilm']['cpu_us_per_sentence']} CPU-us per sentence (x{encoders['ratio_minilm_to_static_cpu']})"
    )
    for size, figures in report["regulation_analysis"].items():
        print(
            f"regulation {size}: {figures['seconds_per_10k_words']} s per 10k words "
            f"(x{figures['ratio_analysis_to_parse']} of parsing alone)"
        )
    for mode, figures in report["stream"].items():
        print(
            f"ReviewContracts stream ({mode}), cold: {figures['cold']['stream']['contracts_per_s']}/s vs engine "
            f"{figures['cold']['engine_same_run']['contracts_per_s']}/s "
            f"(ratio {figures['cold']['ratio_stream_to_engine']})"
        )
    if "regulation_analysis_llm" in report:
        llm = report["regulation_analysis_llm"]
        print(
            f"regulation 10k words: {llm['deterministic_seconds_per_10k_words']} s without the LLM, "
            f"{llm['with_llm_seconds_per_10k_words']} s with the development LLM "
            f"({llm['map_calls']} map + {llm['reduce_calls']} reduce calls)"
        )
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
