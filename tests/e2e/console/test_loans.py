"""A loan officer decides a REFER; the decision needs a justification and is audited in their name."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.console.conftest import Seeded, Tab


def test_a_refer_is_decided_with_a_mandatory_justification_and_audited(tab: Tab, seeded: Seeded) -> None:
    application = seeded.refer_applications[0]
    tab.sign_in("loan-officer", next_path="/loans")
    row = tab.page.locator(f"tr[data-application-id='{application}']")
    expect(row).to_contain_text("BUREAU_DELINQUENCIES")
    tab.screenshot("loan-reviews")
    row.get_by_role("link").click()
    expect(tab.page.get_by_test_id("reason-codes")).to_be_visible()
    expect(tab.page.get_by_test_id("repayment")).to_contain_text("Monthly instalment")
    expect(tab.page.get_by_test_id("scorecard-points").locator("tbody tr")).not_to_have_count(0)
    expect(tab.page.get_by_test_id("model-card")).to_contain_text("Intended use")
    tab.screenshot("loan-review")

    # Without a justification: refused by the console (the service's rule, checked before calling it).
    tab.page.get_by_label("Approve").check()
    tab.page.evaluate(
        "document.getElementById('justification').removeAttribute('minlength');"
        "document.getElementById('justification').removeAttribute('required')"
    )
    tab.page.get_by_label("Justification").fill("ok")
    tab.page.get_by_role("button", name="Record decision").click()
    expect(tab.page.get_by_test_id("form-error")).to_contain_text("at least 10 characters")
    expect(tab.page.get_by_role("button", name="Record decision")).to_be_visible()  # still pending

    justification = "Delinquencies are two years old; stable income since. Approved."
    tab.page.get_by_label("Approve").check()
    tab.page.get_by_label("Justification").fill(justification)
    tab.page.get_by_role("button", name="Record decision").click()
    expect(tab.page.locator(".flash")).to_contain_text("approve recorded")
    expect(tab.page.locator(f"tr[data-application-id='{application}']")).to_have_count(0)

    # The audit trail names the officer and the console (as an auditor sees it in the console).
    tab.page.get_by_role("button", name="Sign out").click()
    tab.sign_in("auditor", next_path="/audit")
    tab.page.get_by_label("RPC").fill("fintech.risk.v1.RiskService/DecideLoanReview")
    tab.page.get_by_label("Caller").fill("staff:e2e-loan-officer via spiffe://fintech.local/console")
    tab.page.get_by_role("button", name="Search").click()
    records = tab.page.get_by_test_id("audit-records").locator("tbody tr")
    expect(records).not_to_have_count(0)
    records.last.get_by_role("link").click()
    expect(tab.page.get_by_test_id("caller")).to_have_text("staff:e2e-loan-officer via spiffe://fintech.local/console")
    expect(tab.page.get_by_test_id("decision")).to_have_text("REVIEW:REFER->APPROVE")
    expect(tab.page.get_by_test_id("details")).to_contain_text(justification)
    tab.screenshot("audit-record")
