"""Benchmark of the console's investigation pages: what a page costs beyond the data it shows.

``python bench/console.py`` (about 1-2 minutes) writes ``bench/results/console.json``.

Set-up (real processes, as the console runs in production): ``fintech serve`` hosting AMLService
(SQLite, keys, audit) in one process; the seed's planted layering network (237 accounts, 1,856
transfers, ``server.aml.synthetic``) ingested over ``IngestTransactions``, which raises a few hundred
alerts; one investigation of that network from an alert on a mule (4 hops, transfers of at least
USD 5,000), which opens the case; the console (``python -m fintech_console.cli serve``, uvicorn)
in a third process, signed in as an investigator.

Measured, in the same run and interleaved (so the machine's load hits both alike):

* **alert list**: ``GET /aml/alerts`` (50 alerts: ``ListAlerts`` through the SDK, view model, template,
  HTTP) against ``ListAlerts`` with the same page size through the SDK alone, from this process;
* **case graph**: ``GET /aml/cases/<case>/network?...`` (``InvestigateNetwork`` replayed by its
  request id, 237 nodes and their edges turned into cytoscape elements, the page with the JSON
  block) against the same ``InvestigateNetwork`` call through the SDK alone.

The SDK baseline uses the console's own certificate and forwards the same operator, so the services
do identical work; the ratio console / SDK is the console's overhead (HTTP, rendering, the view
model). The browser's drawing of the graph is not included (see tests/e2e/console/investigations).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, summary_ms, write_result

CONSOLE_DIR = REPO / "clients" / "console"
if str(CONSOLE_DIR) not in sys.path:
    sys.path.insert(0, str(CONSOLE_DIR))
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "clients" / "python"), str(CONSOLE_DIR)])}
DAY_US = 86_400 * 1_000_000
START_US = 1_767_225_600_000_000  # 2026-01-01T00:00Z
PASSWORD = "bench-password-0123"


def _wait_ready(ready: Path, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists() and ready.read_text().strip():
            return int(ready.read_text().split()[0])
        if proc.poll() is not None:
            raise RuntimeError(f"{log.name}: exited early\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    raise TimeoutError(f"{log.name}: not ready\n{log.read_text()[-3000:]}")


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=REPO, env=ENV, stdout=out, stderr=subprocess.STDOUT)


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=REPO, env=ENV, check=True, capture_output=True)


async def measure(var: Path, rounds: int, seed: int) -> dict[str, Any]:
    import httpx
    import polars as pl
    from fintech.aml.v1 import aml_service_pb2 as aml
    from fintech.client import AMLServiceClient, secure_channel
    from fintech_console.auth.users import add_user
    from fintech_console.views.aml import InvestigationRef, network_graph

    from server.aml.mapping import frame_to_transactions
    from server.aml.rules import load_rule_set
    from server.aml.synthetic import plant_layering_network
    from server.runtime.pki import init_dev_pki

    pki = init_dev_pki(var / "pki")
    config = var / "aml.toml"
    config.write_text(
        f"""data_dir = "{var / "data"}"
[server]
host = "127.0.0.1"
port = 0
metrics_port = 0
grace_seconds = 1
services = ["aml"]
[tls]
ca_file = "{pki.ca}"
cert_file = "{pki.server.cert}"
key_file = "{pki.server.key}"
crl_file = "{pki.crl}"
[logging]
access_log = false
""",
        encoding="utf-8",
    )
    _cli("keys", "init", "--config", str(config))
    _cli("db", "upgrade", "--config", str(config))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        server = _start(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--config",
                str(config),
                "--ready-file",
                str(var / "aml.ready"),
            ],
            var / "aml.log",
        )
        processes.append(server)
        port = _wait_ready(var / "aml.ready", server, var / "aml.log")

        rules = load_rule_set()
        planted = plant_layering_network(
            seed=seed, start_us=START_US, background_accounts=[f"BG-{i:04d}" for i in range(400)]
        )
        frame = pl.concat([planted.transactions, planted.links]).sort("execute_time_us", "transaction_id")
        transactions = frame_to_transactions(frame, rules)

        console_cert = pki.client("console")
        staff = (("x-fintech-staff-id", "bench-investigator"), ("x-fintech-staff-role", "investigator"))
        async with secure_channel(
            f"localhost:{port}",
            ca_file=pki.ca,
            cert_file=pki.client("core-banking").cert,
            key_file=pki.client("core-banking").key,
        ) as core:
            ingested = await AMLServiceClient(core).ingest_transactions(
                requests=[aml.IngestTransactionsRequest(batch_id="bench", transactions=transactions)], timeout=120
            )
        users = var / "users.json"
        add_user(users, "bench-investigator", PASSWORD, "investigator", display_name="Bench investigator")
        console_config = var / "console.toml"
        console_config.write_text(
            f"""[console]
