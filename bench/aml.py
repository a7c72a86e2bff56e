"""AML engine benchmark: ``python bench/aml.py [--replicas 9] [--runs 30]``.

Engine part (this file today), all in one run on the same data:

* **Screening throughput** on the AMLSim development set replicated to >= 1M transfers (replica
  ``k`` gets transaction ids suffixed ``#k`` and times shifted by ``k * 150`` days; accounts are
  shared so histories grow): the vectorised engine in one call and as an incremental stream of
  10,000-transfer micro-batches, against a *baseline* measured in the same run — a
  straightforward Polars screen (per-account 72 h rolling outflow count and sum with one absolute
  threshold: ``group_by(...).rolling``). The ratio engine/baseline is printed.
* **Network investigation latency** (p50/p99) on a seeded, planted 237-account, 1,856-transfer
  layering network inside the replicated data, from three planted mules per run, with the share
  of planted accounts found; baseline: the same hop-limited expansion done by scanning the whole
  edge table with Polars each hop (no index), compared with the indexed expansion step alone.
* **Peak memory** (``ru_maxrss``) of the process.

Stream part (:func:`bench_grpc_stream`; ``--stream-only`` runs it alone and keeps the other figures):
transfers per second over the mTLS ``ScreenTransactions`` stream of a real in-process server
(SQLite, audit, keyring) with messages of 1,000 transfers, persistence and audit included, against
the engine alone on the same micro-batches in the same run; and the latency of each decision with
one transfer per message offered open-loop at 1,000 tx/s.

The machine is shared (2 cores): the load average is recorded with the figures, and CPU time
(``process_time``) next to wall time, so that runs under contention can still be compared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

# bench/inference.py takes this folder off sys.path when imported (it would shadow the ``inference``
# package); the stream client's spawned process starts from that path, so put the folder back first.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import polars as pl
from _common import RESULTS, summary_ms, write_result

from server.aml.amlsim import load_archive
from server.aml.enrichment import enrich
from server.aml.network import InvestigationRequest, TransactionGraph, investigate
from server.aml.rules import load_rule_set
from server.aml.screening import TRANSACTION_SCHEMA, Decision, ScreeningEngine
from server.aml.synthetic import plant_layering_network

REPO = Path(__file__).resolve().parent.parent
DAY_US = 86_400 * 1_000_000


def shared_data() -> Path:
    """``../shared/data`` beside the checkout, or ``FINTECH_SHARED_DATA``."""
    override = os.environ.get("FINTECH_SHARED_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


def replicate(base: pl.DataFrame, replicas: int) -> pl.DataFrame:
    """The base set ``replicas`` times, ids suffixed and times shifted by 150 days per replica."""
    return pl.concat(
        [
            base.with_columns((pl.col("transaction_id") + f"#{k}"), pl.col("execute_time_us") + k * 150 * DAY_US)
            for k in range(replicas)
        ]
    )


def baseline_screen(frame: pl.DataFrame, threshold_minor: int) -> pl.DataFrame:
    """A plain Polars screen: per payer, 72 h rolling count and sum; REVIEW above one threshold."""
    return (
        frame.with_row_index("pos")
        .with_columns(pl.from_epoch(pl.col("execute_time_us"), time_unit="us").alias("ts"))
        .sort("source_account_id", "ts")
        .rolling("ts", period="72h", group_by="source_account_id")
        .agg(pl.len().alias("count"), pl.col("amount_minor").sum().alias("total"), pl.col("pos").last())
        .with_columns(((pl.col("count") >= 6) | (pl.col("total") >= threshold_minor)).alias("review"))
        .sort("pos")
    )


def bench_screening(frame: pl.DataFrame, segments: pl.DataFrame, micro_batch: int) -> dict[str, Any]:
    """Engine (one call, and micro-batches) vs the Polars baseline on the same transfers."""
    rules = load_rule_set()
    engine = ScreeningEngine(rules)
    engine.set_segments(segments)
    started, cpu = time.perf_counter(), time.process_time()
    result = engine.screen(frame)
    one_call_s, one_call_cpu = time.perf_counter() - started, time.process_time() - cpu

    stream = ScreeningEngine(rules)
    stream.set_segments(segments)
    started, cpu = time.perf_counter(), time.process_time()
    decisions = []
    for offset in range(0, frame.height, micro_batch):
        decisions.append(stream.screen(frame.slice(offset, micro_batch)).decisions)
    micro_s, micro_cpu = time.perf_counter() - started, time.process_time() - cpu
    identical = pl.concat(decisions).equals(result.decisions)

    started, cpu = time.perf_counter(), time.process_time()
    base = baseline_screen(frame, rules.currencies["USD"].reporting_threshold)
    baseline_s, baseline_cpu = time.perf_counter() - started, time.process_time() - cpu
    n = frame.height
    counts = {d.name: int((result.decisions["decision"] == int(d)).sum()) for d in Decision}
    return {
        "transactions": n,
        "engine_one_call": {
            "seconds": round(one_call_s, 3),
            "tx_per_s": round(n / one_call_s),
            "cpu_seconds": round(one_call_cpu, 3),
            "tx_per_cpu_second": round(n / one_call_cpu),
            "cpu_s_per_1000_tx": round(one_call_cpu / n * 1_000, 5),
        },
        "engine_micro_batches": {
            "batch": micro_batch,
            "seconds": round(micro_s, 3),
            "tx_per_s": round(n / micro_s),
            "cpu_s_per_1000_tx": round(micro_cpu / n * 1_000, 5),
            "identical_to_one_call": identical,
        },
        "baseline_polars_rolling": {
            "seconds": round(baseline_s, 3),
            "tx_per_s": round(n / baseline_s),
            "cpu_seconds": round(baseline_cpu, 3),
            "tx_per_cpu_second": round(n / baseline_cpu),
            "reviews": int(base["review"].sum()),
        },
        "ratio_engine_to_baseline": round(baseline_s / one_call_s, 3),
        "decisions": counts,
        "alerts": result.alerts.height,
        "goal_tx_per_s": 500_000,
    }


def baseline_expand(frame: pl.DataFrame, seeds: list[str], hops: int, min_amount: int, start: int, end: int) -> int:
    """Hop-limited expansion by scanning the whole edge table each hop (no index)."""
    edges = frame.filter(
        (pl.col("amount_minor") >= min_amount)
        & (pl.col("execute_time_us") >= start)
        & (pl.col("execute_time_us") < end)
    ).select("source_account_id", "target_account_id")
    visited = set(seeds)
    frontier = pl.Series(seeds, dtype=pl.Utf8)
    for _ in range(hops):
        touching = edges.filter(
            pl.col("source_account_id").is_in(frontier) | pl.col("target_account_id").is_in(frontier)
        )
        nxt = set(touching["source_account_id"].to_list()) | set(touching["target_account_id"].to_list())
        fresh = nxt - visited
        if not fresh:
            break
        visited |= fresh
        frontier = pl.Series(sorted(fresh), dtype=pl.Utf8)
    return len(visited)


def bench_investigation(frame: pl.DataFrame, runs: int, seed: int) -> dict[str, Any]:
    """Plant the seed's network in the data and investigate it from planted mules."""
    start = int(frame["execute_time_us"].min()) + 200 * DAY_US  # type: ignore[arg-type]
    accounts = sorted(set(frame["source_account_id"].unique().to_list()))
    network = plant_layering_network(seed=seed, start_us=start, background_accounts=accounts[:5_000])
    data = pl.concat([frame, network.transactions, network.links]).sort("execute_time_us")
    started = time.perf_counter()
    graph = TransactionGraph(data)
    index_s = time.perf_counter() - started
    rng = np.random.Generator(np.random.PCG64(seed))
    mules = [a for layer in network.layers for a in layer]
    planted = set(network.account_ids)
    window = (start - 5 * DAY_US, start + 45 * DAY_US)
    min_amount = 500_000  # 5,000.00: the investigator ignores small transfers
    latencies: list[float] = []
    expansion: list[float] = []
    baseline: list[float] = []
    recall: list[float] = []
    precision: list[float] = []
    sizes: list[int] = []
    roles_ok: list[float] = []
    for _ in range(runs):
        seeds = tuple(rng.choice(mules, size=3, replace=False).tolist())
        request = InvestigationRequest(
            seed_account_ids=seeds,
            max_hops=4,
            min_amount_minor=min_amount,
            window_start_us=window[0],
            window_end_us=window[1],
        )
        began = time.perf_counter()
        result = investigate(graph, request)
        latencies.append(time.perf_counter() - began)
        expansion.append(result.timings_ms["expand"] / 1000)
        found = {a.account_id for a in result.accounts}
        recall.append(len(found & planted) / len(planted))
        precision.append(len(found & planted) / max(len(found), 1))
        sizes.append(len(found))
        origins = {a.account_id for a in result.accounts if a.role.name == "ORIGIN"}
        benef = {a.account_id for a in result.accounts if a.role.name == "BENEFICIARY"}
        roles_ok.append(
            (len(origins & set(network.origins)) + len(benef & set(network.beneficiaries)))
            / (len(network.origins) + len(network.beneficiaries))
        )
        began = time.perf_counter()
        baseline_expand(data, list(seeds), 4, min_amount, *window)
        baseline.append(time.perf_counter() - began)
    lat = summary_ms(latencies)
    expand = summary_ms(expansion)
    base = summary_ms(baseline)
    return {
        "graph_transactions": data.height,
        "planted_accounts": len(planted),
        "planted_transactions": network.transactions.height,
        "index_build_seconds": round(index_s, 3),
        "investigation": lat,
        "expansion_only_indexed": expand,
        "baseline_full_scan_expansion_only": base,
        "ratio_baseline_to_indexed_expansion_p50": round(base["p50_ms"] / expand["p50_ms"], 3)
        if expand["p50_ms"]
        else None,
        "planted_found_recall": {"min": round(min(recall), 4), "mean": round(float(np.mean(recall)), 4)},
        "planted_precision": {"min": round(min(precision), 4), "mean": round(float(np.mean(precision)), 4)},
        "origin_and_beneficiary_roles_found": round(float(np.mean(roles_ok)), 4),
        "accounts_returned_mean": round(float(np.mean(sizes)), 1),
        "goal_ms": 1000,
    }


