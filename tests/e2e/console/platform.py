"""The platform the console's browser tests run against, started once per session as real processes.

- the scripted OpenAI-compatible LLM (``tests/fakes``, a process);
- ``fintech serve`` hosting customer, aml, compliance, audit and operations (one process), with the
  knowledge base loaded by ``fintech kb load`` from a few shipped articles (real milvus-lite and
  embeddings, kept small so the session starts quickly);
- ``fintech serve`` hosting risk alone on a fixed port, so a test can stop RiskService mid-session
  and start it again on the same address;
- the console (``python -m fintech_console.cli serve``) as a uvicorn process with the ``console``
  client certificate, and one development operator per staff role.

Other console tests (``tests/e2e/console/investigations``) use the same fixtures (conftest.py).
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from server.runtime.pki import DevPki

REPO = Path(__file__).resolve().parents[3]
PYTHONPATH = os.pathsep.join([str(REPO), str(REPO / "clients" / "python"), str(REPO / "clients" / "console")])
ENV = {**os.environ, "PYTHONPATH": PYTHONPATH}
STAFF_ROLES = ("agent", "loan-officer", "investigator", "compliance-officer", "auditor", "sre")
PASSWORD = "e2e-password-0123"
# The articles of the small knowledge base (ids of server/customer/kb/articles/*.md).
KB_ARTICLES = ("lost-stolen-card", "card-delivery-times", "atm-fees", "compromised-card", "change-pin")
SCREENSHOTS = REPO / "tests" / "e2e" / "screenshots"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def username_for(role: str) -> str:
    """The development operator created for ``role`` (``loan-officer`` -> ``e2e-loan-officer``)."""
    return f"e2e-{role}"


def _cli(*args: str, timeout: float = 180) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", *args], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"fintech {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")


def platform_config(
    path: Path, pki: DevPki, data_dir: Path, *, port: int, services: Sequence[str], llm_url: str
) -> Path:
    """A ``fintech serve`` configuration for one process of the test platform."""
    listed = ", ".join(f'"{name}"' for name in services)
    path.write_text(
        f"""data_dir = "{data_dir}"
[server]
host = "127.0.0.1"
port = {port}
metrics_port = 0
grace_seconds = 1
services = [{listed}]
[tls]
ca_file = "{pki.ca}"
cert_file = "{pki.server.cert}"
key_file = "{pki.server.key}"
crl_file = "{pki.crl}"
reload_interval_seconds = 1.0
[logging]
access_log = false
[inference]
request_timeout_seconds = 10
[[inference.groups]]
name = "e2e"
model = "fake-model"
endpoints = [{{url = "{llm_url}"}}]
""",
        encoding="utf-8",
    )
    return path


@dataclass
class Process:
    """A process the fixture started, with its log file."""

    name: str
    command: list[str]
    log: Path
    ready: Path
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0

    def start(self) -> Process:
        self.ready.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.command, cwd=REPO, env=ENV, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 120.0) -> Process:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.exists() and self.ready.read_text().strip():
                self.port = int(self.ready.read_text().split()[0])
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log.read_text()[-4000:]}")
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"{self.name} not ready in {timeout}s:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class ConsolePlatform:
    """Everything the browser tests reach.

    ``core`` hosts audit and operations; ``risk`` runs alone so a test can stop it; ``customer``
    (knowledge base and models) and ``investigations`` (aml and compliance) are the slow ones and
    start on demand (``ensure_customer``, ``ensure_investigations``), overlapping with earlier tests.
    """

    pki: DevPki
    var: Path
    core: Process
    risk: Process
    customer: Process
    investigations: Process
    console: Process
    console_config: Path
    users_file: Path
    ports: dict[str, int]
    customer_config: Path
    kb_dir: Path
    processes: list[Process] = field(default_factory=list)
    _customer_thread: threading.Thread | None = None
    _customer_error: BaseException | None = None

    @property
    def url(self) -> str:
        """The console's base URL (``localhost``: browsers accept Secure cookies there over http)."""
        return f"http://localhost:{self.console.port}"

    def channel(self, role: str, *, service: str = "core") -> grpc.Channel:
        """A blocking mTLS channel presenting ``role``'s certificate to a process (``core``, ``risk``, ``customer``,
        ``investigations``)."""
        issued = self.pki.client(role)
        credentials = grpc.ssl_channel_credentials(
            self.pki.ca.read_bytes(), issued.key.read_bytes(), issued.cert.read_bytes()
        )
        return grpc.secure_channel(f"localhost:{self.ports[service]}", credentials)

    def start_customer(self) -> None:
        """Load the knowledge base, then start CustomerService, in the background (the slow part)."""
        if self._customer_thread is not None:
            return

        def run() -> None:
            try:
                _cli("kb", "load", "--config", str(self.customer_config), "--dir", str(self.kb_dir), timeout=400)
                self.customer.start()
            except BaseException as error:  # reported by ensure_customer
                self._customer_error = error

        self._customer_thread = threading.Thread(target=run, name="start-customer", daemon=True)
        self._customer_thread.start()

    def ensure_customer(self) -> None:
        """CustomerService started (see ``start_customer``) and ready."""
        self.start_customer()
        assert self._customer_thread is not None
        self._customer_thread.join(timeout=400)
        if self._customer_error is not None:
            raise RuntimeError("starting CustomerService failed") from self._customer_error
        self.customer.wait_ready(timeout=300)

    def start_investigations(self) -> None:
        """Start AMLService and ComplianceService in the background (no wait)."""
        if not self.investigations.running() and not self.investigations.ready.exists():
            self.investigations.start()

    def ensure_investigations(self) -> None:
        """AMLService and ComplianceService, started if needed, ready."""
        self.start_investigations()
        self.investigations.wait_ready(timeout=300)

    def restart_risk(self) -> None:
        """Start RiskService again on its fixed port (after a test stopped it)."""
        if not self.risk.running():
            self.risk.start().wait_ready()

    def stop(self) -> None:
        if self._customer_thread is not None:
            self._customer_thread.join(timeout=400)  # never leave a half-started process behind
        for process in reversed(self.processes):
            process.stop()


