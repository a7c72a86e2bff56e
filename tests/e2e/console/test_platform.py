"""An SRE sees service health, the inference pool and the daily figures."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.console.conftest import Seeded, Tab


def test_platform_status_and_daily_figures(tab: Tab, seeded: Seeded) -> None:
    tab.sign_in("sre", next_path="/platform")
    health = tab.page.get_by_test_id("service-health")
    expect(health).to_contain_text("AuditService")
    expect(health).to_contain_text("OperationsService")
    endpoints = tab.page.get_by_test_id("inference-endpoints")
    expect(endpoints).to_contain_text("e2e")
    figures = tab.page.get_by_test_id("daily-figures")
    expect(figures.locator("tbody tr")).to_have_count(7)
    # Today's row counts the REFER assessments the session seeded.
    today = figures.locator("tbody tr").last
    cells = today.locator("td").all_inner_texts()
    assert int(cells[6]) >= len(seeded.refer_applications) and int(cells[7]) >= len(seeded.refer_applications), cells
    tab.screenshot("platform")