def _stream_client(pki_dir: str, port: int, messages: list[bytes], rate: float, out: Any) -> None:
    """The load generator, in its own process: stream ``messages`` and time every response.

    ``rate`` 0 sends as fast as gRPC flow control allows (throughput); otherwise messages are offered
    open-loop at ``rate`` messages per second (each send waits for its slot, never for an answer) and
    each response's latency is measured from its message's send. Sends back wall time, this process's
    CPU time and the latencies.
    """
    import asyncio

    import grpc
    from fintech.aml.v1 import aml_service_pb2 as pb
    from fintech.aml.v1 import aml_service_pb2_grpc as pb_grpc

    from server.runtime.pki import DevPki
    from tests.fixtures.runtime import client_credentials

    requests = [pb.ScreenTransactionsRequest.FromString(m) for m in messages]

    async def run() -> dict[str, Any]:
        async with grpc.aio.secure_channel(
            f"localhost:{port}", client_credentials(DevPki(Path(pki_dir)), "core-banking")
        ) as channel:
            await channel.channel_ready()
            stub = pb_grpc.AMLServiceStub(channel)
            sent: list[float] = []
            latencies: list[float] = []
            decided = 0

            async def offered() -> Any:
                start = time.perf_counter()
                for i, request in enumerate(requests):
                    if rate:
                        delay = start + i / rate - time.perf_counter()
                        if delay > 0:
                            await asyncio.sleep(delay)
                    sent.append(time.perf_counter())
                    yield request

            cpu0 = time.process_time()
            began = time.perf_counter()
            async for response in stub.ScreenTransactions(offered()):
                latencies.append(time.perf_counter() - sent[len(latencies)])
                decided += len(response.results)
            return {
                "seconds": time.perf_counter() - began,
                "cpu_seconds": time.process_time() - cpu0,
                "latencies": latencies,
                "decided": decided,
            }

    out.send(asyncio.run(run()))
    out.close()


