"""An agent works the escalation queue: reason, wait, masked conversation, articles; resolves with a note."""

from __future__ import annotations

from fintech.audit.v1 import audit_service_pb2 as audit
from fintech.audit.v1 import audit_service_pb2_grpc as audit_grpc
from playwright.sync_api import expect

from tests.e2e.console.conftest import Seeded, Tab
from tests.e2e.console.platform import ConsolePlatform


def test_an_escalation_is_resolved_with_a_note_and_the_pii_stays_masked(
    tab: Tab, escalation: Seeded, console_platform: ConsolePlatform
) -> None:
    escalation_id = escalation.escalation_ids[0]
    tab.sign_in("agent", next_path="/escalations")
    row = tab.page.locator(f"tr[data-escalation-id='{escalation_id}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text(escalation.customer_id)
    tab.screenshot("escalations")
    row.get_by_role("link").click()
    expect(tab.page.get_by_test_id("reason")).not_to_be_empty()
    conversation = tab.page.get_by_test_id("turn").first
    expect(conversation).to_be_visible()
    text = conversation.inner_text()
    # The service masks personal data before it leaves it; the console shows what it is given.
    assert "4111 1111 1111 1111" not in text and "jane.doe@example.com" not in text and "7700 900123" not in text, text
    assert "stolen" in text
    tab.screenshot("escalation")

    # An empty note is refused by the console before it calls the service.
    tab.page.evaluate("document.getElementById('resolution_note').removeAttribute('required')")
    tab.page.get_by_role("button", name="Resolve escalation").click()
    expect(tab.page.get_by_test_id("form-error")).to_contain_text("the note is required")

    note = "Called the customer back, card frozen and replacement ordered."
    tab.page.get_by_label("Resolution note").fill(note)
    tab.page.get_by_role("button", name="Resolve escalation").click()
    expect(tab.page.locator(".flash")).to_contain_text(f"Escalation {escalation_id} resolved.")
    expect(tab.page.locator(f"tr[data-escalation-id='{escalation_id}']")).to_have_count(0)

    tab.go(f"/escalations/{escalation_id}")
    expect(tab.page.get_by_test_id("resolution-note")).to_have_text(note)
    expect(tab.page.get_by_test_id("resolved-by")).to_have_text("e2e-agent")

    # The audit trail names the agent and the console (read directly, as an auditor's certificate).
    with console_platform.channel("auditor") as channel:
        records = audit_grpc.AuditServiceStub(channel).ListAuditRecords(
            audit.ListAuditRecordsRequest(rpc="/fintech.customer.v1.CustomerService/ResolveEscalation", page_size=1000),
            timeout=10,
        )
    callers = {record.caller for record in records.audit_records}
    assert "staff:e2e-agent via spiffe://fintech.local/console" in callers, callers


def test_the_queue_is_worked_with_the_keyboard(tab: Tab, escalation: Seeded) -> None:
    tab.sign_in("agent", next_path="/escalations?status=all")
    page = tab.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    # From the skip link, Tab walks the filters and then reaches the first escalation in the queue.
    first_link = page.get_by_test_id("escalation-queue").locator("tbody tr a").first
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('[data-testid=escalation-queue]') !== null"):
            break
    href = first_link.get_attribute("href")
    assert page.evaluate("document.activeElement.getAttribute('href')") == href
    # The focus is visible: an outline that is not 'none', at least 3 px wide.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    width = page.evaluate("parseFloat(getComputedStyle(document.activeElement).outlineWidth)")
    assert outline != "none" and width >= 3
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{href}")
