"""A service stopped mid-session is named on the page, never a blank page or a stack trace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.console.conftest import Seeded, Tab
from tests.e2e.console.platform import ConsolePlatform


@pytest.fixture
def risk_restarted(console_platform: ConsolePlatform) -> Iterator[ConsolePlatform]:
    """RiskService is running again after the test, whatever happened."""
    yield console_platform
    console_platform.restart_risk()


def test_risk_stopped_mid_session_is_shown_as_unavailable(
    tab: Tab, risk_restarted: ConsolePlatform, seeded: Seeded
) -> None:
    tab.sign_in("loan-officer", next_path="/loans")
    expect(tab.page.get_by_test_id("loan-queue")).to_be_visible()
    risk_restarted.risk.stop()
    assert tab.go("/loans") == 503
    problem = tab.page.get_by_test_id("problem")
    expect(problem.get_by_role("heading")).to_have_text("RiskService is unavailable")
    html = tab.page.content()
    assert "Traceback" not in html and "Connection refused" not in html
    expect(problem).to_contain_text("could not reach it")
    # The rest of the console still works for the same operator.
    expect(tab.page.get_by_test_id("operator-role")).to_have_text("Loan officer")
    tab.screenshot("risk-unavailable")
    risk_restarted.restart_risk()
    # The console reconnects within its short reconnect back-off (at most 2 s): the page recovers.
    for _ in range(20):
        if tab.go("/loans") == 200:
            break
        tab.page.wait_for_timeout(500)
    assert tab.go("/loans") == 200
    expect(tab.page.get_by_test_id("loan-queue").or_(tab.page.get_by_test_id("empty"))).to_be_visible()