async def _run_client(pki_dir: str, port: int, messages: list[bytes], rate: float) -> dict[str, Any]:
    """Start :func:`_stream_client` in a fresh process and wait for its figures (the server keeps serving)."""
    import asyncio
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_stream_client, args=(pki_dir, port, messages, rate, send), daemon=True)
    process.start()
    send.close()

    # Polled, so that this process's event loop keeps serving the stream meanwhile.
    while not receive.poll():
        if not process.is_alive():
            raise RuntimeError(f"stream client exited with {process.exitcode}")
        await asyncio.sleep(0.005)
    figures: dict[str, Any] = receive.recv()
    process.join(timeout=10)
    return figures


def bench_grpc_stream(
    base: pl.DataFrame,
    *,
    history: int,
    transactions: int,
    latency_messages: int,
    latency_rates: tuple[float, ...] = (1_000.0, 250.0),
) -> dict[str, Any]:
    """Transfers per second over the mTLS ``ScreenTransactions`` stream, persistence and audit included.

    A real server (in this process, SQLite in a temporary directory with ``synchronous=FULL``, real
    audit chain and keyring) is given ``history`` transfers through ``IngestTransactions``; then a
    client **in its own process** streams ``transactions`` more in messages of 1,000 (it sends ahead;
    every micro-batch is committed with its decisions, alerts and audit records before its responses
    are released). Baseline in the same run: the same engine on the same 1,000-transfer batches in
    memory, without storage, audit or gRPC. Then, for each rate of ``latency_rates`` (1,000 tx/s first),
    ``latency_messages`` fresh one-transfer messages are offered open-loop from the client process and
    each decision's latency (send to response) is recorded. CPU is reported per process (server: this
    process, ``process_time`` over the phase; client: the client process's own).
    """
    import asyncio
    import tempfile

    from fintech.aml.v1 import aml_service_pb2 as pb
    from fintech.aml.v1 import aml_service_pb2_grpc as pb_grpc

    from server.aml.mapping import frame_to_transactions
    from server.aml.rules import load_rule_set
    from server.aml.screening import ScreeningEngine
    from server.aml.service import build
    from server.runtime.pki import init_dev_pki
    from tests.fixtures.runtime import aio_channel, running_server, settings_for, stateful_context

    load_before = os.getloadavg()
    rules = load_rule_set()
    batch = 1_000
    # Each rate runs three times: as it comes; with a state checkpoint requested at the phase's first
    # micro-batch, written in the background while the decisions go on (server/aml/monitor.py); and, the
    # baseline in the same run, with that checkpoint written the pre-#10 way (one blob, one transaction,
    # the stream waiting).
    data = base.head(history + transactions + latency_messages * 3 * len(latency_rates))
    protos = frame_to_transactions(data, rules)
    warm, streamed, single = (
        protos[:history],
        protos[history : history + transactions],
        protos[history + transactions :],
    )
    stream_messages = [
        pb.ScreenTransactionsRequest(transactions=streamed[i : i + batch]).SerializeToString()
        for i in range(0, len(streamed), batch)
    ]
    single_messages = [pb.ScreenTransactionsRequest(transactions=[tx]).SerializeToString() for tx in single]
    modes = ("", "+checkpoint", "+inline_checkpoint")
    phases_offered = [(rate, mode) for rate in latency_rates for mode in modes]
    offers = [
        (
            f"single@{rate:g}{mode}",
            single_messages[k * latency_messages : (k + 1) * latency_messages],
            rate,
        )
        for k, (rate, mode) in enumerate(phases_offered)
    ]

    engine = ScreeningEngine(rules)
    engine.screen(data.head(history))
    began, cpu = time.perf_counter(), time.process_time()
    for start in range(history, history + transactions, batch):
        engine.screen(data.slice(start, batch))
    engine_s, engine_cpu = time.perf_counter() - began, time.process_time() - cpu

    async def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            pki = init_dev_pki(Path(tmp) / "pki")
            settings = settings_for(pki, Path(tmp) / "data", server={"services": ["operations"]})
            ctx = await stateful_context(settings)
            binding = await build(ctx)
            async with running_server(settings, ctx=ctx, extra_bindings=[binding]) as running:
                async with aio_channel(pki, "core-banking", running.port) as channel:
                    stub = pb_grpc.AMLServiceStub(channel)
                    for start in range(0, len(warm), 10_000):
                        await stub.IngestTransactions(
                            iter([pb.IngestTransactionsRequest(transactions=warm[start : start + 10_000])])
                        )
                monitor = binding.servicer.monitor
                phases: dict[str, Any] = {}
                for name, messages, rate in [("stream", stream_messages, 0.0), *offers]:
                    await monitor.wait_checkpoint()
                    before_batches, before_ms = monitor.batches, dict(monitor.timings_ms)
                    before_written, before_failed = monitor.checkpoints_written, monitor.checkpoint_failures
                    load = os.getloadavg()
                    if name.endswith("+checkpoint"):
                        monitor.request_checkpoint()
                    elif name.endswith("+inline_checkpoint"):
                        monitor.request_checkpoint(inline=True)
                    cpu0 = time.process_time()
                    client = await _run_client(str(Path(tmp) / "pki"), running.port, messages, rate)
                    cpu1 = time.process_time()
                    # Attributed to the phase that started it (it may end just after the phase's last decision).
                    await monitor.wait_checkpoint()
                    phases[name] = {
                        **client,
                        # The server process's CPU while the client ran (its start-up excluded: it does
                        # not touch the server until it connects, and then only through the socket).
                        "server_cpu_seconds": cpu1 - cpu0,
                        "batches": monitor.batches - before_batches,
                        "checkpoints": monitor.checkpoints_written - before_written,
                        "checkpoint_failures": monitor.checkpoint_failures - before_failed,
                        "checkpoint_seconds": monitor.last_checkpoint_seconds,
                        "checkpoint_ms": dict(monitor.last_checkpoint_ms),
                        "load_average_1m": round(load[0], 2),
                        "phase_ms": {k: round(v - before_ms.get(k, 0.0), 1) for k, v in monitor.timings_ms.items()},
                    }
        return phases

    measured = asyncio.run(run())
    stream = measured["stream"]
    assert stream["decided"] == len(streamed)
    stream_rate = transactions / stream["seconds"]
    engine_rate = transactions / engine_s

    def per_1000(seconds: float, n: int) -> float:
        return round(seconds / n * 1_000, 4)

    def offered(name: str) -> dict[str, Any]:
        phase = measured[name]
        assert phase["decided"] == latency_messages
        latencies = np.array(phase["latencies"]) * 1000
        return {
            **summary_ms(phase["latencies"]),
            "p90_ms": round(float(np.percentile(latencies, 90)), 3),
            "max_ms": round(float(latencies.max()), 3),
            "achieved_tx_per_s": round(latency_messages / phase["seconds"]),
            "micro_batches_committed": phase["batches"],
            # A state checkpoint (a ~16 MB blob) is written in the background since issue #10's change.
            "state_checkpoints_written": phase["checkpoints"],
            "state_checkpoint_failures": phase["checkpoint_failures"],
            "last_checkpoint_wall_s": round(phase["checkpoint_seconds"], 3) if phase["checkpoints"] else None,
            "last_checkpoint_steps_ms": phase["checkpoint_ms"] if phase["checkpoints"] else None,
            "load_average_1m_at_start": phase["load_average_1m"],
            "server_cpu_s_per_1000_tx": per_1000(phase["server_cpu_seconds"], latency_messages),
            "client_cpu_s_per_1000_tx": per_1000(phase["cpu_seconds"], latency_messages),
            "monitor_phase_ms_total": phase["phase_ms"],
        }

    return {
        "measured": True,
        "client": "separate process (spawned), mTLS",
        "history_ingested": history,
        "streamed_transactions": transactions,
        "micro_batch": batch,
        "stream_tx_per_s": round(stream_rate),
        "stream_seconds": round(stream["seconds"], 3),
        "stream_server_cpu_seconds": round(stream["server_cpu_seconds"], 3),
        "stream_client_cpu_seconds": round(stream["cpu_seconds"], 3),
        "stream_server_cpu_s_per_1000_tx": per_1000(stream["server_cpu_seconds"], transactions),
        "stream_client_cpu_s_per_1000_tx": per_1000(stream["cpu_seconds"], transactions),
        "stream_micro_batches_committed": stream["batches"],
        "stream_state_checkpoints_written": stream["checkpoints"],
        "stream_monitor_phase_ms_total": stream["phase_ms"],
        "baseline_engine_only_same_batches_tx_per_s": round(engine_rate),
        "baseline_engine_only_cpu_s_per_1000_tx": per_1000(engine_cpu, transactions),
        "ratio_stream_to_engine_only": round(stream_rate / engine_rate, 3),
        "one_per_message_at_1000_offered": offered("single@1000"),
        "one_per_message_at_1000_offered_with_checkpoint": offered("single@1000+checkpoint"),
        "one_per_message_at_1000_offered_with_inline_checkpoint_baseline": offered("single@1000+inline_checkpoint"),
        "one_per_message_at_other_rates": {
            f"{rate:g}_tx_per_s{suffix}": offered(f"single@{rate:g}{tag}")
            for rate in latency_rates
            if rate != 1_000
            for suffix, tag in (
                ("", ""),
                ("_with_checkpoint", "+checkpoint"),
                ("_with_inline_checkpoint_baseline", "+inline_checkpoint"),
            )
        },
        "goal_stream_tx_per_s": 100_000,
        "goal_p99_ms": 10,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
        "includes": (
            "mTLS gRPC; per micro-batch one commit (SQLite synchronous=FULL) of transactions, decisions, "
            "alerts and audit records; state checkpoint (background, in parts) after 20 batches and 50,000 "
            "transactions, and one requested at the start of each '_with_checkpoint' latency phase"
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write ``bench/results/aml.json``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=9, help="copies of the 118,250-transfer set (9 -> 1.06M)")
    parser.add_argument("--micro-batch", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30, help="investigations to time")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--stream-history", type=int, default=20_000, help="transfers ingested before streaming")
    parser.add_argument("--stream-transactions", type=int, default=40_000, help="transfers streamed in 1,000s")
    parser.add_argument("--latency-messages", type=int, default=300, help="one-transfer messages at 1,000 tx/s")
    parser.add_argument("--stream-only", action="store_true", help="only the gRPC part; other figures kept")
    args = parser.parse_args(argv)
    stream_args = {
        "history": args.stream_history,
        "transactions": args.stream_transactions,
        "latency_messages": args.latency_messages,
    }

    archive = load_archive(shared_data() / "amlsim" / "20K_fanin200.tgz")
    enriched = enrich(archive)
    base = enriched.transactions.select(list(TRANSACTION_SCHEMA))
    if args.stream_only:
        stream = bench_grpc_stream(base, **stream_args)
        previous = json.loads((RESULTS / "aml.json").read_text()) if (RESULTS / "aml.json").exists() else {}
        kept = {k: v for k, v in previous.items() if k not in {"benchmark", "time", "machine"}}
        path = write_result("aml", {**kept, "grpc_stream": stream})
        print(_stream_line(stream) + f" -> {path}")
        return 0
    frame = replicate(base, args.replicas)
    load_avg_before = os.getloadavg()
    screening = bench_screening(frame, enriched.segments, args.micro_batch)
    investigation = bench_investigation(frame, args.runs, args.seed)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "screening": screening,
        "network": investigation,
        "grpc_stream": bench_grpc_stream(base, **stream_args),
        "peak_memory_mb": round(peak_mb, 1),
        "load_average": {
            "before": [round(x, 2) for x in load_avg_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
    }
    path = write_result("aml", result)
    s = screening
    print(
        f"screening {s['transactions']:,} tx: engine {s['engine_one_call']['tx_per_s']:,} tx/s (one call), "
        f"{s['engine_micro_batches']['tx_per_s']:,} tx/s ({args.micro_batch:,}-tx batches, identical="
        f"{s['engine_micro_batches']['identical_to_one_call']}), baseline {s['baseline_polars_rolling']['tx_per_s']:,}"
        f" tx/s; ratio {s['ratio_engine_to_baseline']}x"
    )
    n = investigation
    print(
        f"investigation p50 {n['investigation']['p50_ms']} ms p99 {n['investigation']['p99_ms']} ms "
        f"(expansion {n['expansion_only_indexed']['p50_ms']} ms vs full-scan baseline "
        f"{n['baseline_full_scan_expansion_only']['p50_ms']} ms); planted found "
        f"{n['planted_found_recall']['mean']:.3f}, precision {n['planted_precision']['mean']:.3f}; "
        f"peak memory {peak_mb:.0f} MB -> {path}"
    )
    print(_stream_line(result["grpc_stream"]))
    return 0


def _stream_line(stream: dict[str, Any]) -> str:
    single = stream["one_per_message_at_1000_offered"]
    ckpt = stream["one_per_message_at_1000_offered_with_checkpoint"]
    inline = stream["one_per_message_at_1000_offered_with_inline_checkpoint_baseline"]
    return (
        f"gRPC stream {stream['stream_tx_per_s']:,} tx/s (1,000-tx messages, with persistence and audit) vs engine "
        f"alone {stream['baseline_engine_only_same_batches_tx_per_s']:,} tx/s: "
        f"ratio {stream['ratio_stream_to_engine_only']}; "
        f"one per message at 1,000 tx/s offered: p50 {single['p50_ms']} ms p99 {single['p99_ms']} ms "
        f"({single['achieved_tx_per_s']:,} tx/s achieved); "
        f"with a checkpoint: p50 {ckpt['p50_ms']} ms p99 {ckpt['p99_ms']} ms; "
        f"with the checkpoint inline (baseline): p50 {inline['p50_ms']} ms p99 {inline['p99_ms']} ms; "
        + "".join(
            f"at {rate.replace('_tx_per_s', ' tx/s')}: p50 {o['p50_ms']} ms p99 {o['p99_ms']} ms; "
            for rate, o in stream["one_per_message_at_other_rates"].items()
        )
        + f"CPU s per 1,000 tx: stream server "
        f"{stream['stream_server_cpu_s_per_1000_tx']} + client {stream['stream_client_cpu_s_per_1000_tx']}, "
        f"engine alone {stream['baseline_engine_only_cpu_s_per_1000_tx']}; load {stream['load_average']}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
