"""The investigation pages in a real browser against the real services: an alert escalated through
its workflow and its case's 237-account network drawn (counted in cytoscape), alert pages, click-through
to an account's transactions, a SAR draft with its claims linked and an unsupported span marked, a
batch of contracts reviewed with a finding's clause highlighted, a regulation's timeline and a version
comparison, the investigator refused the compliance pages and RPCs, and AMLService being down named.

Every tab fails its test on a CSP violation (the shared ``tab`` fixture)."""

from __future__ import annotations

import json

import grpc
from fintech.aml.v1 import aml_service_pb2 as aml
from fintech.compliance.v1 import compliance_service_pb2 as cpb
from fintech.compliance.v1 import compliance_service_pb2_grpc as cpb_grpc

from tests.e2e.console.conftest import Tab
from tests.e2e.console.investigations.conftest import CORPUS, Investigations, shot
from tests.e2e.console.platform import console_config_file, free_port, start_console


def alert_on_mule(investigations: Investigations, status: int) -> aml.Alert:
    """An alert on a second-layer mule of the planted network, in ``status``."""
    mules = set(investigations.planted.layers[1])
    with investigations.platform.channel("investigator", service="investigations") as channel:
        listed = investigations.aml(channel).ListAlerts(aml.ListAlertsRequest(page_size=500, status=status))
    return next(a for a in listed.alerts if a.account_id in mules)


def escalate_and_draw(tab: Tab, investigations: Investigations) -> None:
    """Walk an OPEN alert to ESCALATED in the browser, then draw its network (4 hops, >= USD 5,000)."""
    page = tab.page
    alert = alert_on_mule(investigations, aml.ALERT_STATUS_OPEN)
    assert tab.go(f"/aml/alerts?status=open&account={alert.account_id}") == 200
    page.click(f"tr[data-alert-id='{alert.alert_id}'] a >> nth=0")
    assert page.text_content("[data-testid=alert-status]") == "Open"
    for status, reason in (
        ("investigating", "Reviewing structuring evidence"),
        ("escalated", "Layering through mules"),
    ):
        page.select_option("#w-status", status)
        page.fill("#w-reason", reason)
        page.click("[data-testid=workflow-form] button[type=submit]")
        page.wait_for_load_state()
    assert page.text_content("[data-testid=alert-status]") == "Escalated"
    history = page.inner_text("[data-testid=alert-history]")
    assert "Layering through mules" in history and "e2e-investigator" in history
    shot(tab, "alert")
    page.fill("#n-hops", "4")
    page.fill("#n-min", "5000")
    page.click("[data-testid=investigate-form] button[type=submit]")
    page.wait_for_url("**/network?**")
    page.wait_for_selector("[data-testid=network][data-node-count]")
    investigations.network_url = page.url


def open_network(tab: Tab, investigations: Investigations) -> None:
    """The case network drawn by an earlier test of the session (its URL replays the investigation), or
    a new one escalated and drawn when this test runs alone."""
    if investigations.network_url:
        tab.page.goto(investigations.network_url)
        tab.page.wait_for_selector("[data-testid=network][data-node-count]")
    else:
        escalate_and_draw(tab, investigations)


def test_alert_escalated_and_its_case_network_drawn(investigator: Tab, investigations: Investigations) -> None:
    page = investigator.page
    escalate_and_draw(investigator, investigations)
    drawn = dict(page.evaluate("() => window.fintechNetwork.nodes().map(n => [n.id(), n.data('role')])"))
    planted = investigations.planted
    assert set(drawn) == set(planted.account_ids)
    assert page.evaluate("() => window.fintechNetwork.nodes().length") == 237
    assert {drawn[o] for o in planted.origins} == {"origin"}
    assert {drawn[b] for b in planted.beneficiaries} == {"beneficiary"}
    assert page.evaluate("() => window.fintechNetwork.edges('.money-path').length") > 0
    labels = page.evaluate("() => window.fintechNetwork.edges().map(e => e.data('label'))")
    assert labels and all(label.startswith("USD ") for label in labels)
    zoom = page.evaluate("() => window.fintechNetwork.zoom()")
    page.click("[data-graph-action=zoom-in]")
    assert page.evaluate("() => window.fintechNetwork.zoom()") > zoom
    page.click("[data-graph-action=fit]")
    shot(investigator, "network")
    case_id = page.inner_text("h1 code")
    assert investigator.go("/aml/cases") == 200
    page.click(f"[data-testid=cases] a:text-is('{case_id}')")
    page.wait_for_url(f"**/aml/cases/{case_id}")
    assert "237" in page.inner_text("dl.facts") and page.locator("[data-testid=case-alerts] tbody tr").count() > 0
    shot(investigator, "case")