service_address = "localhost:{port}"
host = "127.0.0.1"
users_file = "{users}"
session_secret_file = "{var / "session.key"}"
cookie_secure = false
rpc_timeout_seconds = 10.0
rpc_write_timeout_seconds = 60.0
[console.tls]
ca_file = "{pki.ca}"
cert_file = "{console_cert.cert}"
key_file = "{console_cert.key}"
""",
            encoding="utf-8",
        )
        console = _start(
            [
                sys.executable,
                "-m",
                "fintech_console.cli",
                "serve",
                "--config",
                str(console_config),
                "--port",
                "0",
                "--ready-file",
                str(var / "console.ready"),
            ],
            var / "console.log",
        )
        processes.append(console)
        console_port = _wait_ready(var / "console.ready", console, var / "console.log")

        async with (
            secure_channel(
                f"localhost:{port}", ca_file=pki.ca, cert_file=console_cert.cert, key_file=console_cert.key
            ) as channel,
            httpx.AsyncClient(base_url=f"http://localhost:{console_port}", timeout=120) as http,
        ):
            sdk = AMLServiceClient(channel, metadata=staff)
            listed = await sdk.list_alerts(request=aml.ListAlertsRequest(page_size=500))
            mules = {a for layer in planted.layers for a in layer}
            alert = next(a for a in listed.alerts if a.account_id in mules)
            ref = InvestigationRef(
                str(uuid.uuid4()), alert_id=alert.alert_id, max_hops=4, min_amount_units=5_000, currency="USD"
            )
            first = await sdk.investigate_network(request=ref.to_request(), timeout=120)
            found = {a.account_id for a in first.accounts}

            # Sign in as the investigator (the form's CSRF token comes from the sign-in page).
            page = await http.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None, page.text[:500]
            signed = await http.post(
                "/login",
                data={
                    "csrf_token": token.group(1),
                    "username": "bench-investigator",
                    "password": PASSWORD,
                    "next": "/",
                },
            )
            assert signed.status_code in (200, 303), signed.text[:500]

            alert_page = "/aml/alerts?page_size=50"
            graph_page = f"/aml/cases/{first.case_id}/network?{ref.query()}"
            check = await http.get(graph_page)
            assert check.status_code == 200 and f"{len(found)} accounts" in check.text, check.text[:2000]
            check = await http.get(alert_page)
            assert check.status_code == 200 and check.text.count("data-alert-id=") == 50, check.text[:2000]

            samples: dict[str, list[float]] = {
                k: [] for k in ("page_alerts", "sdk_alerts", "page_graph", "sdk_graph", "page_home")
            }
            sizes: dict[str, int] = {}

            async def timed(name: str, call: Any) -> Any:
                began = time.perf_counter()
                result = await call
                samples[name].append(time.perf_counter() - began)
                return result

            for _ in range(3):  # warm-up: connections, template cache, the server's graph cache
                await http.get(alert_page)
                await http.get(graph_page)
            for _ in range(rounds):
                await timed("page_home", http.get("/"))
                response = await timed("page_alerts", http.get(alert_page))
                sizes["alerts_page_bytes"] = len(response.content)
                await timed("sdk_alerts", sdk.list_alerts(request=aml.ListAlertsRequest(page_size=50)))
                response = await timed("page_graph", http.get(graph_page))
                sizes["graph_page_bytes"] = len(response.content)
                await timed("sdk_graph", sdk.investigate_network(request=ref.to_request(), timeout=120))
            view_s = []
            for _ in range(rounds):
                began = time.perf_counter()
                graph = network_graph(first)
                view_s.append(time.perf_counter() - began)
    finally:
        for proc in reversed(processes):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    stats = {name: summary_ms(values) for name, values in samples.items()}

    def ratio(page: str, sdk_name: str, key: str) -> float:
        return round(stats[page][key] / stats[sdk_name][key], 2) if stats[sdk_name][key] else float("nan")

    return {
        "data": {
            "transfers_ingested": ingested.inserted_count,
            "alerts_raised": len(listed.alerts),
            "case_accounts": len(found),
            "planted_accounts": len(planted.account_ids),
            "case_edges": len(first.edges),
            "money_paths": len(first.money_paths),
            "graph_elements": len(graph.elements),
            **sizes,
        },
        "rounds": rounds,
        # The console's fixed cost per page: HTTP, session, layout, no RPC.
        "home_page_no_rpc": stats["page_home"],
        "alert_list_50": {
            "console_page": stats["page_alerts"],
            "sdk_alone": stats["sdk_alerts"],
            "ratio_p50": ratio("page_alerts", "sdk_alerts", "p50_ms"),
            "ratio_p99": ratio("page_alerts", "sdk_alerts", "p99_ms"),
        },
        "case_graph_237": {
            "console_page": stats["page_graph"],
            "sdk_alone": stats["sdk_graph"],
            "ratio_p50": ratio("page_graph", "sdk_graph", "p50_ms"),
            "ratio_p99": ratio("page_graph", "sdk_graph", "p99_ms"),
            "view_model_only": summary_ms(view_s),
        },
        "includes": (
            "console: HTTP/1.1 to uvicorn, session, SDK call over mTLS with the operator forwarded, view model, "
            "Jinja2; SDK alone: the same RPC with the same identity from the benchmark process"
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="measured requests of each kind")
    parser.add_argument("--seed", type=int, default=11, help="seed of the planted network")
    parser.add_argument("--no-write", action="store_true", help="print only, do not write bench/results/console.json")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(measure(Path(tmp), args.rounds, args.seed))
    result["load_average"] = {
        "before": [round(x, 2) for x in load_before],
        "after": [round(x, 2) for x in os.getloadavg()],
    }
    alerts, graph = result["alert_list_50"], result["case_graph_237"]
    print(
        f"alert list (50): console p50 {alerts['console_page']['p50_ms']} ms / "
        f"p99 {alerts['console_page']['p99_ms']} ms; "
        f"SDK alone p50 {alerts['sdk_alone']['p50_ms']} ms / p99 {alerts['sdk_alone']['p99_ms']} ms; "
        f"ratio p50 {alerts['ratio_p50']}x, p99 {alerts['ratio_p99']}x"
    )
    print(
        f"case graph ({result['data']['case_accounts']} accounts, {result['data']['case_edges']} edges): "
        f"console p50 {graph['console_page']['p50_ms']} ms / p99 {graph['console_page']['p99_ms']} ms; "
        f"SDK alone p50 {graph['sdk_alone']['p50_ms']} ms / p99 {graph['sdk_alone']['p99_ms']} ms; "
        f"ratio p50 {graph['ratio_p50']}x, p99 {graph['ratio_p99']}x; view model alone p50 "
        f"{graph['view_model_only']['p50_ms']} ms"
    )
    print(f"home page without any RPC (the console's fixed cost): p50 {result['home_page_no_rpc']['p50_ms']} ms")
    print(f"load average before {result['load_average']['before']}, after {result['load_average']['after']}")
    if not args.no_write:
        print(f"wrote {write_result('console', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
