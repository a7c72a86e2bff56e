"""``make run``: start the whole platform on embedded defaults and walk a person through it.

Creates development certificates and a configuration under ``var/`` when
missing, starts every process (the gRPC services; later the development LLM,
Envoy and the console), waits until each is ready, runs the walkthrough — one
step per thing the platform can do today — and keeps serving until Ctrl-C,
then stops every process it started.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
console = Console()


@dataclass
class Platform:
    """What the walkthrough talks to."""

    var: Path
    grpc_port: int = 0
    metrics_port: int = 0
    edge_port: int = 0
    edge_admin_port: int = 0
    console_port: int = 0
    console_logins: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    @property
    def certs(self) -> Path:
        return self.var / "certs"

    def credentials(self, role: str) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            (self.certs / "ca.pem").read_bytes(),
            (self.certs / "clients" / f"{role}-key.pem").read_bytes(),
            (self.certs / "clients" / f"{role}.pem").read_bytes(),
        )

    def channel(self, role: str) -> grpc.Channel:
        return grpc.secure_channel(f"localhost:{self.grpc_port}", self.credentials(role))

    def stop(self) -> None:
        for _name, proc in reversed(self.processes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(self.processes):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            console.print(f"stopped {name}")


def _start_llms(platform: Platform) -> list[str]:
    """The development LLM (llama.cpp serving Gemma 3 270M): one server per model group, primary and fallback.

    A base model: its chat text is junk, its grammar-constrained JSON parses. It exercises the real path
    (HTTP, streaming, schemas, failover, metrics); the services must behave correctly when its output
    fails validation. Production points the same pool at vLLM serving DeepSeek (docs/inference.md).
    """
    urls = []
    pending = []
    for name in ("primary", "fallback"):
        port = _free_port()
        log = (platform.var / f"llm-{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "inference.devserver", "--port", str(port), "--threads", "1", "--parallel", "2"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        platform.processes.append((f"llm-{name}", proc))
        pending.append((name, proc))
        urls.append(f"http://127.0.0.1:{port}/v1")
    for name, proc in pending:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if not line.startswith("READY "):
            raise RuntimeError(f"the development LLM ({name}) did not start; see {platform.var}/llm-{name}.log")
    return urls


def _config(var: Path, port: int, metrics_port: int, llm_urls: list[str]) -> Path:
    groups = "".join(
        f"""
[[inference.groups]]
name = "dev-{name}"
model = "gemma3-270m"
endpoints = [{{url = "{url}", max_concurrency = 2}}]
"""
        for name, url in zip(("primary", "fallback"), llm_urls, strict=True)
    )
    path = var / "dev.toml"
    path.write_text(
        f"""# Written by `make run`; embedded defaults for one laptop.