def test_alert_list_filters_and_pages(investigator: Tab, investigations: Investigations) -> None:
    page = investigator.page
    assert investigator.go("/aml/alerts?rule=STRUCTURING_BELOW_THRESHOLD") == 200
    first = page.locator("[data-testid=alerts] tbody tr").evaluate_all("rows => rows.map(r => r.dataset.alertId)")
    assert first and all(page.locator(f"tr[data-alert-id='{a}']").inner_text().count("STRUCTURING") for a in first)
    page.click("[data-testid=next-page]")
    page.wait_for_load_state()
    second = page.locator("[data-testid=alerts] tbody tr").evaluate_all("rows => rows.map(r => r.dataset.alertId)")
    assert second and not set(first) & set(second)
    assert "rule=STRUCTURING_BELOW_THRESHOLD" in page.url
    shot(investigator, "alerts")
    assert investigator.go("/aml/alerts?min_score=lots") == 200
    assert "min_score" in page.inner_text("[data-testid=filter-errors]")


def test_click_an_account_in_the_graph_opens_its_transactions(
    investigator: Tab, investigations: Investigations
) -> None:
    page = investigator.page
    open_network(investigator, investigations)
    target = investigations.planted.beneficiaries[0]
    box = page.locator("[data-testid=network]").bounding_box()
    assert box is not None
    point = page.evaluate(f"() => window.fintechNetwork.getElementById('{target}').renderedPosition()")
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_url(f"**/aml/accounts/{target}/transactions")
    rows = page.locator("[data-testid=transactions] tbody tr")
    assert rows.count() > 0
    assert "in" in rows.first.inner_text()
    shot(investigator, "transactions")


def test_sar_draft_links_claims_and_marks_unsupported_spans(investigator: Tab, investigations: Investigations) -> None:
    page = investigator.page
    open_network(investigator, investigations)
    # A transaction of the first money path: the case's facts (the SAR's only ground) list those.
    tx_id = (page.get_attribute("[data-graph-path='0']", "data-transactions") or "").split()[0]
    source, target = page.evaluate(
        "() => window.fintechNetwork.edges().filter(e => e.data('paths').includes(0))"
        ".map(e => [e.source().id(), e.target().id()])[0]"
    )
    narrative = (
        f"Transaction {tx_id} was one step of a layering chain from {source} to {target}. "
        "The network moved USD 123,456,789.00 in total."
    )
    investigations.llm.script({"kind": "ok", "content": json.dumps({"narrative": narrative})})
    page.click("aside form button[type=submit]")
    page.wait_for_url("**/sar?**")
    assert page.get_attribute("[data-testid=sar-outcome]", "data-outcome") == "failed"
    claims = page.locator("[data-testid=claim-link]")
    assert claims.count() == 1 and claims.first.inner_text() == tx_id
    unsupported = page.locator("[data-testid=unsupported]")
    assert unsupported.count() == 1, unsupported.all_inner_texts()
    assert "123,456,789" in unsupported.first.inner_text()
    shot(investigator, "sar")
    page.click("[data-testid=claim-transaction]")
    page.wait_for_url("**/aml/accounts/*/transactions?**")
    assert page.get_attribute(f"#tx-{tx_id}", "data-evidence") == "true"


