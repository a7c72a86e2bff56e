"""Session fixtures of the console's browser tests: the platform, seeded data, Chromium, signed-in pages.

Everything expensive starts once per session (``tests/e2e/console/platform.py``): the platform's
processes, the console, the scripted LLM and one headless Chromium (Debian's, through Playwright).
Each test gets a fresh browser context (its own cookies). Screenshots go to ``tests/e2e/screenshots``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fintech.customer.v1 import customer_service_pb2 as customer
from fintech.customer.v1 import customer_service_pb2_grpc as customer_grpc
from fintech.risk.v1 import risk_service_pb2 as risk
from fintech.risk.v1 import risk_service_pb2_grpc as risk_grpc
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, sync_playwright

from server.risk import samples
from server.runtime.pki import DevPki
from tests.e2e.console.platform import PASSWORD, SCREENSHOTS, ConsolePlatform, start_platform, username_for
from tests.fakes.fixtures import (
    FakeFactory,
    fake_openai_factory,  # noqa: F401
)

CHROMIUM = "/usr/bin/chromium"
# A question with personal data in it: the conversation the agent sees must have it masked.
ESCALATED_QUESTION = (
    "My card was stolen last night and I see payments I do not recognise. "
    "Call me on +44 7700 900123 or write to jane.doe@example.com, card 4111 1111 1111 1111."
)


@dataclass
class Seeded:
    """What the session seeded, by id."""

    refer_applications: list[str] = field(default_factory=list)
    escalation_ids: list[str] = field(default_factory=list)
    customer_id: str = ""


@pytest.fixture(scope="package")
def console_platform(
    request: pytest.FixtureRequest,
    pki: DevPki,
    fake_openai_factory: FakeFactory,  # noqa: F811 - the fixture imported above
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ConsolePlatform]:
    """The platform's processes and the console, started once."""
    llm = fake_openai_factory.shared()
    platform = start_platform(pki, tmp_path_factory.mktemp("console-e2e"), llm.base_url)
    # CustomerService (knowledge base + models) is the slowest to start: when a collected test needs it,
    # begin now, overlapping the first tests; the escalation tests wait for it (``escalation`` fixture).
    if any("escalation" in getattr(item, "fixturenames", ()) for item in request.session.items):
        platform.start_customer()
    try:
        yield platform
    finally:
        platform.stop()


@pytest.fixture(scope="package")
def seeded(console_platform: ConsolePlatform) -> Seeded:
    """REFER loan applications assessed by core banking (three, so the queue has more than one), and
    three approved ones (so the audit trail fills more than one page of the e2e console's five rows)."""
    data = Seeded()
    with console_platform.channel("core-banking", service="risk") as channel:
        stub = risk_grpc.RiskServiceStub(channel)
        for _ in range(3):
            request = samples.approve_request(f"app-ok-{uuid.uuid4().hex[:8]}", f"cust-{uuid.uuid4().hex[:8]}")
            request.request_id = str(uuid.uuid4())
            assert (
                stub.AssessLoanApplication(request, timeout=60).assessment.recommendation == risk.RECOMMENDATION_APPROVE
            )
        for _ in range(3):
            application = f"app-e2e-{uuid.uuid4().hex[:8]}"
            request = samples.refer_request(application, f"cust-{uuid.uuid4().hex[:8]}")
            request.request_id = str(uuid.uuid4())
            reply = stub.AssessLoanApplication(request, timeout=60)
            assert reply.assessment.recommendation == risk.RECOMMENDATION_REFER, reply.assessment
            data.refer_applications.append(application)
    return data


@pytest.fixture(scope="package")
def escalation(console_platform: ConsolePlatform, seeded: Seeded) -> Seeded:
    """CustomerService started (on first use) and one conversation escalated to a person."""
    console_platform.ensure_customer()
    seeded.customer_id = f"cust-e2e-{uuid.uuid4().hex[:8]}"
    with console_platform.channel("core-banking", service="customer") as channel:
        stub = customer_grpc.CustomerServiceStub(channel)
        reply = stub.Ask(
            customer.AskRequest(
                request_id=str(uuid.uuid4()), customer_id=seeded.customer_id, question=ESCALATED_QUESTION
            ),
            timeout=60,
        )
    assert reply.escalated and reply.escalation_id, reply
    seeded.escalation_ids.append(reply.escalation_id)
    return seeded


@pytest.fixture(scope="package")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright's own browser download cannot work offline)."""
    instance = playwright_session.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
    try:
        yield instance
    finally:
        instance.close()


@dataclass
class Tab:
    """A page with what a test wants to know about it."""

    page: Page
    context: BrowserContext
    base_url: str
    csp_violations: list[str]

    def go(self, path: str) -> int:
        """Open ``path``; the HTTP status of the document."""
        response = self.page.goto(self.base_url + path)
        assert response is not None
        return response.status

    def sign_in(self, role: str, *, next_path: str = "/") -> None:
        """Sign in with the development account of ``role``."""
        self.go(f"/login?next={next_path}")
        self.page.get_by_label("Username").fill(username_for(role))
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, self.page.content()[:2000]

    def screenshot(self, name: str) -> Path:
        """Save a full-page screenshot under tests/e2e/screenshots/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"console-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _open_tab(browser: Browser, base_url: str, *, javascript: bool = True) -> Tab:
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    return Tab(page, context, base_url, violations)


@pytest.fixture
def tab(browser: Browser, console_platform: ConsolePlatform) -> Iterator[Tab]:
    """A fresh browser context (no cookies) on the console; fails the test on any CSP violation."""
    opened = _open_tab(browser, console_platform.url)
    try:
        yield opened
        assert not opened.csp_violations, opened.csp_violations
    finally:
        opened.context.close()


@pytest.fixture
def tab_factory(browser: Browser) -> Iterator[object]:
    """Open more tabs (another console, JavaScript off); all closed at the end."""
    opened: list[Tab] = []

    def make(base_url: str, *, javascript: bool = True) -> Tab:
        new = _open_tab(browser, base_url, javascript=javascript)
        opened.append(new)
        return new

    yield make
    for item in opened:
        item.context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longer timeouts here (the first test pays for starting the platform: minutes on a loaded 2-core
    machine), and the tests that need CustomerService last, so its start overlaps the others."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(900))
    items.sort(key=lambda item: "escalation" in getattr(item, "fixturenames", ()))  # stable: order kept otherwise