data_dir = "{var / "data"}"
[server]
host = "127.0.0.1"
port = {port}
metrics_port = {metrics_port}
grace_seconds = 5
[tls]
ca_file = "certs/ca.pem"
cert_file = "certs/server.pem"
key_file = "certs/server-key.pem"
crl_file = "certs/crl.pem"
[inference]
request_timeout_seconds = 60
{groups}""",
        encoding="utf-8",
    )
    return path


def _start_services(platform: Platform, port: int, metrics_port: int, llm_urls: list[str]) -> None:
    config = _config(platform.var, port, metrics_port, llm_urls)
    # Development keys (created when missing) and the schema, as `fintech keys init` and `fintech db upgrade`.
    import asyncio

    from server.runtime.config import load_settings
    from server.runtime.wiring import prepare_state

    asyncio.run(prepare_state(load_settings(config)))
    # The shipped knowledge base: stored in the database, then indexed, in a process of its own
    # (milvus-lite holds its data directory for the life of the process that opened it).
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'clients' / 'python'}"}
    loaded = subprocess.run(
        [sys.executable, "-m", "server.cli", "kb", "load", "--config", str(config)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if loaded.returncode != 0:
        raise RuntimeError(f"loading the knowledge base failed:\n{loaded.stderr[-2000:]}")
    console.print(loaded.stderr.strip().splitlines()[-1])
    ready = platform.var / "services.ready"
    ready.unlink(missing_ok=True)
    log = (platform.var / "services.log").open("wb")
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'clients' / 'python'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--config", str(config), "--ready-file", str(ready)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    platform.processes.append(("services", proc))
    deadline = time.monotonic() + 60
    while not (ready.exists() and ready.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the services did not start; see {platform.var / 'services.log'}")
        time.sleep(0.1)
    platform.grpc_port, platform.metrics_port = (int(x) for x in ready.read_text().split())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_envoy(platform: Platform, port: int, admin_port: int) -> None:
    """Envoy in front of the services: TLS 1.3 with client certificates, RBAC, JSON transcoding."""
    from server.edge.model import dev_profile
    from server.edge.render import to_yaml

    platform.edge_port = port or _free_port()
    platform.edge_admin_port = admin_port or _free_port()
    cfg = dev_profile(
        REPO,
        certs=platform.certs,
        backend_ports=platform.grpc_port,
        listen_port=platform.edge_port,
        admin_port=platform.edge_admin_port,
    )
    config = platform.var / "envoy.yaml"
    config.write_text(to_yaml(cfg), encoding="utf-8")
    envoy = Path(sys.executable).parent / "envoy"
    log = (platform.var / "envoy.log").open("wb")
    proc = subprocess.Popen(
        [str(envoy), "-c", str(config), "--use-dynamic-base-id", "--log-level", "warn", "--concurrency", "2"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    platform.processes.append(("envoy", proc))
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Envoy did not start; see {platform.var / 'envoy.log'}")
        try:
            url = f"http://127.0.0.1:{platform.edge_admin_port}/clusters"
            with urllib.request.urlopen(url, timeout=2) as reply:
                text = reply.read().decode()
            if "customer::" in text and "health_flags::healthy" in text:
                return
        except OSError:
            pass
        time.sleep(0.2)


def _start_console(platform: Platform, port: int) -> None:
    """The operations console (clients/console) with one development operator per staff role."""
    import secrets

    from fintech_console.auth import users as users_file
    from fintech_console.auth.roles import STAFF_ROLES

    users = platform.var / "console-users.json"
    logins = platform.var / "console-logins.txt"
    if not logins.exists():
        # Random development passwords, kept beside the state (mode 0600) so a restart keeps them.
        lines = [f"{role}-dev {secrets.token_urlsafe(9)}" for role in STAFF_ROLES]
        logins.touch(mode=0o600)
        logins.write_text("\n".join(lines) + "\n", encoding="utf-8")
        users.unlink(missing_ok=True)
    pairs = [line.split(" ", 1) for line in logins.read_text(encoding="utf-8").splitlines() if line.strip()]
    for (username, password), role in zip(pairs, STAFF_ROLES, strict=True):
        users_file.add_user(users, username, password, role, display_name=f"Dev {role}", force=True)
        platform.console_logins[username] = password
    config = platform.var / "console.toml"
    clients = platform.certs / "clients"
    config.write_text(
        "\n".join(
            [
                f'service_address = "localhost:{platform.grpc_port}"',
                f"port = {port}",
                f'users_file = "{users}"',
                f'session_secret_file = "{platform.var / "console-session.key"}"',
                "[tls]",
                f'ca_file = "{platform.certs / "ca.pem"}"',
                f'cert_file = "{clients / "console.pem"}"',
                f'key_file = "{clients / "console-key.pem"}"',
                "",
            ]
        ),
        encoding="utf-8",
    )
    ready = platform.var / "console.ready"
    ready.unlink(missing_ok=True)
    log = (platform.var / "console.log").open("wb")
    pythonpath = os.pathsep.join(str(REPO / part) for part in ("", "clients/python", "clients/console"))
    env = {**os.environ, "PYTHONPATH": pythonpath}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fintech_console.cli", "serve", "--config", str(config), "--ready-file", str(ready)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    platform.processes.append(("console", proc))
    deadline = time.monotonic() + 60
    while not (ready.exists() and ready.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the console did not start; see {platform.var / 'console.log'}")
        time.sleep(0.1)
    platform.console_port = int(ready.read_text().strip())


# ---------------------------------------------------------------------------
# The walkthrough: each step shows one thing a user relies on, for real.

Step = Callable[[Platform], None]


def _explain(error: grpc.RpcError) -> str:
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    status = rpc_status.from_call(error)
    lines = [f"{error.code().name}: {error.details()}"]
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            lines += [f"  - {v.field}: {v.description}" for v in bad.field_violations]
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            lines.append(f"  reason {info.reason} ({info.domain})")
    return "\n".join(lines)


def step_health(platform: Platform) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from server.runtime.registry import SERVICES

    table = Table("service", "health")
    with platform.channel("sre") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for entry in SERVICES.values():
            reply = stub.Check(health_pb2.HealthCheckRequest(service=entry.full_name), timeout=5)
            table.add_row(entry.full_name, health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
    console.print(Panel(table, title="1. Every service answers grpc.health.v1 over mTLS (as the sre role)"))


def step_mtls(platform: Platform) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    anonymous = grpc.ssl_channel_credentials((platform.certs / "ca.pem").read_bytes())
    with grpc.secure_channel(f"localhost:{platform.grpc_port}", anonymous) as channel:
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
            outcome = "answered (this is a defect)"
        except grpc.RpcError as error:
            outcome = f"refused: {error.code().name}"
    console.print(Panel(f"A caller without a client certificate: {outcome}", title="2. No certificate, no service"))


def step_policy(platform: Platform) -> None:
    from fintech.risk.v1 import risk_service_pb2, risk_service_pb2_grpc

    with platform.channel("mobile-backend") as channel:
        try:
            risk_service_pb2_grpc.RiskServiceStub(channel).GetModelCard(
                risk_service_pb2.GetModelCardRequest(), timeout=5
            )
            outcome = "answered (this is a defect)"
        except grpc.RpcError as error:
            outcome = _explain(error)
    console.print(Panel(outcome, title="3. The mobile backend may not call RiskService (role policy, RPC by RPC)"))


def step_validation(platform: Platform) -> None:
    from fintech.risk.v1 import risk_service_pb2, risk_service_pb2_grpc

    bad = risk_service_pb2.AssessLoanApplicationRequest(
        request_id="not-a-uuid",
        application_id="APP-1",
        applicant=risk_service_pb2.Applicant(applicant_id="A-1", age=12, credit_score=990),
    )
    with platform.channel("loan-officer") as channel:
        try:
            risk_service_pb2_grpc.RiskServiceStub(channel).AssessLoanApplication(bad, timeout=5)
            outcome = "answered (this is a defect)"
        except grpc.RpcError as error:
            outcome = _explain(error)
    console.print(Panel(outcome, title="4. A bad request names every bad field (rules live in the .proto)"))


def step_edge(platform: Platform) -> None:
    import json
    import ssl
    import uuid

    import httpx
    from fintech.risk.v1 import risk_service_pb2, risk_service_pb2_grpc

    context = ssl.create_default_context(cafile=str(platform.certs / "ca.pem"))
    context.load_cert_chain(
        str(platform.certs / "clients" / "mobile-backend.pem"),
        str(platform.certs / "clients" / "mobile-backend-key.pem"),
    )
    body = {"requestId": str(uuid.uuid4()), "customerId": "cust-1001", "question": "How long does card delivery take?"}
    url = f"https://localhost:{platform.edge_port}/v1/customer/conversations:ask"
    with httpx.Client(verify=context, timeout=30) as client:
        reply = client.post(url, json=body, headers={"x-fintech-customer-id": "cust-1001"})
    shown = json.dumps(reply.json(), indent=1)[:900] if reply.content else "(empty body)"
    lines = [f"POST {url}  (JSON over HTTPS, TLS 1.3, mobile-backend certificate)", f"HTTP {reply.status_code}", shown]
    with grpc.secure_channel(f"localhost:{platform.edge_port}", platform.credentials("mobile-backend")) as channel:
        try:
            risk_service_pb2_grpc.RiskServiceStub(channel).GetModelCard(
                risk_service_pb2.GetModelCardRequest(), timeout=5
            )
            lines.append("gRPC RiskService/GetModelCard through Envoy as mobile-backend: answered (this is a defect)")
        except grpc.RpcError as error:
            lines.append(f"gRPC RiskService/GetModelCard through Envoy as mobile-backend: {error.code().name}")
    console.print(Panel("\n".join(lines), title="5. Through Envoy: JSON transcoding for the mobile backend, gRPC RBAC"))


def _answer_panel(reply: Any) -> str:
    from fintech.customer.v1 import customer_service_pb2 as customer

    lines = [
        f"answer_source {customer.AnswerSource.Name(reply.answer_source).removeprefix('ANSWER_SOURCE_')}, "
        f"intent {reply.intent} ({reply.intent_confidence:.2f}), llm_available {reply.llm_available}",
    ]
    if reply.answer:
        lines.append(escape(reply.answer))  # model output: brackets shown as written, never console markup
    for citation in reply.citations:
        lines.append(escape(f"  [cited] {citation.document_id} / {citation.chunk_id[:16]}  {citation.title}"))
    if reply.escalated:
        lines.append(
            f"handed to a person: {customer.EscalationReason.Name(reply.escalation_reason)} "
            f"(escalation {reply.escalation_id})"
        )
        for article in reply.suggested_articles[:3]:
            lines.append(f"  [suggested] {article.document_id}  {article.title}")
    return "\n".join(lines)


def step_customer(platform: Platform) -> None:
    import uuid

    from fintech.client import CustomerServiceSyncClient, secure_channel_sync
    from fintech.customer.v1 import customer_service_pb2 as customer

    with _sdk_channel(platform, "core-banking", secure_channel_sync) as channel:
        client = CustomerServiceSyncClient(channel)
        first = client.ask(
            request=customer.AskRequest(customer_id="cust-1001", question="I was charged a fee for my transfer, why?"),
            timeout=120,
        )
        console.print(Panel(_answer_panel(first), title="8. Ask: an answer with its citations (as core banking)"))
        follow = client.ask(
            request=customer.AskRequest(
                customer_id="cust-1001",
                conversation_id=first.conversation_id,
                question="And how long will my transfer take?",
            ),
            timeout=120,
        )
        console.print(Panel(_answer_panel(follow), title="9. A follow-up in the same conversation"))
        streamed = []
        final = None
        for event in client.stream_ask(
            request=customer.StreamAskRequest(customer_id="cust-1002", question="When will my new card arrive?"),
            timeout=120,
        ):
            kind = event.WhichOneof("event")
            if kind == "delta":
                streamed.append(f"  delta {event.delta.sentence_index}: {event.delta.text}")
            elif kind == "citations":
                streamed.append(f"  citations: {', '.join(c.document_id for c in event.citations.citations)}")
            else:
                final = event.final_result
        summary = "\n".join(streamed) + ("\n" + _answer_panel(final) if final is not None else "")
        console.print(Panel(summary, title="10. StreamAsk: checked sentences, then citations, then the result"))
        stolen = client.ask(
            request=customer.AskRequest(customer_id="cust-1003", question="Someone stole my card this morning"),
            timeout=120,
        )
        console.print(Panel(_answer_panel(stolen), title="11. A sensitive question is handed to a person"))
        feedback = client.submit_feedback(
            request=customer.SubmitFeedbackRequest(
                request_id=str(uuid.uuid4()),
                customer_id="cust-1001",
                conversation_id=first.conversation_id,
                turn_id=first.turn_id,
                rating=customer.FEEDBACK_RATING_HELPFUL,
            )
        )
    with _sdk_channel(platform, "agent", secure_channel_sync) as channel:
        queue = CustomerServiceSyncClient(channel).list_escalations(
            request=customer.ListEscalationsRequest(status=customer.ESCALATION_STATUS_OPEN, page_size=10)
        )
    table = Table("escalation", "reason", "customer", "intent")
    for escalation in queue.escalations:
        table.add_row(
            escalation.escalation_id,
            customer.EscalationReason.Name(escalation.reason).removeprefix("ESCALATION_REASON_"),
            escalation.customer_id,
            escalation.intent,
        )
    console.print(
        Panel(table, title=f"12. The agents' escalation queue; feedback {feedback.feedback_id} stored (helpful)")
    )


def step_platform_status(platform: Platform) -> None:
    from fintech.client import OperationsServiceSyncClient, secure_channel_sync
    from fintech.common.v1 import common_pb2
    from fintech.operations.v1 import operations_service_pb2 as ops

    with _sdk_channel(platform, "sre", secure_channel_sync) as channel:
        status = OperationsServiceSyncClient(channel).get_platform_status(request=ops.GetPlatformStatusRequest())
    table = Table("endpoint", "group", "state", "outstanding/limit", "requests", "errors")
    for ep in status.endpoints:
        table.add_row(
            ep.endpoint_id,
            ep.model_group,
            ops.EndpointState.Name(ep.state).removeprefix("ENDPOINT_STATE_"),
            f"{ep.outstanding_requests}/{ep.concurrency_limit}",
            str(ep.requests_total),
            str(ep.errors_total),
        )
    serving = sum(1 for s in status.services if s.state == common_pb2.SERVING_STATE_SERVING)
    console.print(
        Panel(table, title=f"6. OperationsService: {serving} services serving; the inference pool (fintech ops status)")
    )


def step_drill(platform: Platform) -> None:
    from fintech.client import OperationsServiceSyncClient, secure_channel_sync
    from fintech.operations.v1 import operations_service_pb2 as ops

    with _sdk_channel(platform, "sre", secure_channel_sync) as channel:
        report = OperationsServiceSyncClient(channel).run_inference_drill(
            request=ops.RunInferenceDrillRequest(outage_seconds=4, requests_per_second=2), timeout=120
        )
    lines = [
        f"requests sent {report.requests_sent}, failed {report.requests_failed}",
        *(f"  {p.name}: failed {p.requests_failed}" for p in report.phases),
        f"switch-over {report.switch_over_duration.ToTimedelta().total_seconds():.3f} s, "
        f"switch-back {report.switch_back_duration.ToTimedelta().total_seconds():.3f} s",
        "served during the outage by: " + ", ".join(g.reason for g in report.phases[1].served_by_group),
    ]
    console.print(Panel("\n".join(lines), title="7. The switching drill: primary model group out under load, and back"))


@contextlib.contextmanager
def _sdk_channel(platform: Platform, role: str, opener: Callable[..., grpc.Channel]) -> Iterator[grpc.Channel]:
    channel = opener(
        f"localhost:{platform.grpc_port}",
        ca_file=platform.certs / "ca.pem",
        cert_file=platform.certs / "clients" / f"{role}.pem",
        key_file=platform.certs / "clients" / f"{role}-key.pem",
    )
    try:
        yield channel
    finally:
        channel.close()


STEPS: list[Step] = [
    step_health,
    step_mtls,
    step_policy,
    step_validation,
    step_edge,
    step_platform_status,
    step_drill,
    step_customer,
]
from server.aml.demo import (  # noqa: E402
    step_aml_alerts,
    step_aml_ingest,
    step_aml_investigate,
    step_aml_report,
    step_aml_screen,
)
from server.compliance.demo import (  # noqa: E402  (domain steps live with their domain)
    step_compliance_analyze,
    step_compliance_compare,
    step_compliance_review,
)
from server.risk.demo import STEPS as RISK_STEPS  # noqa: E402


def step_audit(platform: Platform) -> None:
    from fintech.audit.v1 import audit_service_pb2 as audit
    from fintech.client import AuditServiceSyncClient, secure_channel_sync

    with _sdk_channel(platform, "auditor", secure_channel_sync) as channel:
        client = AuditServiceSyncClient(channel)
        recent = client.list_audit_records(request=audit.ListAuditRecordsRequest(page_size=200))
        final = None
        for progress in client.verify_audit_chain(request=audit.VerifyAuditChainRequest(), timeout=300):
            final = progress
    table = Table("record", "rpc", "decision", "caller", "engine", "trace")
    for record in list(recent.audit_records)[-8:]:
        table.add_row(
            record.record_id[:12],
            record.rpc.rsplit("/", 1)[-1],
            record.decision[:28],
            record.caller[:40],
            f"{record.engine} {record.engine_version}".strip()[:24],
            record.trace_id[:8],
        )
    verdict = "chain verified" if final is not None and final.result.ok else "CHAIN BROKEN"
    checked = final.checked_count if final is not None else 0
    console.print(
        Panel(
            table,
            title=f"{len(STEPS)}. The audit trail (as the auditor): every decision above, hash-chained; "
            f"{verdict}, {checked} records checked (fintech audit verify)",
        )
    )


STEPS += [
    *RISK_STEPS,
    step_aml_ingest,
    step_aml_screen,
    step_aml_alerts,
    step_aml_investigate,
    step_aml_report,
    step_compliance_analyze,
    step_compliance_compare,
    step_compliance_review,
    step_audit,
]


def step_console(platform: Platform) -> None:
    """Where the bank's people work what the platform handed them in the steps above."""
    from fintech_console.auth.roles import ROLE_TITLES, STAFF_ROLES

    url = f"http://localhost:{platform.console_port}/"
    with urllib.request.urlopen(url + "login", timeout=10) as reply:  # noqa: S310 - our own loopback URL
        status = reply.status
    table = Table("role", "login", "password", "works")
    works = {
        "agent": "Escalations: the sensitive question above",
        "loan-officer": "Loan reviews: the REFER above",
        "investigator": "Alerts and cases: the alerts and network above",
        "compliance-officer": "Contract and regulation reviews above",
        "auditor": "Audit: search and verify the trail",
        "sre": "Platform: health, inference pool, daily figures",
    }
    for (username, password), role in zip(platform.console_logins.items(), STAFF_ROLES, strict=True):
        table.add_row(ROLE_TITLES[role], username, password, works.get(role, ""))
    console.print(
        Panel(
            table,
            title=f"The operations console: {url} (sign-in page HTTP {status})",
            subtitle="open it in a browser; each role sees only its own pages",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--var", type=Path, default=REPO / "var", help="state directory")
    parser.add_argument("--port", type=int, default=50051)
    parser.add_argument("--metrics-port", type=int, default=9464)
    parser.add_argument("--edge-port", type=int, default=8443, help="Envoy's port; 0 picks a free one")
    parser.add_argument("--edge-admin-port", type=int, default=9901, help="Envoy's admin port (loopback)")
    parser.add_argument("--console-port", type=int, default=8080, help="the operations console's port; 0 picks one")
    parser.add_argument("--once", action="store_true", help="exit after the walkthrough (tests)")
    args = parser.parse_args(argv)
    platform = Platform(var=args.var.resolve())
    platform.var.mkdir(parents=True, exist_ok=True)
    from server.runtime.pki import init_dev_pki

    if not (platform.certs / "ca.pem").exists():
        init_dev_pki(platform.certs)
        console.print(f"development certificates written to {platform.certs}")
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        with console.status("starting the development LLM (llama.cpp, Gemma 3 270M), primary and fallback..."):
            llm_urls = _start_llms(platform)
        console.print(f"development LLM serving at {', '.join(llm_urls)}")
        with console.status("starting the services..."):
            _start_services(platform, args.port, args.metrics_port, llm_urls)
        console.print(
            f"services listening on localhost:{platform.grpc_port} (mTLS), metrics on :{platform.metrics_port}"
        )
        with console.status("starting Envoy..."):
            _start_envoy(platform, args.edge_port, args.edge_admin_port)
        console.print(f"Envoy listening on localhost:{platform.edge_port} (TLS 1.3, client certificates required)")
        with console.status("starting the operations console..."):
            _start_console(platform, args.console_port)
        for step in STEPS:
            step(platform)
        step_console(platform)
        console.print(
            Panel(
                f"gRPC  localhost:{platform.grpc_port}  (client certificates in {platform.certs}/clients)\n"
                f"edge  https://localhost:{platform.edge_port}  (Envoy: JSON for /v1/customer/*, gRPC for the rest)\n"
                f"console  http://localhost:{platform.console_port}/  (logins in {platform.var}/console-logins.txt)\n"
                f"metrics  http://127.0.0.1:{platform.metrics_port}/metrics\n"
                f"logs  {platform.var}/services.log\n"
                "Try:  .venv/bin/fintech health --target localhost:" + str(platform.grpc_port),
                title="The platform is running. Ctrl-C stops it.",
            )
        )
        if not args.once:
            while not stopping and all(p.poll() is None for _, p in platform.processes):
                time.sleep(0.5)
            crashed = [name for name, p in platform.processes if p.poll() not in (None, 0)]
            if crashed:
                console.print(f"[red]stopped unexpectedly:[/red] {', '.join(crashed)}; see {platform.var}")
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