def test_contract_batch_reviewed_and_a_finding_clause_highlighted(officer: Tab) -> None:
    page = officer.page
    assert officer.go("/compliance/reviews") == 200
    names = ("01_loan.md", "02_loan.txt", "03_loan.md", "04_loan.txt", "15_guarantee.md")
    page.set_input_files("#b-files", [str(CORPUS / "contracts" / name) for name in names])
    page.click("[data-testid=batch-form] button[type=submit]")
    page.wait_for_url("**/compliance/batches?**")
    assert page.locator("[data-testid=reviews] tbody tr[data-review-id]").count() == 5
    assert "5 contracts reviewed" in page.inner_text("[data-testid=batch-totals]")
    shot(officer, "batch")
    page.click("text=02_loan")
    page.wait_for_url("**/compliance/reviews/**")
    finding = page.locator("[data-check-id='loan.penalty_interest_cap']")
    assert finding.count() == 1
    highlight = page.locator("mark.finding", has_text="Default interest of 18% per annum")
    assert highlight.count() == 1
    link = finding.locator("[data-testid=finding-clause]")
    link.click()
    assert page.evaluate("() => location.hash") == link.get_attribute("href")
    shot(officer, "contract")


def test_regulation_timeline_and_version_comparison(officer: Tab) -> None:
    page = officer.page
    assert officer.go("/compliance/regulations") == 200
    page.set_input_files("#a-doc", str(CORPUS / "regulations" / "consumer_credit_disclosure_v2.md"))
    page.click("[data-testid=analyze-form] button[type=submit]")
    page.wait_for_url("**/compliance/regulations/*")
    dates = page.locator("[data-testid=timeline] time").all_inner_texts()
    assert dates and dates == sorted(dates)
    assert page.locator("[data-testid=obligations] tbody tr").count() > 0
    shot(officer, "timeline")
    assert officer.go("/compliance/regulations") == 200
    page.set_input_files("#c-old", str(CORPUS / "regulations" / "consumer_credit_disclosure_v1.md"))
    page.set_input_files("#c-new", str(CORPUS / "regulations" / "consumer_credit_disclosure_v2.md"))
    page.click("[data-testid=compare-form] button[type=submit]")
    page.wait_for_url("**/compliance/comparisons/*")
    table = page.locator("[data-testid=side-by-side]")
    assert table.locator("tr[data-change=modified]").count() > 0
    assert table.locator("ins.insert").count() > 0 and table.locator("del.delete").count() > 0
    shot(officer, "comparison")


def test_investigator_is_refused_the_compliance_pages_and_rpcs(
    investigator: Tab, investigations: Investigations
) -> None:
    assert investigator.go("/aml/alerts") == 200
    assert investigator.page.locator("nav a", has_text="Contract reviews").count() == 0
    assert investigator.go("/compliance/reviews") == 403
    shot(investigator, "refused")
    # The service refuses the same whatever the console shows: the console's certificate forwarding
    # an investigator may not list contract reviews.
    with investigations.platform.channel("console", service="investigations") as channel:
        stub = cpb_grpc.ComplianceServiceStub(channel)
        try:
            stub.ListContractReviews(
                cpb.ListContractReviewsRequest(),
                metadata=(("x-fintech-staff-id", "e2e-investigator"), ("x-fintech-staff-role", "investigator")),
                timeout=10,
            )
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        else:
            raise AssertionError("ListContractReviews was allowed for an investigator")


def test_aml_service_down_is_named(investigations: Investigations, tab_factory: object) -> None:
    """A console whose AMLService address answers nothing names the service (503), never a blank page."""
    platform = investigations.platform
    ports = {**platform.ports, "investigations": free_port()}
    config = console_config_file(
        platform.var / "console-no-aml.toml", platform.pki, platform.var, ports, platform.users_file
    )
    for process in start_console("console-no-aml", platform.var, config):
        tab: Tab = tab_factory(f"http://localhost:{process.port}")  # type: ignore[operator]
        tab.sign_in("investigator")
        assert tab.go("/aml/alerts") == 503
        assert "AMLService is unavailable" in tab.page.inner_text("[data-testid=problem]")
        assert tab.go("/aml/alerts/AL-1") == 503
        shot(tab, "aml-down")
        # Close the browser's keep-alive connections first, or the console's graceful stop waits on them.
        tab.context.close()
