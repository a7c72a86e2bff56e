"""An auditor verifies a range of the audit chain (live progress, and without JavaScript) and exports records."""

from __future__ import annotations

import json
from collections.abc import Callable

from playwright.sync_api import expect

from tests.e2e.console.conftest import Seeded, Tab
from tests.e2e.console.platform import ConsolePlatform


def test_an_audit_range_is_verified_with_progress(tab: Tab, seeded: Seeded) -> None:
    tab.sign_in("auditor", next_path="/audit/verify")
    tab.page.get_by_label("From record #").fill("1")
    tab.page.get_by_role("button", name="Verify").click()
    result = tab.page.get_by_test_id("verify-result").first
    expect(result).to_have_attribute("data-outcome", "verified", timeout=30_000)
    expect(result).to_contain_text("Chain verified")
    progress = tab.page.locator("#verify-progress")
    assert progress.evaluate("p => p.value === p.max && p.max > 0")
    tab.screenshot("audit-verify")


def test_verification_works_without_javascript(
    tab_factory: Callable[..., Tab], console_platform: ConsolePlatform, seeded: Seeded
) -> None:
    plain = tab_factory(console_platform.url, javascript=False)
    plain.sign_in("sre", next_path="/audit/verify")
    plain.page.get_by_label("From record #").fill("1")
    plain.page.get_by_label("To record #").fill("2")
    plain.page.get_by_role("button", name="Verify").click()
    result = plain.page.locator("[data-testid=verify-result][data-outcome]")
    expect(result).to_contain_text("Chain verified: 2 records up to #2")


def test_search_pages_and_export_as_json_lines(tab: Tab, seeded: Seeded) -> None:
    tab.sign_in("auditor", next_path="/audit")
    expect(tab.page.get_by_test_id("audit-records")).to_be_visible()
    tab.screenshot("audit-search")
    first_page = tab.page.get_by_test_id("audit-records").locator("tbody tr").all_inner_texts()
    seq_first = [int(row.split()[0]) for row in first_page]
    assert seq_first == sorted(seq_first)  # oldest first, as the service orders them
    tab.page.get_by_label("Kind").select_option("DECISION")
    tab.page.get_by_role("button", name="Search").click()
    decisions = tab.page.get_by_test_id("audit-records").locator("tbody tr")
    expect(decisions).not_to_have_count(0)
    with tab.page.expect_download() as download_info:
        tab.page.get_by_test_id("export").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".jsonl")
    lines = [json.loads(line) for line in open(download.path(), encoding="utf-8") if line.strip()]
    assert lines and all(line["kind"] == "AUDIT_RECORD_KIND_DECISION" for line in lines)
    assert len(lines) >= decisions.count()
    # int64 travels as a JSON string (the protobuf JSON mapping): order them as numbers.
    sequence = [int(line["sequence_number"]) for line in lines]
    assert sequence == sorted(sequence) and len(set(sequence)) == len(sequence)


def test_pagination_follows_the_service_page_token(tab: Tab, seeded: Seeded) -> None:
    tab.sign_in("auditor", next_path="/audit")
    rows = tab.page.get_by_test_id("audit-records").locator("tbody tr")
    expect(rows).not_to_have_count(0)
    # The e2e console lists 5 rows a page (page_size in platform.py); the seeded trail holds more.
    last_seq = int(rows.last.inner_text().split()[0])
    tab.page.get_by_test_id("next-page").click()
    next_first = int(tab.page.get_by_test_id("audit-records").locator("tbody tr").first.inner_text().split()[0])
    assert next_first > last_seq
    expect(tab.page.get_by_role("link", name="First page")).to_be_visible()
