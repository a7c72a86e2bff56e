"""Unary round trip over mTLS: the full interceptor chain against a bare grpc.aio server, same run.

Both servers run in their own process with the same TLS credentials (client
certificate required) and the same trivial servicer; the load generator runs
in this process with 1, 16 and 64 concurrent callers. Goal: the chain keeps
at least 75 % of the bare server's throughput.

    python bench/runtime.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (sets sys.path)
from _common import REPO, summary_ms, write_result

CONCURRENCY = (1, 16, 64)


def serve(kind: str, pki_dir: Path, port_file: Path) -> None:
    """Run one server variant until killed."""
    import grpc
    from fintech.customer.v1 import customer_service_pb2, customer_service_pb2_grpc

    from server.runtime.config import load_settings
    from server.runtime.context import AppContext, ServiceBinding
    from server.runtime.pki import DevPki

    pki = DevPki(pki_dir)

    class Echo(customer_service_pb2_grpc.CustomerServiceServicer):
        async def SearchKnowledge(self, request, context):  # type: ignore[no-untyped-def]
            return customer_service_pb2.SearchKnowledgeResponse(
                hits=[customer_service_pb2.KnowledgeHit(chunk_id="c", text=request.query)]
            )

    async def main() -> None:
        if kind == "bare":
            server = grpc.aio.server()
            customer_service_pb2_grpc.add_CustomerServiceServicer_to_server(Echo(), server)
            creds = grpc.ssl_server_credentials(
                [(pki.server.key.read_bytes(), pki.server.cert.read_bytes())],
                root_certificates=pki.ca.read_bytes(),
                require_client_auth=True,
            )
            port = server.add_secure_port("127.0.0.1:0", creds)
            await server.start()
        else:
            import logging

            from server.runtime.app import start_server
            from server.runtime.observability import configure_logging

            configure_logging("INFO")
            # The access log is part of the chain; write it where a real deployment would (a file).
            logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # noqa: ASYNC230
            settings = load_settings(
                None,
                data_dir=Path(tempfile.mkdtemp()),
                server={"services": ["operations"], "port": 0, "metrics_port": 0},
                tls={"ca_file": pki.ca, "cert_file": pki.server.cert, "key_file": pki.server.key, "crl_file": pki.crl},
            )
            binding = ServiceBinding(
                "customer",
                "fintech.customer.v1.CustomerService",
                Echo(),
                customer_service_pb2_grpc.add_CustomerServiceServicer_to_server,
            )
            running = await start_server(AppContext(settings=settings), extra_bindings=[binding])
            server, port = running.server, running.port
        port_file.write_text(str(port))  # noqa: ASYNC240  (once, at start-up)
        await server.wait_for_termination()

    asyncio.run(main())


async def load(port: int, pki_dir: Path, concurrency: int, seconds: float) -> dict[str, float]:
    import grpc
    from fintech.customer.v1 import customer_service_pb2, customer_service_pb2_grpc

    from server.runtime.pki import DevPki

    pki = DevPki(pki_dir)
    issued = pki.client("core-banking")
    creds = grpc.ssl_channel_credentials(pki.ca.read_bytes(), issued.key.read_bytes(), issued.cert.read_bytes())
    latencies: list[float] = []
    async with grpc.aio.secure_channel(f"localhost:{port}", creds) as channel:
        stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
        request = customer_service_pb2.SearchKnowledgeRequest(query="how long does card delivery take", top_k=5)
        for _ in range(50):  # warm up the connection and caches
            await stub.SearchKnowledge(request)
        stop_at = time.perf_counter() + seconds

        async def caller() -> None:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                await stub.SearchKnowledge(request)
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"requests_per_s": round(len(latencies) / elapsed, 1), **summary_ms(latencies)}


def start(kind: str, pki_dir: Path, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    port_file = tmp / f"{kind}.port"
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'clients' / 'python'}"}
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--pki", str(pki_dir), "--port-file", str(port_file)], env=env
    )
    deadline = time.monotonic() + 30
    while not (port_file.exists() and port_file.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{kind} server did not start")
        time.sleep(0.05)
    return proc, int(port_file.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", choices=["bare", "chain"])
    parser.add_argument("--pki", type=Path)
    parser.add_argument("--port-file", type=Path)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.pki, args.port_file)
        return
    from server.runtime.pki import init_dev_pki

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        init_dev_pki(tmp / "pki")
        results: dict[str, dict[str, dict[str, float]]] = {}
        for kind in ("bare", "chain"):
            proc, port = start(kind, tmp / "pki", tmp)
            try:
                results[kind] = {str(c): asyncio.run(load(port, tmp / "pki", c, args.seconds)) for c in CONCURRENCY}
            finally:
                proc.kill()
                proc.wait()
    ratios = {
        c: round(results["chain"][str(c)]["requests_per_s"] / results["bare"][str(c)]["requests_per_s"], 3)
        for c in CONCURRENCY
    }
    header = ("callers", "bare rps", "chain rps", "ratio", "bare p50/p99 ms", "chain p50/p99 ms")
    print("{:>8} {:>10} {:>10} {:>6} {:>17} {:>17}".format(*header))
    for c in CONCURRENCY:
        b, ch = results["bare"][str(c)], results["chain"][str(c)]
        print(
            f"{c:>8} {b['requests_per_s']:>10} {ch['requests_per_s']:>10} {ratios[c]:>6} "
            f"{b['p50_ms']:>8}/{b['p99_ms']:<8} {ch['p50_ms']:>8}/{ch['p99_ms']:<8}"
        )
    goal = min(ratios.values()) >= 0.75
    print(f"goal: chain keeps >= 75% of bare throughput at every concurrency: {'met' if goal else 'NOT met'}")
    write_result(
        "runtime",
        {
            "what": "unary SearchKnowledge echo over mTLS; full interceptor chain vs bare grpc.aio, same TLS",
            "seconds_per_level": args.seconds,
            "results": results,
            "throughput_ratio_chain_over_bare": {str(c): r for c, r in ratios.items()},
            "goal": ">= 0.75 at 1, 16 and 64 callers",
            "goal_met": goal,
        },
    )


if __name__ == "__main__":
    main()
