"""The inference pool's cost and behaviour, each against a baseline measured in the same run.

1. Overhead: ``InferencePool.chat`` against a direct ``openai`` client call to the same scripted server
   (alternating rounds, one caller): p50 and p99 added (goal: < 1 ms at p50).
2. Failover under load: three endpoints under steady open-loop load, one killed mid-run: failed requests
   (goal 0) and the time until the dead endpoint receives no more requests (goal < 1 s).
3. Routing under skew: one endpoint saturated (serves one request at a time, 50 ms each) beside two fast
   ones; least-outstanding against round-robin in alternating rounds.

Run: ``python bench/inference.py`` (about a minute); writes ``bench/results/inference.json``.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and its name would shadow the ``inference``
# package; put the repository root first instead (``_common`` is found through it as ``bench._common``).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))
sys.modules.pop("inference", None)

import httpx2  # noqa: E402
import openai  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402

from bench._common import summary_ms, write_result  # noqa: E402
from inference.errors import InferenceError  # noqa: E402
from inference.health import EndpointState  # noqa: E402
from inference.pool import InferencePool  # noqa: E402
from inference.settings import InferenceSettings  # noqa: E402
from tests.fakes.openai_server import FakeOpenAIServer  # noqa: E402

MESSAGES = [{"role": "user", "content": "What is the status of transfer TX-1?"}]


def make_pool(urls: list[str], **overrides: Any) -> InferencePool:
    data: dict[str, Any] = {
        "groups": [{"name": "primary", "model": "m", "endpoints": [{"url": u, "max_concurrency": 64} for u in urls]}],
        "affinity": {"enabled": False},
        "health": {"probe_interval_seconds": 0.5, "eject_base_seconds": 5},
        "retry": {"backoff_base_seconds": 0.005, "backoff_max_seconds": 0.02},
        **overrides,
    }
    return InferencePool(InferenceSettings.model_validate(data), registry=CollectorRegistry())


async def overhead(server: FakeOpenAIServer, rounds: int = 8, per_round: int = 150) -> dict[str, Any]:
    server.reset()
    http = httpx2.AsyncClient(timeout=10, trust_env=False)
    direct_client = openai.AsyncOpenAI(api_key="unused", base_url=server.base_url, max_retries=0, http_client=http)
    pool = make_pool([server.base_url])
    direct: list[float] = []
    pooled: list[float] = []

    # CPU time of this process per call: unlike wall time it hardly moves with the other agents' load, so
    # its difference is the pool's own cost (the scripted server runs in another process).
    direct_cpu: list[float] = []
    pooled_cpu: list[float] = []

    async def run_direct() -> None:
        started, cpu = time.perf_counter(), time.process_time()
        await direct_client.chat.completions.create(model="m", messages=MESSAGES, max_tokens=16)  # type: ignore[arg-type]
        direct.append(time.perf_counter() - started)
        direct_cpu.append(time.process_time() - cpu)

    async def run_pool() -> None:
        started, cpu = time.perf_counter(), time.process_time()
        await pool.chat(MESSAGES, max_tokens=16)
        pooled.append(time.perf_counter() - started)
        pooled_cpu.append(time.process_time() - cpu)

    for _ in range(20):  # warm both connections
        await run_direct()
        await run_pool()
    direct.clear()
    pooled.clear()
    direct_cpu.clear()
    pooled_cpu.clear()
    # Strictly alternating calls (the order flipping every round), so machine load drifts over both alike;
    # the median of paired differences is the robust estimate of what the pool adds.
    gc.disable()
    try:
        for index in range(rounds):
            for _ in range(per_round):
                if index % 2 == 0:
                    await run_direct()
                    await run_pool()
                else:
                    await run_pool()
                    await run_direct()
    finally:
        gc.enable()
    await pool.close()
    await http.aclose()
    d, p = summary_ms(direct), summary_ms(pooled)
    paired = sorted(b - a for a, b in zip(direct, pooled, strict=True))
    return {
        "direct_openai": d,
        "pool": p,
        "paired_added_median_ms": round(paired[len(paired) // 2] * 1000, 3),
        "cpu_per_call_direct_ms": round(sum(direct_cpu) / len(direct_cpu) * 1000, 3),
        "cpu_per_call_pool_ms": round(sum(pooled_cpu) / len(pooled_cpu) * 1000, 3),
        "cpu_added_per_call_ms": round((sum(pooled_cpu) - sum(direct_cpu)) / len(pooled_cpu) * 1000, 3),
        "added_p50_ms": round(p["p50_ms"] - d["p50_ms"], 3),
        "added_p99_ms": round(p["p99_ms"] - d["p99_ms"], 3),
        "ratio_p50": round(p["p50_ms"] / d["p50_ms"], 3),
        "goal_added_p50_ms": 1.0,
    }


async def failover(
    servers: list[FakeOpenAIServer], rate: float = 100.0, seconds: float = 4.0, kill_at: float = 1.5
) -> dict[str, Any]:
    for server in servers:
        server.reset()
        server.set_default({"kind": "ok", "content": "ok", "delay": 0.01})
    pool = make_pool([s.base_url for s in servers])
    await pool.start()
    victim = servers[0]
    victim_id = f"primary/127.0.0.1:{victim.port}"
    loop = asyncio.get_running_loop()
    outcomes: list[tuple[float, str]] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one() -> None:
        try:
            result = await pool.chat(MESSAGES, max_tokens=8, time_remaining=5)
            outcomes.append((loop.time(), result.served_by.endpoint_id))
        except InferenceError as error:
            outcomes.append((loop.time(), "FAILED:" + error.reason))

    start = loop.time()
    killed_at: float | None = None
    out_at: float | None = None
    next_at = start
    while next_at - start < seconds:
        if killed_at is None and loop.time() - start >= kill_at:
            victim.kill()
            killed_at = loop.time()
        if killed_at is not None and out_at is None:
            state = {s.endpoint_id: s.state for s in pool.status()}.get(victim_id)
            if state in (EndpointState.EJECTED, EndpointState.CIRCUIT_OPEN):
                out_at = loop.time()
        task = asyncio.create_task(one())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        next_at += 1.0 / rate
        await asyncio.sleep(max(0.0, next_at - loop.time()))
    await asyncio.gather(*tasks)
    status = {s.endpoint_id: s for s in pool.status()}
    await pool.close()
    failed = [o for o in outcomes if o[1].startswith("FAILED")]
    assert killed_at is not None
    return {
        "requests": len(outcomes),
        "failed_requests": len(failed),
        "goal_failed_requests": 0,
        "seconds_until_dead_endpoint_out": None if out_at is None else round(out_at - killed_at, 3),
        "goal_seconds_until_out": 1.0,
        "dead_endpoint_attempts_total": status[victim_id].requests_total,
        "dead_endpoint_ejections": status[victim_id].ejections,
        "rate_per_second": rate,
    }


async def skew_round(
    servers: list[FakeOpenAIServer], picker: str, requests: int, concurrency: int
) -> tuple[list[float], int, float]:
    """One closed-loop round: latencies, requests served by the slow endpoint, elapsed seconds."""
    pool = make_pool([s.base_url for s in servers], picker=picker)
    latencies: list[float] = []
    slow = 0
    remaining = requests

    async def worker() -> None:
        nonlocal slow, remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            result = await pool.chat(MESSAGES, max_tokens=8)
            latencies.append(time.perf_counter() - started)
            if result.served_by.endpoint_id.endswith(f":{servers[0].port}"):
                slow += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return latencies, slow, elapsed


async def skew(
    servers: list[FakeOpenAIServer], rounds: int = 4, requests: int = 150, concurrency: int = 12
) -> dict[str, Any]:
    """Least-outstanding against round-robin in alternating rounds (machine load drifts over both alike)."""
    for index, server in enumerate(servers):
        server.reset()
        # The slow replica serves one request at a time (50 ms each): a saturated GPU whose queue grows.
        slow = {"kind": "ok", "content": "ok", "delay": 0.05, "serial": True}
        server.set_default(slow if index == 0 else {"kind": "ok", "content": "ok", "delay": 0.015})
    results: dict[str, tuple[list[float], int, float]] = {
        "least_outstanding": ([], 0, 0.0),
        "round_robin": ([], 0, 0.0),
    }
    for index in range(rounds):
        order = ["least_outstanding", "round_robin"] if index % 2 == 0 else ["round_robin", "least_outstanding"]
        for picker in order:
            latencies, slow, elapsed = await skew_round(servers, picker, requests, concurrency)
            total = results[picker]
            results[picker] = (total[0] + latencies, total[1] + slow, total[2] + elapsed)
    out: dict[str, Any] = {}
    for picker, (latencies, slow, elapsed) in results.items():
        ordered = sorted(latencies)
        out[picker] = {
            **summary_ms(latencies),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 3),
            "share_to_slow_endpoint": round(slow / len(latencies), 3),
            "throughput_per_second": round(len(latencies) / elapsed, 1),
        }
    lo, rr = out["least_outstanding"], out["round_robin"]
    out["p99_ratio_lo_over_rr"] = round(lo["p99_ms"] / rr["p99_ms"], 3)
    out["p95_ratio_lo_over_rr"] = round(lo["p95_ms"] / rr["p95_ms"], 3)
    out["mean_ratio_lo_over_rr"] = round(lo["mean_ms"] / rr["mean_ms"], 3)
    out["setup"] = {
        "slow": "serial, 0.05 s per request",
        "fast_delay_s": 0.015,
        "concurrency": concurrency,
        "requests_per_picker": rounds * requests,
    }
    return out


async def main() -> None:
    servers = [FakeOpenAIServer.start() for _ in range(3)]
    try:
        over = await overhead(servers[1])
        print(
            f"overhead: direct p50 {over['direct_openai']['p50_ms']} ms, pool p50 {over['pool']['p50_ms']} ms, "
            f"added p50 {over['added_p50_ms']} ms / p99 {over['added_p99_ms']} ms (ratio {over['ratio_p50']}); "
            f"median paired difference {over['paired_added_median_ms']} ms; CPU added per call "
            f"{over['cpu_added_per_call_ms']} ms (direct call {over['cpu_per_call_direct_ms']} ms)"
        )
        skewed = await skew(servers)
        lo, rr = skewed["least_outstanding"], skewed["round_robin"]
        print(
            f"skew: p99 least-outstanding {lo['p99_ms']} ms vs round-robin {rr['p99_ms']} ms "
            f"(ratio {skewed['p99_ratio_lo_over_rr']}); p95 ratio {skewed['p95_ratio_lo_over_rr']}, "
            f"mean ratio {skewed['mean_ratio_lo_over_rr']}; share to slow {lo['share_to_slow_endpoint']} vs "
            f"{rr['share_to_slow_endpoint']}"
        )
        fail = await failover(servers)
        print(
            f"failover: {fail['failed_requests']} of {fail['requests']} failed; dead endpoint out after "
            f"{fail['seconds_until_dead_endpoint_out']} s"
        )
    finally:
        for server in servers:
            server.stop()
    load = os.getloadavg()[0]
    path = write_result(
        "inference",
        {"overhead": over, "routing_under_skew": skewed, "failover": fail, "load_average_1m_at_end": round(load, 2)},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    asyncio.run(main())