def start_platform(pki: DevPki, var: Path, llm_url: str) -> ConsolePlatform:
    """Start risk, core and the console; CustomerService starts on demand (``ensure_customer``).

    The keys and schema are prepared in this process (what ``fintech keys init`` and ``fintech db
    upgrade`` do); every server has a fixed port so the console can start at the same time.
    """
    import asyncio

    from fintech_console.auth.users import add_user

    from server.runtime.config import load_settings
    from server.runtime.wiring import prepare_state

    data = var / "data"
    kb = var / "kb"
    kb.mkdir(parents=True)
    for article in KB_ARTICLES:
        shutil.copy(REPO / "server" / "customer" / "kb" / "articles" / f"{article}.md", kb / f"{article}.md")
    ports = {name: free_port() for name in ("core", "risk", "customer", "investigations")}
    configs = {
        "core": platform_config(
            var / "core.toml", pki, data, port=ports["core"], services=("audit", "operations"), llm_url=llm_url
        ),
        "investigations": platform_config(
            var / "investigations.toml",
            pki,
            data,
            port=ports["investigations"],
            services=("aml", "compliance"),
            llm_url=llm_url,
        ),
        "risk": platform_config(var / "risk.toml", pki, data, port=ports["risk"], services=("risk",), llm_url=llm_url),
        "customer": platform_config(
            var / "customer.toml", pki, data, port=ports["customer"], services=("customer",), llm_url=llm_url
        ),
    }
    # In a thread of its own: Playwright's sync API may already run an event loop in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, prepare_state(load_settings(configs["core"]))).result()

    def serve(name: str) -> Process:
        ready = var / f"{name}.ready"
        return Process(
            name,
            [sys.executable, "-m", "server.cli", "serve", "--config", str(configs[name]), "--ready-file", str(ready)],
            var / f"{name}.log",
            ready,
        )

    risk = serve("risk").start()
    core = serve("core").start()
    customer = serve("customer")
    investigations = serve("investigations")
    processes: list[Process] = [risk, core, customer, investigations]
    try:
        users_file = var / "console-users.json"
        for role in STAFF_ROLES:
            add_user(users_file, username_for(role), PASSWORD, role, display_name=f"E2E {role}")
        console_config = console_config_file(var / "console.toml", pki, var, ports, users_file)
        console_ready = var / "console.ready"
        console = Process(
            "console",
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
                str(console_ready),
            ],
            var / "console.log",
            console_ready,
        ).start()
        processes.append(console)
        risk.wait_ready()
        core.wait_ready()
        console.wait_ready()
    except BaseException:
        for process in reversed(processes):
            process.stop()
        raise
    platform = ConsolePlatform(
        pki,
        var,
        core,
        risk,
        customer,
        investigations,
        console,
        console_config,
        users_file,
        ports,
        configs["customer"],
        kb,
    )
    platform.processes = processes
    return platform


def console_config_file(
    path: Path, pki: DevPki, var: Path, ports: dict[str, int], users_file: Path, extra: str = ""
) -> Path:
    """The console's configuration: ``core`` for every service but risk and customer."""
    client = pki.client("console")
    path.write_text(
        f"""[console]
service_address = "localhost:{ports["core"]}"
host = "127.0.0.1"
users_file = "{users_file}"
session_secret_file = "{var / "console-session.key"}"
cookie_secure = true
rpc_timeout_seconds = 3.0
page_size = 5
{extra}
[console.service_addresses]
risk = "localhost:{ports["risk"]}"
customer = "localhost:{ports["customer"]}"
aml = "localhost:{ports["investigations"]}"
compliance = "localhost:{ports["investigations"]}"
[console.tls]
ca_file = "{pki.ca}"
cert_file = "{client.cert}"
key_file = "{client.key}"
""",
        encoding="utf-8",
    )
    return path


def start_console(name: str, var: Path, config: Path, port: int = 0) -> Iterator[Process]:
    """Another console process (for example with a short session lifetime), stopped after use."""
    ready = var / f"{name}.ready"
    process = Process(
        name,
        [
            sys.executable,
            "-m",
            "fintech_console.cli",
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            "--ready-file",
            str(ready),
        ],
        var / f"{name}.log",
        ready,
    ).start()
    try:
        yield process.wait_ready()
    finally:
        process.stop()
